"""The sections of the report page, in page order: headline figures, records policies, what
changed per snapshot, disposition status, largest duplicates and owners, the next commands to run
and the row counts of all tables. Data quality is in :mod:`file_records.report.quality`."""

from __future__ import annotations

import shlex
from typing import Optional

from file_records.report.charts import CHANGE_COLORS, CHANGE_KINDS, changes_chart, changes_scale
from file_records.report.formatting import (
    e,
    fmt_age,
    fmt_bytes,
    fmt_change,
    fmt_count,
    fmt_time,
    html_table,
    metric,
    raw_value,
)

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

DISPOSITION_LABELS = {
    "confirmed": "gone from the source (confirmed)",
    "pending": "no complete snapshot of the source since (pending)",
    "reappeared": "back in the source after archiving (reappeared)",
    "restored": "put back with remediate --undo (restored)",
}
NOT_COMPUTED = "not computed yet"


def _not_computed(section: str, title: str, table: str) -> str:
    return (
        f'<section id="{section}" data-computed="false"><h2>{e(title)}</h2>'
        f'<p class="muted not-computed">{e(title)}: {NOT_COMPUTED} (<code>{e(table)}</code> is not in this state '
        f'directory; the next <code>file-records run</code> computes it).</p></section>'
    )


def summary_section(headline: dict) -> str:
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


def as_of_line(data: dict) -> str:
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
    title = f"{fmt_change(p.get('bytes_change')) or '0'} bytes" if p.get("bytes_change") is not None else ""
    return (f'<span data-metric="policy_change:{e(name)}" data-value="{e(raw_value(change))}" title="{e(title)}">'
            f'{e(fmt_change(change))}</span>')


def policies_section(data: dict) -> str:
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
    body = (html_table((("Policy", False), ("Action", False), ("Severity", False), ("Files", True), ("Size", True),
                        ("Owners", True), ("Held", True), ("Change (files)", True)), rows, ' data-section="policies"')
            if rows else '<p class="muted">The catalogue has no policy.</p>')
    computed = "true" if policies.get("computed") else "false"
    return f'<section id="policies" data-computed="{computed}"><h2>{title}</h2>{intro}<div class="scroll">{body}</div></section>'


# 3. what changed


def changes_section(data: dict) -> str:
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
        table = html_table((("Snapshot", False), ("Date", False), ("Files", True), ("Added", True), ("Removed", True),
                            ("Changed", True), ("Size", True), ("Bytes added / removed", True)), rows,
                           f' data-section="changes:{e(name)}"')
        blocks.append(f'<h3>{e(src.get("label") or name)}</h3><div class="scroll">{changes_chart(src, top)}</div>'
                      f'<div class="scroll">{table}</div>')
    return head + legend + "".join(blocks) + "</section>"


# 4. disposition status


def disposition_section(data: dict) -> str:
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
    parts = [head, html_table((("Status", False), ("Files", True)), rows, ' data-section="disposition"')]
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
            + html_table((("Path", False), ("Source", False), ("Policy", False), ("Reviewer", False), ("Archived", False),
                          ("Archive copy", False), ("Seen in snapshot", False)), listed, ' data-section="reappeared-files"')
            + "</div>"
        )
    return "".join(parts) + "</section>"


# 5. duplicates and owners


def holdings_section(data: dict) -> str:
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
        body = (html_table((("Keeper path", False), ("Copies", True), ("Total", True), ("Reclaimable", True)), rows,
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
        body = html_table(headers, rows, ' data-section="owners"') if rows else '<p class="muted">No file has an owner.</p>'
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
        body = html_table((("Status", False), ("Users", True)), status_rows, ' data-section="users"') if status_rows else ""
        if error_rows:
            body += html_table((("User", False), ("Status", False), ("Error", False)), error_rows, ' data-section="user-errors"')
        parts.append(f"<div><h3>Workspace users</h3>{scan}{body or '<p class=muted>No users scanned.</p>'}</div>")
    if not parts:
        return ""
    return f'<section id="holdings"><h2>Largest duplicates and owners</h2><div class="cols">{"".join(parts)}</div></section>'


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


def next_section(data: dict) -> str:
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


def tables_section(data: dict) -> str:
    counts = data.get("tables") or {}
    if not counts:
        return ""
    rows = [
        f'<tr><td><code>{e(name)}</code></td><td class="n" data-table-rows="{e(name)}" data-value="{e(n)}">{e(fmt_count(n))}</td></tr>'
        for name, n in counts.items()
    ]
    return (
        f'<section id="tables"><details><summary>Row counts of all {len(counts)} tables</summary>'
        f'{html_table((("Table", False), ("Rows", True)), rows)}</details></section>'
    )
