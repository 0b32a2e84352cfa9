"""The report as one self-contained HTML page: inline CSS, charts as inline SVG drawn here, no
script and nothing fetched, so it opens anywhere (mail attachment, file share, offline).

Every number a test or a reader may want to check carries its raw value in a data attribute:
``<span data-metric="silver_files" data-value="496">496</span>``; every chart is
``<svg data-chart="rule:<dataset>/<rule>">`` with one ``<rect data-date data-passed data-failed>``
per ingestion date. Everything that comes from the data goes through :func:`html.escape`.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any, Iterable, Optional

from file_records import datasets as registry

TITLE = "File records report"

# label, headline key, kind, [(sub-label, key, kind)]
SUMMARY_CARDS: tuple[tuple[str, str, str, tuple[tuple[str, str, str], ...]], ...] = (
    ("Files (Data X-Ray)", "silver_files", "count", (("", "silver_bytes", "bytes"),)),
    ("Duplicate groups", "duplicate_groups", "count", (("copies", "duplicate_copies", "count"),)),
    ("Reclaimable", "reclaimable_bytes", "bytes", ()),
    ("DXR quarantine", "quarantined_files", "count", ()),
    ("Workspace files", "workspace_files", "count", (("", "workspace_bytes", "bytes"),)),
    ("Workspace quarantine", "workspace_quarantined", "count", ()),
    ("Users", "users", "count", (("with errors", "users_with_errors", "count"), ("partial", "users_partial", "count"))),
    ("Policy flags", "policy_flags", "count", (("files", "policy_flagged_files", "count"), ("policies", "policies_triggered", "count"))),
)

DATASET_LABELS = {name: dataset.title for name, dataset in registry.DATASETS.items()}
ACTION_COLORS = {"drop": "#c0392b", "fail": "#7b241c", "warn": "#d68910"}
OK_COLOR = "#1e8449"

CHART_W, CHART_H = 280, 110
PAD_L, PAD_R, PAD_T, PAD_B = 40, 8, 10, 20
NICE_MAXIMA = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0)

CSS = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#d9dee3; --soft:#f5f7f9; --accent:#1f4e79; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
       color:var(--ink); background:#fff; }
main { max-width:1180px; margin:0 auto; padding:24px 28px 48px; }
header h1 { margin:0 0 2px; font-size:24px; color:var(--accent); }
header p { margin:0; color:var(--muted); }
h2 { font-size:18px; margin:32px 0 10px; padding-bottom:4px; border-bottom:2px solid var(--line); color:var(--accent); }
h3 { font-size:15px; margin:18px 0 8px; }
.strip { display:grid; grid-template-columns:repeat(4,1fr); gap:10px; margin-top:18px; }
@media (max-width:760px) { .strip { grid-template-columns:repeat(2,1fr); } }
.card { background:var(--soft); border:1px solid var(--line); border-radius:6px; padding:10px 12px; }
.card .label { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.03em; }
.card .big { font-size:24px; font-weight:600; }
.card .sub { color:var(--muted); font-size:12px; }
.card.alert .big { color:#c0392b; }
table { border-collapse:collapse; width:100%; font-size:13px; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:var(--soft); font-weight:600; }
td.n, th.n { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
code, .mono { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:12px; }
.excerpt { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:11.5px; color:#3e4c59;
           overflow-wrap:anywhere; max-width:520px; }
.path { overflow-wrap:anywhere; min-width:160px; }
.grid { display:grid; grid-template-columns:repeat(auto-fill,minmax(296px,1fr)); gap:12px; }
figure.rule { margin:0; border:1px solid var(--line); border-radius:6px; padding:8px 8px 6px; }
figure.rule figcaption { display:flex; gap:6px; align-items:center; font-weight:600; }
figure.rule svg { display:block; margin-top:4px; }
figure.rule p { margin:2px 0 0; font-size:12px; color:var(--muted); }
.badge { display:inline-block; font-size:11px; font-weight:600; padding:0 6px; border-radius:9px; color:#fff; }
.badge.drop { background:#c0392b; } .badge.fail { background:#7b241c; } .badge.warn { background:#d68910; }
.badge.ok { background:#1e8449; }
.muted { color:var(--muted); }
.rule-block { border-left:4px solid var(--line); padding:2px 0 2px 12px; margin:14px 0; }
.rule-block.drop { border-color:#c0392b; } .rule-block.fail { border-color:#7b241c; } .rule-block.warn { border-color:#d68910; }
.cols { display:grid; grid-template-columns:repeat(2,minmax(0,1fr)); gap:18px; }
@media (max-width:760px) { .cols { grid-template-columns:1fr; } }
.cols > .wide { grid-column:1 / -1; }
.scroll { overflow-x:auto; }
details summary { cursor:pointer; color:var(--accent); }
footer { margin-top:36px; color:var(--muted); font-size:12px; }
svg text { font:10px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif; fill:#616e7c; }
"""


# --- formatting ------------------------------------------------------------------------------


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


def _raw(value: Any) -> str:
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
        f'<{tag}{klass} data-metric="{e(name)}" data-value="{e(_raw(value))}"{title}>{e(_fmt(value, kind))}</{tag}>'
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


def _rule_key(dataset: str, rule: str) -> str:
    return f"{dataset}/{rule}"


def _anchor(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text)


# --- charts ----------------------------------------------------------------------------------


def _nice_max(rate: float) -> float:
    for candidate in NICE_MAXIMA:
        if rate <= candidate:
            return candidate
    return 1.0


def rule_chart(entry: dict) -> str:
    """Failure rate per ingestion date as bars; a green tick marks a date without failures."""
    key = _rule_key(entry["dataset"], entry["rule"])
    series = entry.get("series") or []
    color = ACTION_COLORS.get(entry.get("action"), "#c0392b")
    top = _nice_max(max((float(p.get("failure_rate") or 0) for p in series), default=0.0) or 0.001)
    plot_w, plot_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B
    base_y = PAD_T + plot_h
    label = f"Failure rate of rule {entry['rule']} ({entry.get('action')}) per ingestion date"
    parts = [
        (
            f'<svg data-chart="rule:{e(key)}" data-dataset="{e(entry["dataset"])}" '
            f'data-rule="{e(entry["rule"])}" data-points="{len(series)}" width="{CHART_W}" height="{CHART_H}" '
            f'viewBox="0 0 {CHART_W} {CHART_H}" role="img" aria-label="{e(label)}">'
        ),
        f'<rect x="{PAD_L}" y="{PAD_T}" width="{plot_w}" height="{plot_h}" fill="#fbfcfd" stroke="#e4e7eb"/>',
        (
            f'<line x1="{PAD_L}" y1="{PAD_T + plot_h / 2:.1f}" x2="{PAD_L + plot_w}" '
            f'y2="{PAD_T + plot_h / 2:.1f}" stroke="#eceff2" stroke-dasharray="3 3"/>'
        ),
        f'<text x="{PAD_L - 4}" y="{PAD_T + 4}" text-anchor="end">{e(fmt_rate(top))}</text>',
        f'<text x="{PAD_L - 4}" y="{base_y}" text-anchor="end">0</text>',
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


# --- sections --------------------------------------------------------------------------------


def _summary(headline: dict) -> str:
    cards = []
    for label, key, kind, subs in SUMMARY_CARDS:
        if key not in headline:
            continue
        value = headline.get(key)
        alert = key in ("users_with_errors",) and value
        sub_parts = [
            f"{metric(sub_key, headline.get(sub_key), sub_kind)}{(' ' + e(sub_label)) if sub_label else ''}"
            for sub_label, sub_key, sub_kind in subs
            if sub_key in headline
        ]
        sub = f'<div class="sub">{" · ".join(sub_parts)}</div>' if sub_parts else ""
        cls = "card alert" if alert else "card"
        cards.append(f'<div class="{cls}"><div class="label">{e(label)}</div>{metric(key, value, kind, "div", "big")}{sub}</div>')
    if not cards:
        return '<section id="summary"><p class="muted">No tables yet: run <code>file-records run</code> first.</p></section>'
    return f'<section id="summary" class="strip">{"".join(cards)}</section>'


def _freshness(data: dict) -> str:
    sources = data.get("freshness") or []
    if not sources:
        return '<section id="freshness"><h2>Pipeline freshness</h2><p class="muted">No source has been ingested yet.</p></section>'
    now = data.get("generated_at")
    rows = []
    for s in sources:
        src = s.get("source")
        rows.append(
            f'<tr data-source="{e(src)}"><td>{e(s.get("label") or src)}<br><code class="muted">{e(s.get("table"))}</code></td>'
            f'<td><code data-metric="latest_id:{e(src)}" data-value="{e(s.get("latest_id"))}">{e(s.get("latest_id") or "—")}</code></td>'
            f'<td>{e(fmt_time(s.get("taken_at")))}<br><span class="muted">{e(fmt_age(s.get("taken_at"), now))}</span></td>'
            f'<td class="n">{metric("bronze_rows_latest:" + str(src), s.get("rows"))}</td>'
            f'<td class="n">{metric("items_latest:" + str(src), s.get("items"))}</td>'
            f'<td class="n">{metric("silver_rows:" + str(src), s.get("silver_rows"))}</td>'
            f'<td class="n">{metric("runs:" + str(src), s.get("runs"))}</td></tr>'
        )
    return (
        '<section id="freshness"><h2>Pipeline freshness</h2>'
        '<table><thead><tr><th>Source</th><th>Latest snapshot / scan</th><th>Taken at</th>'
        '<th class="n">Bronze rows in it</th><th class="n">Files in it</th><th class="n">Silver rows now</th>'
        '<th class="n">Snapshots kept</th></tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table></section>'
    )


def _rule_figure(entry: dict) -> str:
    key = _rule_key(entry["dataset"], entry["rule"])
    action = str(entry.get("action") or "")
    latest = entry.get("latest")
    if latest:
        total = int(latest.get("passed") or 0) + int(latest.get("failed") or 0)
        status = (
            f'{e(latest.get("date"))}: {metric("rule_failed:" + key, latest.get("failed"))} failed of '
            f'{metric("rule_total:" + key, total)} ({metric("rule_rate:" + key, latest.get("failure_rate"), "rate")})'
        )
    else:
        status = "no runs yet"
    quarantined = entry.get("quarantined")
    q = f' · {metric("rule_quarantined:" + key, quarantined)} in quarantine' if quarantined is not None else ""
    desc = f'<p>{e(entry.get("description"))}</p>' if entry.get("description") else ""
    return (
        f'<figure class="rule" id="rule-{e(_anchor(key))}" data-dataset="{e(entry["dataset"])}" '
        f'data-rule="{e(entry["rule"])}" data-action="{e(action)}">'
        f'<figcaption><code>{e(entry["rule"])}</code><span class="badge {e(action)}">{e(action)}</span></figcaption>'
        f"{rule_chart(entry)}<p>{status}{q}</p>{desc}</figure>"
    )


def _rules(data: dict) -> str:
    rules = data.get("rules") or []
    head = (
        '<section id="rules"><h2>Data-quality rules over time</h2>'
        '<p class="muted">Failure rate per ingestion date for each rule. <b>drop</b> rules move failing rows to the '
        'quarantine table, <b>warn</b> rules keep them and only count them, <b>fail</b> rules stop the pipeline.</p>'
    )
    if not rules:
        return head + '<p class="muted">No data-quality metrics yet (gold_expectation_metrics is missing or empty).</p></section>'
    blocks = []
    for dataset in dict.fromkeys(r["dataset"] for r in rules):
        figures = "".join(_rule_figure(r) for r in rules if r["dataset"] == dataset)
        blocks.append(f'<h3>{e(DATASET_LABELS.get(dataset, dataset))}</h3><div class="grid" data-dataset="{e(dataset)}">{figures}</div>')
    return head + "".join(blocks) + "</section>"


def _examples_table(key: str, examples: list[dict]) -> str:
    if not examples:
        return '<p class="muted">No example rows available.</p>'
    rows = []
    for ex in examples:
        broken = ", ".join(str(r) for r in ex.get("failed_rules") or [])
        rows.append(
            f'<tr><td class="mono">{e(ex.get("key") if ex.get("key") is not None else "—")}</td>'
            f"<td><code>{e(broken)}</code></td>"
            f'<td class="path">{e(ex.get("path") if ex.get("path") else "—")}</td>'
            f'<td class="excerpt">{e(ex.get("excerpt") or "")}</td></tr>'
        )
    return (
        f'<table data-examples="{e(key)}"><thead><tr><th>Key</th><th>Rules broken</th><th>Path</th><th>Excerpt</th></tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table>'
    )


def _quarantine_table(dataset: str) -> str:
    known = registry.DATASETS.get(dataset)
    return known.quarantine if known else f"{dataset}_quarantine"


def _worst(data: dict) -> str:
    worst = data.get("worst_rules") or []
    head = '<section id="worst-rules"><h2>Rules with the most failures</h2>'
    if not worst:
        return head + '<p class="muted">No rule failed in the latest run.</p></section>'
    blocks = []
    for w in worst:
        key = _rule_key(w["dataset"], w["rule"])
        action = str(w.get("action") or "")
        where = (
            "Warn rule: rows that break only this rule stay in silver; it is counted, not enforced."
            if w.get("kept")
            else (f'{metric("worst_quarantined:" + key, w.get("quarantined"))} rows in '
                  f'<code>{e(_quarantine_table(w["dataset"]))}</code> list this rule.' if w.get("quarantined") is not None else "")
        )
        blocks.append(
            f'<div class="rule-block {e(action)}" data-worst="{e(key)}">'
            f'<h3><code>{e(w["rule"])}</code> <span class="badge {e(action)}">{e(action)}</span> '
            f'<span class="muted">in {e(w["dataset"])}</span></h3>'
            f'<p>{metric("worst_failed:" + key, w.get("failed"))} of {metric("worst_total:" + key, w.get("total"))} rows '
            f'failed on {e(w.get("date"))} ({e(fmt_rate(w.get("failure_rate")))}). {where}'
            f'{(" <span class=muted>" + e(w["description"]) + "</span>") if w.get("description") else ""}</p>'
            f'{_examples_table(key, w.get("examples") or [])}</div>'
        )
    return head + "".join(blocks) + "</section>"


def _table(headers: Iterable[tuple[str, bool]], rows: list[str], attrs: str = "") -> str:
    head = "".join(f'<th{" class=n" if numeric else ""}>{e(h)}</th>' for h, numeric in headers)
    return f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _gold(data: dict) -> str:
    parts = []
    dup = data.get("duplicates")
    if dup is not None:
        top = dup.get("top") or []
        rows = [
            f'<tr><td class="path">{e(r.get("keeper_path"))}</td><td class="n">{e(fmt_count(r.get("copies")))}</td>'
            f'<td class="n">{e(fmt_bytes(r.get("reclaimable_bytes")))}</td></tr>'
            for r in top
        ]
        body = (_table((("Keeper path", False), ("Copies", True), ("Reclaimable", True)), rows, ' data-section="duplicates"')
                if rows else '<p class="muted">No duplicate content found.</p>')
        parts.append(f"<div><h3>Largest duplicate groups</h3>{body}</div>")
    users = data.get("users")
    if users is not None:
        by_status = users.get("by_status") or {}
        status_rows = [
            f'<tr><td>{e(status)}</td><td class="n">{metric("users_status:" + str(status), n)}</td></tr>'
            for status, n in sorted(by_status.items(), key=lambda kv: str(kv[0]))
        ]
        errors = users.get("with_errors") or []
        error_rows = [
            f'<tr><td>{e(u.get("username"))}</td><td>{e(u.get("status"))}</td><td class="excerpt">{e(u.get("error") or "")}</td></tr>'
            for u in errors
        ]
        scan = f'<p class="muted">Scan <code>{e(users.get("scan_id"))}</code>, {e(fmt_time(users.get("scan_time")))}</p>'
        body = _table((("Status", False), ("Users", True)), status_rows, ' data-section="users"') if status_rows else ""
        if error_rows:
            body += _table((("User", False), ("Status", False), ("Error", False)), error_rows, ' data-section="user-errors"')
        parts.append(f"<div><h3>Workspace users</h3>{scan}{body or '<p class=muted>No users scanned.</p>'}</div>")
    policies = data.get("policies")
    if policies is not None:
        rows = [
            f'<tr data-policy="{e(p.get("policy"))}"><td><code>{e(p.get("policy"))}</code></td><td>{e(p.get("action"))}</td>'
            f'<td>{e(p.get("severity"))}</td><td class="n">{metric("policy_files:" + str(p.get("policy")), p.get("files"))}</td>'
            f'<td class="n">{e(fmt_bytes(p.get("bytes")))}</td>'
            f'<td class="n">{e(_change(p.get("files_change")))}</td></tr>'
            for p in policies.get("summary") or []
        ]
        body = (_table((("Policy", False), ("Action", False), ("Severity", False), ("Files", True), ("Size", True),
                        ("Change", True)), rows, ' data-section="policies"')
                if rows else '<p class="muted">No file is flagged by a policy.</p>')
        parts.append(f'<div class="wide scroll"><h3>Records policies</h3>{body}</div>')
    if not parts:
        return ""
    return f'<section id="gold"><h2>Gold tables</h2><div class="cols">{"".join(parts)}</div></section>'


def _change(value: Any) -> str:
    if value is None:
        return ""
    value = int(value)
    return f"+{value:,}" if value > 0 else f"{value:,}"


def _tables(data: dict) -> str:
    counts = data.get("tables") or {}
    if not counts:
        return ""
    rows = [
        f'<tr><td><code>{e(name)}</code></td><td class="n" data-table-rows="{e(name)}" data-value="{e(n)}">{e(fmt_count(n))}</td></tr>'
        for name, n in counts.items()
    ]
    return (
        f'<section id="tables"><details><summary>Row counts of all {len(counts)} tables</summary>'
        f'{_table((("Table", False), ("Rows", True)), rows)}</details></section>'
    )


def render_report(data: dict) -> str:
    """One self-contained HTML page from :func:`file_records.report.data.collect_report_data` data."""
    generated = data.get("generated_at")
    where = f" from <code>{e(data['state_dir'])}</code>" if data.get("state_dir") else ""
    body = "".join([
        f'<header><h1>{e(TITLE)}</h1><p>Generated <time data-generated="{e(generated)}">{e(fmt_time(generated))}</time>{where}</p></header>',
        _summary(data.get("headline") or {}),
        _freshness(data),
        _rules(data),
        _worst(data),
        _gold(data),
        _tables(data),
        (
            "<footer>file-records · data-quality rules in <code>expectations/rules/</code> · "
            "query any table with <code>file-records query</code></footer>"
        ),
    ])
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{e(TITLE)} · {e(fmt_time(generated))}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )
