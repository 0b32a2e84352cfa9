"""File lifecycle: bronze (every snapshot, through the silver rules) -> silver_file_history (SCD type 2
versions of every file) -> gold_file_changes (per source and snapshot) and gold_disposition_status
(did each archived file leave its source?). The logic is pipelines/logic/lifecycle.py.

Defined when any source is configured. Each snapshot's files are sighted once, when it arrives (from
the candidates tables, through the silver rules), and kept; the history is folded from the kept
sightings (pipelines/kept_facts.py: on Databricks, recomputed from bronze).

The query functions run at registration, before the tables they read exist on a first run: they
stay lazy (no .columns/.schema, no drop(), no actions). The disposition log folder
(file_records.policies.disposition_log_dir) is looked at on the driver; unset, missing or empty, the
status table is defined from an empty, typed frame.
"""

from pyspark import pipelines as dp

from file_records.datasets import dataset
from file_records.expectations.rules import load_rules
from file_records.pipelines import conf as pipeline_conf
from file_records.pipelines.kept_facts import define_kept_facts
from file_records.pipelines.logic import disposition, lifecycle

_dxr = pipeline_conf.enabled(spark.conf.get, "dxr")  # noqa: F821 - `spark` is provided by the pipeline runtime
_workspace = pipeline_conf.enabled(spark.conf.get, "workspace")  # noqa: F821

if _dxr or _workspace:
    _log_dir = pipeline_conf.options(spark.conf.get, "policies").disposition_log_dir  # noqa: F821

    def _bronzes():
        return (
            spark.read.table("bronze_dxr_files") if _dxr else None,  # noqa: F821
            spark.read.table("bronze_workspace_objects") if _workspace else None,  # noqa: F821
        )

    def _snapshots():
        return lifecycle.snapshots(*_bronzes())

    _dxr_rules = load_rules("silver_file_records") if _dxr else ()
    _workspace_rules = load_rules("silver_workspace_files") if _workspace else ()

    # One part per source: a run that takes a snapshot of one source does not sight the other's again.
    _newest_sightings = {}
    if _dxr:
        _newest_sightings["dxr"] = lambda: lifecycle.sightings(
            dxr_candidates=spark.read.table(dataset("silver_file_records").candidates),  # noqa: F821
            dxr_rules=_dxr_rules,
        )
    if _workspace:
        _newest_sightings["workspace"] = lambda: lifecycle.sightings(
            workspace_candidates=spark.read.table(dataset("silver_workspace_files").candidates),  # noqa: F821
            workspace_rules=_workspace_rules,
        )

    def _every_sighting():
        dxr_bronze, workspace_bronze = _bronzes()
        return lifecycle.every_sighting(dxr_bronze=dxr_bronze, dxr_rules=_dxr_rules,
                                        workspace_bronze=workspace_bronze, workspace_rules=_workspace_rules)

    def _history(sights):
        _, workspace_bronze = _bronzes()
        listings = lifecycle.complete_listings(workspace_bronze) if workspace_bronze is not None else None
        return lifecycle.history_from_sightings(sights, _snapshots(), listings)

    define_kept_facts(
        spark,  # noqa: F821
        "silver_file_history",
        comment="One row per version of a file of every source (SCD type 2): valid_from/valid_to, is_current, "
        "change_type, opened/closed snapshot. Folded from each snapshot's files through the silver rules, "
        "sighted once when the snapshot arrived.",
        columns=lifecycle.SIGHTING_COLUMNS,
        run_key=("source_system", "snapshot_id"),
        newest=_newest_sightings,
        every_run=_every_sighting,
        fold=_history,
    )

    @dp.materialized_view(
        name="gold_file_changes",
        comment="Per source and snapshot: files and bytes held, added, removed and changed.",
    )
    def gold_file_changes():
        return lifecycle.file_changes(spark.read.table("silver_file_history"), _snapshots())  # noqa: F821

    @dp.materialized_view(
        name="gold_disposition_status",
        comment="Per file archived by remediate (proof-of-disposition log): confirmed, pending or reappeared "
        "(an alert) by the snapshots taken since; restored after an undo.",
    )
    def gold_disposition_status():
        return disposition.disposition_status(
            disposition.read_disposition_log(spark, _log_dir),  # noqa: F821
            spark.read.table("silver_file_history"),  # noqa: F821
            _snapshots(),
        )
