"""The append-only journal: every step of every row, fsynced before and after it happens.

:func:`replay` rebuilds each row's :class:`RowState` from the records, which is how a rerun skips
finished rows and completes half-done ones after a crash, and how undo finds what to restore. A row's
records share a ``key`` (its local path and expected hash, :func:`row_key`); ``rolled_back`` and
``undone`` end a row's history, so the same file can be archived again later.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Union

import orjson

from file_records.remediation.errors import PlanError
from file_records.remediation.fs import O_NOFOLLOW, fsync_dir
from file_records.remediation.plan import PlanRow

JOURNAL_NAME = "remediation-journal.jsonl"

# ``hook(step, row)``: called at fixed points of a row's life; tests raise from it to simulate a crash.
Hook = Callable[[str, PlanRow], None]


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class Journal:
    """Append-only JSON-lines journal; every record is fsynced before the call returns.

    The file is locked (``flock``) while a run uses it, so two runs cannot interleave.
    """

    def __init__(self, path: Union[str, Path], run_id: str):
        self.path = str(path)
        self.run_id = run_id
        parent = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(parent, exist_ok=True)
        existed = os.path.exists(self.path)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND | O_NOFOLLOW, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            raise PlanError(f"journal {self.path} is in use by another remediation run") from None
        if not existed:
            fsync_dir(parent)
        size = os.fstat(self._fd).st_size
        if size:
            # After a crash mid-write the last line may be torn: start on a fresh line.
            last = os.pread(self._fd, 1, size - 1)
            if last != b"\n":
                os.write(self._fd, b"\n")
                os.fsync(self._fd)

    def append(self, event: str, **data) -> None:
        record = {"ts": utc_now(), "run_id": self.run_id, "event": event, **data}
        os.write(self._fd, orjson.dumps(record) + b"\n")
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_records(path: Union[str, Path], key: str) -> Iterator[dict]:
    """The JSON-object lines of an append-only file that have ``key``; a torn line (a crash
    mid-write) or a foreign one is skipped."""
    with open(path, "rb") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                rec = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(rec, dict) and key in rec:
                yield rec


def read_journal(path: Union[str, Path]) -> list[dict]:
    """All parseable records (a torn line, e.g. from a crash mid-write, is skipped)."""
    try:
        return list(read_records(path, "event"))
    except FileNotFoundError:
        return []


@dataclass
class RowState:
    """Where one row stands, rebuilt from its journal records (:func:`replay`)."""

    key: str
    src: str
    sha: str
    expected_sha: Optional[str]
    path: str = ""
    row: Optional[int] = None
    file_id: Optional[str] = None
    policy: Optional[str] = None
    order: int = 0
    root: Optional[str] = None
    tmp: Optional[str] = None
    place_candidate: Optional[str] = None
    dest: Optional[str] = None
    verified: bool = False
    source_removed: bool = False
    stub_candidate: Optional[str] = None
    stub_text: Optional[str] = None
    stub: Optional[str] = None
    stub_sha: Optional[str] = None
    done: bool = False
    restore_tmp: Optional[str] = None
    source_system: Optional[str] = None
    datasource_name: Optional[str] = None
    proof_logged: bool = False  # its proof-of-disposition record is written (remediation.proof)


def row_key(src: str, expected_sha: Optional[str]) -> str:
    return f"{src}\n{expected_sha or ''}"


def replay(records: Iterable[dict]) -> dict[str, RowState]:
    states: dict[str, RowState] = {}
    order = 0
    for rec in records:
        key = rec.get("key")
        if not key:
            continue
        ev = rec["event"]
        if ev == "start":
            order += 1
            states[key] = RowState(
                key=key, src=rec["src"], sha=rec["sha256"], expected_sha=rec.get("expected_sha256"),
                path=rec.get("path", ""), row=rec.get("row"), file_id=rec.get("file_id"),
                policy=rec.get("policy"), order=order, root=rec.get("root"),
                source_system=rec.get("source_system"), datasource_name=rec.get("datasource_name"),
            )
            continue
        st = states.get(key)
        if st is None:
            continue
        if ev == "copy_intent":
            st.tmp = rec["tmp"]
        elif ev == "place_intent":
            st.place_candidate = rec["dest"]
        elif ev == "placed":
            st.dest, st.tmp, st.place_candidate = rec["dest"], None, None
        elif ev == "verified":
            st.verified = True
        elif ev == "source_removed":
            st.source_removed = True
        elif ev == "stub_intent":
            st.stub_candidate, st.stub_text = rec["stub"], rec["text"]
        elif ev == "stub_written":
            st.stub, st.stub_sha = rec["stub"], rec["stub_sha256"]
        elif ev == "done":
            st.done = True
        elif ev == "proof_logged":
            st.proof_logged = True
        elif ev == "restore_intent":
            st.restore_tmp = rec["tmp"]
        elif ev in ("rolled_back", "undone"):
            states.pop(key, None)
    return states


@dataclass
class Recorder:
    """What one run writes to: the journal (``None`` in a dry run, which writes nothing), the
    replayed row states it updates as it goes, and the test hook."""

    apply: bool
    journal: Optional[Journal]
    states: dict[str, RowState]
    hook: Optional[Hook]

    def fire(self, step: str, row: PlanRow) -> None:
        if self.hook is not None:
            self.hook(step, row)

    def log(self, event: str, st: RowState, **data) -> None:
        if self.journal is not None:
            self.journal.append(event, key=st.key, **data)
