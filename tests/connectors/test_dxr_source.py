"""The `dxr` PySpark data source: option handling and one query's read in plain Python, then batch
and streaming reads in Spark against a real DXR emulator.

How the token reaches Spark's Python workers in these tests
-----------------------------------------------------------
The reader is built (and the token resolved) inside a Python *worker* process that the JVM starts,
not in the test process. Workers inherit the JVM's environment, which is copied from the test
process when the JVM starts, so `monkeypatch.setenv("DXR_BEARER_TOKEN", ...)` after the session
fixture has started has no effect (the reader fails with "no Data X-Ray token").

What works on a classic (non-Connect) session that is already running: put the variable into
`spark.sparkContext.environment` *before* `spark.dataSource.register(DxrDataSource)`. Registration
pickles the data source class together with that environment (and `sparkContext.pythonExec`), and
Spark starts the planner and reader workers with it. The `dxr_spark` fixture below does that with a
test-only variable named by the `token_env` option, and also points `pythonExec` at this venv's
interpreter for the registration (the shared `spark` fixture does not set PYSPARK_PYTHON, and the
default `python3` on PATH may lack pyarrow). Setting the variable with `os.environ` before the
session starts works as well.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import sys
from datetime import datetime, timezone

import orjson
import pytest

from file_records.connectors.dxr.client import DxrAuthError, DxrTruncatedError
from file_records.connectors.dxr.schema import DXR_SPARK_SCHEMA, RECORD_TYPE_FILE, RECORD_TYPE_QUERY_SUMMARY
from file_records.connectors.dxr.source import (
    DEFAULT_QUERY,
    DxrBatchReader,
    DxrDataSource,
    DxrQueryPartition,
    DxrSourceOptions,
    DxrStreamReader,
    read_query,
)
from file_records.emulators.dxr_corpus import generate_records
from file_records.emulators.dxr_server import DxrEmulator, FaultConfig

TOKEN = "source-test-token-93af"
TOKEN_ENV = "DXR_SOURCE_TEST_TOKEN"
N_RECORDS = 600
SNAPSHOT_ID = re.compile(r"^\d{8}T\d{6}Z-\d{4,}$")


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return list(generate_records(N_RECORDS))


@pytest.fixture(scope="module")
def split_queries(records) -> tuple[list[str], dict[str, int]]:
    """Two queries that split the corpus in halves of similar size, and each one's record count."""
    queries, counts = _split(records, 0.5)
    assert min(counts.values()) > N_RECORDS // 4
    return queries, counts


def _split(records, fraction: float) -> tuple[list[str], dict[str, int]]:
    sizes = sorted(r["size"] for r in records)
    boundary = sizes[int(len(sizes) * fraction)]
    queries = [f"size < {boundary}", f"size >= {boundary}"]
    counts = {
        queries[0]: sum(1 for r in records if r["size"] < boundary),
        queries[1]: sum(1 for r in records if r["size"] >= boundary),
    }
    return queries, counts


@pytest.fixture(scope="module")
def uneven_queries(records) -> tuple[list[str], dict[str, int]]:
    """Two queries, the first with about a quarter of the corpus, the second with the rest."""
    return _split(records, 0.25)


@pytest.fixture(scope="module")
def emu_module(records):
    emulator = DxrEmulator(records, token=TOKEN, faults=FaultConfig(missing_q="error")).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def emu(emu_module):
    emu_module.faults = FaultConfig(missing_q="error")
    emu_module.requests.clear()
    yield emu_module
    files = [r for r in emu_module.requests if r.path == "/api/v1/files"]
    assert all(r.q for r in files), "a request without q reached the emulator"
    emu_module.faults = FaultConfig(missing_q="error")


def files_requests(emu) -> list:
    return [r for r in emu.requests if r.path == "/api/v1/files"]


# --- options and readers, no Spark ------------------------------------------------------------------


def test_options_defaults():
    settings = DxrSourceOptions.from_options({"base_url": "https://tenant.dataxray.io/"})
    assert settings.base_url == "https://tenant.dataxray.io"
    assert settings.effective_queries == [DEFAULT_QUERY] == ['fileName:"*"']
    assert settings.http_timeout == 120.0
    assert settings.verify_ssl is True
    assert settings.snapshot_interval.total_seconds() == 86400.0
    assert settings.token_env == "DXR_BEARER_TOKEN"


def test_options_query_and_queries():
    one = DxrSourceOptions.from_options({"base_url": "https://h", "query": 'fileName:"*.pdf"'})
    assert one.effective_queries == ['fileName:"*.pdf"']
    two = DxrSourceOptions.from_options({"base_url": "https://h", "queries": json.dumps(["size < 5", "size >= 5"])})
    assert two.effective_queries == ["size < 5", "size >= 5"]


@pytest.mark.parametrize(
    "options, needle",
    [
        ({"base_url": "tenant.dataxray.io"}, "base_url"),
        ({"base_url": "https://h", "queries": "not json"}, "queries"),
        ({"base_url": "https://h", "queries": "[]"}, "queries"),
        ({"base_url": "https://h", "queries": '["  "]'}, "queries"),
        ({"base_url": "https://h", "http_timeout": "abc"}, "http_timeout"),
        ({"base_url": "https://h", "record_cap": "0"}, "record_cap"),
    ],
)
def test_bad_options_are_errors_naming_the_option(options, needle):
    with pytest.raises(ValueError) as caught:
        DxrSourceOptions.from_options(options)
    assert needle in str(caught.value)


def test_tls_options_map_to_requests_verify(tmp_path):
    base = {"base_url": "https://h"}
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert DxrSourceOptions.from_options(base).fetch_options("q", "t").verify is True
    assert DxrSourceOptions.from_options({**base, "verify_ssl": "false"}).fetch_options("q", "t").verify is False
    with_ca = DxrSourceOptions.from_options({**base, "ca_bundle": str(bundle)})
    assert with_ca.fetch_options("q", "t").verify == str(bundle)
    with pytest.raises(ValueError, match="ca_bundle"):
        DxrSourceOptions.from_options({**base, "ca_bundle": str(tmp_path / "missing.pem")})


def test_readers_resolve_the_token_from_the_environment_and_never_show_it(monkeypatch):
    secret = "env-token-visible-nowhere-41"
    monkeypatch.setenv("DXR_BEARER_TOKEN", secret)
    options = {"base_url": "http://127.0.0.1:9", "queries": json.dumps(["a", "b"])}
    batch = DxrBatchReader(options)
    stream = DxrStreamReader(options)
    for reader in (batch, stream):
        assert secret not in repr(reader)
        assert secret not in str(reader)
    parts = batch.partitions()
    assert [p.query for p in parts] == ["a", "b"]
    assert all(secret not in repr(p) for p in parts)
    assert SNAPSHOT_ID.match(parts[0].snapshot_id)
    # The reader is pickled to the executors with its token; that is its only way there.
    assert pickle.loads(pickle.dumps(batch))._token == secret


def test_missing_token_is_an_auth_error_naming_the_variable(monkeypatch):
    monkeypatch.delenv("DXR_NO_SUCH_TOKEN", raising=False)
    with pytest.raises(DxrAuthError) as caught:
        DxrBatchReader({"base_url": "https://h", "token_env": "DXR_NO_SUCH_TOKEN"})
    assert "DXR_NO_SUCH_TOKEN" in str(caught.value)


def test_stream_reader_offsets(monkeypatch):
    monkeypatch.setenv("DXR_BEARER_TOKEN", "t")
    reader = DxrStreamReader({"base_url": "https://h", "snapshot_interval": "3600", "queries": '["a","b"]'})
    start = reader.initialOffset()
    end = reader.latestOffset(start, None)
    assert end["seq"] == 1
    assert [p.query for p in reader.partitions(start, end)] == ["a", "b"]
    reader.commit(end)
    assert reader.latestOffset(end, None) == end  # interval not passed: no new snapshot
    assert reader.partitions(end, end) == []
    assert reader.latestOffset() == end  # runtimes that call latestOffset() without `start`


def partition(query: str, seq: int = 1) -> DxrQueryPartition:
    return DxrQueryPartition(0, query, f"20261101T000000Z-{seq:04d}", "2026-11-01T00:00:00Z")


def test_read_query_yields_batches_then_a_summary_and_removes_the_spool(emu, tmp_path, split_queries, caplog):
    queries, counts = split_queries
    caplog.set_level("INFO", logger="file_records.progress")
    settings = DxrSourceOptions.from_options(
        {"base_url": emu.url, "spool_dir": str(tmp_path), "chunk_bytes": "65536", "backoff_seconds": "0.01"}
    )
    batches = list(read_query(settings, TOKEN, partition(queries[0])))
    *files, summary = batches
    assert len(files) > 1  # 64 KiB chunks: several batches, streamed
    assert sum(b.num_rows for b in files) == counts[queries[0]]
    assert {t for b in files for t in b.column("record_type").to_pylist()} == {RECORD_TYPE_FILE}
    summary_row = summary.to_pylist()[0]
    assert summary_row["record_type"] == RECORD_TYPE_QUERY_SUMMARY
    assert orjson.loads(summary_row["raw_json"])["records"] == counts[queries[0]]
    assert os.listdir(tmp_path) == []
    # the partition says how far it got; the last line is its total
    assert f"{counts[queries[0]]:,} records read, done" in caplog.records[-1].getMessage()


def test_read_query_that_stays_truncated_yields_nothing(emu, tmp_path, split_queries):
    queries, _ = split_queries
    emu.faults = FaultConfig(truncate_after_rows=5)
    settings = DxrSourceOptions.from_options(
        {"base_url": emu.url, "spool_dir": str(tmp_path), "max_attempts": "2", "backoff_seconds": "0.01"}
    )
    yielded = []
    with pytest.raises(DxrTruncatedError):
        for batch in read_query(settings, TOKEN, partition(queries[0])):
            yielded.append(batch)
    assert yielded == []  # the response is checked whole before any row is produced
    assert os.listdir(tmp_path) == []


# --- Spark ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dxr_spark(spark):
    context = spark.sparkContext
    context.environment[TOKEN_ENV] = TOKEN
    python_exec = context.pythonExec
    context.pythonExec = sys.executable
    try:
        spark.dataSource.register(DxrDataSource)
    finally:
        context.pythonExec = python_exec
        context.environment.pop(TOKEN_ENV, None)  # the registration keeps its own copy
    return spark


def reader_options(emu, queries, **extra) -> dict:
    return {
        "base_url": emu.url,
        "token_env": TOKEN_ENV,
        "queries": json.dumps(queries),
        "backoff_seconds": "0.01",
        **{k: str(v) for k, v in extra.items()},
    }


@pytest.mark.spark
def test_batch_read_one_partition_per_query(dxr_spark, emu, tmp_path, split_queries, records):
    from pyspark.sql import functions as F

    spark = dxr_spark
    queries, counts = split_queries
    df = spark.read.format("dxr").options(**reader_options(emu, queries)).load()
    assert df.schema == DXR_SPARK_SCHEMA
    assert TOKEN not in df._jdf.queryExecution().toString()

    out = str(tmp_path / "bronze")
    # The bronze-style write, with each row's partition id kept to check the partitioning.
    df.withColumn("partition_id", F.spark_partition_id()).write.parquet(out)
    assert sorted(r.q for r in files_requests(emu)) == sorted(queries)  # one job, one request per query

    groups = (
        spark.read.parquet(out)
        .groupBy("partition_id", "source_query", "record_type", "snapshot_id", "ingestion_date", "ingested_at")
        .agg(
            F.count("*").alias("rows"),
            F.countDistinct("file_id").alias("file_ids"),
            F.sum(F.col("parse_error").isNotNull().cast("int")).alias("parse_errors"),
            F.sum((F.col("raw_json").isNull() | F.col("size").isNull()).cast("int")).alias("untyped"),
            F.collect_list(F.when(F.col("record_type") == RECORD_TYPE_QUERY_SUMMARY, F.col("raw_json"))).alias("summary"),
        )
        .collect()
    )
    # One partition per query.
    assert len({g.partition_id for g in groups}) == 2
    assert len({(g.partition_id, g.source_query) for g in groups}) == 2
    assert {g.source_query for g in groups} == set(queries)

    files = {g.source_query: g for g in groups if g.record_type == RECORD_TYPE_FILE}
    assert {q: g.rows for q, g in files.items()} == counts
    assert sum(g.file_ids for g in files.values()) == len({r["fileId"] for r in records})
    assert all(g.parse_errors == 0 and g.untyped == 0 for g in files.values())

    summaries = {g.source_query: g for g in groups if g.record_type == RECORD_TYPE_QUERY_SUMMARY}
    assert set(summaries) == set(queries)
    for query, group in summaries.items():
        assert group.rows == 1
        summary = orjson.loads(group.summary[0])
        assert summary["records"] == counts[query]
        assert summary["attempts"] == 1 and summary["record_cap_reached"] is False

    assert len({g.snapshot_id for g in groups}) == 1 and SNAPSHOT_ID.match(groups[0].snapshot_id)
    assert len({(g.ingestion_date, g.ingested_at) for g in groups}) == 1
    assert groups[0].ingestion_date == groups[0].ingested_at.date()


def run_stream(spark, emu, queries, path, checkpoint, **extra) -> None:
    query = (
        spark.readStream.format("dxr")
        .options(**reader_options(emu, queries, **extra))
        .load()
        .writeStream.format("parquet")
        .option("path", path)
        .option("checkpointLocation", checkpoint)
        .trigger(availableNow=True)
        .start()
    )
    try:
        query.awaitTermination()
    finally:
        query.stop()


def snapshots(spark, path) -> dict[str, dict[str, int]]:
    """snapshot_id -> {record_type: rows}, as the sink's commit log shows them."""
    from pyspark.sql import functions as F

    out: dict[str, dict[str, int]] = {}
    try:
        rows = spark.read.parquet(path).groupBy("snapshot_id", "record_type").agg(F.count("*").alias("n")).collect()
    except Exception as exc:
        if "PATH_NOT_FOUND" in str(exc) or "UNABLE_TO_INFER_SCHEMA" in str(exc):
            return {}
        raise
    for row in rows:
        out.setdefault(row.snapshot_id, {})[row.record_type] = row.n
    return out


@pytest.mark.spark
def test_streaming_one_snapshot_per_due_trigger(dxr_spark, emu, tmp_path, split_queries):
    spark = dxr_spark
    queries, counts = split_queries
    path, checkpoint = str(tmp_path / "sink"), str(tmp_path / "checkpoint")
    expected = {RECORD_TYPE_FILE: sum(counts.values()), RECORD_TYPE_QUERY_SUMMARY: len(queries)}

    run_stream(spark, emu, queries, path, checkpoint, snapshot_interval=86400)
    first = snapshots(spark, path)
    assert list(first.values()) == [expected]
    assert len(files_requests(emu)) == 2

    # Same checkpoint, interval not passed: nothing is fetched, nothing is added.
    run_stream(spark, emu, queries, path, checkpoint, snapshot_interval=86400)
    assert snapshots(spark, path) == first
    assert len(files_requests(emu)) == 2

    # A forced snapshot: exactly one more.
    force = datetime.now(timezone.utc).isoformat()
    run_stream(spark, emu, queries, path, checkpoint, snapshot_interval=86400, force_snapshot_after=force)
    after = snapshots(spark, path)
    assert len(after) == 2 and all(v == expected for v in after.values())
    first_id, second_id = sorted(after)
    assert first_id == next(iter(first))
    assert first_id.endswith("-0001") and second_id.endswith("-0002")
    assert len(files_requests(emu)) == 4


@pytest.mark.spark
def test_streaming_batch_fails_when_a_query_stays_truncated(dxr_spark, emu, tmp_path, uneven_queries):
    from pyspark.errors import StreamingQueryException

    spark = dxr_spark
    queries, counts = uneven_queries
    small, large = sorted(queries, key=counts.get)
    path, checkpoint = str(tmp_path / "sink"), str(tmp_path / "checkpoint")
    # Only the larger query's responses are long enough to be cut; the smaller one completes.
    emu.faults = FaultConfig(truncate_after_rows=(counts[small] + counts[large]) // 2 + 1)
    assert counts[small] <= emu.faults.truncate_after_rows < counts[large]

    with pytest.raises(StreamingQueryException) as caught:
        run_stream(spark, emu, queries, path, checkpoint, max_attempts=2)
    message = str(caught.value)
    assert "DxrTruncatedError" in message and "split the query" in message
    assert TOKEN not in message
    outcomes = {(r.q, r.outcome) for r in files_requests(emu)}
    assert (small, "complete") in outcomes and (large, "truncated") in outcomes
    # The smaller query's rows were produced by a finished task, but the batch was not committed.
    assert snapshots(spark, path) == {}

    # Once the server answers in full, the same snapshot (same id) is taken again and committed once.
    emu.faults = FaultConfig()
    run_stream(spark, emu, queries, path, checkpoint, max_attempts=2)
    committed = snapshots(spark, path)
    assert list(committed) and all(key.endswith("-0001") for key in committed)
    assert committed[next(iter(committed))] == {
        RECORD_TYPE_FILE: sum(counts.values()),
        RECORD_TYPE_QUERY_SUMMARY: len(queries),
    }
