"""Data X-Ray file records: bronze (streaming, append-only) -> silver (+ quarantine) -> gold duplicates.

Defined only when the DXR source is configured (file_records.dxr.enabled), so a workspace-
only deployment does not need a Data X-Ray tenant.
"""

from pyspark import pipelines as dp

from file_records.connectors.dxr.source import DxrDataSource
from file_records.errors import ConfigError
from file_records.pipelines import conf as pipeline_conf
from file_records.pipelines.guarded import define_guarded_silver, guarded_rows
from file_records.pipelines.logic import dxr

if pipeline_conf.enabled(spark.conf.get, "dxr"):  # noqa: F821 - `spark` is provided by the pipeline runtime
    spark.dataSource.register(DxrDataSource)  # noqa: F821
    # Validated here, so a bad setting stops the pipeline before any table is touched.
    _dxr_settings = pipeline_conf.options(spark.conf.get, "dxr")  # noqa: F821
    if not _dxr_settings.configured:
        raise ConfigError(
            "file_records.dxr.base_url is not set: set DXR_BASE_URL locally or the bundle variable dxr_base_url"
        )
    _dxr_options = _dxr_settings.to_options()

    @dp.table(
        name="bronze_dxr_files",
        comment="Every Data X-Ray snapshot as received: typed columns plus the raw JSON line. Append-only.",
        partition_cols=["ingestion_date"],
        # History cannot be re-fetched from the API: a full refresh would lose it for good.
        table_properties={"pipelines.reset.allowed": "false"},
    )
    def bronze_dxr_files():
        return spark.readStream.format("dxr").options(**_dxr_options).load()  # noqa: F821

    define_guarded_silver(
        spark,  # noqa: F821
        "silver_file_records",
        lambda trim: dxr.file_record_candidates(spark.read.table("bronze_dxr_files"), trim),  # noqa: F821
        comment="One row per file in the newest complete Data X-Ray snapshot, typed, deduplicated on file_id.",
    )

    @dp.materialized_view(
        name="gold_duplicate_files",
        comment="One row per content hash held by more than one file, with the keeper and reclaimable bytes.",
    )
    def gold_duplicate_files():
        return dxr.duplicate_files(guarded_rows(spark, "silver_file_records"))  # noqa: F821
