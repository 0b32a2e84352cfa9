"""Legal holds as they are now: the files the newest ``gold_policy_flags`` says are on hold.

An approved review sheet may be days old; a hold placed since must still win. So just before acting,
``file-records remediate`` reads the newest flags of the local pipeline state and refuses every row
whose file is on hold there (policy ``legal_hold`` or action ``hold``), matched over-generously since a
missed hold is the costly mistake: the same ``file_id``, or the same path compared
case-insensitively and without leading ``/``.

:class:`Holds` is plain data (tests build it directly); :func:`holds_from_rows` builds it from flag
rows; :func:`read_holds` reads them through a session the caller opens (the command passes the local runner's
``reading_session``; Spark is imported only then).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterable, Mapping, Optional, Union

FLAGS_TABLE = "gold_policy_flags"
HOLD_POLICY = "legal_hold"
HOLD_ACTION = "hold"


def _norm_path(path: Optional[str]) -> str:
    return (path or "").strip().lstrip("/").casefold()


@dataclass
class Holds:
    """The held files: ``file_ids`` and normalised ``paths``; ``source`` says where they were read."""

    file_ids: set[str] = field(default_factory=set)
    paths: set[str] = field(default_factory=set)
    source: str = ""
    policies: dict[str, str] = field(default_factory=dict)  # normalised path or file id -> policy name

    def __len__(self) -> int:
        return len(self.file_ids | self.paths)

    def held(self, path: Optional[str], file_id: Optional[str]) -> Optional[str]:
        """Why this file is on hold now (a message), or None."""
        if file_id and file_id.strip() in self.file_ids:
            key = file_id.strip()
            return f"file id {key} is under {self.policies.get(key, HOLD_POLICY)} now ({self.source})"
        norm = _norm_path(path)
        if norm and norm in self.paths:
            return f"{path} is under {self.policies.get(norm, HOLD_POLICY)} now ({self.source})"
        return None


def _get(row: Any, name: str) -> Any:
    if isinstance(row, Mapping):
        return row.get(name)
    try:
        return row[name]
    except (KeyError, IndexError, ValueError, TypeError):
        return getattr(row, name, None)


def holds_from_rows(rows: Iterable[Any], source: str = "") -> Holds:
    """Flag rows (dicts or Spark ``Row``) -> the files on hold (policy legal_hold or action hold)."""
    holds = Holds(source=source)
    for row in rows:
        policy = str(_get(row, "policy") or "").strip().lower()
        action = str(_get(row, "action") or "").strip().lower()
        if policy != HOLD_POLICY and action != HOLD_ACTION:
            continue
        file_id = str(_get(row, "file_id") or "").strip()
        path = _norm_path(_get(row, "path"))
        if file_id:
            holds.file_ids.add(file_id)
            holds.policies.setdefault(file_id, policy or HOLD_POLICY)
        if path:
            holds.paths.add(path)
            holds.policies.setdefault(path, policy or HOLD_POLICY)
    return holds


def read_holds(state_dir: Union[str, Path], open_session: Callable[[Path], ContextManager[Any]],
               database: str = "default") -> Optional[Holds]:
    """The held files of the newest ``gold_policy_flags`` in ``state_dir``, or None when the state
    has no such table (the holds could not be checked). ``open_session`` opens a Spark session over
    the state directory (the command passes the local runner's ``reading_session``: this library
    does not start engines). A missing, locked or unreadable state directory raises
    (:class:`~file_records.errors.StateError`)."""
    with open_session(Path(state_dir)) as spark:
        tables = {str(_get(r, "tableName")) for r in spark.sql(f"SHOW TABLES IN {database}").collect()}
        if FLAGS_TABLE not in tables:
            return None
        rows = spark.sql(
            f"SELECT file_id, path, policy, action FROM {database}.{FLAGS_TABLE} "
            f"WHERE lower(policy) = '{HOLD_POLICY}' OR lower(action) = '{HOLD_ACTION}'"
        ).collect()
    return holds_from_rows(rows, source=f"{FLAGS_TABLE} in {state_dir}")
