"""The one error root of file-records, and the one way validation errors become a sentence.

Every error the product raises on purpose is a :class:`FileRecordsError`. The command line turns a
:class:`UsageError` (something the user can fix: a flag, a setting, a file, the state directory)
into one line and exit status 2, and any other :class:`FileRecordsError` (a source that failed, a
pipeline run that failed) into a short message and exit status 1. Nothing else reaches a user as a
traceback unless they ask for it with ``--debug``.
"""

from __future__ import annotations

from typing import Callable, Optional

from pydantic import ValidationError


class FileRecordsError(Exception):
    """Root of every error file-records raises on purpose."""

    exit_code = 1


class UsageError(FileRecordsError):
    """Bad input the user can fix (flags, settings, files, the state directory): exit status 2."""

    exit_code = 2


class ConfigError(UsageError, ValueError):
    """A setting, option or configuration file is invalid. Also a ValueError, so code that
    validates values (pydantic validators, option parsing) can raise it where a ValueError fits."""


class StateError(UsageError):
    """The state directory is missing, locked by another process or belongs to another origin."""


class SourceError(FileRecordsError):
    """A source (Data X-Ray, the Databricks workspace) could not be read.

    ``retryable`` says whether trying again later can help (a 5xx, a time-out) or not (a bad URL,
    a rejected token, a query the API refuses)."""

    retryable = True


class PipelineRunError(FileRecordsError):
    """A pipeline run failed: exit status 1."""


ErrorPart = Callable[[dict], tuple[Optional[str], str]]


def _default_part(error: dict) -> tuple[Optional[str], str]:
    field = ".".join(str(part) for part in error["loc"] if part != "__root__")
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix):]
    return (field or None), message


def describe_validation_error(exc: ValidationError, name: Optional[Callable[[str], str]] = None,
                              part: ErrorPart = _default_part, bare_single: bool = False) -> str:
    """One line for a pydantic error: ``NAME: problem; NAME: problem``.

    ``name`` turns a field name into what the user wrote (an environment variable, a pipeline
    configuration key, a data source option); ``part`` lets a caller reword an error (it gets
    pydantic's error dict, returns location and message); ``bare_single`` drops the location when
    there is one error and the caller names it elsewhere. Values are only repeated where ``part``
    chooses to, since a value may be a secret."""
    errors = exc.errors(include_url=False)
    described = []
    for error in errors:
        field, message = part(error)
        if field and name:
            top, _, rest = field.partition(".")
            field = name(top) + (f".{rest}" if rest else "")
        described.append((field, message))
    if bare_single and len(described) == 1:
        return described[0][1]
    return "; ".join(f"{field}: {message}" if field else message for field, message in described)
