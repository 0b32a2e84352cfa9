"""The report page in a real browser: headless Chromium lays it out (network names unresolvable),
the charts have a size on screen, the numbers in the DOM are the input data, and a screenshot
shows a page, not a blank one."""

from __future__ import annotations

import pytest

from file_records.report.render import fmt_bytes, fmt_count, render_report
from tests.report import CHROMIUM, index_page, png_size, rendered_dom, sample_data, screenshot

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: install Debian's chromium package to run the browser tests"
)

BYTES = {"silver_bytes", "workspace_bytes", "reclaimable_bytes"}


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("report-chromium")


@pytest.fixture(scope="module")
def report(work):
    path = work / "report.html"
    path.write_text(render_report(sample_data()), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def dom(report, work):
    text = rendered_dom(report, work)
    assert 'data-measured="1"' in text, "the page did not finish loading in Chromium"
    return index_page(text)


def test_charts_rendered_with_a_size(dom):
    data = sample_data()
    expected = {f"rule:{r['dataset']}/{r['rule']}": r for r in data["rules"]}
    changes = {f"changes:{s['source_system']}": s for s in data["changes"]["sources"]}
    assert set(dom.charts) == set(expected) | set(changes)
    for key, chart in dom.charts.items():
        assert float(chart["data-rendered-width"]) > 100, key
        assert float(chart["data-rendered-height"]) > 50, key
    for key, rule in expected.items():
        bars = dom.bars[key]
        assert len(bars) == len(rule["series"])
        for bar, point in zip(bars, rule["series"], strict=True):
            assert float(bar["data-rendered-width"]) > 0 and float(bar["data-rendered-height"]) > 0
            assert (int(bar["data-failed"]), int(bar["data-passed"])) == (point["failed"], point["passed"])
            if point["failed"]:
                assert float(bar["data-rendered-height"]) > 2  # taller than the no-failure tick
    for key, source in changes.items():
        assert len(dom.bars[key]) == 3 * len(source["snapshots"])


def test_rule_bars_on_one_scale_on_screen(dom):
    """On screen too, a bar's height is proportional to its failure rate, across rules."""
    data = sample_data()
    ratios = []
    for rule in data["rules"]:
        for bar in dom.bars[f"rule:{rule['dataset']}/{rule['rule']}"]:
            rate, height = float(bar["data-failure-rate"]), float(bar["data-rendered-height"])
            if rate > 0 and height > 4:
                ratios.append(height / rate)
    assert len(ratios) >= 5
    assert max(ratios) / min(ratios) < 1.05, ratios


def test_sections_on_screen_records_manager_first(dom):
    order = ["summary", "policies", "changes", "disposition", "holdings", "data-quality", "next"]
    tops = [float(dom.sections[name]["data-rendered-top"]) for name in order]
    assert tops == sorted(tops) and len(set(tops)) == len(tops), dict(zip(order, tops, strict=True))
    for name in order:
        assert float(dom.sections[name]["data-rendered-height"]) > 20, name
    # every catalogue policy has a visible row
    for policy in sample_data()["policies"]["summary"]:
        assert float(dom.metrics[f"policy_files:{policy['policy']}"]["attrs"]["data-rendered-width"]) > 0


def test_numbers_in_the_dom_match_the_data(dom):
    data = sample_data()
    for key, value in data["headline"].items():
        shown = dom.metrics[key]
        assert shown["value"] == str(value)
        assert shown["text"] == (fmt_bytes(value) if key in BYTES else fmt_count(value))
        assert float(shown["attrs"]["data-rendered-width"]) > 0, f"{key} is not visible"
    for source in data["freshness"]:
        name = source["source"]
        assert dom.metrics[f"items_latest:{name}"]["value"] == str(source["items"])
        assert dom.metrics[f"silver_rows:{name}"]["value"] == str(source["silver_rows"])
    for rule in data["rules"]:
        key = f"{rule['dataset']}/{rule['rule']}"
        assert dom.metrics[f"rule_failed:{key}"]["value"] == str(rule["latest"]["failed"])
        assert dom.metrics[f"rule_total:{key}"]["value"] == str(rule["latest"]["passed"] + rule["latest"]["failed"])
    for name, count in data["tables"].items():
        assert dom.table_rows[name] == str(count)


def test_escaped_content_stays_text(dom):
    # The DOM has exactly one script: the measuring one the test added to its copy.
    assert dom.scripts == 1


def test_screenshot_is_a_page_not_a_blank(report, work):
    blank_page = work / "blank.html"
    blank_page.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
    blank = screenshot(blank_page, work / "blank.png", work)
    first = screenshot(report, work / "first.png", work)
    other_page = work / "other.html"
    other_page.write_text(render_report(sample_data(scale=2)), encoding="utf-8")
    other = screenshot(other_page, work / "other.png", work)
    assert png_size(first) == png_size(blank) == (1280, 2400)
    # A white page compresses to almost nothing; text, tables and charts do not.
    assert len(first) > 50_000 and len(first) > 5 * len(blank), (len(first), len(blank))
    assert first != other  # different numbers and bars, different pixels
