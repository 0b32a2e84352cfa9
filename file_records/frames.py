"""Adding and replacing DataFrame columns in a way the pipeline engine can schedule.

On Spark Connect the server analyses some DataFrame steps as soon as it receives them:
``withColumn(s)``, ``drop``, ``toDF``, ``distinct``, ``unionByName`` and a few more. In a pipeline's
query function that analysis resolves every table read below the step against the catalog; once
the table exists (every run after the first), the engine no longer sees that the flow reads a
dataset of its own graph and may start the flow before that dataset is refreshed
(apache/spark#57897). ``select`` stays unresolved until the engine resolves the graph, so the
functions here express those steps as selects. ``file_records.local.runner`` checks each flow's
plan for the eager steps (``EAGER_RELATIONS``) and refreshes layer by layer if one is there.
"""

from __future__ import annotations

from typing import Iterable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

#: Spark Connect relation types the server analyses when it receives them (its planner builds them
#: from an analysed Dataset); the names are the ``rel_type`` fields of ``spark.connect.Relation``,
#: and ``union_by_name`` for a ``set_op`` by name.
EAGER_RELATIONS = frozenset({
    "with_columns", "with_columns_renamed", "drop", "to_df", "to_schema", "deduplicate", "fill_na",
    "drop_na", "replace", "describe", "crosstab", "unpivot", "with_watermark", "transpose",
    "apply_in_pandas_with_state", "union_by_name",
})


def add_columns(df: DataFrame, **columns: Column) -> DataFrame:
    """``df`` with new columns after its own (``withColumn`` for names ``df`` does not have)."""
    return df.select("*", *[column.alias(name) for name, column in columns.items()])


def replace_columns(df: DataFrame, **columns: Column) -> DataFrame:
    """``df`` with the named columns, which it has, computed anew from its row; they move to the end
    (``withColumn`` keeps the place: select the final columns by name)."""
    return select_except(df, columns, *[column.alias(name) for name, column in columns.items()])


def select_except(df: DataFrame, left_out: Iterable[str], *columns: Column) -> DataFrame:
    """``df``'s columns but ``left_out`` (which it has), then ``columns``, each computed from ``df``'s row."""
    names = ", ".join(f"`{name}`" for name in left_out)
    return df.select(F.expr(f"* except ({names})"), *columns)


def distinct_rows(df: DataFrame, *columns: str) -> DataFrame:
    """The distinct rows of ``df``'s ``columns`` (``df.select(*columns).distinct()``)."""
    return df.groupBy(*columns).agg(F.count(F.lit(1)).alias("_rows")).select(*columns)
