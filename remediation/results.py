"""What a run returns: one :class:`RowResult` per plan row (status and the reason) in a :class:`Report`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

# Result statuses. BAD ones make the exit code non-zero.
DONE, ALREADY_DONE, WOULD, SKIPPED, REFUSED, FAILED = (
    "done", "already_done", "would_do", "skipped", "refused", "failed",
)
BAD_STATUSES = frozenset({REFUSED, FAILED})
DRY_RUN_MODES = frozenset({"dry-run", "undo-dry-run"})


@dataclass
class RowResult:
    """``message`` is the reason: what was (or would be) done, or why the row was refused or failed."""

    row: int
    path: str
    status: str
    message: str
    source: Optional[str] = None
    archived_to: Optional[str] = None
    stub: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.status not in BAD_STATUSES


@dataclass
class Report:
    mode: str  # "dry-run" | "apply" | "undo-dry-run" | "undo"
    results: list[RowResult] = field(default_factory=list)
    journal: Optional[str] = None

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def dry_run(self) -> bool:
        return self.mode in DRY_RUN_MODES

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_dict(self) -> dict:
        return {
            "mode": self.mode,
            "journal": self.journal,
            "counts": self.counts,
            "exit_code": self.exit_code,
            "results": [r.__dict__ for r in self.results],
        }
