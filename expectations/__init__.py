"""Data-quality expectations: rules as data (``expectations/rules/*.yml``), native Lakeflow
expectations on Databricks, the same semantics on OSS Spark, quarantine rows and metrics.

``expectations.rules`` needs no Spark; the engine and decorator names are imported lazily.
"""

from expectations.rules import (  # noqa: F401
    KNOWN_DATASETS,
    ExpectationConfigError,
    Rule,
    load_all,
    load_rules,
    validate_sql,
)

_LAZY = {
    "apply_rules": "expectations.engine",
    "with_rule_results": "expectations.engine",
    "quarantine": "expectations.engine",
    "metrics": "expectations.engine",
    "metrics_for": "expectations.engine",
    "guarded": "expectations.decorators",
    "is_native": "expectations.decorators",
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
