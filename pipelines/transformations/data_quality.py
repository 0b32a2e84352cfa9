"""gold_expectation_metrics: pass/fail counts per rule, dataset and ingestion date.

Computed from the rules and the data (not from an event log), so it is the same table on
OSS Spark and on Databricks; on Databricks the event log carries the native counts too.
"""

from pyspark import pipelines as dp

from file_records.expectations import engine
from file_records.expectations.rules import load_rules
from file_records.pipelines import conf as pipeline_conf
from file_records.pipelines.logic import dxr, workspace

_rule_inputs = {}
if pipeline_conf.enabled(spark.conf.get, "dxr"):  # noqa: F821
    _rule_inputs["silver_file_records"] = lambda: dxr.rule_input_history(spark.read.table("bronze_dxr_files"))  # noqa: F821
if pipeline_conf.enabled(spark.conf.get, "workspace"):  # noqa: F821
    _rule_inputs["silver_workspace_files"] = lambda: workspace.rule_input_history(
        spark.read.table("bronze_workspace_objects")  # noqa: F821
    )

if _rule_inputs:

    @dp.materialized_view(
        name="gold_expectation_metrics",
        comment="One row per dataset, rule and ingestion date: passed, failed and failure rate.",
    )
    def gold_expectation_metrics():
        frames = {name: build() for name, build in _rule_inputs.items()}
        return engine.metrics_for(frames, {name: load_rules(name) for name in frames})
