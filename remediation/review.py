"""Disposition review: a plan that a records manager has approved row by row.

``file-records export gold_policy_flags --for-review`` writes the flags with three more columns,
empty, for the reviewer to fill in: ``decision`` (``approve``, ``reject``, ``defer`` or empty),
``reviewer`` and ``comment``. A sheet is recognised by its ``decision`` column: then only rows
decided ``approve`` are acted on, every other row is reported ``not_approved`` and left alone (not a
failure). A decision outside those values stops the run before anything is touched
(:class:`~file_records.remediation.errors.PlanError` naming the row). A plain plan (no ``decision``
column) is acted on row by row, as before.

Approval never overrides a hold: a row is refused if the plan says it is held or kept
(``suppressed_by``, action ``hold``/``keep``) or if the newest flags say the file is under legal hold
now (:mod:`.holds`).
"""

from __future__ import annotations

from typing import Optional

from file_records.policies.export import REVIEW_COLUMNS  # noqa: F401 - re-exported: the sheet is defined with the export
from file_records.remediation.errors import PlanError

DECISION_COLUMN = "decision"
# The columns a review sheet adds, in this order, before the flag columns.
APPROVE, REJECT, DEFER = "approve", "reject", "defer"
DECISIONS: tuple[str, ...] = (APPROVE, REJECT, DEFER)


def is_review_sheet(header: list[str]) -> bool:
    """A plan with a ``decision`` column is a review sheet."""
    return DECISION_COLUMN in header


def parse_decision(value: Optional[str], row: int, path: str) -> Optional[str]:
    """``approve`` / ``reject`` / ``defer`` (any case, spaces ignored) or ``None`` when empty; anything
    else is a :class:`PlanError` naming the row, so a typo never counts as a decision."""
    text = (value or "").strip().lower()
    if not text:
        return None
    if text not in DECISIONS:
        where = f" ({path})" if path else ""
        raise PlanError(f"row {row}{where}: decision {value.strip()!r} is not one of "
                        f"{', '.join(DECISIONS)} or empty; fix the sheet and run again (nothing was done)")
    return text


def not_approved_message(decision: Optional[str], reviewer: Optional[str]) -> str:
    by = f" by {reviewer}" if reviewer else ""
    if decision == REJECT:
        return f"not approved: rejected{by}"
    if decision == DEFER:
        return f"not approved: deferred{by}"
    return "not approved: no decision in the review sheet"
