"""Safe remediation of exported policy flags: archive files, leave stubs, journal everything, undo.

A library (pure Python, no Spark, no printing): :func:`plan_from_csv` reads a plan, :func:`remediate`
archives it (a dry run that reads but never writes unless ``apply=True``), :func:`undo` restores what
a journal archived. Both return a :class:`Report` of one :class:`RowResult` per row (status and the
reason); a failure on one row is reported and the others continue, and :attr:`Report.exit_code` is 1
if any row failed or was refused unexpectedly (a row the plan holds or keeps is refused as expected
and does not count). :class:`PlanError` (a ``UsageError``) means nothing was done
because the input as a whole is unusable. The command line is ``file_records.commands.remediate``.

- :mod:`.plan`: the plan CSV and the path map (DXR path -> local path, with its refusals).
- :mod:`.fs`: hashing, copies and moves that never overwrite, stubs.
- :mod:`.journal`: the append-only journal and its replay (resume after a crash).
- :mod:`.apply`: the archiving steps and why each is safe.
- :mod:`.undo`: restoring from a journal without overwriting anything.
- :mod:`.review`: review sheets (``decision`` approve / reject / defer): only approved rows act.
- :mod:`.holds`: the files on legal hold now (newest ``gold_policy_flags``), refused even if approved.
- :mod:`.proof`: the append-only proof-of-disposition log (its format is the contract with the
  pipeline's ``gold_disposition_status`` and with ``export disposition_log``).
"""

from __future__ import annotations

from file_records.remediation.apply import DEFAULT_STUB_MESSAGE, remediate
from file_records.remediation.errors import PlanError
from file_records.remediation.fs import STUB_SUFFIX
from file_records.remediation.holds import Holds, holds_from_rows, read_holds
from file_records.remediation.journal import JOURNAL_NAME, Journal, read_journal
from file_records.remediation.plan import (
    PlanRow,
    expects_refusal,
    parse_path_map,
    plan_from_csv,
    translate_path,
    unmapped_prefixes,
)
from file_records.remediation.proof import (
    LOG_DIR_NAME,
    PROOF_FIELDS,
    ProofContext,
    ProofLog,
    proof_schema,
    read_proof,
)
from file_records.remediation.results import (
    ALREADY_DONE,
    BAD_STATUSES,
    DONE,
    FAILED,
    NOT_APPROVED,
    REFUSED,
    SKIPPED,
    WOULD,
    Report,
    RowResult,
)
from file_records.remediation.review import DECISIONS, REVIEW_COLUMNS, is_review_sheet
from file_records.remediation.undo import undo

__all__ = [
    "ALREADY_DONE",
    "BAD_STATUSES",
    "DECISIONS",
    "LOG_DIR_NAME",
    "NOT_APPROVED",
    "PROOF_FIELDS",
    "REVIEW_COLUMNS",
    "Holds",
    "ProofContext",
    "ProofLog",
    "holds_from_rows",
    "is_review_sheet",
    "proof_schema",
    "read_holds",
    "read_proof",
    "DEFAULT_STUB_MESSAGE",
    "DONE",
    "FAILED",
    "JOURNAL_NAME",
    "REFUSED",
    "SKIPPED",
    "STUB_SUFFIX",
    "WOULD",
    "Journal",
    "PlanError",
    "PlanRow",
    "Report",
    "RowResult",
    "expects_refusal",
    "parse_path_map",
    "plan_from_csv",
    "read_journal",
    "remediate",
    "translate_path",
    "undo",
    "unmapped_prefixes",
]
