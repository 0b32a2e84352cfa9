"""The local tables read directly from their committed parquet files, without Spark.

A local state directory keeps every table as parquet under ``warehouse/<table>/``:

- a streaming table (``bronze_*``) is written by Spark's file sink, which lists the files of every
  committed micro-batch in ``_spark_metadata/`` (files ``0``, ``1``, ..., ``N.compact``; each is
  ``v1`` and then one JSON object per file with its ``path`` and ``action`` ``add`` or ``delete``).
  Only the files that log lists are the table: a part file written by a batch that never committed
  (a run killed mid-batch) is in the folder but not in the table, and is never read here.
- a materialized view is rewritten whole by each refresh: its table is the folder's parquet files
  (Spark's rule: names starting with ``_`` or ``.`` are not data).

:func:`open_tables` takes the state directory's lock (no run writes while it reads, and no run
starts while it is open) and gives an in-memory DuckDB connection with one view per table. It
answers `query`, `export` and `report` in about a second where a local Spark session takes tens.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional
from urllib.parse import unquote, urlsplit

import orjson

from file_records.errors import StateError

SINK_LOG = "_spark_metadata"
_BATCH_FILE = re.compile(r"^(\d+)(\.compact)?$")
# DuckDB's name for a timestamp with a time zone; Spark hands these out as naive UTC (the local
# session's time zone is UTC), so the views do too.
_ZONED = "TIMESTAMP WITH TIME ZONE"

ENGINE_NOTE = "(answered by DuckDB over the committed table files; --engine spark runs Spark SQL)"


def _hidden(name: str) -> bool:
    return name.startswith(("_", "."))


def _data_files(folder: Path) -> list[Path]:
    """The parquet files of ``folder`` the way Spark lists a table: recursive, skipping names that
    start with ``_`` or ``.`` (``_SUCCESS``, ``_spark_metadata``, ``.crc`` files, ``_temporary``)."""
    found = []
    for path in sorted(folder.rglob("*.parquet")):
        relative = path.relative_to(folder).parts
        if not any(_hidden(part) for part in relative) and path.is_file():
            found.append(path)
    return found


def _batches(log: Path) -> list[Path]:
    """The sink-log files a reader uses: the newest ``N.compact`` (it holds every entry up to N)
    and the batches after it; every batch when there is no compaction yet. A batch file appears
    only once its batch committed (Spark writes it to a temporary name and renames it)."""
    numbered: dict[int, Path] = {}
    compacts: list[int] = []
    for entry in log.iterdir():
        match = _BATCH_FILE.match(entry.name)
        if not match or not entry.is_file():
            continue
        batch = int(match.group(1))
        if match.group(2):
            compacts.append(batch)
            numbered[batch] = entry
        else:
            numbered.setdefault(batch, entry)
    start = max(compacts) if compacts else -1
    return [numbered[b] for b in sorted(numbered) if b > start or (b == start and b in compacts)]


def _in_table(folder: Path, table: str, logged: str) -> Path:
    """Where a logged file is now. The log records absolute ``file:`` URIs; a state directory that
    was moved or copied keeps its files under the same table folder, so the path is taken
    relative to the table's folder (the part after the last ``<table>`` component)."""
    path = Path(unquote(urlsplit(logged).path))
    try:
        return folder / path.relative_to(folder)
    except ValueError:
        pass
    parts = path.parts
    for index in range(len(parts) - 1, -1, -1):
        if parts[index] == table:
            return folder.joinpath(*parts[index + 1:])
    return folder / path.name


def _sink_log_files(folder: Path, table: str) -> list[Path]:
    live: dict[Path, None] = {}
    for batch in _batches(folder / SINK_LOG):
        lines = batch.read_text(encoding="utf-8").splitlines()
        for line in lines[1:]:  # the first line is the log's version, "v1"
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                raise StateError(f"{table}: the sink log {batch} is damaged (not JSON: {line[:80]!r})") from None
            if record.get("isDir"):
                continue
            path = _in_table(folder, table, str(record.get("path", "")))
            if record.get("action") == "delete":
                live.pop(path, None)
            else:
                live[path] = None
    missing = [path for path in live if not path.is_file()]
    if missing:
        raise StateError(
            f"{table}: {len(missing)} committed file(s) are missing (e.g. {missing[0]}); restore this state "
            "directory from a backup, or start over with a new --state-dir"
        )
    return list(live)


def is_streaming(state_root: Path, table: str) -> bool:
    return (Path(state_root) / "warehouse" / table / SINK_LOG).is_dir()


def committed_files(state_root: Path, table: str) -> list[Path]:
    """The parquet files that make up ``table`` in the state directory ``state_root``: those its
    file-sink log lists (a streaming table), else the folder's data files. [] for an unknown table."""
    folder = Path(state_root) / "warehouse" / table
    if not folder.is_dir():
        return []
    if (folder / SINK_LOG).is_dir():
        return _sink_log_files(folder, table)
    return _data_files(folder)


def row_count(state_root: Path, table: str) -> Optional[int]:
    """Rows of ``table`` from its committed files' parquet footers (no data read); None when the
    state directory has no such table."""
    import pyarrow.parquet as pq

    if not (Path(state_root) / "warehouse" / table).is_dir():
        return None
    return sum(pq.read_metadata(path).num_rows for path in committed_files(state_root, table))


def table_names(state_root: Path) -> list[str]:
    warehouse = Path(state_root) / "warehouse"
    if not warehouse.is_dir():
        return []
    return sorted(p.name for p in warehouse.iterdir() if p.is_dir() and not _hidden(p.name))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def quote(name: str) -> str:
    """A DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def _scan(files: list[Path], folder: Path) -> str:
    partitioned = any("=" in part for f in files for part in f.relative_to(folder).parts[:-1])
    listed = ", ".join(_literal(str(f)) for f in files)
    return (f"read_parquet([{listed}], union_by_name = true, "
            f"hive_partitioning = {'true' if partitioned else 'false'})")


def _create_view(con, state_root: Path, table: str) -> bool:
    """One view for ``table``; False when it has no file to read, not even one for its schema."""
    folder = Path(state_root) / "warehouse" / table
    files = committed_files(state_root, table)
    limit = ""
    if not files:
        # No committed file (a streaming table before its first batch): its schema, if a file
        # in the folder still tells it, with no rows.
        files = _data_files(folder)[:1]
        limit = " LIMIT 0"
        if not files:
            return False
    scan = _scan(files, folder)
    columns = con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
    select = ", ".join(
        f"CAST({quote(name)} AS TIMESTAMP) AS {quote(name)}" if kind == _ZONED else quote(name)
        for name, kind, *_ in columns
    )
    con.execute(f"CREATE VIEW {quote(table)} AS SELECT {select} FROM {scan}{limit}")
    return True


def _confine(con, warehouse: Path) -> None:
    """From here on the connection reads the warehouse only and writes no file (COPY, ATTACH,
    read_csv of any other path are refused), and its settings cannot be changed back. A DuckDB
    without ``allowed_directories`` (before 1.3) keeps file access; the read-only guard of
    `query` still refuses every statement that is not a read."""
    import duckdb

    try:
        con.execute(f"SET allowed_directories = [{_literal(str(warehouse.resolve()))}]")
    except duckdb.Error:
        return
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def connect(state_root: Path):
    """An in-memory DuckDB connection with a view per table of ``state_root`` (no lock taken:
    see :func:`open_tables`). Afterwards it reads no other file and its settings are locked."""
    import duckdb

    root = Path(state_root)
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        # Spark's order: ascending puts nulls first, descending last (DuckDB's default: always last).
        con.execute("SET default_null_order = 'nulls_first_on_asc_last_on_desc'")
        for table in table_names(root):
            _create_view(con, root, table)
        _confine(con, root / "warehouse")
    except BaseException:
        con.close()
        raise
    return con


def check_state(state_dir: Path):
    """The state directory's paths; a missing one is the same :class:`StateError` as Spark's reader."""
    from file_records.local.spark import StatePaths

    paths = StatePaths(Path(state_dir).resolve())
    if paths.root.exists() and not paths.root.is_dir():
        raise StateError(f"--state-dir {state_dir} is a file, not a state directory")
    if not paths.exists():
        raise StateError(f"no pipeline state in {state_dir}: run `file-records run` (or `run --demo`) first")
    return paths


@contextmanager
def open_tables(state_dir: Path) -> Iterator:
    """An in-memory DuckDB connection with one view per table of ``state_dir`` over its committed
    files, under the state directory's lock. Missing or locked state: :class:`StateError`."""
    from file_records.local.runner import state_lock

    paths = check_state(state_dir)
    with state_lock(paths):
        con = connect(paths.root)
        try:
            yield con
        finally:
            con.close()


def tables_in(con) -> set[str]:
    """The views of a connection made by :func:`connect`."""
    return {row[0] for row in con.execute(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main'").fetchall()}


def first_line(exc: BaseException, default: Optional[str] = None) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else (default or type(exc).__name__)
