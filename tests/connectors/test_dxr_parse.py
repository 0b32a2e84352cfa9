"""JSON Lines -> Arrow: fast path (pyarrow) and slow path (orjson, per line) agree; nothing is dropped."""

from __future__ import annotations

from datetime import date, datetime, timezone

import orjson
import pyarrow as pa
import pytest

from file_records.connectors.dxr.parse import (
    SnapshotContext,
    _parse_fast,
    iter_file_batches,
    parse_chunk,
    parse_lines_slow,
    split_lines,
    summary_batch,
)
from file_records.connectors.dxr.schema import (
    COLUMN_NAMES,
    RECORD_TYPE_FILE,
    RECORD_TYPE_QUERY_SUMMARY,
    arrow_output_schema,
)
from file_records.emulators.dxr_corpus import DEMO_MALFORMED_LINES, generate_records

CONTEXT = SnapshotContext(
    source_query='fileName:"*"',
    snapshot_id="20261101T020304Z-0007",
    ingested_at=datetime(2026, 11, 1, 2, 3, 4, tzinfo=timezone.utc),
)


@pytest.fixture(scope="module")
def corpus_lines() -> list[bytes]:
    return [orjson.dumps(r) for r in generate_records(2000)]


def as_chunk(lines: list[bytes]) -> bytes:
    return b"\n".join(lines) + b"\n"


def rows_of(batches) -> list[dict]:
    return [row for batch in batches for row in batch.to_pylist()]


def test_fast_and_slow_paths_give_identical_rows(corpus_lines):
    chunk = as_chunk(corpus_lines)
    fast = _parse_fast(chunk, split_lines(chunk), CONTEXT)
    assert fast is not None, "the generated corpus must take the fast path"
    slow = parse_lines_slow(corpus_lines, CONTEXT)
    assert fast.num_rows == slow.num_rows == len(corpus_lines)
    fast_rows, slow_rows = fast.to_pylist(), slow.to_pylist()
    for index, (a, b) in enumerate(zip(fast_rows, slow_rows, strict=True)):
        assert a == b, f"row {index} differs: " + repr({k: (a[k], b[k]) for k in a if a[k] != b[k]})


def test_rows_carry_typed_fields_raw_json_and_context(corpus_lines):
    record = orjson.loads(corpus_lines[0])
    row = parse_chunk(as_chunk(corpus_lines[:1]), CONTEXT).to_pylist()[0]
    assert row["record_type"] == RECORD_TYPE_FILE
    assert row["file_id"] == record["fileId"]
    assert row["path"] == record["path"]
    assert row["size"] == record["size"]
    assert row["datasource_id"] == record["datasource"]["id"]
    assert row["connector_type"] == record["datasource"]["connector"]["type"]
    assert row["created_at"] == datetime.fromisoformat(record["createdAt"].replace("Z", "+00:00"))
    assert [label["name"] for label in row["labels"]] == [label["name"] for label in record["labels"]]
    assert row["raw_json"] == corpus_lines[0].decode("utf-8")
    assert row["parse_error"] is None
    assert row["source_query"] == CONTEXT.source_query
    assert row["snapshot_id"] == CONTEXT.snapshot_id
    assert row["ingestion_date"] == date(2026, 11, 1)
    assert row["ingested_at"] == CONTEXT.ingested_at


def test_edge_values_agree_between_paths():
    records = [
        {"fileId": "a", "createdAt": "2024-01-01T10:00:00.123456Z", "lastModifiedAt": "2024-01-01T10:00:00+02:00"},
        {"fileId": "b", "createdAt": None, "labels": None, "owner": None, "datasource": None},
        {"fileId": "c", "labels": [], "annotators": [], "entitlements": {}},
        {"fileId": "d", "annotators": [{"name": "x"}, {"id": "no-name"}], "datasource": {"id": "ds"}},
        {"fileId": "e", "size": -5, "entitlements": {"whoCanAccess": None}, "labels": [None]},
        {"fileId": "f", "fileName": "Zürich ☃ 😀.pdf", "unknownField": {"nested": [1, 2]}},
        {},
    ]
    lines = [orjson.dumps(r) for r in records]
    chunk = as_chunk(lines)
    fast = _parse_fast(chunk, split_lines(chunk), CONTEXT)
    assert fast is not None
    assert fast.to_pylist() == parse_lines_slow(lines, CONTEXT).to_pylist()


def test_malformed_lines_become_rows_with_parse_error(corpus_lines):
    good = corpus_lines[:5]
    lines = [good[0], DEMO_MALFORMED_LINES[0], good[1], good[2], DEMO_MALFORMED_LINES[1], b"[1, 2]", good[3], good[4]]
    batch = parse_chunk(as_chunk(lines), CONTEXT)
    assert batch.schema == arrow_output_schema()
    rows = batch.to_pylist()
    assert len(rows) == len(lines)  # never dropped
    assert [row["raw_json"] for row in rows] == [line.decode() for line in lines]
    bad = {1, 4, 5}
    for index, row in enumerate(rows):
        if index in bad:
            assert row["parse_error"], row
            assert row["file_id"] is None
            assert row["record_type"] == RECORD_TYPE_FILE
            assert row["snapshot_id"] == CONTEXT.snapshot_id
        else:
            assert row["parse_error"] is None
            assert row["file_id"] == orjson.loads(lines[index])["fileId"]
    assert "invalid JSON" in rows[1]["parse_error"]
    assert "list" in rows[5]["parse_error"]


INVALID_UTF8_LINES = [b'{"fileId":"ok"}', b'{"fileId":"\xff\xfe"}']


def test_invalid_utf8_line_is_kept_by_the_slow_path():
    rows = parse_lines_slow(INVALID_UTF8_LINES, CONTEXT).to_pylist()
    assert rows[0]["file_id"] == "ok" and rows[0]["parse_error"] is None
    assert "UTF-8" in rows[1]["parse_error"] and rows[1]["raw_json"]


def test_invalid_utf8_line_is_kept():
    lines = INVALID_UTF8_LINES
    rows = parse_chunk(as_chunk(lines), CONTEXT).to_pylist()
    assert len(rows) == 2
    assert rows[0]["file_id"] == "ok" and rows[0]["parse_error"] is None
    assert rows[1]["parse_error"] and rows[1]["raw_json"]


def test_wrong_field_type_forces_slow_path_and_nulls_that_field(corpus_lines):
    odd = orjson.loads(corpus_lines[1])
    odd["size"] = "abc"
    lines = [corpus_lines[0], orjson.dumps(odd), corpus_lines[2]]
    chunk = as_chunk(lines)
    assert _parse_fast(chunk, split_lines(chunk), CONTEXT) is None
    rows = parse_chunk(chunk, CONTEXT).to_pylist()
    assert len(rows) == 3
    assert rows[1]["size"] is None
    assert rows[1]["file_id"] == odd["fileId"]  # the rest of the record is still typed
    assert rows[1]["parse_error"] is None
    assert '"size":"abc"' in rows[1]["raw_json"]
    assert rows[0]["size"] == orjson.loads(corpus_lines[0])["size"]
    assert rows[2]["size"] == orjson.loads(corpus_lines[2])["size"]


def test_numeric_datasource_id_is_kept_as_text():
    lines = [b'{"fileId":"v","datasource":{"id":123,"name":"old"},"size":1.0}']
    rows = parse_chunk(as_chunk(lines), CONTEXT).to_pylist()
    assert rows[0]["datasource_id"] == "123"
    assert rows[0]["size"] == 1


def test_blank_lines_are_ignored(corpus_lines):
    chunk = b"\n" + corpus_lines[0] + b"\r\n\n   \n" + corpus_lines[1] + b"\n\t\n" + corpus_lines[2] + b"\r\n\n"
    rows = parse_chunk(chunk, CONTEXT).to_pylist()
    assert [row["raw_json"] for row in rows] == [line.decode() for line in corpus_lines[:3]]
    assert all(row["parse_error"] is None for row in rows)
    assert parse_chunk(b"\n \n\r\n", CONTEXT) is None


def write(tmp_path, data: bytes) -> str:
    path = tmp_path / "spool.jsonl"
    path.write_bytes(data)
    return str(path)


def test_small_chunks_give_the_same_rows_as_one_big_chunk(tmp_path, corpus_lines):
    lines = corpus_lines[:300]
    path = write(tmp_path, as_chunk(lines))
    big = list(iter_file_batches(path, CONTEXT, chunk_bytes=64 << 20))
    small = list(iter_file_batches(path, CONTEXT, chunk_bytes=4096))
    assert len(big) == 1
    assert len(small) > 50
    assert rows_of(small) == rows_of(big)
    assert len(rows_of(small)) == len(lines)
    for batch in small:
        assert batch.schema == arrow_output_schema()


def test_line_longer_than_chunk_bytes_still_parses(tmp_path, corpus_lines):
    long_record = orjson.loads(corpus_lines[0])
    long_record["fileId"] = "long-one"
    long_record["path"] = "deep/" * 4000 + "file.pdf"  # ~20 kB line
    long_line = orjson.dumps(long_record)
    assert len(long_line) > 4 * 4096
    lines = [corpus_lines[1], long_line, corpus_lines[2], corpus_lines[3]]
    path = write(tmp_path, as_chunk(lines))
    rows = rows_of(iter_file_batches(path, CONTEXT, chunk_bytes=4096))
    assert [row["raw_json"] for row in rows] == [line.decode() for line in lines]
    assert rows[1]["path"] == long_record["path"]
    assert all(row["parse_error"] is None for row in rows)


def test_last_line_without_newline_and_malformed_lines_in_file(tmp_path, corpus_lines):
    lines = [corpus_lines[0], DEMO_MALFORMED_LINES[0], corpus_lines[1]]
    path = write(tmp_path, b"\n".join(lines))  # no final newline
    rows = rows_of(iter_file_batches(path, CONTEXT, chunk_bytes=4096))
    assert [row["raw_json"] for row in rows] == [line.decode() for line in lines]
    assert [row["parse_error"] is not None for row in rows] == [False, True, False]


def test_empty_file_gives_no_batches(tmp_path):
    assert list(iter_file_batches(write(tmp_path, b""), CONTEXT)) == []


def test_output_schema_matches_spark_schema(corpus_lines):
    expected = arrow_output_schema()
    assert expected.names == COLUMN_NAMES
    chunk = as_chunk(corpus_lines[:10])
    assert _parse_fast(chunk, split_lines(chunk), CONTEXT).schema == expected
    assert parse_lines_slow(corpus_lines[:10], CONTEXT).schema == expected
    assert parse_lines_slow([DEMO_MALFORMED_LINES[0]], CONTEXT).schema == expected
    assert summary_batch(CONTEXT, {"records": 0}).schema == expected


def test_summary_batch_is_one_row_with_the_summary_in_raw_json():
    summary = {"records": 12, "bytes": 3456, "attempts": 2, "record_cap_reached": False}
    rows = summary_batch(CONTEXT, summary).to_pylist()
    assert len(rows) == 1
    row = rows[0]
    assert row["record_type"] == RECORD_TYPE_QUERY_SUMMARY
    assert orjson.loads(row["raw_json"]) == summary
    assert row["file_id"] is None
    assert row["source_query"] == CONTEXT.source_query
    assert row["snapshot_id"] == CONTEXT.snapshot_id


def test_batches_are_valid_arrow(corpus_lines):
    batch = parse_chunk(as_chunk(corpus_lines[:50]), CONTEXT)
    batch.validate(full=True)
    assert isinstance(batch, pa.RecordBatch)
