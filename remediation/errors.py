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


# Reasons a row is refused, for grouping the report (one line per reason, not one per row).
NO_PATH_MAP = "under no --path-map prefix"
ON_HOLD = "on hold or kept, as the plan says (suppressed_by / action hold, keep)"
TRAVERSAL = "path contains '..' or a NUL character"
NOT_A_FILE = "not a regular file (a mapped root, a directory or a symbolic link)"
ROOT_MISSING = "mapped root does not exist or is not a directory"
OUTSIDE_ROOT = "resolves outside its mapped root"
BAD_PLAN_VALUE = "empty path or invalid content_sha256 in the plan"
NO_HASH = "no content_sha256 in the plan (--allow-unhashed archives by the computed hash)"
IN_ARCHIVE = "inside the archive root"
HASH_MISMATCH = "hash mismatch: the file changed since the scan"
HELD_NOW = "under legal hold now (newest gold_policy_flags), whatever the plan or sheet says"


class RowRefused(FileRecordsError):
    """This row must not be acted on (hold, hash mismatch, a path outside its root...).

    ``reason`` is the short, path-free kind of refusal (one of the constants above) the report
    groups by; ``expected`` is True when the plan itself asked for the refusal (a held or kept
    file), which does not make the exit status non-zero."""

    def __init__(self, message: str, *, reason: "str | None" = None, expected: bool = False) -> None:
        super().__init__(message)
        self.reason = reason
        self.expected = expected


class RowFailed(FileRecordsError):
    """Acting on this row went wrong (missing file, changed file, no free name...)."""


def describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return str(exc)
