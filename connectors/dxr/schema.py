"""Column layout of the `dxr` data source (and so of `bronze_dxr_files`).

Two views of one layout: the Spark schema the source declares, and the Arrow schema of the
JSON Lines as Data X-Ray sends them (camelCase, nested). Nested struct fields are declared
in the same order in both so a parsed Arrow column can be re-labelled to snake_case with a
zero-copy `Array.view`.
"""

from __future__ import annotations

import pyarrow as pa
from pyspark.sql.types import (
    ArrayType,
    DateType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

RECORD_TYPE_FILE = "file"
# One per query and snapshot: how many records the query returned, so an empty or short
# snapshot is visible in the table instead of looking like "no files".
RECORD_TYPE_QUERY_SUMMARY = "query_summary"


def _strings(*names: str) -> list[StructField]:
    return [StructField(name, StringType()) for name in names]


LABEL = StructType(_strings("id", "name"))
DLP_LABEL = StructType(_strings("id", "name", "dlp_system", "type"))
REALM_ACCOUNT = StructType(_strings("id", "account_type", "name", "email"))

DXR_SPARK_SCHEMA = StructType(
    [
        StructField("record_type", StringType()),
        StructField("file_id", StringType()),
        StructField("file_name", StringType()),
        StructField("path", StringType()),
        StructField("size", LongType()),
        StructField("mime_type", StringType()),
        StructField("created_at", TimestampType()),
        StructField("last_modified_at", TimestampType()),
        StructField("content_sha256", StringType()),
        StructField("scan_depth", StringType()),
        StructField("metadata_extraction_status", StringType()),
        StructField("datasource_id", StringType()),
        StructField("datasource_name", StringType()),
        StructField("connector_type", StringType()),
        StructField("labels", ArrayType(LABEL)),
        StructField("dlp_labels", ArrayType(DLP_LABEL)),
        StructField("annotator_names", ArrayType(StringType())),
        StructField("entitlements", ArrayType(REALM_ACCOUNT)),
        StructField("owner", REALM_ACCOUNT),
        StructField("created_by", REALM_ACCOUNT),
        StructField("modified_by", REALM_ACCOUNT),
        StructField("raw_json", StringType()),
        StructField("parse_error", StringType()),
        StructField("source_query", StringType()),
        StructField("snapshot_id", StringType()),
        StructField("ingestion_date", DateType()),
        StructField("ingested_at", TimestampType()),
    ]
)

COLUMN_NAMES = [field.name for field in DXR_SPARK_SCHEMA.fields]


def arrow_output_schema() -> pa.Schema:
    """The exact Arrow schema Spark's Python worker accepts for DXR_SPARK_SCHEMA."""
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(DXR_SPARK_SCHEMA, timezone="UTC")


_TS = pa.timestamp("us", tz="UTC")


def _struct(*names: str) -> pa.StructType:
    return pa.struct([(name, pa.string()) for name in names])


_ACCOUNT_JSON = _struct("id", "accountType", "name", "email")

# What pyarrow's JSON reader is asked to parse; anything else in a line is ignored here and
# kept in raw_json.
DXR_JSON_SCHEMA = pa.schema(
    [
        ("fileId", pa.string()),
        ("fileName", pa.string()),
        ("path", pa.string()),
        ("size", pa.int64()),
        ("mimeType", pa.string()),
        ("createdAt", _TS),
        ("lastModifiedAt", _TS),
        ("contentSha256", pa.string()),
        ("scanDepth", pa.string()),
        ("metadataExtractionStatus", pa.string()),
        ("datasource", pa.struct([("id", pa.string()), ("name", pa.string()), ("connector", _struct("type"))])),
        ("labels", pa.list_(_struct("id", "name"))),
        ("dlpLabels", pa.list_(_struct("id", "name", "dlpSystem", "type"))),
        ("annotators", pa.list_(_struct("name"))),
        ("entitlements", pa.struct([("whoCanAccess", pa.list_(_ACCOUNT_JSON))])),
        ("owner", _ACCOUNT_JSON),
        ("createdBy", _ACCOUNT_JSON),
        ("modifiedBy", _ACCOUNT_JSON),
    ]
)
