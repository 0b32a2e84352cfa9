"""One definition of "a table folded from per-run facts that are computed once, when their run arrives".

A per-run fact is what one run (a DXR snapshot, a workspace scan) contributes to a history table:
the expectation counts of that snapshot, the policy figures of that run. Recomputing every past
run's facts on every run makes a run cost what the whole history costs; keeping them makes it cost
what the newest run costs. The choice between the two is made here, once, per runtime:

* **kept** (OSS Spark, the local runner): ``<name>_newest`` is a materialized view of the newest
  run's facts (a small read of the newest snapshot), stamped with ``computed_at``;
  ``<name>_kept`` is a streaming table that appends each new version of it (a streaming read of
  a parquet table picks up new files only: each refresh of ``_newest`` is read once), and ``<name>``
  folds the kept facts (a few rows per run). A past run keeps the figures computed on its day,
  with that day's rules, users and holds. When ``_newest`` is refreshed again for the same run
  (an edited rule, a new hold), the later computation replaces the earlier one for that run.
* **recompute** (Databricks): a streaming read of a materialized view is refused there (its
  refresh rewrites the table), so ``<name>`` is a materialized view over the facts of every run,
  recomputed from bronze; serverless refreshes it incrementally where it can. Past runs then show
  today's rules, users and holds.

Both fold the same facts with the same function, so the tables have the same columns and, for
runs computed under the same rules and settings, the same rows.
"""

from __future__ import annotations

import os
from functools import reduce
from typing import Callable, Mapping, Optional, Sequence, Union

from pyspark import pipelines as dp
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from file_records.datasets import kept_facts_table, newest_facts_table

KEPT, RECOMPUTE = "kept", "recompute"
COMPUTED_AT = "computed_at"


def history_mode() -> str:
    """``recompute`` on a Databricks runtime (which sets ``DATABRICKS_RUNTIME_VERSION`` for the
    driver that loads pipeline code), ``kept`` everywhere else."""
    return RECOMPUTE if os.environ.get("DATABRICKS_RUNTIME_VERSION") else KEPT


def latest_per_run(kept: DataFrame, key: Sequence[str], columns: Sequence[str]) -> DataFrame:
    """One computation per run: of the kept rows of each ``key`` (which includes the run), those of
    the latest ``computed_at``. The latest times are a few rows (one per run): broadcast, so the kept
    rows are not shuffled for it."""
    latest = kept.groupBy(*key).agg(F.max(COMPUTED_AT).alias(COMPUTED_AT))
    return kept.join(F.broadcast(latest), [*key, COMPUTED_AT], "left_semi").select(*columns)


def define_kept_facts(
    spark: SparkSession,
    name: str,
    *,
    comment: str,
    columns: Sequence[str],
    run_key: Sequence[str],
    newest: Union[Callable[[], DataFrame], Mapping[str, Callable[[], DataFrame]]],
    every_run: Callable[[], DataFrame],
    fold: Callable[[DataFrame], DataFrame],
) -> None:
    """Register ``name`` (and, when facts are kept, its ``_newest`` and ``_kept`` tables).

    ``newest()``: the facts of the newest run, in ``columns``; or ``{part: newest}`` when the facts
    come in parts that arrive independently (one per source: datasets.KEPT_FACTS names them), each
    kept in its own pair of tables. ``every_run()``: the facts of every run (the recompute mode).
    ``run_key``: the columns naming one run's computation (a later one replaces it).
    ``fold(facts)``: the published table from facts in ``columns``."""
    if history_mode() == RECOMPUTE:

        @dp.materialized_view(name=name, comment=comment)
        def recomputed():
            return fold(every_run().select(*columns))

        return

    parts = dict(newest) if isinstance(newest, Mapping) else {None: newest}
    for part, compute in parts.items():
        _define_kept_part(spark, name, part, compute, columns)

    @dp.materialized_view(name=name, comment=comment)
    def folded():
        kept = [latest_per_run(spark.read.table(kept_facts_table(name, part)), run_key, columns) for part in parts]
        return fold(reduce(DataFrame.union, kept))


def _define_kept_part(spark: SparkSession, name: str, part: Optional[str], compute: Callable[[], DataFrame],
                      columns: Sequence[str]) -> None:
    newest = newest_facts_table(name, part)
    of = f"{name} ({part})" if part else name

    @dp.materialized_view(name=newest, comment=f"The newest run's contribution to {of}, as computed by the latest refresh.")
    def newest_facts():
        return compute().select(*columns, F.current_timestamp().alias(COMPUTED_AT))

    @dp.table(
        name=kept_facts_table(name, part),
        comment=f"Every computation of {newest}, appended: the facts {name} is folded from.",
        # Not marked pipelines.reset.allowed=false like bronze: the engine refuses that under resettable
        # upstream tables. The local runner refuses a full refresh of it (runner.protected_tables).
    )
    def kept_facts():
        return spark.readStream.table(newest)
