"""What a run returns: one :class:`RowResult` per plan row (status and the reason) in a :class:`Report`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

# Result statuses. BAD ones make the exit code non-zero. NOT_APPROVED: a row of a review sheet whose
# decision is not ``approve`` (reject, defer or empty); it is left alone and is not a failure.
DONE, ALREADY_DONE, WOULD, SKIPPED, REFUSED, FAILED, NOT_APPROVED = (
    "done", "already_done", "would_do", "skipped", "refused", "failed", "not_approved",
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
    reason: Optional[str] = None  # the kind of refusal, without paths (remediation.errors), for grouping
    expected: bool = False  # a refusal the plan asked for (a file on hold or kept): not a failure
    proof: Optional[str] = None  # the disposition-log file this row's proof record went to

    @property
    def ok(self) -> bool:
        return self.status not in BAD_STATUSES or (self.status == REFUSED and self.expected)


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
    def expected_refusals(self) -> int:
        return sum(1 for r in self.results if r.status == REFUSED and r.expected)

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
            "expected_refusals": self.expected_refusals,
            "exit_code": self.exit_code,
            "results": [r.__dict__ for r in self.results],
        }
