"""The inline SVG charts of the report page: failure rate per ingestion date for each rule (all on
one shared scale) and files added / removed / changed per snapshot for each source."""

from __future__ import annotations

from typing import Iterable, Optional

from file_records.report.formatting import e, fmt_count, fmt_rate, rule_key

ACTION_COLORS = {"drop": "#c0392b", "fail": "#7b241c", "warn": "#d68910"}
OK_COLOR = "#1e8449"
CHANGE_COLORS = {"added": "#1e8449", "removed": "#c0392b", "changed": "#d68910"}

CHART_W, CHART_H = 280, 110
CHANGES_H = 130
PAD_L, PAD_R, PAD_T, PAD_B = 40, 8, 10, 20
NICE_MAXIMA = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0)

CHANGE_KINDS = ("added", "removed", "changed")


def _nice_max(rate: float) -> float:
    for candidate in NICE_MAXIMA:
        if rate <= candidate:
            return candidate
    return 1.0


def rules_scale(rules: Iterable[dict]) -> float:
    """The one scale of every rule chart: the highest failure rate of any rule on any date, rounded
    up to a readable value (so 0.2 % is a quarter as tall as 0.8 %, whichever rule it belongs to)."""
    highest = max((float(p.get("failure_rate") or 0) for r in rules for p in r.get("series") or []), default=0.0)
    return _nice_max(highest or 0.001)


def _plot_area(plot_w: float, plot_h: float, top_label: str, *guides: str) -> list[str]:
    """The plot's background, its guide lines and the labels of its top and its zero."""
    return [
        f'<rect x="{PAD_L}" y="{PAD_T}" width="{plot_w}" height="{plot_h}" fill="#fbfcfd" stroke="#e4e7eb"/>',
        *guides,
        f'<text x="{PAD_L - 4}" y="{PAD_T + 4}" text-anchor="end">{e(top_label)}</text>',
        f'<text x="{PAD_L - 4}" y="{PAD_T + plot_h}" text-anchor="end">0</text>',
    ]


def rule_chart(entry: dict, top: Optional[float] = None) -> str:
    """Failure rate per ingestion date as bars; a green tick marks a date without failures.
    ``top``: the failure rate at the top of the chart (the shared scale); None: this rule's own."""
    key = rule_key(entry["dataset"], entry["rule"])
    series = entry.get("series") or []
    color = ACTION_COLORS.get(entry.get("action"), "#c0392b")
    top = top if top else rules_scale([entry])
    plot_w, plot_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B
    base_y = PAD_T + plot_h
    label = f"Failure rate of rule {entry['rule']} ({entry.get('action')}) per ingestion date"
    parts = [
        (
            f'<svg data-chart="rule:{e(key)}" data-dataset="{e(entry["dataset"])}" '
            f'data-rule="{e(entry["rule"])}" data-points="{len(series)}" data-scale="{top!r}" '
            f'width="{CHART_W}" height="{CHART_H}" '
            f'viewBox="0 0 {CHART_W} {CHART_H}" role="img" aria-label="{e(label)}">'
        ),
        *_plot_area(
            plot_w, plot_h, fmt_rate(top),
            f'<line x1="{PAD_L}" y1="{PAD_T + plot_h / 2:.1f}" x2="{PAD_L + plot_w}" '
            f'y2="{PAD_T + plot_h / 2:.1f}" stroke="#eceff2" stroke-dasharray="3 3"/>',
        ),
    ]
    n = len(series)
    if n == 0:
        parts.append(f'<text x="{PAD_L + plot_w / 2:.1f}" y="{PAD_T + plot_h / 2 + 4:.1f}" text-anchor="middle">no runs yet</text>')
    slot = plot_w / max(n, 1)
    bar_w = max(2.0, min(28.0, slot * 0.7))
    for i, point in enumerate(series):
        rate = float(point.get("failure_rate") or 0.0)
        x = PAD_L + slot * i + (slot - bar_w) / 2
        failed, passed = int(point.get("failed") or 0), int(point.get("passed") or 0)
        tip = f"{point.get('date')}: {failed:,} failed of {failed + passed:,} ({fmt_rate(rate)})"
        if failed > 0:
            height = max(2.0, plot_h * min(rate / top, 1.0))
            fill = color
        else:
            height, fill = 2.0, OK_COLOR
        parts.append(
            f'<rect class="bar" data-date="{e(point.get("date"))}" data-passed="{passed}" data-failed="{failed}" '
            f'data-failure-rate="{rate!r}" x="{x:.1f}" y="{base_y - height:.1f}" width="{bar_w:.1f}" '
            f'height="{height:.1f}" fill="{fill}"><title>{e(tip)}</title></rect>'
        )
    if n:
        first, last = str(series[0].get("date") or ""), str(series[-1].get("date") or "")
        label_y = CHART_H - 5
        if n == 1:
            parts.append(f'<text x="{PAD_L + plot_w / 2:.1f}" y="{label_y}" text-anchor="middle">{e(first)}</text>')
        else:
            parts.append(f'<text x="{PAD_L}" y="{label_y}" text-anchor="start">{e(first)}</text>')
            parts.append(f'<text x="{PAD_L + plot_w}" y="{label_y}" text-anchor="end">{e(last)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def changes_scale(sources: Iterable[dict]) -> int:
    """The one scale of the change charts: the most files one snapshot added, removed or changed."""
    return max((int(snap.get(f"files_{kind}") or 0) for src in sources for snap in src.get("snapshots") or []
                for kind in CHANGE_KINDS), default=0)


def changes_chart(source: dict, top: int) -> str:
    """Files added / removed / changed per snapshot as three bars, on the shared scale ``top``."""
    name = str(source.get("source_system"))
    snapshots = source.get("snapshots") or []
    width = max(CHART_W, min(1100, PAD_L + PAD_R + 42 * len(snapshots)))
    plot_w, plot_h = width - PAD_L - PAD_R, CHANGES_H - PAD_T - PAD_B
    base_y = PAD_T + plot_h
    label = f"Files added, removed and changed per snapshot of {source.get('label') or name}"
    parts = [
        (
            f'<svg data-chart="changes:{e(name)}" data-source="{e(name)}" data-points="{len(snapshots)}" '
            f'data-scale="{int(top)}" width="{width}" height="{CHANGES_H}" viewBox="0 0 {width} {CHANGES_H}" '
            f'role="img" aria-label="{e(label)}">'
        ),
        *_plot_area(plot_w, plot_h, fmt_count(top)),
    ]
    slot = plot_w / max(len(snapshots), 1)
    bar_w = max(2.0, min(12.0, slot * 0.8 / len(CHANGE_KINDS)))
    for i, snap in enumerate(snapshots):
        left = PAD_L + slot * i + (slot - bar_w * len(CHANGE_KINDS)) / 2
        for j, kind in enumerate(CHANGE_KINDS):
            count = int(snap.get(f"files_{kind}") or 0)
            height = max(1.0, plot_h * count / top) if count and top else 0.0
            tip = f"{snap.get('snapshot_id')} ({snap.get('ingestion_date')}): {count:,} files {kind}"
            parts.append(
                f'<rect class="bar" data-date="{e(snap.get("ingestion_date"))}" data-snapshot="{e(snap.get("snapshot_id"))}" '
                f'data-kind="{kind}" data-count="{count}" x="{left + bar_w * j:.1f}" y="{base_y - height:.1f}" '
                f'width="{bar_w:.1f}" height="{height:.1f}" fill="{CHANGE_COLORS[kind]}"><title>{e(tip)}</title></rect>'
            )
    if snapshots:
        first, last = str(snapshots[0].get("ingestion_date") or ""), str(snapshots[-1].get("ingestion_date") or "")
        parts.append(f'<text x="{PAD_L}" y="{CHANGES_H - 5}" text-anchor="start">{e(first)}</text>')
        if len(snapshots) > 1:
            parts.append(f'<text x="{PAD_L + plot_w}" y="{CHANGES_H - 5}" text-anchor="end">{e(last)}</text>')
    parts.append("</svg>")
    return "".join(parts)
