"""One definition of "a silver table guarded by its rules, plus its quarantine twin".

`silver_<x>_candidates` holds the newest run's candidate rows (typed, deduplicated, before any
rule), computed once from bronze; `silver_<x>` keeps the rows that pass (natively enforced
expectations on Databricks, the same rules emulated on OSS); `silver_<x>_quarantine` holds the rows
that broke a drop or fail rule, with the names of the rules they broke. Both read the same candidate
rows, so nothing is lost between them.
"""

from __future__ import annotations

from typing import Callable, Sequence

from pyspark import pipelines as dp
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from file_records.datasets import dataset
from file_records.expectations import engine
from file_records.expectations.decorators import guarded
from file_records.expectations.rules import load_rules
from file_records.frames import replace_columns


def define_guarded_silver(
    spark: SparkSession,
    name: str,
    candidates: Callable[[Callable[[DataFrame], DataFrame]], DataFrame],
    comment: str,
) -> None:
    """Register `name + "_candidates"`, `name` and `name + "_quarantine"` as materialized views.

    ``candidates(trim)`` returns the newest run's typed, deduplicated rows, with ``trim`` applied to
    them before any shuffle (it keeps the raw line only where a drop or fail rule breaks; the
    rules read single rows, so trimming before the dedupe keeps the same lines)."""
    rules = load_rules(name)
    guarded_dataset = dataset(name)

    @dp.materialized_view(
        name=guarded_dataset.candidates,
        comment=f"The newest run's rows for {name}, typed and deduplicated, before the rules: what {name}, "
        "its quarantine and the expectation metrics read (the raw line only where a drop or fail rule breaks).",
    )
    def candidate_rows():
        return candidates(lambda rows: _raw_lines_of_quarantined_rows_only(rows, rules, guarded_dataset.candidate_columns))

    def checked() -> DataFrame:
        return spark.read.table(guarded_dataset.candidates)

    @dp.materialized_view(name=name, comment=f"{comment} Guarded by expectations/rules/{name}.yml.")
    @guarded(name, rules)
    def silver():
        return checked().select(*guarded_dataset.columns)

    @dp.materialized_view(
        name=guarded_dataset.quarantine,
        comment=f"Rows for {name} that broke a drop or fail rule, with the rules they broke; never silently lost.",
    )
    def quarantine():
        return engine.quarantine(checked(), rules, timestamp=F.col("ingested_at"))


def guarded_rows(spark: SparkSession, name: str) -> DataFrame:
    """The rows of ``name`` (a guarded silver table) read from its candidates with its rules applied:
    the same rows and columns, for tables that would otherwise wait for silver to be written. A rules change refreshes the candidates, so these tables too
    (file_records.local.freshness)."""
    guarded_dataset = dataset(name)
    rows = engine.passing(spark.read.table(guarded_dataset.candidates), load_rules(name))
    return rows.select(*guarded_dataset.columns)


RAW_LINE = "raw_json"


def _raw_lines_of_quarantined_rows_only(rows: DataFrame, rules: Sequence, columns: Sequence[str]) -> DataFrame:
    """The raw line is what the quarantine shows; the other rows never read it again. Keeping it only
    where a drop or fail rule breaks spares writing (and reading) the whole snapshot's JSON a second
    time. Not when a rule reads the raw line itself: then every row keeps it, as the rule saw it."""
    if RAW_LINE not in columns or any(RAW_LINE in rule.constraint for rule in rules):
        return rows
    return replace_columns(rows, **{RAW_LINE: F.when(~engine.passes_gating_rules(rules), F.col(RAW_LINE))})
