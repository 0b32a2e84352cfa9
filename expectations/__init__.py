"""Data-quality expectations: rules as data (``expectations/rules/*.yml``), native Lakeflow
expectations on Databricks, the same semantics on OSS Spark, quarantine rows and metrics.

``expectations.rules`` needs no Spark; the engine and decorator names are imported lazily.
"""

from file_records.expectations.rules import (
    KNOWN_DATASETS,
    ExpectationConfigError,
    Rule,
    load_all,
    load_rules,
    validate_sql,
)

_LAZY = {
    "apply_rules": "file_records.expectations.engine",
    "with_rule_results": "file_records.expectations.engine",
    "quarantine": "file_records.expectations.engine",
    "metrics": "file_records.expectations.engine",
    "metrics_for": "file_records.expectations.engine",
    "guarded": "file_records.expectations.decorators",
    "is_native": "file_records.expectations.decorators",
}

__all__ = [
    "KNOWN_DATASETS",
    "ExpectationConfigError",
    "Rule",
    "load_all",
    "load_rules",
    "validate_sql",
    *_LAZY,
]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'expectations' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
