"""JSON Lines -> Arrow record batches in the `dxr` output layout.

Fast path: pyarrow's C++ JSON reader parses a whole chunk against DXR_JSON_SCHEMA. If a
chunk holds anything it cannot take (a line that is not JSON, a field of an unexpected
type), the chunk is parsed again line by line with orjson, so that one bad line becomes one
row with its `parse_error` instead of failing or vanishing. Both paths produce identical
rows for valid lines (tests compare them).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any, Iterator, Optional

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from file_records.connectors.coerce import to_int
from file_records.connectors.dxr.schema import (
    COLUMN_NAMES,
    DXR_JSON_SCHEMA,
    RECORD_TYPE_FILE,
    RECORD_TYPE_QUERY_SUMMARY,
    arrow_output_schema,
)

_PARSE_OPTIONS = pa_json.ParseOptions(explicit_schema=DXR_JSON_SCHEMA, unexpected_field_behavior="ignore")


@dataclass(frozen=True)
class SnapshotContext:
    """Columns that are the same for every row one query of one snapshot produces."""

    source_query: str
    snapshot_id: str
    ingested_at: datetime  # UTC; the snapshot's time, so a replayed batch gives identical rows

    @property
    def ingestion_date(self) -> date:
        return self.ingested_at.astimezone(timezone.utc).date()


@lru_cache(maxsize=1)
def output_schema() -> pa.Schema:
    return arrow_output_schema()


def split_lines(chunk: bytes) -> list[bytes]:
    """Non-blank lines of a chunk, without line terminators."""
    return [line.rstrip(b"\r") for line in chunk.split(b"\n") if line.strip()]


def parse_chunk(chunk: bytes, context: SnapshotContext) -> Optional[pa.RecordBatch]:
    lines = split_lines(chunk)
    if not lines:
        return None
    batch = _parse_fast(chunk, lines, context)
    if batch is None:
        batch = parse_lines_slow(lines, context)
    return batch


# --- fast path -----------------------------------------------------------------------------


def _parse_fast(chunk: bytes, lines: list[bytes], context: SnapshotContext) -> Optional[pa.RecordBatch]:
    try:
        table = pa_json.read_json(
            io.BytesIO(chunk),
            read_options=pa_json.ReadOptions(use_threads=True, block_size=max(1 << 20, len(chunk) + 1)),
            parse_options=_PARSE_OPTIONS,
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    if table.num_rows != len(lines):
        return None
    table = table.combine_chunks()
    schema = output_schema()
    n = table.num_rows

    def col(name: str) -> pa.Array:
        return table.column(name).chunk(0)

    def typed(name: str) -> pa.DataType:
        return schema.field(name).type

    try:
        raw_json = pa.array(lines, type=pa.string())
    except pa.ArrowInvalid:
        return None  # not valid UTF-8 somewhere: the slow path keeps such lines with a parse error
    datasource = col("datasource")
    annotators = col("annotators")
    annotator_names = pa.ListArray.from_arrays(
        annotators.offsets,
        pc.struct_field(annotators.values, "name"),
        type=typed("annotator_names"),
        mask=annotators.is_null(),
    )
    columns = {
        "record_type": _constant(RECORD_TYPE_FILE, n, pa.string()),
        "file_id": col("fileId"),
        "file_name": col("fileName"),
        "path": col("path"),
        "size": col("size"),
        "mime_type": col("mimeType"),
        "created_at": col("createdAt"),
        "last_modified_at": col("lastModifiedAt"),
        "content_sha256": col("contentSha256"),
        "scan_depth": col("scanDepth"),
        "metadata_extraction_status": col("metadataExtractionStatus"),
        "datasource_id": pc.struct_field(datasource, "id"),
        "datasource_name": pc.struct_field(datasource, "name"),
        "connector_type": pc.struct_field(datasource, [2, 0]),
        "labels": col("labels").view(typed("labels")),
        "dlp_labels": col("dlpLabels").view(typed("dlp_labels")),
        "annotator_names": annotator_names,
        "entitlements": pc.struct_field(col("entitlements"), "whoCanAccess").view(typed("entitlements")),
        "owner": col("owner").view(typed("owner")),
        "created_by": col("createdBy").view(typed("created_by")),
        "modified_by": col("modifiedBy").view(typed("modified_by")),
        "raw_json": raw_json,
        "parse_error": pa.nulls(n, pa.string()),
    }
    columns.update(_context_columns(context, n))
    return pa.RecordBatch.from_arrays([columns[name] for name in COLUMN_NAMES], schema=schema)


def _constant(value: Any, n: int, type_: pa.DataType) -> pa.Array:
    return pa.repeat(pa.scalar(value, type=type_), n)


def _context_columns(context: SnapshotContext, n: int) -> dict[str, pa.Array]:
    schema = output_schema()
    return {
        "source_query": _constant(context.source_query, n, pa.string()),
        "snapshot_id": _constant(context.snapshot_id, n, pa.string()),
        "ingestion_date": _constant(context.ingestion_date, n, schema.field("ingestion_date").type),
        "ingested_at": _constant(context.ingested_at, n, schema.field("ingested_at").type),
    }


# --- slow path: one line at a time, tolerant ---------------------------------------------


def _text(value: Any) -> Optional[str]:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # vbeta tenants send numeric datasource ids
    return None


def _timestamp(value: Any) -> Optional[datetime]:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _object(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _structs(value: Any, fields: dict[str, str]) -> Optional[list[dict]]:
    """A JSON array of objects -> list of structs with snake_case keys (null stays null)."""
    if not isinstance(value, list):
        return None
    return [
        {out: _text(item.get(src)) for out, src in fields.items()} if isinstance(item, dict) else None
        for item in value
    ]


_ACCOUNT_FIELDS = {"id": "id", "account_type": "accountType", "name": "name", "email": "email"}


def _account(value: Any) -> Optional[dict]:
    if not isinstance(value, dict):
        return None
    return {out: _text(value.get(src)) for out, src in _ACCOUNT_FIELDS.items()}


def record_to_row(record: dict) -> dict:
    """One parsed DXR record -> the typed columns of the output (no context columns)."""
    datasource = record.get("datasource")
    datasource_obj = _object(datasource)
    annotators = record.get("annotators")
    entitlements = record.get("entitlements")
    return {
        "record_type": RECORD_TYPE_FILE,
        "file_id": _text(record.get("fileId")),
        "file_name": _text(record.get("fileName")),
        "path": _text(record.get("path")),
        "size": to_int(record.get("size")),
        "mime_type": _text(record.get("mimeType")),
        "created_at": _timestamp(record.get("createdAt")),
        "last_modified_at": _timestamp(record.get("lastModifiedAt")),
        "content_sha256": _text(record.get("contentSha256")),
        "scan_depth": _text(record.get("scanDepth")),
        "metadata_extraction_status": _text(record.get("metadataExtractionStatus")),
        "datasource_id": _text(datasource_obj.get("id")) if isinstance(datasource, dict) else None,
        "datasource_name": _text(datasource_obj.get("name")) if isinstance(datasource, dict) else None,
        "connector_type": _text(_object(datasource_obj.get("connector")).get("type")),
        "labels": _structs(record.get("labels"), {"id": "id", "name": "name"}),
        "dlp_labels": _structs(
            record.get("dlpLabels"), {"id": "id", "name": "name", "dlp_system": "dlpSystem", "type": "type"}
        ),
        "annotator_names": (
            [_text(a.get("name")) if isinstance(a, dict) else None for a in annotators]
            if isinstance(annotators, list)
            else None
        ),
        "entitlements": _structs(_object(entitlements).get("whoCanAccess"), _ACCOUNT_FIELDS)
        if isinstance(entitlements, dict)
        else None,
        "owner": _account(record.get("owner")),
        "created_by": _account(record.get("createdBy")),
        "modified_by": _account(record.get("modifiedBy")),
    }


_EMPTY_ROW = {name: None for name in COLUMN_NAMES}


def parse_line(line: bytes) -> dict:
    """One line -> typed columns plus raw_json and parse_error; never raises."""
    raw = line.decode("utf-8", errors="replace")
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return {**_EMPTY_ROW, "record_type": RECORD_TYPE_FILE, "raw_json": raw, "parse_error": f"invalid JSON: {exc}"}
    if not isinstance(record, dict):
        return {
            **_EMPTY_ROW,
            "record_type": RECORD_TYPE_FILE,
            "raw_json": raw,
            "parse_error": f"a JSON {type(record).__name__} where an object was expected",
        }
    return {**_EMPTY_ROW, **record_to_row(record), "raw_json": raw, "parse_error": None}


def parse_lines_slow(lines: list[bytes], context: SnapshotContext) -> pa.RecordBatch:
    rows = [parse_line(line) for line in lines]
    return _rows_to_batch(rows, context)


def _rows_to_batch(rows: list[dict], context: SnapshotContext) -> pa.RecordBatch:
    shared = {
        "source_query": context.source_query,
        "snapshot_id": context.snapshot_id,
        "ingestion_date": context.ingestion_date,
        "ingested_at": context.ingested_at,
    }
    return pa.RecordBatch.from_pylist([{**row, **shared} for row in rows], schema=output_schema())


def summary_batch(context: SnapshotContext, summary: dict) -> pa.RecordBatch:
    """The per-query ledger row: record count, bytes, attempts, whether a record cap cut it short."""
    row = {
        **_EMPTY_ROW,
        "record_type": RECORD_TYPE_QUERY_SUMMARY,
        "raw_json": orjson.dumps(summary, option=orjson.OPT_SORT_KEYS).decode(),
    }
    return _rows_to_batch([row], context)


def iter_file_batches(path: str, context: SnapshotContext, chunk_bytes: int = 4 << 20) -> Iterator[pa.RecordBatch]:
    """Read a spooled JSON Lines file in newline-aligned chunks; memory stays ~chunk_bytes."""
    with open(path, "rb") as handle:
        carry = b""
        while True:
            block = handle.read(chunk_bytes)
            if not block:
                break
            block = carry + block
            cut = block.rfind(b"\n")
            if cut < 0:
                carry = block  # a line longer than the chunk: keep reading
                continue
            carry = block[cut + 1 :]
            batch = parse_chunk(block[: cut + 1], context)
            if batch is not None:
                yield batch
        if carry.strip():
            batch = parse_chunk(carry, context)
            if batch is not None:
                yield batch
