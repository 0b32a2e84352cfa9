"""dbt-like progress lines."""

from __future__ import annotations

from file_records.local.progress import Progress, duration, flow_state, table_line


def test_table_line():
    line = table_line(3, 13, "silver_file_records", True, 496, 4.07)
    assert line.startswith(" 3 of 13 OK silver_file_records ...")
    assert line.endswith(" 496 rows in 4.1 s")
    assert table_line(1, 8, "bronze_dxr_files", False, None, 14.66).endswith("... in 14.7 s")
    assert "FAILED bronze_dxr_files" in table_line(1, 8, "bronze_dxr_files", False, None, None)
    assert table_line(1, 1, "t", True, 1, None).endswith(" 1 row")
    assert table_line(1, 1, "t", True, 12345, None).endswith(" 12,345 rows")


def test_flow_states_from_event_messages():
    assert flow_state("Flow spark_catalog.default.bronze_dxr_files is RUNNING.") == ("bronze_dxr_files", "RUNNING")
    assert flow_state("Flow 'spark_catalog.default.silver_x' has COMPLETED.") == ("silver_x", "COMPLETED")
    assert flow_state("Flow 'spark_catalog.default.silver_x' has FAILED.\nError: boom") == ("silver_x", "FAILED")
    assert flow_state("Run is COMPLETED.") is None


def test_progress_times_each_table_and_counts_across_layers():
    now = [0.0]
    shown: list[str] = []
    progress = Progress(total=3, show=shown.append, clock=lambda: now[0], count={"a": 10}.get)
    for t, message in [(0, "Flow 'spark_catalog.default.a' is QUEUED."),
                       (1, "Flow spark_catalog.default.a is STARTING."),
                       (2, "Flow spark_catalog.default.a is RUNNING."),
                       (4.5, "Flow spark_catalog.default.a has COMPLETED.")]:
        now[0] = t
        progress.event(message)
    assert len(shown) == 1  # when its flow completes, not when the run ends
    progress.layer_done(["a"], {"a": 99})  # already shown: not again
    progress.event("Flow spark_catalog.default.b is STARTING.")
    progress.event("Flow 'spark_catalog.default.b' has FAILED.")
    progress.layer_done(["b"], {}, ok=False)
    assert shown[0].startswith("1 of 3 OK a ") and shown[0].endswith("10 rows in 3.5 s")
    assert shown[1].startswith("2 of 3 FAILED b ")
    progress.layer_done(["c"], {"c": 7})  # no event: shown with the run's count
    assert shown[2].startswith("3 of 3 OK c ") and shown[2].endswith("7 rows")
    assert progress.rows == {"a": 10, "c": 7}


def test_duration():
    assert duration(4.4) == "4 s"
    assert duration(125) == "2 min 05 s"
