"""Test-only tasks, registered only when PULPWOOD_TEST_TASKS=1 (never in production).

`sleep` runs for a while (holding whatever locks it was dispatched with) and reports progress each step,
which lets tests watch ordering, cancellation, progress and dead workers.
"""

from __future__ import annotations

import asyncio
import os
import time

from pulpwood.tasking.registry import register

SLEEP = "pulpwood.app.tasks.test.sleep"
ENABLED = os.environ.get("PULPWOOD_TEST_TASKS") == "1"


@register(SLEEP)
async def sleep(ctx, seconds: float, fail: bool = False) -> None:
    steps = max(int(seconds / 0.1), 1)
    report = ctx.progress("Sleeping", "test.sleep", total=steps)
    # Which process runs it (flushed with the progress), so a test can kill that worker.
    report.suffix = str(os.getpid())
    ctx.result = {"pid": os.getpid(), "started": time.time()}
    for _ in range(steps):
        await asyncio.sleep(seconds / steps)
        report.increment()
    ctx.result["finished"] = time.time()
    if fail:
        raise RuntimeError("asked to fail")
