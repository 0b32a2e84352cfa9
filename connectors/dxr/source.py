"""The `dxr` PySpark Python DataSource: Data X-Ray file metadata, batch and streaming.

    spark.dataSource.register(DxrDataSource)
    spark.readStream.format("dxr").option("base_url", url).option("queries", '["q1", "q2"]').load()

Options (all strings) are the fields of :class:`~file_records.connectors.dxr.options.DxrSourceOptions`:
base_url (required), queries (JSON list) or query, token_env or token_scope + token_key (where the
token is: it is never an option), snapshot_interval, force_snapshot_after, ... Each query is one
partition, read in parallel.

Each streaming micro-batch is one complete snapshot: every query's full response, each
ending with a `query_summary` row. If any query stays incomplete, the batch fails and
nothing of it is committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from pyspark.sql.datasource import DataSource, DataSourceReader, DataSourceStreamReader, InputPartition

from file_records.connectors import progress, snapshot
from file_records.connectors.dxr.client import fetch_to_spool
from file_records.connectors.dxr.options import DEFAULT_QUERY, DxrSourceOptions
from file_records.connectors.dxr.schema import DXR_SPARK_SCHEMA
from file_records.errors import ConfigError

__all__ = ["DEFAULT_QUERY", "DxrDataSource", "DxrSourceOptions"]


@dataclass
class DxrQueryPartition(InputPartition):
    index: int
    query: str
    snapshot_id: str
    taken_at: str
    queries: int = 1  # how many queries the snapshot has, for progress lines


def read_query(settings: DxrSourceOptions, token: str, partition: DxrQueryPartition) -> Iterator:
    """One query of one snapshot -> Arrow batches, then its summary row."""
    from file_records.connectors.dxr.parse import SnapshotContext, iter_file_batches, summary_batch

    context = SnapshotContext(
        source_query=partition.query,
        snapshot_id=partition.snapshot_id,
        ingested_at=snapshot.parse_instant(partition.taken_at),
    )
    label = f"dxr query {partition.index + 1} of {partition.queries} ({partition.query})"
    downloading = progress.Throttled()
    spooled = fetch_to_spool(
        settings.fetch_options(partition.query, token),
        progress=lambda records, size: downloading.maybe(
            lambda: progress.records_line(label, records, size, downloading.elapsed(), "received")),
    )
    rows = 0
    parsing = progress.Throttled()
    try:
        for batch in iter_file_batches(spooled.path, context, settings.chunk_bytes):
            rows += batch.num_rows
            yield batch
            parsing.maybe(lambda rows=rows: progress.records_line(label, rows, spooled.bytes, parsing.elapsed(),
                                                                  "stored"))
    finally:
        spooled.discard()
    progress.emit(progress.records_line(label, rows, spooled.bytes, downloading.elapsed(), "read, done"))
    yield summary_batch(
        context,
        {
            "records": rows,
            "bytes": spooled.bytes,
            "attempts": spooled.attempts,
            "record_cap_reached": spooled.capped,
        },
    )


class _DxrReading:
    """What the batch and the stream reader share: validated options and the token."""

    def __init__(self, options: dict) -> None:
        from file_records.connectors.dxr.token import resolve_token

        self.settings = DxrSourceOptions.from_options(options)
        if not self.settings.configured:
            raise ConfigError('dxr option "base_url" is required: the Data X-Ray tenant, e.g. https://acme.dataxray.io')
        self._token = resolve_token(
            {"token_env": self.settings.token_env, "token_scope": self.settings.token_scope or "",
             "token_key": self.settings.token_key or ""}
        )

    def __repr__(self) -> str:  # the token must never be printed
        return f"{type(self).__name__}(base_url={self.settings.base_url!r}, queries={self.settings.effective_queries!r})"

    def _partitions(self, offset: dict) -> list[DxrQueryPartition]:
        snapshot_id = snapshot.snapshot_id(offset)
        return [
            DxrQueryPartition(index, query, snapshot_id, offset["taken_at"], len(self.settings.effective_queries))
            for index, query in enumerate(self.settings.effective_queries)
        ]

    def read(self, partition: DxrQueryPartition) -> Iterator:
        yield from read_query(self.settings, self._token, partition)


class DxrBatchReader(_DxrReading, DataSourceReader):
    """A batch read takes one snapshot now."""

    def __init__(self, options: dict) -> None:
        super().__init__(options)
        self._offset = snapshot.first_offset_now()

    def partitions(self) -> list[DxrQueryPartition]:
        return self._partitions(self._offset)


class DxrStreamReader(snapshot.SnapshotStreamOffsets, _DxrReading, DataSourceStreamReader):
    def __init__(self, options: dict) -> None:
        _DxrReading.__init__(self, options)
        self._init_offsets(self.settings.snapshot_interval.total_seconds(), self.settings.force_snapshot_after)


class DxrDataSource(DataSource):
    """Data X-Ray `GET /api/v1/files` as a table; see the module docstring for options."""

    @classmethod
    def name(cls) -> str:
        return "dxr"

    def schema(self):
        return DXR_SPARK_SCHEMA

    def reader(self, schema) -> DxrBatchReader:
        return DxrBatchReader(self.options)

    def streamReader(self, schema) -> DxrStreamReader:
        return DxrStreamReader(self.options)
