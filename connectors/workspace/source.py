"""The `workspace` PySpark Python DataSource: every user's Workspace and DBFS files.

    spark.dataSource.register(WorkspaceDataSource)
    spark.readStream.format("workspace").option("host", "https://adb-1.azuredatabricks.net").load()

Auth is databricks-sdk unified auth (DATABRICKS_HOST / DATABRICKS_TOKEN in the environment, a
`profile`, OAuth, or the runtime's own credentials on Databricks), resolved once on the driver
when the partitions are planned (so every streaming micro-batch gets fresh credentials) and
shipped with each partition: executors need no credentials of their own (on serverless and
shared clusters they have none). No credential is ever an option, and the partition's `repr`
shows none, so none is in a plan or a log (connectors/workspace/auth.py).

Options: host, profile, users (JSON list of user names; default: every SCIM user, deactivated
ones included), users_file, max_users, partitions (user shards, default 4),
threads_per_partition, max_requests_per_second (a ceiling on each partition's pace; unset: the
pace adapts to the workspace's limit), max_attempts, include_dbfs, include_workspace, extra_roots (JSON list),
max_depth, snapshot_interval, force_snapshot_after (the fields of
:class:`~file_records.connectors.workspace.options.WorkspaceSourceOptions`).

Rows: `record_type` 'object' (one per file or workspace object) or 'status' (one per user
and source: files, bytes, requests, retries, duration, error, home_missing). One streaming micro-batch is
one complete scan; a failed batch is replayed with the same scan id and adds nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterator, Optional

from pyspark.sql.datasource import DataSource, DataSourceReader, DataSourceStreamReader, InputPartition
from pyspark.sql.types import (
    BooleanType,
    DateType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from file_records.connectors import snapshot
from file_records.connectors.workspace.auth import ShippedCredentials, WorkspaceAuth
from file_records.connectors.workspace.options import WorkspaceSourceOptions

RECORD_TYPE_OBJECT = "object"
RECORD_TYPE_STATUS = "status"

WORKSPACE_SPARK_SCHEMA = StructType(
    [
        StructField("record_type", StringType()),
        StructField("username", StringType()),
        StructField("user_active", BooleanType()),
        StructField("source", StringType()),
        StructField("path", StringType()),
        StructField("object_type", StringType()),
        StructField("language", StringType()),
        StructField("size", LongType()),
        StructField("size_is_exact", BooleanType()),
        StructField("size_estimated", BooleanType()),
        StructField("modified_at", TimestampType()),
        StructField("object_id", LongType()),
        StructField("status", StringType()),
        StructField("files", LongType()),
        StructField("bytes", LongType()),
        StructField("estimated_bytes", LongType()),
        StructField("requests", LongType()),
        StructField("retries", LongType()),
        StructField("duration_seconds", DoubleType()),
        StructField("error", StringType()),
        StructField("depth_capped", BooleanType()),
        StructField("scan_id", StringType()),
        StructField("ingestion_date", DateType()),
        StructField("ingested_at", TimestampType()),
        # last, so a bronze table written before it existed evolves by appending the column
        StructField("home_missing", BooleanType()),
    ]
)


@dataclass
class UserShard(InputPartition):
    index: int
    shards: int
    users: list  # [(username, active)]
    scan_id: str
    taken_at: str
    # resolved on the driver; its repr shows the host and auth type, never a secret
    credentials: Optional[ShippedCredentials] = None


def resolve_users(settings: WorkspaceSourceOptions,
                  auth: Optional[WorkspaceAuth] = None) -> list[tuple[str, Optional[bool]]]:
    """Who to scan: an explicit list, a users file, or every SCIM user (deactivated included)."""
    from file_records.connectors.workspace.users import list_users, load_users_file

    if settings.users is not None:
        refs = [(name.strip(), None) for name in settings.users if name.strip()]
    elif settings.users_file:
        refs = [(ref.username, ref.active) for ref in load_users_file(str(settings.users_file))]
    else:
        refs = [(ref.username, ref.active) for ref in list_users(auth or settings.auth(), max_users=settings.max_users)]
    if settings.max_users is not None:
        refs = refs[: settings.max_users]
    return refs


def _row(obj, active: Optional[bool], partition: UserShard, taken: datetime) -> tuple:
    from file_records.connectors.workspace.model import ObjectRow

    common_tail = (partition.scan_id, taken.date(), taken)
    if isinstance(obj, ObjectRow):
        return (
            RECORD_TYPE_OBJECT, obj.username, active, obj.source, obj.path, obj.object_type, obj.language,
            obj.size, obj.size_is_exact, obj.size_estimated, obj.modified_at, obj.object_id,
            None, None, None, None, None, None, None, None, None, *common_tail, None,
        )
    return (
        RECORD_TYPE_STATUS, obj.username, active, obj.source, None, None, None,
        None, None, None, None, None,
        obj.status, obj.files, obj.bytes, obj.estimated_bytes, obj.requests, obj.retries,
        float(obj.duration_seconds), obj.error, obj.depth_capped, *common_tail, obj.home_missing,
    )


def read_shard(settings: WorkspaceSourceOptions, partition: UserShard) -> Iterator[tuple]:
    """One shard, with only what the partition carries: no SDK, no environment, no profile."""
    from file_records.connectors.workspace.model import UserRef
    from file_records.connectors.workspace.scan import scan_users
    from file_records.errors import ConfigError

    if partition.credentials is None:
        raise ConfigError("workspace partition planned without credentials (they are resolved on the driver)")
    taken = snapshot.parse_instant(partition.taken_at)
    active = {name: flag for name, flag in partition.users}
    refs = [UserRef(username=name, active=flag) for name, flag in partition.users]
    label = f"workspace scan shard {partition.index + 1}/{partition.shards}"
    auth = WorkspaceAuth(credentials=partition.credentials)
    for item in scan_users(refs, settings.scan_config(), auth, label=label):
        yield _row(item, active.get(item.username), partition, taken)


class _WorkspaceReading:
    def __init__(self, options: dict) -> None:
        self.settings = WorkspaceSourceOptions.from_options(options)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(host={self.settings.host!r}, profile={self.settings.profile!r})"

    def _partitions(self, offset: dict) -> list[UserShard]:
        # Runs on the driver, once per batch: the identity is here, executors may have none.
        auth = self.settings.auth()
        users = resolve_users(self.settings, auth)
        if not users:
            return []
        credentials = auth.ship()
        shards = max(1, min(self.settings.partitions, len(users)))
        scan_id = snapshot.snapshot_id(offset)
        # Round-robin, so one shard does not get every heavy user of an alphabet range.
        return [
            UserShard(index, shards, users[index::shards], scan_id, offset["taken_at"], credentials)
            for index in range(shards)
        ]

    def read(self, partition: UserShard) -> Iterator[tuple]:
        yield from read_shard(self.settings, partition)


class WorkspaceBatchReader(_WorkspaceReading, DataSourceReader):
    """A batch read takes one scan now."""

    def __init__(self, options: dict) -> None:
        super().__init__(options)
        self._offset = snapshot.first_offset_now()

    def partitions(self) -> list[UserShard]:
        return self._partitions(self._offset)


class WorkspaceStreamReader(snapshot.SnapshotStreamOffsets, _WorkspaceReading, DataSourceStreamReader):
    def __init__(self, options: dict) -> None:
        _WorkspaceReading.__init__(self, options)
        self._init_offsets(self.settings.snapshot_interval.total_seconds(), self.settings.force_snapshot_after)


class WorkspaceDataSource(DataSource):
    """Per-user Databricks Workspace and DBFS listings; see the module docstring."""

    @classmethod
    def name(cls) -> str:
        return "workspace"

    def schema(self):
        return WORKSPACE_SPARK_SCHEMA

    def reader(self, schema) -> WorkspaceBatchReader:
        return WorkspaceBatchReader(self.options)

    def streamReader(self, schema) -> WorkspaceStreamReader:
        return WorkspaceStreamReader(self.options)
