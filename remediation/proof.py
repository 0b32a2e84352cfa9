"""Proof of disposition: one append-only record per file archived or restored.

The contract between ``file-records remediate`` (which writes it) and the pipeline (which reads it
into ``gold_disposition_status``) and ``file-records export disposition_log`` (which gives it to
auditors). Change it only by adding fields at the end and raising ``proof_version``.

Where
    The folder is the setting ``disposition_log_dir`` (``FILE_RECORDS_POLICIES_DISPOSITION_LOG_DIR``,
    pipeline key ``file_records.policies.disposition_log_dir``); unset, ``remediate`` writes to
    ``<archive-root>/disposition-log/`` (``--undo`` without ``--archive-root``: ``disposition-log/``
    next to the journal).

Files
    ``disposition-YYYYMMDD.jsonl``: one file per UTC day (the day of ``logged_at``), UTF-8 JSON Lines,
    one JSON object per line, ``\\n``-terminated. Files are only ever appended to (``O_APPEND``,
    ``flock`` while writing, ``fsync`` after every record, the folder fsynced when a file is created);
    nothing rewrites or deletes a record. A reader should skip a line that does not parse (a record
    torn by a crash mid-write; the next record starts on a new line) and files not matching the name.
    ``record_id`` is unique: dedupe on it if files are copied around.

Records
    Every object has every field of :data:`PROOF_FIELDS`, in that order, ``null`` when unknown.
    Types (:data:`PROOF_TYPES`, as Spark SQL types; :func:`proof_schema` is the ``StructType``,
    :data:`PROOF_DDL` the same as a DDL string for ``spark.read.schema(...)``):

    ====================  =========  ================================================================
    proof_version         int        1
    record_id             string     unique id of this record (32 hex characters)
    logged_at             timestamp  when the action finished, UTC, ISO 8601 ``2026-03-01T12:00:00Z``
    run_id                string     the remediate run (same as in the journal)
    action                string     ``archive`` | ``undo`` (restored from the archive)
    outcome               string     ``done`` | ``failed``
    reason                string     why it failed (null when done)
    os_user               string     the operating-system user who ran the command
    operator              string     ``--operator NAME`` (a person, when the OS user is a service)
    host                  string     the machine it ran on
    reviewer              string     who approved it in the review sheet (null: plain plan, undo)
    decision              string     ``approve`` (review sheet) or null (plain plan, undo)
    review_comment        string     the reviewer's comment
    hold_check            string     ``checked`` (newest flags read, not on hold) | ``skipped``
                                     (``--no-hold-check``) | null (undo: no check needed)
    policy                string     the policy that flagged the file (e.g. ``duplicate``)
    catalogue_path        string     the policy catalogue in use
    catalogue_sha256      string     SHA-256 of that catalogue file: the catalogue version
    source_system         string     ``dxr`` | ``workspace``
    datasource_name       string     the Data X-Ray datasource
    file_id               string     the file's id in the inventory (join key with the flags)
    path                  string     the file's path as the inventory names it
    local_path            string     the file on the machine that acted
    content_sha256        string     SHA-256 of the content (computed when archived)
    size                  bigint     size of the content in bytes
    archive_location      string     where the content is (archive) / was (undo) in the archive
    stub_path             string     the stub left in the file's place
    journal               string     the remediation journal with every step
    plan                  string     the plan or review sheet acted on (null for undo)
    plan_row              int        its row number (1 = first data row)
    ====================  =========  ================================================================

Readers that need only some fields (``pipelines/logic/lifecycle.py`` reads ``logged_at``, ``action``,
``outcome``, ``source_system``, ``file_id``, ``path``, ``content_sha256``, ``size``, ``policy``,
``reviewer``, ``operator``, ``archive_location``) may declare just those, with the types above.

Only attempted actions are recorded: rows refused before anything was touched (on hold, hash
mismatch, not approved...) are in the command's report, not here. A row archived by a run that
crashed before its record was written gets its record from the rerun that finds it done.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import getpass
import hashlib
import os
import re
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional, Union

import orjson

from file_records.remediation.fs import O_NOFOLLOW, fsync_dir
from file_records.remediation.journal import read_records

PROOF_VERSION = 1
LOG_DIR_NAME = "disposition-log"
FILE_PREFIX, FILE_SUFFIX = "disposition-", ".jsonl"
_FILE_RE = re.compile(r"^disposition-(\d{8})\.jsonl$")

ARCHIVE, UNDO = "archive", "undo"
OUTCOME_DONE, OUTCOME_FAILED = "done", "failed"
HOLD_CHECKED, HOLD_SKIPPED = "checked", "skipped"

# Field -> Spark SQL type, in file order. PROOF_FIELDS is the order of every record's keys.
PROOF_TYPES: dict[str, str] = {
    "proof_version": "int",
    "record_id": "string",
    "logged_at": "timestamp",
    "run_id": "string",
    "action": "string",
    "outcome": "string",
    "reason": "string",
    "os_user": "string",
    "operator": "string",
    "host": "string",
    "reviewer": "string",
    "decision": "string",
    "review_comment": "string",
    "hold_check": "string",
    "policy": "string",
    "catalogue_path": "string",
    "catalogue_sha256": "string",
    "source_system": "string",
    "datasource_name": "string",
    "file_id": "string",
    "path": "string",
    "local_path": "string",
    "content_sha256": "string",
    "size": "bigint",
    "archive_location": "string",
    "stub_path": "string",
    "journal": "string",
    "plan": "string",
    "plan_row": "int",
}
PROOF_FIELDS: list[str] = list(PROOF_TYPES)
PROOF_DDL = ", ".join(f"{name} {kind.upper()}" for name, kind in PROOF_TYPES.items())


def proof_schema():
    """The records as a pyspark ``StructType`` (pyspark imported here, not at module import)."""
    from pyspark.sql import types as T

    kinds = {"int": T.IntegerType, "bigint": T.LongType, "string": T.StringType, "timestamp": T.TimestampType}
    return T.StructType([T.StructField(name, kinds[kind](), True) for name, kind in PROOF_TYPES.items()])


def __getattr__(name: str) -> Any:  # PROOF_SCHEMA, built on first use
    if name == "PROOF_SCHEMA":
        return proof_schema()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def log_file_name(when: dt.datetime) -> str:
    return f"{FILE_PREFIX}{when.astimezone(dt.timezone.utc):%Y%m%d}{FILE_SUFFIX}"


def os_user() -> Optional[str]:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (a container): the uid still says who
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else None


def catalogue_version(path: Union[str, Path, None] = None) -> tuple[str, Optional[str]]:
    """``(path, sha256)`` of the policy catalogue in use (default: the packaged one); the hash is None
    if the file cannot be read."""
    if path is None:
        from file_records.policies.model import DEFAULT_CATALOGUE

        path = DEFAULT_CATALOGUE
    p = Path(path).resolve()
    try:
        return str(p), hashlib.sha256(p.read_bytes()).hexdigest()
    except OSError:
        return str(p), None


@dataclass(frozen=True)
class ProofContext:
    """What is the same for every record of one run."""

    os_user: Optional[str] = None
    operator: Optional[str] = None
    host: Optional[str] = None
    catalogue_path: Optional[str] = None
    catalogue_sha256: Optional[str] = None
    hold_check: Optional[str] = None
    plan: Optional[str] = None

    @classmethod
    def current(cls, *, operator: Optional[str] = None, catalogue: Union[str, Path, None] = None,
                hold_check: Optional[str] = None, plan: Union[str, Path, None] = None) -> "ProofContext":
        cat_path, cat_sha = catalogue_version(catalogue)
        return cls(os_user=os_user(), operator=(operator or "").strip() or None, host=socket.gethostname(),
                   catalogue_path=cat_path, catalogue_sha256=cat_sha, hold_check=hold_check,
                   plan=str(Path(plan).resolve()) if plan is not None else None)


def make_record(ctx: ProofContext, **values: Any) -> dict[str, Any]:
    """One record: the context, then ``values`` (field names of :data:`PROOF_FIELDS` only)."""
    unknown = sorted(set(values) - set(PROOF_FIELDS))
    if unknown:
        raise ValueError(f"not proof fields: {', '.join(unknown)}")
    base = {name: None for name in PROOF_FIELDS}
    base.update({k: v for k, v in ctx.__dict__.items() if k in base})
    base.update(values)
    base["proof_version"] = PROOF_VERSION
    base["record_id"] = base["record_id"] or uuid.uuid4().hex
    when = base["logged_at"] or utc_now()
    if isinstance(when, dt.datetime):
        when = when.astimezone(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    base["logged_at"] = when
    return base


class ProofLog:
    """Appends records to ``<log_dir>/disposition-YYYYMMDD.jsonl``; never rewrites anything."""

    def __init__(self, log_dir: Union[str, Path]):
        self.log_dir = Path(log_dir).expanduser()

    def append(self, record: dict[str, Any]) -> str:
        """Write one record (from :func:`make_record`), fsynced before returning; returns the file."""
        when = dt.datetime.fromisoformat(str(record["logged_at"]).replace("Z", "+00:00"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        path = self.log_dir / log_file_name(when)
        existed = path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | O_NOFOLLOW, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            line = orjson.dumps({name: record.get(name) for name in PROOF_FIELDS}) + b"\n"
            if size:
                with open(path, "rb") as fh:  # a torn last line (crash mid-write): start afresh
                    fh.seek(size - 1)
                    if fh.read(1) != b"\n":
                        line = b"\n" + line
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)  # releases the lock
        if not existed:
            fsync_dir(str(self.log_dir))
        return str(path)


def log_files(log_dir: Union[str, Path]) -> list[Path]:
    """The day files of a log folder, oldest first."""
    folder = Path(log_dir).expanduser()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _FILE_RE.match(p.name) and p.is_file())


def read_proof(log_dir: Union[str, Path]) -> Iterator[dict[str, Any]]:
    """Every record of a log folder, oldest file first, in file order, with every field of
    :data:`PROOF_FIELDS` (missing ones None); torn or foreign lines are skipped."""
    for path in log_files(log_dir):
        for rec in read_records(path, "record_id"):
            yield {name: rec.get(name) for name in PROOF_FIELDS}


def export_disposition_log(log_dir: Union[str, Path], out, fmt: str = "csv"):
    """The proof-of-disposition log of ``log_dir`` (its ``disposition-YYYYMMDD.jsonl`` files, read
    directly: no Spark) as CSV (formula-safe) or JSON, every field of ``PROOF_FIELDS`` in order.
    A folder without log files exports a header only, with a warning in the result."""
    from file_records.policies.export import ExportResult, export_rows

    result = ExportResult(table="disposition_log", rows=0, out=str(out) if isinstance(out, (str, Path)) else None)
    if not log_files(log_dir):
        result.warnings.append(f"no disposition-YYYYMMDD.jsonl files in {log_dir}")
    result.rows = export_rows(read_proof(log_dir), fmt, out, columns=PROOF_FIELDS)
    return result
