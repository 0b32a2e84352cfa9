"""The report page from crafted data: numbers, charts, escaping, self-containment; and
collect_report_data over small crafted tables (missing tables tolerated)."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, timezone

import pytest

from file_records.report.data import catalogue_policies, redact
from file_records.report.render import (
    CHART_H,
    PAD_B,
    PAD_T,
    bad_rows,
    fmt_bytes,
    fmt_rate,
    next_commands,
    render_report,
    rule_chart,
    rules_scale,
)
from tests.report import (
    BROKEN_EXCERPT,
    CATALOGUE,
    EVIL_PATH,
    TWO_RULES_KEY,
    copy_of,
    index_page,
    policy_rows,
    sample_data,
    without_sources,
)

SECTIONS = ("summary", "policies", "changes", "disposition", "holdings", "data-quality", "next")


def _section(text: str, section: str) -> str:
    """The HTML of one top-level section of the page."""
    start = text.index(f'<section id="{section}"')
    return text[start:text.index("</section>", start)]


@pytest.fixture(scope="module")
def page_text():
    return render_report(sample_data())


@pytest.fixture(scope="module")
def page(page_text):
    return index_page(page_text)


def test_headline_numbers_carry_their_values(page):
    data = sample_data()
    for key, value in data["headline"].items():
        assert key in page.metrics, key
        assert page.metrics[key]["value"] == str(value), key
    assert page.metrics["silver_files"]["text"] == "496"
    assert page.metrics["silver_bytes"]["text"] == "10.1 GiB"
    assert page.metrics["reclaimable_bytes"]["text"] == "1.3 GiB"
    assert page.metrics["duplicate_groups"]["text"] == "28"


def test_freshness_per_source(page_text, page):
    assert page.metrics["latest_id:dxr"]["value"] == "20250304T113233Z-0004"
    assert page.metrics["items_latest:dxr"]["value"] == "503"
    assert page.metrics["silver_rows:workspace"]["value"] == "95"
    assert page.metrics["runs:dxr"]["value"] == "4"
    assert "2025-03-04 09:00 UTC" in page_text and "3 h ago" in page_text


def test_one_chart_per_rule_with_one_bar_per_date(page):
    data = sample_data()
    rule_charts = {k for k in page.charts if k.startswith("rule:")}
    assert rule_charts == {f"rule:{r['dataset']}/{r['rule']}" for r in data["rules"]}
    for entry in data["rules"]:
        key = f"rule:{entry['dataset']}/{entry['rule']}"
        chart = page.charts[key]
        assert int(chart["width"]) > 0 and int(chart["height"]) > 0
        bars = page.bars[key]
        assert [b["data-date"] for b in bars] == [p["date"] for p in entry["series"]]
        assert [int(b["data-failed"]) for b in bars] == [p["failed"] for p in entry["series"]]
        assert [int(b["data-passed"]) for b in bars] == [p["passed"] for p in entry["series"]]
        assert all(float(b["height"]) > 0 for b in bars)
    latest = page.metrics["rule_failed:silver_file_records/json_parsed"]
    assert latest["value"] == "3"
    assert page.metrics["rule_total:silver_file_records/json_parsed"]["value"] == "503"
    assert page.metrics["rule_quarantined:silver_file_records/json_parsed"]["value"] == "3"
    # a warn rule has no quarantine count
    assert "rule_quarantined:silver_file_records/modified_not_future" not in page.metrics


def test_bar_heights_follow_the_failure_rate():
    entry = sample_data()["rules"][0]
    svg = rule_chart(entry)
    heights = {m.group(1): float(m.group(2)) for m in re.finditer(r'data-date="([^"]+)".*?height="([\d.]+)"', svg)}
    assert heights["2025-03-03"] > heights["2025-03-04"] > heights["2025-03-01"]
    assert heights["2025-03-02"] == 2.0  # no failures: a green tick
    assert 'fill="#1e8449"' in svg


def test_rule_charts_share_one_scale(page_text, page):
    """0.2 % is drawn a quarter as tall as 0.8 %, whichever rules they belong to: every chart has
    the same top (the highest failure rate of any rule, rounded up) and bar height / failure rate is
    the same for every bar of every rule."""
    data = sample_data()
    highest = max(p["failure_rate"] for r in data["rules"] for p in r["series"])
    scales = {float(page.charts[f"rule:{r['dataset']}/{r['rule']}"]["data-scale"]) for r in data["rules"]}
    assert scales == {rules_scale(data["rules"])}
    (scale,) = scales
    assert highest <= scale < 2.5 * highest
    assert f'data-rules-scale="{scale!r}"' in page_text
    plot_h = CHART_H - PAD_T - PAD_B
    drawn = 0
    for entry in data["rules"]:
        for bar in page.bars[f"rule:{entry['dataset']}/{entry['rule']}"]:
            rate, height = float(bar["data-failure-rate"]), float(bar["height"])
            if rate > 0:  # 2 px is the floor that keeps a tiny rate visible
                assert height == pytest.approx(max(2.0, plot_h * rate / scale), abs=0.06), (entry["rule"], bar)
                drawn += height > 2.0
    assert drawn >= 5
    # bars of two different rules compare as their failure rates do
    json_parsed = max(float(b["height"]) for b in page.bars["rule:silver_file_records/json_parsed"])
    size_rule = max(float(b["height"]) for b in page.bars["rule:silver_file_records/size_not_negative"])
    assert json_parsed / size_rule == pytest.approx((5 / 505) / (4 / 503), rel=0.02)


def test_chart_without_runs_says_so():
    svg = rule_chart({"dataset": "d", "rule": "r", "action": "drop", "series": []})
    assert 'data-points="0"' in svg and "no runs yet" in svg


def test_worst_rules_with_examples(page_text, page):
    assert 'data-worst="silver_file_records/size_not_negative"' in page_text
    assert 'data-examples="silver_file_records/size_not_negative"' in page_text
    assert page.metrics["worst_failed:silver_file_records/size_not_negative"]["value"] == "4"
    assert page.metrics["worst_quarantined:silver_file_records/size_not_negative"]["value"] == "4"
    assert "bad-negative-size-01" in page_text and "bad-mod-in-future-01" in page_text
    assert "stay in silver" in page_text  # the warn rule says its rows are kept


def test_each_bad_row_once_with_all_its_rules(page_text):
    """A row that broke two rules is an example of both, but shows up once, with both rules, and
    its raw JSON once."""
    table = page_text[page_text.index('<table data-section="bad-rows"'):]
    table = table[:table.index("</table>")]
    rows = re.findall(r'<tr id="(bad-row-\d+)" data-bad-row="([^"]*)" data-dataset="[^"]*" data-rules="([^"]*)"', table)
    keys = [key for _, key, _ in rows]
    assert keys.count(TWO_RULES_KEY) == 1
    assert keys.count("") == 1  # the unkeyed broken row, grouped by its excerpt
    rules = {key: set(r.split(",")) for _, key, r in rows}
    assert rules[TWO_RULES_KEY] == {"json_parsed", "size_not_negative"}
    assert rules[""] == {"json_parsed", "size_not_negative"}
    assert rules["bad-mod-in-future-01"] == {"modified_not_future"}
    assert len(keys) == len(set(keys)) == 4
    # raw JSON once on the whole page, however many rules list the row
    assert page_text.count('{&quot;fileId&quot;:&quot;bad-two-rules-01&quot;') == 1
    assert page_text.count(html.escape(BROKEN_EXCERPT)) == 1
    assert "2 rows with this key" in table
    # each worst rule links to its example rows instead of repeating them
    worst = page_text[page_text.index('data-worst="silver_file_records/json_parsed"'):]
    worst = worst[:worst.index("</div>")]
    ids = {row_id for row_id, key, _ in rows if key in (TWO_RULES_KEY, "")}
    assert set(re.findall(r'href="#(bad-row-\d+)"', worst)) == ids


def test_bad_rows_merge_rules_of_the_same_key():
    worst = [
        {"dataset": "d", "rule": "a", "examples": [{"key": "k1", "failed_rules": ["a"], "excerpt": "x"}]},
        {"dataset": "d", "rule": "b", "examples": [{"key": "k1", "failed_rules": ["b", "c"], "excerpt": "x"},
                                                  {"key": None, "failed_rules": ["b"], "excerpt": "y"}]},
        {"dataset": "other", "rule": "a", "examples": [{"key": "k1", "failed_rules": ["a"], "excerpt": "z"}]},
    ]
    rows = bad_rows(worst)
    assert [(r["dataset"], r["key"], r["failed_rules"], r["examples_of"]) for r in rows] == [
        ("d", "k1", ["a", "b", "c"], ["a", "b"]),
        ("d", None, ["b"], ["b"]),
        ("other", "k1", ["a"], ["a"]),
    ]


def test_everything_from_the_data_is_escaped(page_text):
    assert "<script" not in page_text.lower()
    assert "<img" not in page_text.lower()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;co.pdf" in page_text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page_text


def test_escaping_in_attributes_and_rule_names():
    data = sample_data()
    data["rules"][0]["rule"] = 'bad"><script>x</script>'
    data["users"]["with_errors"][0]["username"] = "<b>eve</b>"
    text = render_report(data)
    assert "<script" not in text.lower() and "<b>eve" not in text
    assert 'data-chart="rule:silver_file_records/bad&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in text


def test_self_contained(page_text, page):
    assert page.scripts == 0
    assert page.external == []
    assert "http://" not in page_text and "https://" not in page_text
    assert "<style>" in page_text and "@import" not in page_text and "url(" not in page_text


def test_holdings_sections(page_text, page):
    assert page.metrics["users_status:error"]["value"] == "1"
    assert page.metrics["owner_bytes:alice@example.com"]["value"] == "4000000000"
    assert page.metrics["owner_flagged:alice@example.com"]["value"] == "12"
    assert page.metrics["unowned_files"]["value"] == "17"
    assert "frank@example.com" in page_text and "pension_copy.csv" in page_text
    assert page.table_rows["silver_file_records"] == "496"


def test_sections_in_order_records_manager_first(page_text):
    """Headline, policies, what changed, disposition, duplicates and owners, data quality, next
    commands: the policy table comes before any data-quality detail."""
    positions = [page_text.index(f'<section id="{name}"') for name in SECTIONS]
    assert positions == sorted(positions)
    quality = page_text.index('<section id="data-quality"')
    for detail in ('data-chart="rule:', 'data-worst="', 'data-section="bad-rows"', 'id="freshness"'):
        assert page_text.index(detail) > quality, detail
    assert page_text.index('data-section="policies"') < quality


def test_every_catalogue_policy_is_listed_with_zeros(page_text, page):
    policies = _section(page_text, "policies")
    listed = re.findall(r'<tr(?: class="zero")? data-policy="([^"]+)"', policies)
    assert sorted(listed) == sorted(p["policy"] for p in CATALOGUE)
    assert listed[:3] == ["duplicate", "retention", "legal_hold"]  # most files first
    for name in ("rot", "sensitive_exposed", "keep_forever"):
        for column in ("files", "bytes", "owners", "held"):
            assert page.metrics[f"policy_{column}:{name}"]["value"] == "0", (name, column)
        assert page.metrics[f"policy_change:{name}"]["value"] == "0"
    assert page.metrics["policy_files:duplicate"]["value"] == "20"
    assert page.metrics["policy_held:duplicate"]["value"] == "2"
    assert page.metrics["policy_owners:retention"]["value"] == "2"
    assert page.metrics["policy_change:duplicate"]["text"] == "+3"
    assert page.metrics["policy_change:retention"]["text"] == "-2"
    assert "change since the run of 2025-03-03" in policies
    assert "first run" not in policies


def test_first_run_says_so_instead_of_a_blank():
    data = sample_data()
    data["policies"] = policy_rows(first_run=True)
    text = render_report(data)
    page = index_page(text)
    for policy in CATALOGUE:
        shown = page.metrics[f"policy_change:{policy['policy']}"]
        assert shown["text"] == "first run" and shown["value"] == ""
    assert "its first run, nothing to compare with yet" in _section(text, "policies")


def test_policies_not_computed_yet_still_list_the_catalogue():
    text = render_report(without_sources())
    policies = _section(text, "policies")
    assert "not computed yet" in policies and 'data-computed="false"' in policies
    assert sorted(re.findall(r'data-policy="([^"]+)"', policies)) == sorted(p["policy"] for p in CATALOGUE)
    data = sample_data()
    data["policies"] = None  # data of an older report version
    assert "not computed yet" in _section(render_report(data), "policies")


def test_changes_trend_on_one_scale(page):
    data = sample_data()
    sources = data["changes"]["sources"]
    top = max(s[f"files_{k}"] for src in sources for s in src["snapshots"] for k in ("added", "removed", "changed"))
    for src in sources:
        key = f"changes:{src['source_system']}"
        assert int(page.charts[key]["data-scale"]) == top
        bars = page.bars[key]
        assert len(bars) == 3 * len(src["snapshots"])
        plot_h = float(page.charts[key]["height"]) - 30  # PAD_T + PAD_B
        for bar in bars:
            count = int(bar["data-count"])
            snap = next(s for s in src["snapshots"] if s["snapshot_id"] == bar["data-snapshot"])
            assert count == snap[f"files_{bar['data-kind']}"]
            expected = max(1.0, plot_h * count / top) if count else 0.0
            assert float(bar["height"]) == pytest.approx(expected, abs=0.06)
    newest = sources[0]["snapshots"][-1]
    sid = f"dxr:{newest['snapshot_id']}"
    assert page.metrics[f"changes_added:{sid}"]["value"] == str(newest["files_added"])
    assert page.metrics[f"changes_removed:{sid}"]["value"] == str(newest["files_removed"])
    assert page.metrics[f"changes_changed:{sid}"]["value"] == str(newest["files_changed"])


def test_disposition_counts_and_reappeared_alert(page_text, page):
    data = sample_data()
    for status, n in data["disposition"]["by_status"].items():
        assert page.metrics[f"disposition:{status}"]["value"] == str(n)
    section = _section(page_text, "disposition")
    alert = section[section.index('data-section="reappeared"'):]
    assert page.metrics["reappeared_alert"]["value"] == "2"
    assert 'data-reappeared="dxr-reappeared-1"' in alert and "/Users/a@example.com/old.csv" in alert
    assert "&lt;script&gt;" in alert
    assert 'class="card alert"' in page_text[:page_text.index('data-metric="archived_files"') + 400]


def test_missing_new_tables_say_not_computed_yet():
    """A state directory of an older version has no gold_file_changes / gold_disposition_status."""
    data = sample_data()
    data["changes"] = data["disposition"] = None
    data.pop("owners")
    text = render_report(data)
    for section, table in (("changes", "gold_file_changes"), ("disposition", "gold_disposition_status")):
        html = _section(text, section)
        assert "not computed yet" in html and f"<code>{table}</code>" in html
    page = index_page(text)
    assert not any(k.startswith("changes:") for k in page.charts)
    assert page.metrics["policy_files:duplicate"]["value"] == "20"  # the rest is there
    assert 'data-section="duplicates"' in text


def test_next_commands_name_the_top_policy(page_text):
    export, remediate = next_commands(sample_data())
    assert export == ("file-records export --state-dir /tmp/state gold_policy_flags --policy duplicate --for-review "
                      "--format csv --out review.csv")
    assert remediate == ('file-records remediate --plan review.csv --archive-root ARCHIVE --path-map "PREFIX=LOCAL" '
                         "--state-dir /tmp/state")
    section = _section(page_text, "next")
    assert section.index('data-command="export"') < section.index('data-command="remediate"')
    assert "--policy duplicate --for-review" in section and "--path-map &quot;PREFIX=LOCAL&quot;" in section
    # keep / hold policies are not a review target; without any hit, a placeholder
    data = sample_data()
    data.pop("state_dir")
    for row in data["policies"]["summary"]:
        if row["policy"] in ("duplicate", "retention"):
            row["files"] = 0
    assert next_commands(data)[0] == ("file-records export gold_policy_flags --policy POLICY --for-review "
                                      "--format csv --out review.csv")


def test_catalogue_policies_from_the_packaged_catalogue():
    from file_records.policies.model import load_catalogue

    policies = catalogue_policies(load_catalogue())
    names = [p["policy"] for p in policies]
    assert {"duplicate", "retention", "legal_hold", "keep_forever"} <= set(names)
    assert all(p["action"] and p["severity"] and p["description"] for p in policies)
    assert catalogue_policies([{"name": "x", "action": "review", "severity": "low", "description": "d"}]) == [
        {"policy": "x", "action": "review", "severity": "low", "description": "d", "enabled": True}]


def test_missing_sources_render_empty_sections():
    text = render_report(without_sources())
    page = index_page(text)
    assert page.charts == {}
    assert all(name.startswith("policy_") and shown["value"] == "" for name, shown in page.metrics.items())
    assert "No tables yet" in text and "No data-quality metrics yet" in text and "No rule failed" in text
    assert 'id="holdings"' not in text


def test_optional_sections_are_left_out():
    data = sample_data()
    for key in ("policy_flags", "policy_flagged_files", "policies_triggered", "policy_held_files"):
        data["headline"].pop(key)
    data["users"] = data["owners"] = None
    text = render_report(data)
    assert 'data-metric="policy_flags"' not in text and "Workspace users" not in text and "Largest owners" not in text
    assert 'data-metric="silver_files"' in text


def test_formats():
    assert fmt_bytes(0) == "0 B" and fmt_bytes(1023) == "1,023 B" and fmt_bytes(1536) == "1.5 KiB"
    assert fmt_bytes(None) == "—"
    assert fmt_rate(0) == "0 %" and fmt_rate(0.0123) == "1.23 %" and fmt_rate(0.5) == "50.0 %"
    assert fmt_rate(0.00001) == "<0.01 %"


def test_second_report_differs():
    assert render_report(sample_data(1)) != render_report(sample_data(2))
    assert copy_of(sample_data()) == sample_data()


@pytest.mark.parametrize(
    "text, secret",
    [
        ('{"fileId":"a","accessToken":"abc123secretvalue"}', "abc123secretvalue"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGciOiJIUzI1NiJ9"),
        ("token dapi0123456789abcdef0123456789abcdef in a message", "dapi0123456789abcdef"),
        ("https://x.blob.core.windows.net/c/f.pdf?sv=1&sig=SECRETSIG&se=2", "SECRETSIG"),
        ("password=hunter22 and more", "hunter22"),
    ],
)
def test_redact(text, secret):
    cleaned = redact(text)
    assert secret not in cleaned and "[redacted]" in cleaned


def test_redact_env_tokens(monkeypatch):
    monkeypatch.setenv("DXR_BEARER_TOKEN", "plain-looking-value-42")
    assert redact("path/plain-looking-value-42/x") == "path/[redacted]/x"
    assert redact(None) is None and redact(5) == 5
    assert redact("/Shared/Finance/tokens-list.xlsx") == "/Shared/Finance/tokens-list.xlsx"


# --- collect_report_data over crafted tables -------------------------------------------------


@pytest.fixture()
def crafted_db(spark, tmp_path, monkeypatch):
    """A database with just the DXR tables (no workspace, no policies), as the report reads them."""
    import file_records.report.engine as report_engine

    name = f"report_test_{datetime.now().strftime('%H%M%S%f')}"
    spark.sql(f"CREATE DATABASE {name} LOCATION '{tmp_path.as_uri()}'")
    monkeypatch.setattr(report_engine, "DATABASE", name)
    d1, d2 = date(2025, 3, 1), date(2025, 3, 2)
    t1 = datetime(2025, 3, 1, 8, 0, tzinfo=timezone.utc)
    t2 = datetime(2025, 3, 2, 8, 0, tzinfo=timezone.utc)
    bronze = [("file", "s1", d1, t1)] * 4 + [("query_summary", "s1", d1, t1)] + [("file", "s2", d2, t2)] * 5 + [
        ("query_summary", "s2", d2, t2)
    ]
    spark.createDataFrame(bronze, "record_type string, snapshot_id string, ingestion_date date, ingested_at timestamp") \
        .write.saveAsTable(f"{name}.bronze_dxr_files")
    silver = [
        ("f1", "/a.pdf", 100, datetime(2020, 1, 1), datetime(2021, 1, 1)),
        ("f2", "/b.pdf", 200, datetime(2022, 1, 1), datetime(2021, 1, 1)),  # modified before created (warn)
        ("f3", "/c.pdf", 300, None, None),
    ]
    spark.createDataFrame(silver, "file_id string, path string, size bigint, created_at timestamp, last_modified_at timestamp") \
        .write.saveAsTable(f"{name}.silver_file_records")
    quarantine = [
        (None, None, '{"fileId": "broken', ["json_parsed", "file_id_present"], t2),
        ("q1", EVIL_PATH, '{"fileId":"q1","size":-1,"token":"s3cr3t-token-value"}', ["size_not_negative"], t2),
        # the same file again (a second row in the query results), broken differently: one example, both rules
        ("q1", EVIL_PATH, '{"fileId":"q1","size":-1,"name":', ["json_parsed"], t2),
    ]
    spark.createDataFrame(
        quarantine, "file_id string, path string, raw_json string, failed_rules array<string>, quarantined_at timestamp"
    ).write.saveAsTable(f"{name}.silver_file_records_quarantine")
    metrics = []
    for day, total, failures in ((d1, 5, {"json_parsed": 0, "size_not_negative": 0, "modified_after_created": 0}),
                                 (d2, 7, {"json_parsed": 1, "size_not_negative": 1, "modified_after_created": 1})):
        for rule, failed in failures.items():
            action = "warn" if rule == "modified_after_created" else "drop"
            metrics.append(("silver_file_records", rule, action, day, total - failed, failed, failed / total))
    spark.createDataFrame(
        metrics, "dataset string, rule string, action string, ingestion_date date, passed bigint, failed bigint, failure_rate double"
    ).write.saveAsTable(f"{name}.gold_expectation_metrics")
    spark.createDataFrame(
        [("ab" * 32, 2, 300, 100, "f1", "/a.pdf")],
        "content_sha256 string, copies bigint, total_bytes bigint, reclaimable_bytes bigint, keeper_file_id string, keeper_path string",
    ).write.saveAsTable(f"{name}.gold_duplicate_files")
    yield name
    spark.sql(f"DROP DATABASE {name} CASCADE")


@pytest.mark.spark
def test_collect_report_data_from_crafted_tables(spark, crafted_db):
    from file_records.report.data import collect_report_data

    data = collect_report_data(spark, now=datetime(2025, 3, 2, 10, 0, tzinfo=timezone.utc))
    assert data["generated_at"] == "2025-03-02T10:00:00Z"
    assert data["tables"] == {
        "bronze_dxr_files": 11, "gold_duplicate_files": 1, "gold_expectation_metrics": 6,
        "silver_file_records": 3, "silver_file_records_quarantine": 3,
    }
    h = data["headline"]
    assert (h["silver_files"], h["silver_bytes"], h["quarantined_files"]) == (3, 600, 3)
    assert (h["duplicate_groups"], h["duplicate_copies"], h["reclaimable_bytes"]) == (1, 2, 100)
    assert "users" not in h and "workspace_files" not in h and "policy_flags" not in h
    (dxr,) = data["freshness"]
    assert (dxr["latest_id"], dxr["rows"], dxr["items"], dxr["runs"]) == ("s2", 6, 5, 2)
    assert dxr["taken_at"] == "2025-03-02T08:00:00Z" and dxr["ingestion_date"] == "2025-03-02"
    rules = {r["rule"]: r for r in data["rules"]}
    assert [p["date"] for p in rules["json_parsed"]["series"]] == ["2025-03-01", "2025-03-02"]
    assert rules["json_parsed"]["latest"]["failed"] == 1 and rules["json_parsed"]["quarantined"] == 2
    assert rules["modified_after_created"]["quarantined"] is None
    assert rules["json_parsed"]["description"]  # from expectations/rules
    worst = {w["rule"]: w for w in data["worst_rules"]}
    assert set(worst) == {"json_parsed", "size_not_negative", "modified_after_created"}
    (q1,) = worst["size_not_negative"]["examples"]
    assert (q1["key"], q1["failed_rules"], q1["rows"]) == ("q1", ["json_parsed", "size_not_negative"], 2)
    # json_parsed: q1 (grouped) and the unkeyed broken row, each once
    assert [(x["key"], x["failed_rules"]) for x in worst["json_parsed"]["examples"]] == [
        ("q1", ["json_parsed", "size_not_negative"]), (None, ["json_parsed", "file_id_present"])]
    assert "s3cr3t-token-value" not in str(data)
    assert worst["modified_after_created"]["kept"] is True
    assert [x["key"] for x in worst["modified_after_created"]["examples"]] == ["f2"]
    assert data["users"] is None and data["owners"] is None
    # an older state directory: no policy results, no gold_file_changes / gold_disposition_status yet
    assert data["changes"] is None and data["disposition"] is None
    policies = data["policies"]
    assert policies["computed"] is False and policies["table"] is None
    assert [p["policy"] for p in policies["summary"]] == [p["policy"] for p in catalogue_policies()]
    assert all(p["files"] is None for p in policies["summary"])
    assert data["duplicates"]["top"][0]["keeper_path"] == "/a.pdf"
    text = render_report(data)
    page = index_page(text)
    assert page.metrics["silver_files"]["value"] == "3"
    assert len(page.bars["rule:silver_file_records/json_parsed"]) == 2
    assert "<script" not in text
    for section in ("policies", "changes", "disposition"):
        assert "not computed yet" in _section(text, section), section
    bad = text[text.index('data-section="bad-rows"'):]
    assert bad.count('data-bad-row="q1"') == 1 and text.count("s3cr3t") == 0


@pytest.mark.spark
def test_collect_report_data_with_no_tables(spark, tmp_path, monkeypatch):
    import file_records.report.data as report_data
    import file_records.report.engine as report_engine

    monkeypatch.setattr(report_engine, "DATABASE", "report_no_such_db")
    data = report_data.collect_report_data(spark)
    assert data["tables"] == {} and data["freshness"] == [] and data["rules"] == [] and data["headline"] == {}
    assert "No tables yet" in render_report(data)


@pytest.mark.spark
def test_workspace_examples_use_the_registry_key(spark, tmp_path, monkeypatch):
    """Workspace rows are identified by (source, path), as in file_records.datasets: the example key is
    '<source>:<path>' (silver_all_files' file_id), not the object id DBFS rows do not have."""
    import file_records.report.data as report_data
    import file_records.report.engine as report_engine
    from file_records.datasets import SILVER_WORKSPACE_FILES, WORKSPACE

    name = f"report_ws_{datetime.now().strftime('%H%M%S%f')}"
    spark.sql(f"CREATE DATABASE {name} LOCATION '{tmp_path.as_uri()}'")
    monkeypatch.setattr(report_engine, "DATABASE", name)
    try:
        day, t = date(2025, 3, 2), datetime(2025, 3, 2, 8, 0, tzinfo=timezone.utc)
        spark.createDataFrame(
            [("object", "scan-1", day, t)] * 3 + [("status", "scan-1", day, t)],
            f"record_type string, {WORKSPACE.run_column} string, ingestion_date date, ingested_at timestamp",
        ).write.saveAsTable(f"{name}.{WORKSPACE.bronze}")
        spark.createDataFrame(
            [("bob", "dbfs", "/Users/alice@example.com/x.csv", None, 5, ["user_is_email", "path_under_home"], t),
             ("carol@example.com", "workspace", "/Users/alice@example.com/nb", 7, 9, ["path_under_home"], t)],
            "username string, source string, path string, object_id bigint, size bigint, failed_rules array<string>, "
            "quarantined_at timestamp",
        ).write.saveAsTable(f"{name}.{SILVER_WORKSPACE_FILES.quarantine}")
        spark.createDataFrame(
            [(SILVER_WORKSPACE_FILES.name, "path_under_home", "drop", day, 1, 2, 2 / 3)],
            "dataset string, rule string, action string, ingestion_date date, passed bigint, failed bigint, "
            "failure_rate double",
        ).write.saveAsTable(f"{name}.gold_expectation_metrics")
        data = report_data.collect_report_data(spark)
    finally:
        spark.sql(f"DROP DATABASE {name} CASCADE")
    (fresh,) = data["freshness"]
    assert (fresh["source"], fresh["table"], fresh["latest_id"], fresh["items"]) == ("workspace", WORKSPACE.bronze, "scan-1", 3)
    assert data["headline"]["workspace_quarantined"] == 2
    (worst,) = data["worst_rules"]
    assert worst["quarantined"] == 2
    # fewest broken rules first, then by key
    assert [x["key"] for x in worst["examples"]] == [
        "workspace:/Users/alice@example.com/nb",
        "dbfs:/Users/alice@example.com/x.csv",
    ]
    text = render_report(data)
    assert f"<code>{SILVER_WORKSPACE_FILES.quarantine}</code>" in text
    assert "Workspace files (silver_workspace_files)" in text


@pytest.fixture()
def records_db(spark, tmp_path, monkeypatch):
    """A database with the records tables: policy summary (two runs) and flags, file changes,
    disposition status, every source's files."""
    import file_records.report.engine as report_engine

    name = f"report_records_{datetime.now().strftime('%H%M%S%f')}"
    spark.sql(f"CREATE DATABASE {name} LOCATION '{tmp_path.as_uri()}'")
    monkeypatch.setattr(report_engine, "DATABASE", name)
    d1, d2 = date(2025, 3, 1), date(2025, 3, 2)
    summary = [
        # policy, action, severity, detected_on, files, bytes, owners, suppressed, previous, files_change, bytes_change
        ("duplicate", "archive", "low", d1, 5, 500, 2, 0, None, None, None),
        ("duplicate", "archive", "low", d2, 7, 700, 3, 1, d1, 2, 200),
        ("retention", "delete", "high", d2, 4, 40, 1, 2, None, None, None),  # new in the second run
        ("gone_policy", "review", "low", d2, 1, 10, 1, 0, None, None, None),  # no longer in the catalogue
    ]
    spark.createDataFrame(
        summary, "policy string, action string, severity string, detected_on date, files bigint, bytes bigint, "
        "owners bigint, suppressed_files bigint, previous_detected_on date, files_change bigint, bytes_change bigint",
    ).write.saveAsTable(f"{name}.gold_policy_summary")
    flags = [
        ("dxr", "f1", "/a.pdf", "Alice@example.com", 100, "duplicate", "archive", "low", None, d2),
        ("dxr", "f2", "/b.pdf", "alice@example.com", 200, "retention", "delete", "high", "legal_hold", d2),
        ("workspace", "workspace:/Users/b/x", "/Users/b/x", "bob@example.com", 5, "duplicate", "archive", "low",
         "keep_forever", d2),
    ]
    spark.createDataFrame(
        flags, "source_system string, file_id string, path string, owner string, size bigint, policy string, "
        "action string, severity string, suppressed_by string, detected_on date",
    ).write.saveAsTable(f"{name}.gold_policy_flags")
    changes = [
        ("dxr", f"s{i:02d}", date(2025, 2, 1 + i), 10 + i, 1000, 10 if i == 0 else i, i % 2, i % 3, 10, 1)
        for i in range(14)
    ] + [("workspace", "w1", d2, 3, 30, 3, 0, 0, 30, 0)]
    spark.createDataFrame(
        changes, "source_system string, snapshot_id string, ingestion_date date, files_total bigint, bytes_total bigint, "
        "files_added bigint, files_removed bigint, files_changed bigint, bytes_added bigint, bytes_removed bigint",
    ).write.saveAsTable(f"{name}.gold_file_changes")
    t = datetime(2025, 3, 2, 8, 0, tzinfo=timezone.utc)
    disposition = [
        ("dxr", "f9", "/old/a.pdf", "duplicate", "rita", t, "/archive/aa/a.pdf", "confirmed", "s13", t, None),
        ("dxr", "f8", EVIL_PATH, "duplicate", "rita", t, "/archive/bb/b.pdf", "reappeared", "s13", t, None),
        ("workspace", "workspace:/Users/b/y", "/Users/b/y", "retention", None, t, "/archive/cc/y", "pending", None, None,
         None),
        ("dxr", "f7", "/old/c.pdf", "duplicate", "rita", t, "/archive/cc/c.pdf", "reappeared", "s13", t, t),
    ]
    spark.createDataFrame(
        disposition, "source_system string, file_id string, path string, policy string, reviewer string, "
        "archived_at timestamp, archive_location string, status string, checked_snapshot_id string, checked_at timestamp, "
        "restored_at timestamp",
    ).write.saveAsTable(f"{name}.gold_disposition_status")
    files = [("dxr", "f1", "/a.pdf", "Alice@example.com", 100), ("dxr", "f2", "/b.pdf", "alice@example.com", 200),
             ("dxr", "f3", "/c.pdf", None, 50), ("workspace", "workspace:/Users/b/x", "/Users/b/x", "bob@example.com", 5)]
    spark.createDataFrame(files, "source_system string, file_id string, path string, owner string, size bigint") \
        .write.saveAsTable(f"{name}.silver_all_files")
    yield name
    spark.sql(f"DROP DATABASE {name} CASCADE")


CRAFTED_CATALOGUE = [
    {"name": "duplicate", "action": "archive", "severity": "low", "description": "copies"},
    {"name": "retention", "action": "delete", "severity": "high", "description": "old records"},
    {"name": "rot", "action": "review", "severity": "low", "description": "rot"},
    {"name": "stale", "action": "review", "severity": "low", "description": "stale", "enabled": False},
]


@pytest.mark.spark
def test_collect_records_sections(spark, records_db):
    from file_records.report.data import CHANGE_SNAPSHOTS, collect_report_data

    data = collect_report_data(spark, catalogue=CRAFTED_CATALOGUE)
    policies = data["policies"]
    assert (policies["computed"], policies["table"], policies["first_run"]) == (True, "gold_policy_summary", False)
    assert (policies["detected_on"], policies["previous_detected_on"]) == ("2025-03-02", "2025-03-01")
    rows = {p["policy"]: p for p in policies["summary"]}
    assert [p["policy"] for p in policies["summary"]] == ["duplicate", "retention", "gone_policy", "rot", "stale"]
    dup, ret, rot, stale, gone = (rows[n] for n in ("duplicate", "retention", "rot", "stale", "gone_policy"))
    assert (dup["files"], dup["bytes"], dup["owners"], dup["suppressed_files"], dup["files_change"]) == (7, 700, 3, 1, 2)
    # first seen in this run, with a run before it: the change is everything it caught
    assert (ret["files"], ret["suppressed_files"], ret["files_change"], ret["bytes_change"]) == (4, 2, 4, 40)
    # caught nothing: 0, not left out
    assert (rot["files"], rot["bytes"], rot["owners"], rot["suppressed_files"], rot["files_change"]) == (0, 0, 0, 0, 0)
    assert rot["in_catalogue"] and rot["description"] == "rot"
    assert stale["enabled"] is False and stale["files"] is None
    assert gone["in_catalogue"] is False and gone["files"] == 1
    h = data["headline"]
    assert (h["policy_flags"], h["policy_flagged_files"], h["policy_held_files"]) == (3, 3, 2)
    assert (h["archived_files"], h["reappeared_files"]) == (4, 1)  # the one put back by an undo is no alert

    sources = {s["source_system"]: s for s in data["changes"]["sources"]}
    dxr = sources["dxr"]["snapshots"]
    assert len(dxr) == CHANGE_SNAPSHOTS and dxr[0]["snapshot_id"] == "s02" and dxr[-1]["snapshot_id"] == "s13"
    assert dxr[-1]["ingestion_date"] == "2025-02-14" and dxr[-1]["files_added"] == 13
    assert sources["workspace"]["label"] == "Databricks workspace"

    disposition = data["disposition"]
    assert disposition["by_status"] == {"confirmed": 1, "pending": 1, "reappeared": 1, "restored": 1}
    assert disposition["total"] == 4
    (back,) = disposition["reappeared"]
    assert (back["file_id"], back["path"], back["checked_snapshot_id"]) == ("f8", EVIL_PATH, "s13")

    owners = data["owners"]
    assert owners["top"][0] == {"owner": "alice@example.com", "files": 2, "bytes": 300, "flagged_files": 2}
    assert owners["top"][1]["owner"] == "bob@example.com" and owners["unowned_files"] == 1

    text = render_report(data)
    page = index_page(text)
    assert page.metrics["policy_change:retention"]["text"] == "+4"
    assert page.metrics["policy_files:rot"]["value"] == "0"
    assert "disabled in the catalogue" in text and "no longer in the catalogue" in text
    assert page.metrics["reappeared_alert"]["value"] == "1"
    assert len(page.bars["changes:dxr"]) == 3 * CHANGE_SNAPSHOTS
    assert "--policy duplicate --for-review" in _section(text, "next")


@pytest.mark.spark
def test_first_policy_run_says_first_run(spark, records_db):
    import file_records.report.data as report_data

    first = [("duplicate", "archive", "low", date(2025, 3, 1), 5, 500, 2, 0, None, None, None)]
    spark.createDataFrame(
        first, "policy string, action string, severity string, detected_on date, files bigint, bytes bigint, "
        "owners bigint, suppressed_files bigint, previous_detected_on date, files_change bigint, bytes_change bigint",
    ).write.mode("overwrite").saveAsTable(f"{records_db}.gold_policy_summary")
    data = report_data.collect_report_data(spark, catalogue=CRAFTED_CATALOGUE)
    policies = data["policies"]
    assert policies["first_run"] is True and policies["previous_detected_on"] is None
    rows = {p["policy"]: p for p in policies["summary"]}
    assert (rows["duplicate"]["files"], rows["duplicate"]["files_change"]) == (5, None)
    assert (rows["rot"]["files"], rows["rot"]["files_change"]) == (0, None)
    page = index_page(render_report(data))
    for name in ("duplicate", "retention", "rot"):
        assert page.metrics[f"policy_change:{name}"]["text"] == "first run", name
