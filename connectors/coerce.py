"""Tolerant coercion of JSON values from the source APIs: a wrong type becomes None, never an error."""

from __future__ import annotations

from typing import Any, Optional


def to_int(value: Any) -> Optional[int]:
    """An integer from an int, an integral float or a string of digits; None otherwise (bools too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None
