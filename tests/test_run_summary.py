"""The lines that end a run, from the run's own tables."""

from __future__ import annotations

from file_records.local.summary import summary_lines


def test_summary_lines(spark):
    spark.createDataFrame(
        [("dxr", "20261201T020000Z-0001", 500, 500, 0, 0), ("dxr", "20261202T020000Z-0002", 498, 5, 7, 9)],
        "source_system string, snapshot_id string, files_total long, files_added long, files_removed long, "
        "files_changed long",
    ).createOrReplaceTempView("gold_file_changes")
    spark.createDataFrame(
        [("duplicate", "2026-12-02", 40, -2), ("rot", "2026-12-02", 10, 3), ("rot", "2026-12-01", 7, None)],
        "policy string, detected_on string, files long, files_change long",
    ).createOrReplaceTempView("gold_policy_summary")
    try:
        counts = {"bronze_dxr_files": 1008, "bronze_workspace_objects": 246, "silver_file_records_quarantine": 7,
                  "silver_workspace_files_quarantine": 2}
        previous = {"bronze_dxr_files": 505, "bronze_workspace_objects": 246}
        assert summary_lines(spark, counts, previous) == [
            "dxr: new snapshot 20261202T020000Z-0002: 498 files, 5 added, 7 removed, 9 changed",
            "workspace: no new snapshot (not due)",
            "policy flags: 50 files (+1 since the previous run)",
            "quarantined by the data-quality rules: 9 rows",
        ]
    finally:
        spark.catalog.dropTempView("gold_file_changes")
        spark.catalog.dropTempView("gold_policy_summary")
    # tables the pipeline does not have: those lines are left out
    assert summary_lines(spark, {"bronze_dxr_files": 5}, {}) == ["dxr: new snapshot"]
    spark.createDataFrame([("rot", "2026-12-01", 7, None)], "policy string, detected_on string, files long, "
                          "files_change long").createOrReplaceTempView("gold_policy_summary")
    try:
        assert summary_lines(spark, {}, {}) == ["policy flags: 7 files (no earlier run date to compare)"]
    finally:
        spark.catalog.dropTempView("gold_policy_summary")
