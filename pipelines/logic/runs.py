"""Reading one run (a DXR snapshot, a workspace scan) out of a bronze table that keeps them all."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def newest_run(bronze: DataFrame, run_column: str) -> DataFrame:
    """Every row of ``bronze`` whose ``run_column`` is the newest (highest) value.

    A filter on a scalar subquery rather than a join: Spark pushes the comparison down to the
    parquet reader, whose row-group statistics skip the files of every older snapshot (each
    micro-batch writes its own files), so reading the newest snapshot does not read the history.
    """
    return bronze.where(F.col(run_column) == bronze.select(F.max(run_column)).scalar())
