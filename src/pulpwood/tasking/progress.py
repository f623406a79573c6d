"""Progress reports: counters a task updates in memory; the runner flushes them to the row."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ProgressReport:
    message: str
    code: str
    total: int | None = None
    done: int = 0
    state: str = "running"
    suffix: str | None = None

    def increment(self, amount: int = 1) -> None:
        self.done += amount

    def as_json(self) -> dict:
        return {
            "message": self.message, "code": self.code, "state": self.state,
            "total": self.total, "done": self.done, "suffix": self.suffix,
        }


class ProgressBook:
    """All reports of one task, in creation order, with a cheap change marker for flushing."""

    def __init__(self) -> None:
        self.reports: list[ProgressReport] = []
        self._last_flushed: list[dict] | None = None

    def add(self, message: str, code: str, total: int | None = None, state: str = "running") -> ProgressReport:
        report = ProgressReport(message=message, code=code, total=total, state=state)
        self.reports.append(report)
        return report

    def snapshot(self) -> list[dict]:
        return [report.as_json() for report in self.reports]

    def changed(self) -> list[dict] | None:
        current = self.snapshot()
        if current == self._last_flushed:
            return None
        self._last_flushed = current
        return current

    def finish(self, final_state: str) -> list[dict]:
        for report in self.reports:
            if report.state in ("running", "waiting"):
                report.state = final_state
        return self.snapshot()
