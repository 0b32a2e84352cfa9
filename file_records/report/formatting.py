"""Small HTML and number formatting helpers of the report page: escaping, counts, sizes, rates,
times and ages, and the ``data-metric`` spans that carry each number's raw value."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any, Iterable, Optional


def e(value: Any) -> str:
    """HTML-escaped text (quotes too, so it is safe in attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def fmt_count(value: Any) -> str:
    if value is None:
        return "—"
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


def fmt_bytes(value: Any) -> str:
    if value is None:
        return "—"
    number = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(number) < 1024 or unit == "PiB":
            return f"{int(number):,} B" if unit == "B" else f"{number:,.1f} {unit}"
        number /= 1024
    return f"{number:,.1f} PiB"  # pragma: no cover


def fmt_rate(rate: Any) -> str:
    if rate is None:
        return "—"
    pct = float(rate) * 100
    if pct == 0:
        return "0 %"
    if pct < 0.01:
        return "<0.01 %"
    return f"{pct:.2f} %" if pct < 10 else f"{pct:.1f} %"


def _fmt(value: Any, kind: str) -> str:
    return {"bytes": fmt_bytes, "rate": fmt_rate}.get(kind, fmt_count)(value)


def raw_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def metric(name: str, value: Any, kind: str = "count", tag: str = "span", cls: str = "") -> str:
    """A number with its raw value: ``<span data-metric="name" data-value="123">123</span>``."""
    title = f' title="{e(fmt_count(value))} bytes"' if kind == "bytes" and value is not None else ""
    klass = f' class="{e(cls)}"' if cls else ""
    return (
        f'<{tag}{klass} data-metric="{e(name)}" data-value="{e(raw_value(value))}"{title}>{e(_fmt(value, kind))}</{tag}>'
    )


def _parse_time(text: Optional[str]) -> Optional[datetime]:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        return None


def fmt_time(text: Optional[str]) -> str:
    moment = _parse_time(text)
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else (str(text) if text else "—")


def fmt_age(text: Optional[str], now_text: Optional[str]) -> str:
    moment, now = _parse_time(text), _parse_time(now_text)
    if moment is None or now is None:
        return ""
    if (moment.tzinfo is None) != (now.tzinfo is None):
        moment, now = moment.replace(tzinfo=None), now.replace(tzinfo=None)
    seconds = (now - moment).total_seconds()
    if seconds < 0:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} days ago"


def rule_key(dataset: str, rule: str) -> str:
    return f"{dataset}/{rule}"


def anchor(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text)


def html_table(headers: Iterable[tuple[str, bool]], rows: list[str], attrs: str = "") -> str:
    head = "".join(f'<th{" class=n" if numeric else ""}>{e(h)}</th>' for h, numeric in headers)
    return f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def fmt_change(value: Any) -> str:
    if value is None:
        return ""
    value = int(value)
    return f"+{value:,}" if value > 0 else f"{value:,}"
