"""Workspace inventory: bronze scan rows (streaming, append-only) -> silver files and scan
status -> gold per-user inventory. Defined only when the workspace source is configured."""

from pyspark import pipelines as dp

from file_records.connectors.workspace.source import WorkspaceDataSource
from file_records.pipelines import conf as pipeline_conf
from file_records.pipelines.guarded import define_guarded_silver
from file_records.pipelines.kept_facts import define_kept_facts
from file_records.pipelines.logic import workspace

if pipeline_conf.enabled(spark.conf.get, "workspace"):  # noqa: F821 - `spark` is provided by the pipeline runtime
    spark.dataSource.register(WorkspaceDataSource)  # noqa: F821
    _workspace_options = pipeline_conf.options(spark.conf.get, "workspace").to_options()  # noqa: F821

    @dp.table(
        name="bronze_workspace_objects",
        comment="Every workspace scan as listed: one row per file or object, one status row per user and source.",
        partition_cols=["ingestion_date"],
        # Earlier scans cannot be listed again: a full refresh would lose them for good.
        table_properties={"pipelines.reset.allowed": "false"},
    )
    def bronze_workspace_objects():
        return spark.readStream.format("workspace").options(**_workspace_options).load()  # noqa: F821

    @dp.materialized_view(
        name="silver_workspace_scan_status",
        comment="One row per user, source and scan: status, files, bytes, requests, retries, error.",
    )
    def silver_workspace_scan_status():
        return workspace.scan_status(spark.read.table("bronze_workspace_objects"))  # noqa: F821

    define_guarded_silver(
        spark,  # noqa: F821
        "silver_workspace_files",
        lambda trim: trim(workspace.workspace_file_candidates(spark.read.table("bronze_workspace_objects"))),  # noqa: F821
        comment="One row per Workspace or DBFS object of the newest complete scan.",
    )

    def _inventory(bronze):
        return workspace.user_inventory(workspace.scan_status(bronze), workspace.rule_input_history(bronze))

    define_kept_facts(
        spark,  # noqa: F821
        "gold_user_inventory",
        comment="One row per user per scan: files, bytes (GiB), status, file source and errors.",
        columns=workspace.INVENTORY_COLUMNS,
        run_key=("scan_id",),
        newest=lambda: _inventory(workspace.latest_scan(spark.read.table("bronze_workspace_objects"))),  # noqa: F821
        every_run=lambda: _inventory(spark.read.table("bronze_workspace_objects")),  # noqa: F821
        fold=lambda inventory: inventory,
    )
