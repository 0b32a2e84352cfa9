"""The local tables read without Spark (file_records.local.tables): the streaming sink's log decides
which files of a bronze table are committed, a materialized view is its folder's parquet files, and
a missing or locked state directory is the same StateError as Spark's reader. No JVM: the fake
state directories are parquet files written by pyarrow."""

from __future__ import annotations

import datetime as dt
import fcntl
from pathlib import Path
from typing import Optional

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from file_records.errors import StateError
from file_records.local import tables

D = dt.date(2026, 3, 1)
FLAGS = pa.table({
    "source_system": ["dxr", "dxr", "dxr", "workspace"],
    "file_id": ["f1", "f2", "f3", "workspace:/Users/c/x"],
    "path": ["/Docs/a.docx", '=HYPERLINK("http://evil")', "/Docs/c.docx", "/Users/c/x"],
    "owner": ["Alice@Example.com", "bob@example.com", "alice@example.com", "carol@example.com"],
    "size": pa.array([10, 20, 30, 1], pa.int64()),
    "policy": ["duplicate", "duplicate", "stale", "orphaned"],
    "action": ["archive", "archive", "review", "review"],
    "severity": ["low", "low", "low", "medium"],
    "reason": ["copy", "copy", "+old", "-gone"],
    "suppressed_by": [None, "legal_hold", None, None],
    "detected_on": [D, D, D, D],
})
FILES = pa.table({
    "source_system": ["dxr", "dxr"],
    "file_id": ["f1", "f2"],
    "path": ["/Docs/a.docx", "/x"],
    "file_name": ["a.docx", "b.docx"],
    "owner": ["alice@example.com", "bob@example.com"],
    "content_sha256": ["a" * 64, "b" * 64],
    "datasource_name": ["Legal SP", "Legal SP"],
})
INVENTORY = pa.table({
    "username": ["zoe@example.com", "adam@example.com", "adam@example.com", None],
    "file_count": pa.array([1, 2, 3, 4], pa.int64()),
    "total_size": pa.array([10, 20, 30, 40], pa.int64()),
    "total_size_gb": [0.0, 0.0, 0.0, 0.0],
    "status": ["ok", "ok", "error", "ok"],
    "file_source": ["workspace"] * 4,
    "error": [None, None, "boom", None],
    "active": [True, True, True, False],
    "scan_time": [dt.datetime(2026, 3, 1, 10, 0, 5)] * 4,
    "scan_id": ["20260301T100000Z", "20260301T100000Z", "20260201T100000Z", "20260301T100000Z"],
})


def bronze_rows(*ids: str) -> pa.Table:
    return pa.table({"file_id": list(ids), "snapshot_id": ["s1"] * len(ids),
                     "ingested_at": [dt.datetime(2026, 3, 1, 9, 30)] * len(ids)})


def write_sink_log(folder: Path, batch: str, entries: list[tuple[str, str]], logged_root: Optional[Path] = None) -> None:
    """One file of a file-sink log: ``v1`` then a JSON line per (file name, action)."""
    log = folder / tables.SINK_LOG
    log.mkdir(parents=True, exist_ok=True)
    base = (logged_root or folder)
    lines = ["v1"] + [orjson.dumps({"path": (base / name).as_uri(), "size": 1, "isDir": False,
                                     "modificationTime": 0, "blockReplication": 1, "blockSize": 1,
                                     "action": action}).decode() for name, action in entries]
    (log / batch).write_text("\n".join(lines), encoding="utf-8")


def write_view(folder: Path, *parts: pa.Table) -> None:
    """A materialized view as Spark leaves it: part files, _SUCCESS, and a hidden file (not data)."""
    folder.mkdir(parents=True, exist_ok=True)
    for index, part in enumerate(parts):
        name = f"part-{index:05d}-0000-c000.snappy.parquet"
        pq.write_table(part, folder / name)
    (folder / ".part-00009-0000-c000.snappy.parquet").write_bytes(b"not parquet")  # hidden: never read
    (folder / "_SUCCESS").write_text("")


def make_state(root: Path) -> Path:
    """A tiny state directory: a bronze table with two committed part files and one that its
    batch never committed, flags, files and an inventory of two scans."""
    (root / "metastore" / "metastore_db").mkdir(parents=True)
    warehouse = root / "warehouse"
    bronze = warehouse / "bronze_dxr_files"
    bronze.mkdir(parents=True)
    pq.write_table(bronze_rows("b1", "b2"), bronze / "part-00000-a-c000.snappy.parquet")
    pq.write_table(bronze_rows("b3"), bronze / "part-00000-b-c000.snappy.parquet")
    pq.write_table(bronze_rows("uncommitted"), bronze / "part-00000-c-c000.snappy.parquet")
    write_sink_log(bronze, "0", [("part-00000-a-c000.snappy.parquet", "add")])
    write_sink_log(bronze, "1", [("part-00000-b-c000.snappy.parquet", "add")])
    write_view(warehouse / "gold_policy_flags", FLAGS.slice(0, 2), FLAGS.slice(2))
    write_view(warehouse / "silver_all_files", FILES)
    write_view(warehouse / "gold_user_inventory", INVENTORY)
    return root


@pytest.fixture
def state(tmp_path) -> Path:
    return make_state(tmp_path / "state")


def ids(root: Path, table: str) -> list[str]:
    return sorted(value for path in tables.committed_files(root, table)
                  for value in pq.read_table(path).column("file_id").to_pylist())


def test_an_uncommitted_part_file_is_not_read(state):
    files = tables.committed_files(state, "bronze_dxr_files")
    assert [f.name for f in files] == ["part-00000-a-c000.snappy.parquet", "part-00000-b-c000.snappy.parquet"]
    with tables.open_tables(state) as con:
        found = sorted(r[0] for r in con.execute("SELECT file_id FROM bronze_dxr_files").fetchall())
    assert found == ["b1", "b2", "b3"]


def test_compaction_and_deletes(state):
    bronze = state / "warehouse" / "bronze_dxr_files"
    # 1.compact holds every entry up to batch 1; the deltas before it may be gone (here: 0 still
    # lists a file the compaction dropped, and must not be read again)
    write_sink_log(bronze, "0", [("part-00000-c-c000.snappy.parquet", "add")])
    write_sink_log(bronze, "1.compact", [("part-00000-a-c000.snappy.parquet", "add"),
                                         ("part-00000-b-c000.snappy.parquet", "add")])
    (bronze / tables.SINK_LOG / "1").unlink()
    write_sink_log(bronze, "2", [("part-00000-a-c000.snappy.parquet", "delete")])
    (bronze / tables.SINK_LOG / ".3.1234.tmp").write_text("v1\n")  # a batch being written
    assert ids(state, "bronze_dxr_files") == ["b3"]


def test_a_moved_state_directory_reads_its_own_files(state, tmp_path):
    bronze = state / "warehouse" / "bronze_dxr_files"
    elsewhere = tmp_path / "old" / "warehouse" / "bronze_dxr_files"
    write_sink_log(bronze, "0", [("part-00000-a-c000.snappy.parquet", "add")], logged_root=elsewhere)
    assert tables.committed_files(state, "bronze_dxr_files")[0] == bronze / "part-00000-a-c000.snappy.parquet"


def test_a_missing_committed_file_is_a_state_error(state):
    (state / "warehouse" / "bronze_dxr_files" / "part-00000-b-c000.snappy.parquet").unlink()
    with pytest.raises(StateError, match="bronze_dxr_files: 1 committed file"):
        tables.committed_files(state, "bronze_dxr_files")


def test_views_read_the_folder_and_skip_hidden_files(state):
    (state / "warehouse" / "gold_policy_flags" / "_temporary").mkdir()
    pq.write_table(FLAGS, state / "warehouse" / "gold_policy_flags" / "_temporary" / "part-9.parquet")
    assert len(tables.committed_files(state, "gold_policy_flags")) == 2
    with tables.open_tables(state) as con:
        assert tables.tables_in(con) == {"bronze_dxr_files", "gold_policy_flags", "silver_all_files",
                                         "gold_user_inventory"}
        assert con.execute("SELECT count(*) FROM gold_policy_flags").fetchall() == [(4,)]
        (when,) = con.execute("SELECT max(scan_time) FROM gold_user_inventory").fetchall()[0]
    assert when == dt.datetime(2026, 3, 1, 10, 0, 5)  # naive, as Spark's UTC session returns it


def test_a_bronze_table_before_its_first_commit_is_empty_with_its_schema(state):
    bronze = state / "warehouse" / "bronze_dxr_files"
    for batch in (bronze / tables.SINK_LOG).iterdir():
        batch.unlink()
    assert tables.committed_files(state, "bronze_dxr_files") == []
    with tables.open_tables(state) as con:
        cursor = con.execute("SELECT * FROM bronze_dxr_files")
        assert [c[0] for c in cursor.description] == ["file_id", "snapshot_id", "ingested_at"]
        assert cursor.fetchall() == []
    (state / "warehouse" / "empty_table").mkdir()
    with tables.open_tables(state) as con:
        assert "empty_table" not in tables.tables_in(con)  # nothing tells its schema: left out


def test_missing_file_and_locked_state_are_state_errors(tmp_path, state):
    with pytest.raises(StateError, match="no pipeline state in"):
        with tables.open_tables(tmp_path / "nowhere"):
            pass
    assert not (tmp_path / "nowhere").exists()
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(StateError, match="is a file, not a state directory"):
        with tables.open_tables(tmp_path / "a-file"):
            pass
    with open(state / ".lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(StateError, match="another file-records process is using"):
            with tables.open_tables(state):
                pass


def test_the_connection_reads_nothing_else_and_writes_nothing(state, tmp_path):
    import duckdb

    outside = tmp_path / "outside.csv"
    outside.write_text("a\n1\n")
    with tables.open_tables(state) as con:
        for sql in (f"SELECT * FROM read_csv('{outside}')", f"COPY (SELECT 1) TO '{tmp_path / 'x.csv'}'",
                    "SET enable_external_access = true"):
            with pytest.raises(duckdb.Error):
                con.execute(sql)
    assert not (tmp_path / "x.csv").exists()


def test_row_count_reads_the_footers_of_committed_files_only(state):
    """The runner's per-table counts: the uncommitted bronze part file is not counted."""
    assert tables.row_count(state, "bronze_dxr_files") == 3
    assert tables.row_count(state, "gold_policy_flags") == 4
    assert tables.row_count(state, "no_such_table") is None
