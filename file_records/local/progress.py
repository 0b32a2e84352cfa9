"""Progress of a local run, one line per refreshed table, the way dbt prints it:

    3 of 13 OK silver_file_records ..................... 496 rows in 4.1 s
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from file_records.local.failures import short_table_name

LINE_WIDTH = 60
_FLOW_STATE = re.compile(r"Flow '?`?(?P<name>[\w.`]+?)`?'? (?:is|has) (?P<state>[A-Z_]+)\b")


def table_line(number: int, total: int, table: str, ok: bool, rows: Optional[int], seconds: Optional[float],
               width: int = LINE_WIDTH) -> str:
    status = "OK" if ok else "FAILED"
    head = f"{number:>{len(str(total))}} of {total} {status} {table} "
    dots = "." * max(3, width - len(head))
    parts = []
    if rows is not None:
        parts.append(f"{rows:,} row{'s' if rows != 1 else ''}")
    if seconds is not None:
        parts.append(f"in {seconds:.1f} s")
    return f"{head}{dots} {' '.join(parts)}".rstrip()


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest:02d} s"


def flow_state(message: str) -> Optional[tuple[str, str]]:
    """(table, STATE) of a flow progress event, e.g. ("bronze_dxr_files", "RUNNING")."""
    match = _FLOW_STATE.search(message)
    if match is None:
        return None
    return short_table_name(match.group("name")), match.group("state")


@dataclass
class Progress:
    """Counts tables and times their flows from the event messages; a table's line is shown when
    its flow completes (with ``count(table)`` rows) or, at the latest, when its run ends."""

    total: int
    show: Callable[[str], None]
    clock: Callable[[], float] = time.monotonic
    count: Callable[[str], Optional[int]] = lambda table: None
    done: int = 0
    started: dict[str, float] = field(default_factory=dict)
    finished: dict[str, float] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    rows: dict[str, Optional[int]] = field(default_factory=dict)
    shown: set[str] = field(default_factory=set)

    def event(self, message: str) -> None:
        found = flow_state(message)
        if found is None:
            return
        table, state = found
        now = self.clock()
        if state in ("PLANNING", "STARTING", "RUNNING"):
            self.started.setdefault(table, now)
        elif state == "COMPLETED":
            self.finished[table] = now
            self.rows[table] = self.count(table)
            self._line(table, True)
        elif state == "FAILED":
            self.failed.add(table)
            self.finished[table] = now

    def seconds(self, table: str) -> Optional[float]:
        if table in self.started and table in self.finished:
            return max(0.0, self.finished[table] - self.started[table])
        return None

    def layer_done(self, tables: list[str], rows: dict[str, Optional[int]], ok: bool = True) -> None:
        """The lines of ``tables`` not shown yet (``rows`` their counts)."""
        for table in tables:
            if table not in self.rows and table in rows:
                self.rows[table] = rows[table]
            self._line(table, ok and table not in self.failed)

    def _line(self, table: str, ok: bool) -> None:
        if table in self.shown:
            return
        self.shown.add(table)
        self.done += 1
        self.show(table_line(self.done, self.total, table, ok, self.rows.get(table), self.seconds(table)))
