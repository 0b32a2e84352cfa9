"""The report as one self-contained HTML page: inline CSS, charts as inline SVG, no script and
nothing fetched, so it opens anywhere (mail attachment, file share, offline). This module holds the
page skeleton and its CSS; the parts live in :mod:`~file_records.report.formatting` (escaping and
number formatting), :mod:`~file_records.report.charts` (the SVG charts),
:mod:`~file_records.report.sections` (every section but data quality) and
:mod:`~file_records.report.quality` (the data-quality section).

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

from file_records.report.charts import (
    ACTION_COLORS,
    CHANGE_COLORS,
    CHANGE_KINDS,
    CHANGES_H,
    CHART_H,
    CHART_W,
    NICE_MAXIMA,
    OK_COLOR,
    PAD_B,
    PAD_L,
    PAD_R,
    PAD_T,
    changes_chart,
    changes_scale,
    rule_chart,
    rules_scale,
)
from file_records.report.formatting import e, fmt_age, fmt_bytes, fmt_count, fmt_rate, fmt_time, metric
from file_records.report.quality import DATASET_LABELS, bad_rows, data_quality_section
from file_records.report.sections import (
    ALERT_METRICS,
    DISPOSITION_LABELS,
    NOT_COMPUTED,
    SUMMARY_CARDS,
    as_of_line,
    changes_section,
    disposition_section,
    holdings_section,
    next_commands,
    next_section,
    policies_section,
    summary_section,
    tables_section,
    top_policy,
)

# The helpers, charts and section builders used to live in this module: their names stay importable.
__all__ = [
    "ACTION_COLORS",
    "ALERT_METRICS",
    "CHANGES_H",
    "CHANGE_COLORS",
    "CHANGE_KINDS",
    "CHART_H",
    "CHART_W",
    "CSS",
    "DATASET_LABELS",
    "DISPOSITION_LABELS",
    "NICE_MAXIMA",
    "NOT_COMPUTED",
    "OK_COLOR",
    "PAD_B",
    "PAD_L",
    "PAD_R",
    "PAD_T",
    "SUMMARY_CARDS",
    "TITLE",
    "bad_rows",
    "changes_chart",
    "changes_scale",
    "e",
    "fmt_age",
    "fmt_bytes",
    "fmt_count",
    "fmt_rate",
    "fmt_time",
    "metric",
    "next_commands",
    "render_report",
    "rule_chart",
    "rules_scale",
    "top_policy",
]

TITLE = "File records report"

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


def render_report(data: dict) -> str:
    """One self-contained HTML page from :func:`file_records.report.data.collect_report_data` data."""
    generated = data.get("generated_at")
    where = f" from <code>{e(data['state_dir'])}</code>" if data.get("state_dir") else ""
    body = "".join([
        f'<header><h1>{e(TITLE)}</h1><p>Generated <time data-generated="{e(generated)}">{e(fmt_time(generated))}</time>{where}</p>'
        f"{as_of_line(data)}</header>",
        summary_section(data.get("headline") or {}),
        policies_section(data),
        changes_section(data),
        disposition_section(data),
        holdings_section(data),
        data_quality_section(data),
        next_section(data),
        tables_section(data),
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
