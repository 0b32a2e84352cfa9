"""The report page from crafted data: numbers, charts, escaping, self-containment; and
collect_report_data over small crafted tables (missing tables tolerated)."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest

from file_records.report.data import redact
from file_records.report.render import fmt_bytes, fmt_rate, render_report, rule_chart
from tests.report import EVIL_PATH, copy_of, index_page, sample_data, without_sources


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
    assert set(page.charts) == {f"rule:{r['dataset']}/{r['rule']}" for r in data["rules"]}
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


def test_gold_sections(page_text, page):
    assert page.metrics["users_status:error"]["value"] == "1"
    assert page.metrics["policy_files:duplicate_copy"]["value"] == "20"
    assert "frank@example.com" in page_text and "pension_copy.csv" in page_text
    assert page.table_rows["silver_file_records"] == "496"


def test_missing_sources_render_empty_sections():
    text = render_report(without_sources())
    page = index_page(text)
    assert page.charts == {} and page.metrics == {}
    assert "No tables yet" in text and "No data-quality metrics yet" in text and "No rule failed" in text
    assert 'id="gold"' not in text


def test_optional_sections_are_left_out():
    data = sample_data()
    data["policies"] = None
    for key in ("policy_flags", "policy_flagged_files", "policies_triggered"):
        data["headline"].pop(key)
    text = render_report(data)
    assert "policy_flags" not in text and "Records policies" not in text
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
    import file_records.report.data as report_data

    name = f"report_test_{datetime.now().strftime('%H%M%S%f')}"
    spark.sql(f"CREATE DATABASE {name} LOCATION '{tmp_path.as_uri()}'")
    monkeypatch.setattr(report_data, "DATABASE", name)
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
        "silver_file_records": 3, "silver_file_records_quarantine": 2,
    }
    h = data["headline"]
    assert (h["silver_files"], h["silver_bytes"], h["quarantined_files"]) == (3, 600, 2)
    assert (h["duplicate_groups"], h["duplicate_copies"], h["reclaimable_bytes"]) == (1, 2, 100)
    assert "users" not in h and "workspace_files" not in h and "policy_flags" not in h
    (dxr,) = data["freshness"]
    assert (dxr["latest_id"], dxr["rows"], dxr["items"], dxr["runs"]) == ("s2", 6, 5, 2)
    assert dxr["taken_at"] == "2025-03-02T08:00:00Z" and dxr["ingestion_date"] == "2025-03-02"
    rules = {r["rule"]: r for r in data["rules"]}
    assert [p["date"] for p in rules["json_parsed"]["series"]] == ["2025-03-01", "2025-03-02"]
    assert rules["json_parsed"]["latest"]["failed"] == 1 and rules["json_parsed"]["quarantined"] == 1
    assert rules["modified_after_created"]["quarantined"] is None
    assert rules["json_parsed"]["description"]  # from expectations/rules
    worst = {w["rule"]: w for w in data["worst_rules"]}
    assert set(worst) == {"json_parsed", "size_not_negative", "modified_after_created"}
    assert worst["size_not_negative"]["examples"][0]["key"] == "q1"
    assert "s3cr3t-token-value" not in str(data)
    assert worst["modified_after_created"]["kept"] is True
    assert [x["key"] for x in worst["modified_after_created"]["examples"]] == ["f2"]
    assert data["users"] is None and data["policies"] is None
    assert data["duplicates"]["top"][0]["keeper_path"] == "/a.pdf"
    text = render_report(data)
    page = index_page(text)
    assert page.metrics["silver_files"]["value"] == "3"
    assert len(page.bars["rule:silver_file_records/json_parsed"]) == 2
    assert "<script" not in text


@pytest.mark.spark
def test_collect_report_data_with_no_tables(spark, tmp_path, monkeypatch):
    import file_records.report.data as report_data

    monkeypatch.setattr(report_data, "DATABASE", "report_no_such_db")
    data = report_data.collect_report_data(spark)
    assert data["tables"] == {} and data["freshness"] == [] and data["rules"] == [] and data["headline"] == {}
    assert "No tables yet" in render_report(data)


@pytest.mark.spark
def test_workspace_examples_use_the_registry_key(spark, tmp_path, monkeypatch):
    """Workspace rows are identified by (source, path), as in file_records.datasets: the example key is
    '<source>:<path>' (silver_all_files' file_id), not the object id DBFS rows do not have."""
    import file_records.report.data as report_data
    from file_records.datasets import SILVER_WORKSPACE_FILES, WORKSPACE

    name = f"report_ws_{datetime.now().strftime('%H%M%S%f')}"
    spark.sql(f"CREATE DATABASE {name} LOCATION '{tmp_path.as_uri()}'")
    monkeypatch.setattr(report_data, "DATABASE", name)
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
