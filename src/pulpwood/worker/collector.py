"""Python's cyclic garbage collector, set for a worker's tasks.

A sync keeps hundreds of thousands of objects until it ends (parsed trees, the ids of every
object, rows for the database). With the default thresholds (a young collection every 700 new
container objects) the collector ran about 1,300 times during one sync of the 33,000-object
OSTree benchmark, 10 of them full collections of a heap that keeps growing at 100-200 ms each:
about 1.5 s of a 13 s sync, all of it holding the GIL the event loop and the file threads wait
for. What a sync throws away (bodies, rows) is freed by reference counting anyway.

So what a worker has loaded when it starts (modules, models, the task catalogue) is frozen out
of collection for good, and a young collection runs every YOUNG new objects: for the same sync
the collector then took about 0.3 s. At most YOUNG unreachable objects wait for it: a few MB.
"""

from __future__ import annotations

import gc

YOUNG = 50_000


def tune_collector() -> None:
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG, middle, old)
