"""The report as one self-contained HTML page: inline CSS, charts as inline SVG drawn here, no
script and nothing fetched, so it opens anywhere (mail attachment, file share, offline).

Records manager first, in this order: headline figures; every catalogue policy with files, bytes,
owners, held files and the change since the previous run; what changed per snapshot; disposition
status (reappeared files as an alert); the largest duplicates and owners; data quality (freshness,
rules on one shared scale, each bad row once with every rule it broke); the next commands to run.

Every number a test or a reader may want to check carries its raw value in a data attribute:
``<span data-metric="silver_files" data-value="496">496</span>``; every chart is
``<svg data-chart="rule:<dataset>/<rule>" data-scale="0.02">`` with one ``<rect data-date
data-passed data-failed>`` per ingestion date (all rule charts share one ``data-scale``), or
``<svg data-chart="changes:<source>">`` with ``<rect data-date data-snapshot data-kind data-count>``
bars. Everything that comes from the data goes through :func:`html.escape`.
"""

from __future__ import annotations

import html
import shlex
from datetime import datetime
from typing import Any, Iterable, Optional

from file_records import datasets as registry

TITLE = "File records report"

# label, headline key, kind, [(sub-label, key, kind)]
SUMMARY_CARDS: tuple[tuple[str, str, str, tuple[tuple[str, str, str], ...]], ...] = (
    ("Files (Data X-Ray)", "silver_files", "count", (("", "silver_bytes", "bytes"),)),
    ("Workspace files", "workspace_files", "count", (("", "workspace_bytes", "bytes"),)),
    ("Policy flags", "policy_flags", "count", (("files", "policy_flagged_files", "count"),
                                               ("policies", "policies_triggered", "count"),
                                               ("held", "policy_held_files", "count"))),
    ("Archived by remediate", "archived_files", "count", (("reappeared", "reappeared_files", "count"),)),
    ("Duplicate groups", "duplicate_groups", "count", (("copies", "duplicate_copies", "count"),)),
    ("Reclaimable", "reclaimable_bytes", "bytes", ()),
    ("Users", "users", "count", (("with errors", "users_with_errors", "count"), ("partial", "users_partial", "count"))),
    ("DXR quarantine", "quarantined_files", "count", ()),
    ("Workspace quarantine", "workspace_quarantined", "count", ()),
)
ALERT_METRICS = ("users_with_errors", "reappeared_files")

DATASET_LABELS = {name: dataset.title for name, dataset in registry.DATASETS.items()}
ACTION_COLORS = {"drop": "#c0392b", "fail": "#7b241c", "warn": "#d68910"}
OK_COLOR = "#1e8449"

CHANGE_COLORS = {"added": "#1e8449", "removed": "#c0392b", "changed": "#d68910"}
DISPOSITION_LABELS = {
    "confirmed": "gone from the source (confirmed)",
    "pending": "no complete snapshot of the source since (pending)",
    "reappeared": "back in the source after archiving (reappeared)",
    "restored": "put back with remediate --undo (restored)",
}
NOT_COMPUTED = "not computed yet"

CHART_W, CHART_H = 280, 110
CHANGES_H = 130
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
.alert-box { border:1px solid #e6b0aa; background:#fdedec; border-radius:6px; padding:8px 12px; margin:10px 0; }
.alert-box h3 { margin-top:4px; color:#922b21; }
pre.cmd { background:var(--soft); border:1px solid var(--line); border-radius:6px; padding:8px 10px;
          overflow-x:auto; white-space:pre-wrap; overflow-wrap:anywhere; }
ol.next li { margin-bottom:10px; }
.legend span { display:inline-block; margin-right:12px; font-size:12px; color:var(--muted); }
.legend i { display:inline-block; width:10px; height:10px; margin-right:4px; vertical-align:-1px; }
tr.zero td { color:var(--muted); }
.rule-chip { white-space:nowrap; margin-right:8px; display:inline-block; }
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


def rules_scale(rules: Iterable[dict]) -> float:
    """The one scale of every rule chart: the highest failure rate of any rule on any date, rounded
    up to a readable value (so 0.2 % is a quarter as tall as 0.8 %, whichever rule it belongs to)."""
    highest = max((float(p.get("failure_rate") or 0) for r in rules for p in r.get("series") or []), default=0.0)
    return _nice_max(highest or 0.001)


def rule_chart(entry: dict, top: Optional[float] = None) -> str:
    """Failure rate per ingestion date as bars; a green tick marks a date without failures.
    ``top``: the failure rate at the top of the chart (the shared scale); None: this rule's own."""
    key = _rule_key(entry["dataset"], entry["rule"])
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



CHANGE_KINDS = ("added", "removed", "changed")


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
        f'<rect x="{PAD_L}" y="{PAD_T}" width="{plot_w}" height="{plot_h}" fill="#fbfcfd" stroke="#e4e7eb"/>',
        f'<text x="{PAD_L - 4}" y="{PAD_T + 4}" text-anchor="end">{e(fmt_count(top))}</text>',
        f'<text x="{PAD_L - 4}" y="{base_y}" text-anchor="end">0</text>',
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


# --- sections --------------------------------------------------------------------------------


def _table(headers: Iterable[tuple[str, bool]], rows: list[str], attrs: str = "") -> str:
    head = "".join(f'<th{" class=n" if numeric else ""}>{e(h)}</th>' for h, numeric in headers)
    return f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _change(value: Any) -> str:
    if value is None:
        return ""
    value = int(value)
    return f"+{value:,}" if value > 0 else f"{value:,}"


def _not_computed(section: str, title: str, table: str) -> str:
    return (
        f'<section id="{section}" data-computed="false"><h2>{e(title)}</h2>'
        f'<p class="muted not-computed">{e(title)}: {NOT_COMPUTED} (<code>{e(table)}</code> is not in this state '
        f'directory; the next <code>file-records run</code> computes it).</p></section>'
    )


def _summary(headline: dict) -> str:
    cards = []
    for label, key, kind, subs in SUMMARY_CARDS:
        if key not in headline:
            continue
        value = headline.get(key)
        alert = any(headline.get(k) for k in ALERT_METRICS if k == key or k in (sub[1] for sub in subs))
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


def _as_of(data: dict) -> str:
    """One line under the title: how old each source's newest snapshot is."""
    parts = [
        f'{e(s.get("label") or s.get("source"))} {e(s.get("unit") or "snapshot")} of {e(fmt_time(s.get("taken_at")))}'
        f'{(" (" + e(fmt_age(s.get("taken_at"), data.get("generated_at"))) + ")") if s.get("taken_at") else ""}'
        for s in data.get("freshness") or []
    ]
    return f'<p class="muted" id="as-of">Data as of: {"; ".join(parts)}</p>' if parts else ""


# 2. policies


def _policy_change(p: dict, policies: dict) -> str:
    name = str(p.get("policy"))
    change = p.get("files_change")
    if not policies.get("computed") or not p.get("enabled", True) or (p.get("files") is None and change is None):
        return "—"
    if change is None:
        word, title = ("first run", "no run before this one to compare with") if policies.get("first_run") else (
            "no history", "gold_policy_summary is missing: only the newest flags are known")
        return f'<span data-metric="policy_change:{e(name)}" data-value="" title="{e(title)}">{e(word)}</span>'
    title = f"{_change(p.get('bytes_change')) or '0'} bytes" if p.get("bytes_change") is not None else ""
    return (f'<span data-metric="policy_change:{e(name)}" data-value="{e(_raw(change))}" title="{e(title)}">'
            f'{e(_change(change))}</span>')


def _policies(data: dict) -> str:
    policies = data.get("policies")
    title = "Records policies"
    if policies is None:
        return _not_computed("policies", title, "gold_policy_summary")
    rows = []
    for p in policies.get("summary") or []:
        name = str(p.get("policy"))
        notes = []
        if not p.get("enabled", True):
            notes.append("disabled in the catalogue")
        if not p.get("in_catalogue", True):
            notes.append("no longer in the catalogue")
        note = f' <span class="muted">({e(", ".join(notes))})</span>' if notes else ""
        desc = f'<br><span class="muted">{e(p.get("description"))}</span>' if p.get("description") else ""
        zero = ' class="zero"' if not p.get("files") else ""
        rows.append(
            f'<tr{zero} data-policy="{e(name)}"><td><code>{e(name)}</code>{note}{desc}</td><td>{e(p.get("action"))}</td>'
            f'<td>{e(p.get("severity"))}</td>'
            f'<td class="n">{metric("policy_files:" + name, p.get("files"))}</td>'
            f'<td class="n">{metric("policy_bytes:" + name, p.get("bytes"), "bytes")}</td>'
            f'<td class="n">{metric("policy_owners:" + name, p.get("owners"))}</td>'
            f'<td class="n">{metric("policy_held:" + name, p.get("suppressed_files"))}</td>'
            f'<td class="n">{_policy_change(p, policies)}</td></tr>'
        )
    if not policies.get("computed"):
        intro = (f'<p class="muted not-computed">Policy results: {NOT_COMPUTED} (<code>gold_policy_summary</code> is '
                 'not in this state directory; the next <code>file-records run</code> computes it). The catalogue:</p>')
    else:
        run = f'newest run <b>{e(policies.get("detected_on") or "—")}</b>'
        before = (f', change since the run of {e(policies["previous_detected_on"])}' if policies.get("previous_detected_on")
                  else (": its first run, nothing to compare with yet" if policies.get("first_run") else ""))
        intro = (f'<p class="muted">Every policy of the catalogue, {run}{before}. <b>Held</b>: flagged files a legal '
                 'hold or keep rule protects from archive and delete.</p>')
    body = (_table((("Policy", False), ("Action", False), ("Severity", False), ("Files", True), ("Size", True),
                    ("Owners", True), ("Held", True), ("Change (files)", True)), rows, ' data-section="policies"')
            if rows else '<p class="muted">The catalogue has no policy.</p>')
    computed = "true" if policies.get("computed") else "false"
    return f'<section id="policies" data-computed="{computed}"><h2>{title}</h2>{intro}<div class="scroll">{body}</div></section>'


# 3. what changed


def _changes(data: dict) -> str:
    changes = data.get("changes")
    title = "What changed"
    if changes is None:
        return _not_computed("changes", title, "gold_file_changes")
    sources = changes.get("sources") or []
    head = (f'<section id="changes" data-computed="true"><h2>{title}</h2><p class="muted">Files added, removed and '
            "changed by each snapshot (the newest snapshots of each source; every chart on the same scale; a "
            "source's first snapshot adds every file it holds).</p>")
    if not sources:
        return head + '<p class="muted">No snapshot yet.</p></section>'
    top = changes_scale(sources)
    legend = '<p class="legend">' + "".join(
        f'<span><i style="background:{CHANGE_COLORS[k]}"></i>{k}</span>' for k in CHANGE_KINDS) + "</p>"
    blocks = []
    for src in sources:
        name = str(src.get("source_system"))
        rows = []
        for snap in reversed(src.get("snapshots") or []):  # newest first
            sid = f'{name}:{snap.get("snapshot_id")}'
            rows.append(
                f'<tr data-snapshot="{e(snap.get("snapshot_id"))}"><td><code>{e(snap.get("snapshot_id"))}</code></td>'
                f'<td>{e(snap.get("ingestion_date"))}</td>'
                f'<td class="n">{metric("changes_total:" + sid, snap.get("files_total"))}</td>'
                f'<td class="n">{metric("changes_added:" + sid, snap.get("files_added"))}</td>'
                f'<td class="n">{metric("changes_removed:" + sid, snap.get("files_removed"))}</td>'
                f'<td class="n">{metric("changes_changed:" + sid, snap.get("files_changed"))}</td>'
                f'<td class="n">{e(fmt_bytes(snap.get("bytes_total")))}</td>'
                f'<td class="n">+{e(fmt_bytes(snap.get("bytes_added")))} / −{e(fmt_bytes(snap.get("bytes_removed")))}</td></tr>'
            )
        table = _table((("Snapshot", False), ("Date", False), ("Files", True), ("Added", True), ("Removed", True),
                        ("Changed", True), ("Size", True), ("Bytes added / removed", True)), rows,
                       f' data-section="changes:{e(name)}"')
        blocks.append(f'<h3>{e(src.get("label") or name)}</h3><div class="scroll">{changes_chart(src, top)}</div>'
                      f'<div class="scroll">{table}</div>')
    return head + legend + "".join(blocks) + "</section>"


# 4. disposition status


def _disposition(data: dict) -> str:
    disposition = data.get("disposition")
    title = "Disposition status"
    if disposition is None:
        return _not_computed("disposition", title, "gold_disposition_status")
    head = (f'<section id="disposition" data-computed="true"><h2>{title}</h2><p class="muted">Files archived by '
            '<code>file-records remediate --apply</code>, checked against the newest snapshots of their source.</p>')
    by_status = disposition.get("by_status") or {}
    if not disposition.get("total"):
        return head + '<p class="muted">No file has been archived by remediate yet.</p></section>'
    rows = [
        f'<tr data-status="{e(status)}"><td>{e(DISPOSITION_LABELS.get(status, status))}</td>'
        f'<td class="n">{metric("disposition:" + str(status), n)}</td></tr>'
        for status, n in by_status.items()
    ]
    parts = [head, _table((("Status", False), ("Files", True)), rows, ' data-section="disposition"')]
    reappeared = disposition.get("reappeared") or []
    count = int(by_status.get("reappeared") or 0)
    if count:
        listed = [
            f'<tr data-reappeared="{e(r.get("file_id"))}"><td class="path">{e(r.get("path") or "—")}</td>'
            f'<td>{e(r.get("source_system"))}</td><td><code>{e(r.get("policy"))}</code></td><td>{e(r.get("reviewer") or "—")}</td>'
            f'<td>{e(fmt_time(r.get("archived_at")))}</td><td class="path">{e(r.get("archive_location") or "—")}</td>'
            f'<td><code>{e(r.get("checked_snapshot_id"))}</code></td></tr>'
            for r in reappeared
        ]
        more = f' (the first {len(reappeared):,} listed)' if len(reappeared) < count else ""
        parts.append(
            f'<div class="alert-box" data-section="reappeared"><h3>{metric("reappeared_alert", count)} archived '
            f'file{"s" if count != 1 else ""} reappeared in the source{more}</h3>'
            '<p>A snapshot taken after the archive still returned these files: the source copy was restored, synced '
            'back or never removed. Check each one before its disposition is recorded as done.</p>'
            + _table((("Path", False), ("Source", False), ("Policy", False), ("Reviewer", False), ("Archived", False),
                      ("Archive copy", False), ("Seen in snapshot", False)), listed, ' data-section="reappeared-files"')
            + "</div>"
        )
    return "".join(parts) + "</section>"


# 5. duplicates and owners


def _holdings(data: dict) -> str:
    parts = []
    dup = data.get("duplicates")
    if dup is not None:
        top = dup.get("top") or []
        rows = [
            f'<tr><td class="path">{e(r.get("keeper_path"))}</td><td class="n">{e(fmt_count(r.get("copies")))}</td>'
            f'<td class="n">{e(fmt_bytes(r.get("total_bytes")))}</td>'
            f'<td class="n">{e(fmt_bytes(r.get("reclaimable_bytes")))}</td></tr>'
            for r in top
        ]
        body = (_table((("Keeper path", False), ("Copies", True), ("Total", True), ("Reclaimable", True)), rows,
                       ' data-section="duplicates"')
                if rows else '<p class="muted">No duplicate content found.</p>')
        parts.append(f"<div><h3>Largest duplicate groups</h3>{body}</div>")
    owners = data.get("owners")
    if owners is not None:
        top = owners.get("top") or []
        flagged = any(r.get("flagged_files") is not None for r in top)
        rows = [
            f'<tr data-owner="{e(r.get("owner"))}"><td>{e(r.get("owner"))}</td>'
            f'<td class="n">{metric("owner_files:" + str(r.get("owner")), r.get("files"))}</td>'
            f'<td class="n">{metric("owner_bytes:" + str(r.get("owner")), r.get("bytes"), "bytes")}</td>'
            + (f'<td class="n">{metric("owner_flagged:" + str(r.get("owner")), r.get("flagged_files"))}</td>' if flagged else "")
            + "</tr>"
            for r in top
        ]
        headers = [("Owner", False), ("Files", True), ("Size", True)] + ([("Flagged", True)] if flagged else [])
        body = _table(headers, rows, ' data-section="owners"') if rows else '<p class="muted">No file has an owner.</p>'
        if owners.get("unowned_files"):
            body += f'<p class="muted">{metric("unowned_files", owners.get("unowned_files"))} files without an owner.</p>'
        parts.append(f"<div><h3>Largest owners</h3>{body}</div>")
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
    if not parts:
        return ""
    return f'<section id="holdings"><h2>Largest duplicates and owners</h2><div class="cols">{"".join(parts)}</div></section>'


# 6. data quality


def _freshness(data: dict) -> str:
    sources = data.get("freshness") or []
    if not sources:
        return '<div id="freshness"><h3>Pipeline freshness</h3><p class="muted">No source has been ingested yet.</p></div>'
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
        '<div id="freshness"><h3>Pipeline freshness</h3>'
        '<table><thead><tr><th>Source</th><th>Latest snapshot / scan</th><th>Taken at</th>'
        '<th class="n">Bronze rows in it</th><th class="n">Files in it</th><th class="n">Silver rows now</th>'
        '<th class="n">Snapshots kept</th></tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table></div>'
    )


def _rule_figure(entry: dict, top: float) -> str:
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
        f"{rule_chart(entry, top)}<p>{status}{q}</p>{desc}</figure>"
    )


def _rules(data: dict) -> str:
    rules = data.get("rules") or []
    head = (
        '<div id="rules"><h3>Rules over time</h3>'
        '<p class="muted">Failure rate per ingestion date for each rule. <b>drop</b> rules move failing rows to the '
        'quarantine table, <b>warn</b> rules keep them and only count them, <b>fail</b> rules stop the pipeline.'
    )
    if not rules:
        return head + '</p><p class="muted">No data-quality metrics yet (gold_expectation_metrics is missing or empty).</p></div>'
    top = rules_scale(rules)
    head += f' Every chart has the same scale, 0 to <b data-rules-scale="{top!r}">{e(fmt_rate(top))}</b>.</p>'
    blocks = []
    for dataset in dict.fromkeys(r["dataset"] for r in rules):
        figures = "".join(_rule_figure(r, top) for r in rules if r["dataset"] == dataset)
        blocks.append(f'<h3>{e(DATASET_LABELS.get(dataset, dataset))}</h3><div class="grid" data-dataset="{e(dataset)}">{figures}</div>')
    return head + "".join(blocks) + "</div>"


def _quarantine_table(dataset: str) -> str:
    known = registry.DATASETS.get(dataset)
    return known.quarantine if known else f"{dataset}_quarantine"


def bad_rows(worst: list[dict]) -> list[dict]:
    """The example rows of the worst rules, each once: grouped by dataset and key (a row without
    a key by its path and excerpt), with every rule it broke and the worst rules it is an example of."""
    grouped: dict[tuple, dict] = {}
    for w in worst:
        for ex in w.get("examples") or []:
            key = ex.get("key")
            ident = (w["dataset"], key) if key is not None else (w["dataset"], None, ex.get("path"), ex.get("excerpt"))
            row = grouped.get(ident)
            if row is None:
                row = grouped[ident] = {
                    "id": f"bad-row-{len(grouped) + 1}", "dataset": w["dataset"], "key": key, "path": ex.get("path"),
                    "excerpt": ex.get("excerpt"), "rows": ex.get("rows"), "failed_rules": [], "examples_of": [],
                }
            for rule in [*(ex.get("failed_rules") or []), w["rule"]]:
                if str(rule) not in row["failed_rules"]:
                    row["failed_rules"].append(str(rule))
            if w["rule"] not in row["examples_of"]:
                row["examples_of"].append(w["rule"])
            row["path"] = row["path"] or ex.get("path")
            row["excerpt"] = row["excerpt"] or ex.get("excerpt")
            if ex.get("rows") is not None:
                row["rows"] = max(int(ex["rows"]), int(row["rows"] or 0))
    return list(grouped.values())


def _bad_rows_table(rows: list[dict], actions: dict[tuple[str, str], str]) -> str:
    if not rows:
        return ""
    body = []
    for r in rows:
        rules = " ".join(
            f'<span class="rule-chip"><code data-rule="{e(rule)}">{e(rule)}</code> '
            f'<span class="badge {e(actions.get((r["dataset"], rule), ""))}">{e(actions.get((r["dataset"], rule), ""))}</span></span>'
            for rule in r["failed_rules"]
        )
        copies = f'<br><span class="muted">{e(fmt_count(r["rows"]))} rows with this key</span>' if (r.get("rows") or 0) > 1 else ""
        body.append(
            f'<tr id="{e(r["id"])}" data-bad-row="{e(r["key"] if r["key"] is not None else "")}" data-dataset="{e(r["dataset"])}" '
            f'data-rules="{e(",".join(r["failed_rules"]))}">'
            f'<td class="mono">{e(r["key"] if r["key"] is not None else "—")}{copies}</td>'
            f"<td>{rules}</td>"
            f'<td class="path">{e(r.get("path") or "—")}</td>'
            f'<td class="excerpt">{e(r.get("excerpt") or "")}</td></tr>'
        )
    return (
        '<div id="bad-rows"><h3>Rows that broke rules</h3><p class="muted">Each example row once, with every rule it '
        'broke; the excerpt is the row as received (raw JSON when there is one), shortened.</p>'
        + _table((("Key", False), ("Rules broken", False), ("Path", False), ("Excerpt", False)), body,
                 ' data-section="bad-rows"')
        + "</div>"
    )


def _worst(data: dict) -> str:
    worst = data.get("worst_rules") or []
    head = '<div id="worst-rules"><h3>Rules with the most failures</h3>'
    if not worst:
        return head + '<p class="muted">No rule failed in the latest run.</p></div>'
    rows = bad_rows(worst)
    actions = {(r["dataset"], r["rule"]): str(r.get("action") or "") for r in data.get("rules") or []}
    actions.update({(w["dataset"], w["rule"]): str(w.get("action") or "") for w in worst})
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
        links = [
            f'<a href="#{e(r["id"])}"><code>{e(r["key"] if r["key"] is not None else "row without a key")}</code></a>'
            for r in rows if r["dataset"] == w["dataset"] and w["rule"] in r["examples_of"]
        ]
        examples = (f'<p data-examples="{e(key)}">Example rows: {", ".join(links)} (below, with all their rules).</p>'
                    if links else '<p class="muted">No example rows available.</p>')
        blocks.append(
            f'<div class="rule-block {e(action)}" data-worst="{e(key)}">'
            f'<h3><code>{e(w["rule"])}</code> <span class="badge {e(action)}">{e(action)}</span> '
            f'<span class="muted">in {e(w["dataset"])}</span></h3>'
            f'<p>{metric("worst_failed:" + key, w.get("failed"))} of {metric("worst_total:" + key, w.get("total"))} rows '
            f'failed on {e(w.get("date"))} ({e(fmt_rate(w.get("failure_rate")))}). {where}'
            f'{(" <span class=muted>" + e(w["description"]) + "</span>") if w.get("description") else ""}</p>'
            f"{examples}</div>"
        )
    return head + "".join(blocks) + "</div>" + _bad_rows_table(rows, actions)


def _data_quality(data: dict) -> str:
    return (
        '<section id="data-quality"><h2>Data quality</h2>'
        + _freshness(data) + _rules(data) + _worst(data)
        + "</section>"
    )


# 7. next commands


def top_policy(data: dict) -> Optional[str]:
    """The policy to review first: the first of the policy table (most files) that flagged files
    and whose action remediate acts on (not keep / hold)."""
    for p in (data.get("policies") or {}).get("summary") or []:
        if (p.get("files") or 0) > 0 and p.get("enabled", True) and str(p.get("action")) not in ("keep", "hold"):
            return str(p.get("policy"))
    return None


def next_commands(data: dict) -> list[str]:
    """The export of the top policy's flags as a review sheet, then the remediate dry run."""
    state = ["--state-dir", str(data["state_dir"])] if data.get("state_dir") else []
    policy = top_policy(data) or "POLICY"
    export = ["file-records", "export", *state, "gold_policy_flags", "--policy", policy, "--for-review",
              "--format", "csv", "--out", "review.csv"]
    remediate = ["file-records", "remediate", "--plan", "review.csv", "--archive-root", "ARCHIVE",
                 "--path-map", "PREFIX=LOCAL", *state]
    return [shlex.join(export), shlex.join(remediate).replace("PREFIX=LOCAL", '"PREFIX=LOCAL"')]


def _next(data: dict) -> str:
    export, remediate = next_commands(data)
    policy = top_policy(data)
    which = (f"the <code>{e(policy)}</code> flags (the policy with the most flagged files)" if policy
             else "a policy's flags (no policy has flagged a file yet: put its name for POLICY)")
    return (
        '<section id="next"><h2>Next steps</h2><ol class="next">'
        f'<li>Export {which} as a review sheet, then fill in <code>decision</code> (approve / reject / defer) and '
        f'<code>reviewer</code>:<pre class="cmd" data-command="export"><code>{e(export)}</code></pre></li>'
        '<li>Dry run of the approved rows (nothing is touched); put the archive folder for ARCHIVE and map each '
        'source path prefix to where it is mounted here for PREFIX=LOCAL:'
        f'<pre class="cmd" data-command="remediate"><code>{e(remediate)}</code></pre>'
        'Add <code>--apply</code> once the dry run reads right.</li></ol></section>'
    )


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
        f'<header><h1>{e(TITLE)}</h1><p>Generated <time data-generated="{e(generated)}">{e(fmt_time(generated))}</time>{where}</p>'
        f"{_as_of(data)}</header>",
        _summary(data.get("headline") or {}),
        _policies(data),
        _changes(data),
        _disposition(data),
        _holdings(data),
        _data_quality(data),
        _next(data),
        _tables(data),
        (
            "<footer>file-records · policies in <code>policies/catalogue.yml</code> · data-quality rules in "
            "<code>expectations/rules/</code> · query any table with <code>file-records query</code></footer>"
        ),
    ])
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{e(TITLE)} · {e(fmt_time(generated))}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )
