"""benchmarks/table_cpu.py: each query's cost charged to the table it writes, from Spark's event log."""

from __future__ import annotations

import json

import pytest

from benchmarks.table_cpu import OTHER, cost_by_table, read_events
from file_records.local.spark import LocalSparkSettings, StatePaths, spark_conf

UUID = "9abefaca-45f1-4634-8142-02d3260ac9d9"
SQL_START = "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart"


def _execution(execution, root, description="Spark Connect - session_id", plan=""):
    return {"Event": SQL_START, "executionId": execution, "rootExecutionId": root, "description": description,
            "physicalPlanDescription": plan}


def _job(job, execution, stages):
    properties = {} if execution is None else {"spark.sql.execution.id": str(execution)}
    return {"Event": "SparkListenerJobStart", "Job ID": job, "Stage IDs": stages, "Properties": properties}


def _stage(stage, cpu_ms, run_ms, gc_ms=0):
    names = {"internal.metrics.executorCpuTime": cpu_ms * 1_000_000, "internal.metrics.executorRunTime": run_ms,
             "internal.metrics.jvmGCTime": gc_ms}
    return {"Event": "SparkListenerStageCompleted", "Stage Info": {
        "Stage ID": stage, "Accumulables": [{"Name": name, "Value": value} for name, value in names.items()]}}


EVENTS = [
    _execution(0, 0, description=f"spark_catalog.default.bronze_dxr_files\nid = {UUID}"),
    _job(0, 0, [0]), _stage(0, cpu_ms=2000, run_ms=5000, gc_ms=100),
    _execution(1, 1, plan="== Physical Plan ==\n(2) SaveAsV1TableCommand\nArguments: `default`.`silver_x`, Append"),
    _execution(2, 1, plan="Execute InsertIntoHadoopFsRelationCommand"),  # nested in 1: charged to silver_x
    _job(1, 2, [1, 2]), _stage(1, cpu_ms=1000, run_ms=1500), _stage(2, cpu_ms=500, run_ms=700),
    _execution(3, 3, plan="(2) CreateDataSourceTableAsSelectCommand\nArguments: `spark_catalog`.`default`.`gold_y`, x"),
    _job(2, 3, [3]), _stage(3, cpu_ms=300, run_ms=400),
    _job(3, None, [4]), _stage(4, cpu_ms=100, run_ms=100),  # no query: the runner's own work
]


def test_each_querys_cost_goes_to_the_table_it_writes():
    costs = cost_by_table(EVENTS)
    assert set(costs) == {"bronze_dxr_files", "silver_x", "gold_y", OTHER}
    assert costs["bronze_dxr_files"].cpu_seconds == pytest.approx(2.0)
    assert costs["bronze_dxr_files"].gc_seconds == pytest.approx(0.1)
    assert (costs["silver_x"].cpu_seconds, costs["silver_x"].task_seconds) == pytest.approx((1.5, 2.2))
    assert costs["silver_x"].jobs == 1
    assert costs["gold_y"].cpu_seconds == pytest.approx(0.3)
    assert costs[OTHER].cpu_seconds == pytest.approx(0.1)


def test_a_rolling_event_log_folder_is_read_in_order(tmp_path):
    folder = tmp_path / "eventlog_v2_local-1"
    folder.mkdir()
    # The 9th and 10th of a long run's files, split between a query and its nested one: by name,
    # events_10 would come first and its jobs would lose their table.
    (folder / "events_9_local-1").write_text("\n".join(json.dumps(e) for e in EVENTS[:4]) + "\n")
    (folder / "events_10_local-1").write_text("\n".join(json.dumps(e) for e in EVENTS[4:]) + "\n")
    assert cost_by_table(read_events(folder)) == cost_by_table(EVENTS)


def test_the_event_log_setting_turns_it_on(tmp_path):
    paths = StatePaths(tmp_path / "state")
    assert "spark.eventLog.enabled" not in spark_conf(paths, LocalSparkSettings())
    conf = spark_conf(paths, LocalSparkSettings(event_log_dir=tmp_path / "events"))
    assert conf["spark.eventLog.enabled"] == "true" and conf["spark.eventLog.compress"] == "false"
    assert conf["spark.eventLog.dir"] == (tmp_path / "events").as_uri() and (tmp_path / "events").is_dir()
