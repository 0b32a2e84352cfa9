"""gold_expectation_metrics: pass/fail counts per rule, dataset and ingestion date.

Computed from the rules and the data (not from an event log), so it is the same table on
OSS Spark and on Databricks; on Databricks the event log carries the native counts too. Each
snapshot's counts are computed once, when it arrives, and kept (pipelines/kept_facts.py says how
per runtime).
"""

from functools import reduce

from pyspark.sql import DataFrame

from file_records.datasets import SOURCES, dataset
from file_records.expectations import engine
from file_records.expectations.rules import load_rules
from file_records.pipelines import conf as pipeline_conf
from file_records.pipelines.kept_facts import define_kept_facts
from file_records.pipelines.logic import dxr, workspace

# dataset -> what its rules see of the newest run, of every run
_newest_inputs, _every_run_inputs = {}, {}
if pipeline_conf.enabled(spark.conf.get, "dxr"):  # noqa: F821
    _newest_inputs["silver_file_records"] = lambda: spark.read.table(dataset("silver_file_records").candidates)  # noqa: F821
    _every_run_inputs["silver_file_records"] = lambda: dxr.rule_input_history(spark.read.table("bronze_dxr_files"))  # noqa: F821
if pipeline_conf.enabled(spark.conf.get, "workspace"):  # noqa: F821
    _newest_inputs["silver_workspace_files"] = lambda: workspace.rule_input_history(
        workspace.latest_scan(spark.read.table("bronze_workspace_objects"))  # noqa: F821
    )
    _every_run_inputs["silver_workspace_files"] = lambda: workspace.rule_input_history(
        spark.read.table("bronze_workspace_objects")  # noqa: F821
    )


def _counts(inputs):
    frames = [
        engine.metrics_per_run(build(), load_rules(name), name, SOURCES[dataset(name).source].run_column)
        for name, build in inputs.items()
    ]
    return reduce(DataFrame.union, frames)  # not unionByName: it resolves eagerly inside a query function


if _newest_inputs:
    define_kept_facts(
        spark,  # noqa: F821
        "gold_expectation_metrics",
        comment="One row per dataset, rule and ingestion date: passed, failed and failure rate.",
        columns=engine.RUN_METRICS_COLUMNS,
        run_key=("dataset", "run_id"),
        newest=lambda: _counts(_newest_inputs),
        every_run=lambda: _counts(_every_run_inputs),
        fold=engine.metrics_from_runs,
    )
