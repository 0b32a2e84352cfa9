"""What can go wrong: with the plan as a whole (:class:`PlanError`), or with one row.

A row's error never stops the run: :func:`~file_records.remediation.remediate` and
:func:`~file_records.remediation.undo` turn :class:`RowRefused` and :class:`RowFailed` into that row's
result and carry on with the next.
"""

from __future__ import annotations

from file_records.errors import FileRecordsError, UsageError


class PlanError(UsageError, ValueError):
    """The plan or the arguments are unusable as a whole (bad CSV, bad path map, journal missing or
    locked): nothing was done and the user has to fix the input. Still a ValueError, as it always was."""


class RowRefused(FileRecordsError):
    """This row must not be acted on (hold, hash mismatch, a path outside its root...)."""


class RowFailed(FileRecordsError):
    """Acting on this row went wrong (missing file, changed file, no free name...)."""


def describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return str(exc)
