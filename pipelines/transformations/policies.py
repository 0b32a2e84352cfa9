"""Records-management policies: silver_all_files (every source, common columns) ->
gold_policy_flags (one row per file and policy caught, newest run); gold_policy_summary (per policy
and run of the last history_days days, each run's figures computed when it arrived and kept: see
pipelines/kept_facts.py and pipelines/logic/policy_history.py).

The catalogue (policies/catalogue.yml, or file_records.policies.catalogue) and the hold-list file
(file_records.policies.holds_file) are validated when this file is loaded, so a bad policy or hold
row stops the pipeline before any table is touched.

The query functions run when the pipeline is registered, on Spark Connect, before the tables they
read exist on a first run: everything they call must stay lazy (no .columns/.schema, no drop(),
no DataFrame-bound column references; see policies/evaluate.py). SQL checks that need analysis
(policies.evaluate.check_sql) do not belong here.
"""

from pyspark import pipelines as dp
from pyspark.sql import functions as F

from file_records.expectations.rules import load_rules
from file_records.pipelines import conf as pipeline_conf
from file_records.pipelines.guarded import guarded_rows
from file_records.pipelines.kept_facts import define_kept_facts
from file_records.pipelines.logic import policy_history
from file_records.policies.evaluate import holds_frame, policy_flags
from file_records.policies.model import load_catalogue, load_holds
from file_records.policies.summary import RUN_FIGURES_COLUMNS, summary_from_figures
from file_records.policies.unified import unified_files

_dxr = pipeline_conf.enabled(spark.conf.get, "dxr")  # noqa: F821 - `spark` is provided by the pipeline runtime
_workspace = pipeline_conf.enabled(spark.conf.get, "workspace")  # noqa: F821
_settings = pipeline_conf.options(spark.conf.get, "policies")  # noqa: F821

if pipeline_conf.enabled(spark.conf.get, "policies") and (_dxr or _workspace):  # noqa: F821
    _catalogue = load_catalogue(str(_settings.catalogue) if _settings.catalogue else None)
    _history_days = _settings.history_days
    # Validated here (pure Python), and the validated rows are what the flags use: a hold row with a
    # typo fails the run instead of being silently skipped. The file is re-read on every run.
    _hold_list = None
    if _settings.holds_file and not _settings.holds_table:
        _hold_list = load_holds(str(_settings.holds_file))

    def _holds():
        if _settings.holds_table:
            return spark.read.table(_settings.holds_table)  # noqa: F821
        if _hold_list is not None:
            return holds_frame(spark, _hold_list)  # noqa: F821
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
        # The silver rows, from the candidates (pipelines/guarded.py): refreshed beside silver, not after it.
        return unified_files(
            guarded_rows(spark, "silver_file_records") if _dxr else None,  # noqa: F821
            guarded_rows(spark, "silver_workspace_files") if _workspace else None,  # noqa: F821
        )

    @dp.materialized_view(
        name="gold_policy_flags",
        comment="One row per file and policy caught: action, severity, a readable reason, and what suppressed it.",
    )
    def gold_policy_flags():
        return policy_flags(
            policy_history.latest_run(spark.read.table("silver_all_files")),  # noqa: F821
            _catalogue,
            duplicates_df=spark.read.table("gold_duplicate_files") if _dxr else None,  # noqa: F821
            users_df=_active_users(),
            holds_df=_holds(),
            detected_on_col=policy_history.RUN_DATE,
        )

    define_kept_facts(
        spark,  # noqa: F821
        "gold_policy_summary",
        comment="Per policy and run date: files, bytes, owners and change since the previous run "
        "(runs of the last file_records.policies.history_days days; each run's figures computed on its day).",
        columns=RUN_FIGURES_COLUMNS,
        run_key=("detected_on",),
        newest=lambda: policy_history.newest_figures(
            spark.read.table("gold_policy_flags"), spark.read.table("silver_all_files"), _catalogue  # noqa: F821
        ),
        every_run=lambda: policy_history.figures_history(
            _catalogue,
            days=_history_days,
            dxr_bronze=spark.read.table("bronze_dxr_files") if _dxr else None,  # noqa: F821
            dxr_rules=load_rules("silver_file_records") if _dxr else (),
            workspace_bronze=spark.read.table("bronze_workspace_objects") if _workspace else None,  # noqa: F821
            workspace_rules=load_rules("silver_workspace_files") if _workspace else (),
            users_df=_active_users(),
            holds_df=_holds(),
        )[0],
        fold=lambda figures: summary_from_figures(policy_history.within_days(figures, _history_days)),
    )
