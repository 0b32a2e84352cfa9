"""The `dxr` PySpark Python DataSource: Data X-Ray file metadata, batch and streaming.

    spark.dataSource.register(DxrDataSource)
    spark.readStream.format("dxr").option("base_url", url).option("queries", '["q1", "q2"]').load()

Options (all strings): base_url (required), queries (JSON list) or query, token_env (name of
the environment variable holding the token, default DXR_BEARER_TOKEN) or token_scope +
token_key (a Databricks secret), http_timeout (seconds between bytes, default 120),
verify_ssl (default true), ca_bundle, user_agent, record_cap, snapshot_interval_seconds
(streaming: minimum time between snapshots, default 86400), force_snapshot_after (ISO time:
take a snapshot if the last one is older), max_attempts (default 5), backoff_seconds,
spool_dir, chunk_bytes. Each query is one partition, read in parallel.

Each streaming micro-batch is one complete snapshot: every query's full response, each
ending with a `query_summary` row. If any query stays incomplete, the batch fails and
nothing of it is committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterator, Optional

import orjson
from pydantic import BaseModel, Field, field_validator
from pyspark.sql.datasource import DataSource, DataSourceReader, DataSourceStreamReader, InputPartition

from connectors import snapshot
from connectors.options import parse_options
from connectors.dxr.client import FetchOptions, fetch_to_spool
from connectors.dxr.schema import DXR_SPARK_SCHEMA

DEFAULT_QUERY = 'fileName:"*"'


class DxrSourceOptions(BaseModel):
    """The data source options, validated; a bad value is an error naming the option."""

    base_url: str
    queries: list[str] = Field(default_factory=lambda: [DEFAULT_QUERY])
    http_timeout: float = Field(120.0, gt=0)
    verify_ssl: bool = True
    ca_bundle: Optional[str] = None
    user_agent: str = "file-records"
    record_cap: Optional[int] = Field(None, gt=0)
    snapshot_interval_seconds: float = Field(86400.0, ge=0)
    force_snapshot_after: Optional[datetime] = None
    max_attempts: int = Field(5, ge=1, le=20)
    backoff_seconds: float = Field(1.0, ge=0)
    spool_dir: Optional[str] = None
    chunk_bytes: int = Field(4 << 20, ge=1 << 12)
    token_env: str = "DXR_BEARER_TOKEN"
    token_scope: Optional[str] = None
    token_key: Optional[str] = None

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or http:// for a local emulator)")
        return value

    @field_validator("queries")
    @classmethod
    def _queries(cls, value: list[str]) -> list[str]:
        if not value or any(not q.strip() for q in value):
            raise ValueError('needs at least one non-empty query; fileName:"*" reads every file')
        return value

    @field_validator("force_snapshot_after")
    @classmethod
    def _utc(cls, value: Optional[datetime]) -> Optional[datetime]:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value

    @classmethod
    def from_options(cls, options: dict) -> "DxrSourceOptions":
        raw = dict(options)
        if not raw.get("queries") and raw.get("query"):
            raw["queries"] = orjson.dumps([raw.pop("query")]).decode()
        return parse_options(cls, raw, "dxr", json_lists=("queries",))

    def fetch_options(self, query: str, token: str) -> FetchOptions:
        verify = self.ca_bundle if (self.verify_ssl and self.ca_bundle) else self.verify_ssl
        return FetchOptions(
            base_url=self.base_url,
            query=query,
            token=token,
            http_timeout=self.http_timeout,
            verify=verify,
            user_agent=self.user_agent,
            record_cap=self.record_cap,
            max_attempts=self.max_attempts,
            backoff_seconds=self.backoff_seconds,
            spool_dir=self.spool_dir,
        )


@dataclass
class DxrQueryPartition(InputPartition):
    index: int
    query: str
    snapshot_id: str
    taken_at: str


def read_query(settings: DxrSourceOptions, token: str, partition: DxrQueryPartition) -> Iterator:
    """One query of one snapshot -> Arrow batches, then its summary row."""
    from connectors.dxr.parse import SnapshotContext, iter_file_batches, summary_batch

    context = SnapshotContext(
        source_query=partition.query,
        snapshot_id=partition.snapshot_id,
        ingested_at=snapshot.parse_instant(partition.taken_at),
    )
    spooled = fetch_to_spool(settings.fetch_options(partition.query, token))
    rows = 0
    try:
        for batch in iter_file_batches(spooled.path, context, settings.chunk_bytes):
            rows += batch.num_rows
            yield batch
    finally:
        spooled.discard()
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
        from connectors.dxr.token import resolve_token

        self.settings = DxrSourceOptions.from_options(options)
        self._token = resolve_token(
            {"token_env": self.settings.token_env, "token_scope": self.settings.token_scope or "",
             "token_key": self.settings.token_key or ""}
        )

    def __repr__(self) -> str:  # the token must never be printed
        return f"{type(self).__name__}(base_url={self.settings.base_url!r}, queries={self.settings.queries!r})"

    def _partitions(self, offset: dict) -> list[DxrQueryPartition]:
        snapshot_id = snapshot.snapshot_id(offset)
        return [
            DxrQueryPartition(index, query, snapshot_id, offset["taken_at"])
            for index, query in enumerate(self.settings.queries)
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
        self._init_offsets(self.settings.snapshot_interval_seconds, self.settings.force_snapshot_after)


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
