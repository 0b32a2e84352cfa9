"""The data-quality section of the report page: pipeline freshness, every rule over time (one
shared scale), the rules with the most failures and each bad example row once with every rule it broke."""

from __future__ import annotations

from file_records import datasets as registry
from file_records.report.charts import rule_chart, rules_scale
from file_records.report.formatting import (
    anchor,
    e,
    fmt_age,
    fmt_count,
    fmt_rate,
    fmt_time,
    html_table,
    metric,
    rule_key,
)

DATASET_LABELS = {name: dataset.title for name, dataset in registry.DATASETS.items()}


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
    key = rule_key(entry["dataset"], entry["rule"])
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
        f'<figure class="rule" id="rule-{e(anchor(key))}" data-dataset="{e(entry["dataset"])}" '
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
        + html_table((("Key", False), ("Rules broken", False), ("Path", False), ("Excerpt", False)), body,
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
        key = rule_key(w["dataset"], w["rule"])
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


def data_quality_section(data: dict) -> str:
    return (
        '<section id="data-quality"><h2>Data quality</h2>'
        + _freshness(data) + _rules(data) + _worst(data)
        + "</section>"
    )
