"""One row per key without moving every row: the deduplication of a snapshot's (or scan's) rows."""

from __future__ import annotations

from typing import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F


def first_per_key(rows: DataFrame, keys: Sequence[str], order: Sequence[Column], columns: Sequence[str]) -> DataFrame:
    """``rows`` with one row per ``keys``: where a key repeats, the first by ``order``. Rows with a null
    key are all kept (the rules, not the deduplication, decide about them). Output columns: ``columns``.

    A window over every row would shuffle and sort whole rows (the raw JSON line included) to find
    the few keys that repeat; usually none do, since one snapshot's queries rarely overlap. So only
    the keys are counted (a narrow shuffle); rows whose key is unique pass through a broadcast
    anti-join untouched, and only the rows of repeated keys go through the window.
    """
    # An equi-join never matches a null key, so rows with one are never "repeated".
    repeated = F.broadcast(rows.groupBy(*keys).count().where(F.col("count") > 1).select(*keys))
    unique = rows.join(repeated, list(keys), "left_anti")
    copies = rows.join(repeated, list(keys), "left_semi")
    first = copies.withColumn("_copy", F.row_number().over(Window.partitionBy(*keys).orderBy(*order))).where(
        F.col("_copy") == 1
    )
    return unique.select(*columns).union(first.select(*columns))
