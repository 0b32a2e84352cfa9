"""The one helper pipeline files use to guard a dataset with its rules.

Usage (the expectation decorator goes BELOW the dataset decorator, as Lakeflow requires)::

    from pyspark import pipelines as dp
    from file_records.expectations.decorators import guarded

    @dp.materialized_view(name="silver_file_records")
    @guarded("silver_file_records")
    def silver_file_records():
        return ...

* On Databricks Lakeflow (``dp`` has ``expect_all_or_drop``) it stacks the native
  ``dp.expect_all`` (warn), ``dp.expect_all_or_drop`` (drop) and ``dp.expect_all_or_fail`` (fail)
  with ``{name: constraint}`` dicts, so the rules show up in the pipeline UI and event log.
* On OSS Spark (no ``dp.expect*``) it wraps the query function so the DataFrame it returns goes
  through :func:`file_records.expectations.engine.apply_rules` -- the same rows survive, the schema
  is unchanged.

Rules are loaded and validated when ``guarded(...)`` is called, i.e. when the pipeline file is
imported at pipeline start, so a bad rules file fails the pipeline before any data is read.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence, TypeVar

from pyspark import pipelines as dp

from file_records.datasets import key_columns
from file_records.expectations.engine import apply_rules
from file_records.expectations.rules import (
    KNOWN_DATASETS,
    ExpectationConfigError,
    Rule,
    by_action,
    check_rules,
    load_rules,
)

__all__ = ["guarded", "is_native"]

F_ = TypeVar("F_", bound=Callable[..., Any])


def is_native() -> bool:
    """True on Databricks Lakeflow, where ``pyspark.pipelines`` has the expectation decorators."""
    return hasattr(dp, "expect_all_or_drop")


def guarded(
    dataset: str,
    rules: Optional[Sequence[Rule | Mapping[str, Any]]] = None,
    *,
    key_column: str | Sequence[str] | None = None,
    rules_dir: Path | str | None = None,
) -> Callable[[F_], F_]:
    """Decorator applying ``dataset``'s rules to a pipeline query function.

    ``rules`` overrides the rules file (Rule objects or mappings with name/constraint/action/
    description; validated the same way). ``key_column`` is the column (or columns) shown as the
    example key when a ``fail`` rule stops the flow on OSS (default: the dataset's key in
    :mod:`file_records.datasets`).
    """
    if rules is None:
        rule_list = load_rules(dataset, rules_dir)
    else:
        if dataset not in KNOWN_DATASETS:
            raise ExpectationConfigError(
                f"<inline rules>: unknown dataset {dataset!r}; "
                f"known datasets: {', '.join(sorted(KNOWN_DATASETS))}"
            )
        rule_list = check_rules(rules, dataset=dataset)
    key = key_column if key_column is not None else (key_columns(dataset) or None)

    def decorator(func: F_) -> F_:
        if not callable(func):
            raise TypeError(
                f"guarded({dataset!r}) must decorate the query function directly: place it BELOW "
                "@dp.materialized_view(...) / @dp.table(...), not above"
            )
        if is_native():
            grouped = by_action(rule_list)
            wrapped: Any = func
            # Same order as writing, top to bottom: @expect_all, @expect_all_or_drop, @expect_all_or_fail.
            if grouped["fail"]:
                wrapped = dp.expect_all_or_fail(dict(grouped["fail"]))(wrapped)
            if grouped["drop"]:
                wrapped = dp.expect_all_or_drop(dict(grouped["drop"]))(wrapped)
            if grouped["warn"]:
                wrapped = dp.expect_all(dict(grouped["warn"]))(wrapped)
            return wrapped

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return apply_rules(func(*args, **kwargs), rule_list, key_column=key, dataset=dataset)

        wrapper.__expectations__ = tuple(rule_list)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator
