"""Records-management policies: silver_all_files (every source, common columns) ->
gold_policy_flags (one row per file and policy caught) -> gold_policy_summary.

The catalogue (policies/catalogue.yml, or file_records.policies.catalogue) is validated when
this file is loaded, so a bad policy stops the pipeline before any table is touched.
"""

from pyspark import pipelines as dp
from pyspark.sql import functions as F

from file_records import pipeline_conf
from policies.evaluate import policy_flags, policy_summary, read_holds
from policies.model import load_catalogue
from policies.unified import unified_files

_dxr = pipeline_conf.enabled(spark.conf.get, "dxr")  # noqa: F821 - `spark` is provided by the pipeline runtime
_workspace = pipeline_conf.enabled(spark.conf.get, "workspace")  # noqa: F821
_options = pipeline_conf.policy_options(spark.conf.get)  # noqa: F821

if pipeline_conf.enabled(spark.conf.get, "policies") and (_dxr or _workspace):  # noqa: F821
    _catalogue = load_catalogue(_options.get("catalogue") or None)

    def _holds():
        if _options.get("holds_table"):
            return spark.read.table(_options["holds_table"])  # noqa: F821
        if _options.get("holds_file"):
            return read_holds(spark, _options["holds_file"])  # noqa: F821
        return None

    def _active_users():
        """Users of the newest workspace scan, for the orphaned-owner policy."""
        if not _workspace:
            return None
        status = spark.read.table("silver_workspace_scan_status")  # noqa: F821
        newest = status.agg(F.max("scan_id").alias("_newest"))
        latest = status.join(newest, F.col("scan_id") == F.col("_newest"), "left_semi")
        return latest.groupBy("username").agg(F.max(F.coalesce(F.col("active"), F.lit(True))).alias("active"))

    @dp.materialized_view(
        name="silver_all_files",
        comment="Every file of every configured source with common columns (source_system, file_id, path, owner, ...).",
    )
    def silver_all_files():
        return unified_files(
            spark.read.table("silver_file_records") if _dxr else None,  # noqa: F821
            spark.read.table("silver_workspace_files") if _workspace else None,  # noqa: F821
        )

    @dp.materialized_view(
        name="gold_policy_flags",
        comment="One row per file and policy caught: action, severity, a readable reason, and what suppressed it.",
    )
    def gold_policy_flags():
        return policy_flags(
            spark.read.table("silver_all_files"),  # noqa: F821
            _catalogue,
            duplicates_df=spark.read.table("gold_duplicate_files") if _dxr else None,  # noqa: F821
            users_df=_active_users(),
            holds_df=_holds(),
        )

    @dp.materialized_view(
        name="gold_policy_summary",
        comment="Per policy and detection date: files, bytes, owners and change since the previous run.",
    )
    def gold_policy_summary():
        return policy_summary(spark.read.table("gold_policy_flags"))  # noqa: F821
