"""Spark Row values as plain, JSON-friendly Python: one conversion for `query` and `report`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable


def _same(value: Any) -> Any:
    return value


def plain(value: Any, scalar: Callable[[Any], Any] = _same) -> Any:
    """Rows and maps become dicts, arrays lists, decimals int (when whole) or float; every other
    value goes through ``scalar`` (the caller's choice for dates and timestamps)."""
    if hasattr(value, "asDict"):
        return {k: plain(v, scalar) for k, v in value.asDict(recursive=False).items()}
    if isinstance(value, dict):
        return {str(k): plain(v, scalar) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, scalar) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return scalar(value)
