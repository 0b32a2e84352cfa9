"""What failed in a run, in a sentence: the table, and the connector's own message dug out of
the engine's wrapped error text (Java stack traces, Python tracebacks, plans, query state)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

# The connectors' exceptions, by class name, and whether trying again can help. Names not
# listed here but ending in Error under file_records.connectors are taken as retryable.
NON_RETRYABLE = frozenset({"DxrAuthError", "DxrQueryError"})
KNOWN_SOURCE_ERRORS = ("DxrAuthError", "DxrQueryError", "DxrTruncatedError", "DxrUnavailableError", "DxrError",
                       "ApiError", "SourceError")

# `file_records.connectors.dxr.client.DxrUnavailableError: could not connect ...` (a Python
# traceback's last line inside a Java exception message); the module prefix is optional.
_SOURCE_ERROR = re.compile(
    r"(?:\bfile_records\.(?:connectors|errors)(?:\.\w+)*\.)?\b(?P<name>" + "|".join(KNOWN_SOURCE_ERRORS) + r")"
    r"(?:\(\w+\))?: (?P<message>[^\n]+)"
)
_FLOW = re.compile(r"Flow '?`?(?P<name>[\w.`]+?)`?'? (?:has FAILED|failed)")
_ANY_PY_ERROR = re.compile(r"^(?P<name>[A-Za-z_][\w.]*(?:Error|Exception)): (?P<message>.+)$", re.MULTILINE)
_SQLSTATE = re.compile(r"\s*SQLSTATE: \w+")


@dataclass(frozen=True)
class FailureSummary:
    table: Optional[str]
    cause: str
    error_class: Optional[str] = None

    @property
    def retryable(self) -> bool:
        return self.error_class not in NON_RETRYABLE

    def lines(self, log_path: Optional[object] = None) -> list[str]:
        where = self.table or "the pipeline run"
        out = [f"{where}: {self.cause}"]
        if log_path is not None:
            out.append(f"Engine output and the full error: {log_path}")
        return out


def short_table_name(name: str) -> str:
    return name.replace("`", "").split(".")[-1]


def failed_table(texts: Iterable[str]) -> Optional[str]:
    for text in texts:
        match = _FLOW.search(text)
        if match:
            return short_table_name(match.group("name"))
    return None


def _clean(message: str) -> str:
    message = _SQLSTATE.sub("", message).strip()
    return message[:500]


def source_error(text: str) -> Optional[tuple[str, str]]:
    """(class name, message) of the first connector exception named in ``text``."""
    match = _SOURCE_ERROR.search(text)
    if match is None:
        return None
    return match.group("name"), _clean(match.group("message"))


def summarise(events: Iterable[str], error_text: str = "") -> FailureSummary:
    """The failure of a run from its event messages and the exception text that ended it."""
    events = list(events)
    texts = [*events, error_text]
    table = failed_table(reversed(events)) or failed_table([error_text])
    for text in texts:
        found = source_error(text)
        if found:
            return FailureSummary(table, found[1], found[0])
    # No connector error: the first line that looks like an exception, else the first line.
    for text in texts:
        match = _ANY_PY_ERROR.search(text)
        if match and "Traceback" not in match.group("message"):
            name = match.group("name").split(".")[-1]
            return FailureSummary(table, _clean(f"{name}: {match.group('message')}"), name)
    first = next((line.strip() for text in texts for line in text.splitlines() if line.strip()), "")
    return FailureSummary(table, _clean(first) or "the engine gave no reason (see the log)")
