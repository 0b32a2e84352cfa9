"""`file-records export TABLE`: any table of the local catalog to CSV or JSON.

The writing, filters (--policy/--action/--owner) and formula neutralisation are in
policies/export.py; this command owns the Spark session and two table-specific rules:
gold_user_inventory exports the latest scan with the predecessor's seven columns first, so
consumers of the old CSV read it unchanged (`--all-scans` exports every scan).
"""

from __future__ import annotations

from rich.console import Console

from file_records.errors import UsageError

INVENTORY_TABLE = "gold_user_inventory"


def _inventory_view(frame, all_scans: bool):
    from pyspark.sql import functions as F

    from pipelines.logic.workspace import PREDECESSOR_COLUMNS

    if not all_scans:
        newest = frame.agg(F.max("scan_id").alias("_newest"))
        frame = frame.join(newest, F.col("scan_id") == F.col("_newest"), "left_semi")
    rest = [name for name in frame.columns if name not in PREDECESSOR_COLUMNS]
    return frame.select(*PREDECESSOR_COLUMNS, *rest).orderBy("username")


def export_command(argv: list[str], state_dir, all_scans: bool, console: Console) -> int:
    from policies.export import main as export_main

    from file_records.local.runner import state_lock
    from file_records.local.spark import StatePaths, classic_session
    from file_records.settings import LocalSparkSettings

    paths = StatePaths(state_dir.resolve())
    if not paths.exists():
        raise UsageError(f"no pipeline state in {state_dir}: run `file-records run` (or `run --demo`) first")
    with state_lock(paths):
        spark = classic_session(paths, LocalSparkSettings(spark_master="local[1]"))
        try:
            known = {row.tableName for row in spark.sql("SHOW TABLES IN default").collect()}

            def read_table(name: str):
                short = name.rsplit(".", 1)[-1].strip("`")
                if short not in known:
                    raise UsageError(f"no table {name!r} in {state_dir}; it has: {', '.join(sorted(known))}")
                frame = spark.read.table(name)
                return _inventory_view(frame, all_scans) if short == INVENTORY_TABLE else frame

            return export_main(argv, read_table)
        finally:
            spark.stop()
