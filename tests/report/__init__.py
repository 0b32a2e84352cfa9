"""Report tests: crafted report data shared by the render and Chromium tests."""

from __future__ import annotations

import copy
import subprocess
from html.parser import HTMLParser
from pathlib import Path

EVIL_PATH = '/Shared/<script>alert("x")</script>&co.pdf'


def _series(dates, totals, failed):
    return [
        {"date": d, "passed": t - f, "failed": f, "failure_rate": (f / t) if t else 0.0}
        for d, t, f in zip(dates, totals, failed, strict=True)
    ]


DATES = ["2025-03-01", "2025-03-02", "2025-03-03", "2025-03-04"]

#: The catalogue the fake report lists (as data.catalogue_policies returns it).
CATALOGUE = [
    {"policy": "duplicate", "action": "archive", "severity": "low", "description": "Every copy but the keeper.",
     "enabled": True},
    {"policy": "retention", "action": "delete", "severity": "high", "description": "Records older than 7 years.",
     "enabled": True},
    {"policy": "rot", "action": "review", "severity": "low", "description": "Redundant, obsolete, trivial.",
     "enabled": True},
    {"policy": "sensitive_exposed", "action": "review", "severity": "critical",
     "description": "Sensitive labels readable by everyone.", "enabled": True},
    {"policy": "legal_hold", "action": "hold", "severity": "high", "description": "On the hold list.", "enabled": True},
    {"policy": "keep_forever", "action": "keep", "severity": "low", "description": "Kept by rule.", "enabled": True},
]

#: A quarantined row without a key that broke two rules: it is an example of both.
BROKEN_EXCERPT = '{"fileId": "broken-1", "fileName":'
#: A keyed quarantined row that broke two rules (in two quarantine rows).
TWO_RULES_KEY = "bad-two-rules-01"


def policy_rows(scale: int = 1, first_run: bool = False) -> dict:
    """The policies part of the data: every CATALOGUE policy, three with hits, the rest with 0."""
    hits = {
        "duplicate": {"files": 20 * scale, "bytes": 900_000 * scale, "owners": 4, "suppressed_files": 2,
                      "files_change": 3, "bytes_change": 1_000},
        "retention": {"files": 11 * scale, "bytes": 5_000, "owners": 2, "suppressed_files": 1,
                      "files_change": -2, "bytes_change": -300},
        "legal_hold": {"files": 3, "bytes": 700, "owners": 1, "suppressed_files": 0, "files_change": 0,
                       "bytes_change": 0},
    }
    rows = []
    for policy in CATALOGUE:
        numbers = hits.get(policy["policy"], {"files": 0, "bytes": 0, "owners": 0, "suppressed_files": 0,
                                              "files_change": 0, "bytes_change": 0})
        if first_run:
            numbers = {**numbers, "files_change": None, "bytes_change": None}
        rows.append({**policy, "in_catalogue": True, "detected_on": DATES[-1], **numbers})
    rows.sort(key=lambda r: -r["files"])
    return {"computed": True, "table": "gold_policy_summary", "detected_on": DATES[-1],
            "previous_detected_on": None if first_run else DATES[-2], "first_run": first_run, "summary": rows}


def _snapshots(scale: int) -> list[dict]:
    added, removed, changed = [500 * scale, 12 * scale, 3, 40 * scale], [0, 2, 9 * scale, 1], [0, 5, 0, 7 * scale]
    total, result = 0, []
    for i, day in enumerate(DATES):
        total += added[i] - removed[i]
        result.append({"snapshot_id": f"2025030{i + 1}T090000Z-000{i + 1}", "ingestion_date": day,
                       "files_total": total, "bytes_total": total * 1000, "files_added": added[i],
                       "files_removed": removed[i], "files_changed": changed[i], "bytes_added": added[i] * 1000,
                       "bytes_removed": removed[i] * 1000})
    return result


def sample_data(scale: int = 1) -> dict:
    """Report data as collect_report_data returns it; `scale` changes every number (for a
    second, different report)."""
    dxr_totals = [500 * scale, 510 * scale, 505 * scale, 503 * scale]
    rules = [
        {
            "dataset": "silver_file_records", "rule": "json_parsed", "action": "drop",
            "description": "The Data X-Ray JSON line parsed into a record.",
            "series": _series(DATES, dxr_totals, [2 * scale, 0, 5 * scale, 3 * scale]), "quarantined": 3 * scale,
        },
        {
            "dataset": "silver_file_records", "rule": "size_not_negative", "action": "drop",
            "description": "The file size is known and not negative.",
            "series": _series(DATES, dxr_totals, [0, 0, 0, 4 * scale]), "quarantined": 4 * scale,
        },
        {
            "dataset": "silver_file_records", "rule": "modified_not_future", "action": "warn",
            "description": "The last-modified time is not more than one day in the future.",
            "series": _series(DATES, dxr_totals, [1, 1, 1, 1]), "quarantined": None,
        },
        {
            "dataset": "silver_workspace_files", "rule": "size_not_negative", "action": "drop",
            "description": "The object size is known and not negative.",
            "series": _series(DATES[-1:], [97 * scale], [2 * scale]), "quarantined": 2 * scale,
        },
    ]
    for entry in rules:
        entry["latest"] = entry["series"][-1]
    worst = [
        {
            "dataset": "silver_file_records", "rule": "size_not_negative", "action": "drop",
            "description": "The file size is known and not negative.", "date": DATES[-1],
            "failed": 4 * scale, "total": dxr_totals[-1], "failure_rate": 4 * scale / dxr_totals[-1],
            "quarantined": 4 * scale, "kept": False,
            "examples": [
                {"key": "bad-negative-size-01", "failed_rules": ["size_not_negative"], "rows": 1, "path": EVIL_PATH,
                 "excerpt": '{"fileId":"bad-negative-size-01","size":-5,"note":"<img src=x onerror=alert(1)>"}'},
                {"key": TWO_RULES_KEY, "failed_rules": ["json_parsed", "size_not_negative"], "rows": 2,
                 "path": "/Finance/two.pdf", "excerpt": '{"fileId":"bad-two-rules-01","size":-1}'},
                {"key": None, "failed_rules": ["json_parsed", "size_not_negative"], "rows": 1, "path": None,
                 "excerpt": BROKEN_EXCERPT},
            ],
        },
        {
            "dataset": "silver_file_records", "rule": "json_parsed", "action": "drop",
            "description": "The Data X-Ray JSON line parsed into a record.", "date": DATES[-1],
            "failed": 3 * scale, "total": dxr_totals[-1], "failure_rate": 3 * scale / dxr_totals[-1],
            "quarantined": 3 * scale, "kept": False,
            "examples": [
                {"key": TWO_RULES_KEY, "failed_rules": ["json_parsed", "size_not_negative"], "rows": 2,
                 "path": "/Finance/two.pdf", "excerpt": '{"fileId":"bad-two-rules-01","size":-1}'},
                {"key": None, "failed_rules": ["json_parsed", "size_not_negative"], "rows": 1, "path": None,
                 "excerpt": BROKEN_EXCERPT},
            ],
        },
        {
            "dataset": "silver_file_records", "rule": "modified_not_future", "action": "warn",
            "description": "The last-modified time is not more than one day in the future.", "date": DATES[-1],
            "failed": 1, "total": dxr_totals[-1], "failure_rate": 1 / dxr_totals[-1],
            "quarantined": None, "kept": True,
            "examples": [{"key": "bad-mod-in-future-01", "failed_rules": ["modified_not_future"], "rows": None,
                          "path": "/Documents/msa.docx", "excerpt": '{"last_modified_at":"2031-10-31T00:00:00Z"}'}],
        },
    ]
    return {
        "generated_at": "2025-03-04T12:00:00Z",
        "state_dir": "/tmp/state",
        "tables": {
            "bronze_dxr_files": 2020 * scale, "gold_duplicate_files": 28 * scale, "gold_expectation_metrics": 13,
            "silver_file_records": 496 * scale, "silver_file_records_quarantine": 7 * scale,
        },
        "freshness": [
            {"source": "dxr", "label": "Data X-Ray", "table": "bronze_dxr_files", "unit": "snapshot",
             "latest_id": "20250304T113233Z-0004", "taken_at": "2025-03-04T09:00:00Z", "ingestion_date": DATES[-1],
             "rows": 505 * scale, "items": 503 * scale, "runs": 4, "silver_table": "silver_file_records",
             "silver_rows": 496 * scale},
            {"source": "workspace", "label": "Databricks workspace", "table": "bronze_workspace_objects", "unit": "scan",
             "latest_id": "20250304T113232Z-0001", "taken_at": "2025-03-04T11:30:00Z", "ingestion_date": DATES[-1],
             "rows": 123 * scale, "items": 97 * scale, "runs": 1, "silver_table": "silver_workspace_files",
             "silver_rows": 95 * scale},
        ],
        "headline": {
            "silver_files": 496 * scale, "silver_bytes": 10_865_384_592 * scale, "quarantined_files": 7 * scale,
            "duplicate_groups": 28 * scale, "duplicate_copies": 92 * scale, "reclaimable_bytes": 1_436_807_368 * scale,
            "workspace_files": 95 * scale, "workspace_bytes": 3_345_402_746 * scale, "workspace_quarantined": 2 * scale,
            "users": 13 * scale, "users_with_errors": 1 * scale, "users_partial": 4 * scale,
            "policy_flags": 40 * scale, "policy_flagged_files": 31 * scale, "policies_triggered": 3,
            "policy_held_files": 3 * scale, "archived_files": 9 * scale, "reappeared_files": 2,
        },
        "rules": rules,
        "worst_rules": worst,
        "duplicates": {"top": [
            {"keeper_path": "/My Drive/Backup/pension_copy.csv", "copies": 3, "total_bytes": 3 * 430_000_000 * scale,
             "reclaimable_bytes": 2 * 430_000_000 * scale},
            {"keeper_path": EVIL_PATH, "copies": 2, "total_bytes": 2_000_000, "reclaimable_bytes": 1_000_000},
        ]},
        "users": {"scan_id": "20250304T113232Z-0001", "scan_time": "2025-03-04T11:30:00Z",
                  "by_status": {"success": 7 * scale, "partial": 4 * scale, "error": 1 * scale, "empty": 1},
                  "with_errors": [{"username": "frank@example.com", "status": "error",
                                   "error": "dbfs: HTTP 404 RESOURCE_DOES_NOT_EXIST"}]},
        "policies": policy_rows(scale),
        "changes": {"sources": [
            {"source_system": "dxr", "label": "Data X-Ray", "snapshots": _snapshots(scale)},
            {"source_system": "workspace", "label": "Databricks workspace", "snapshots": [
                {"snapshot_id": "20250304T113232Z-0001", "ingestion_date": DATES[-1], "files_total": 95 * scale,
                 "bytes_total": 3_345_402_746 * scale, "files_added": 95 * scale, "files_removed": 0,
                 "files_changed": 0, "bytes_added": 3_345_402_746 * scale, "bytes_removed": 0}]},
        ]},
        "disposition": {
            "by_status": {"confirmed": 5 * scale, "pending": 2 * scale - 1, "reappeared": 2, "restored": 1},
            "total": 7 * scale + 2,
            "reappeared": [
                {"source_system": "dxr", "file_id": "dxr-reappeared-1", "path": EVIL_PATH, "policy": "duplicate",
                 "reviewer": "rita", "archived_at": "2025-03-02T10:00:00Z", "archive_location": "/archive/ab/x.pdf",
                 "checked_snapshot_id": "20250304T090000Z-0004", "checked_at": "2025-03-04T09:00:00Z"},
                {"source_system": "workspace", "file_id": "workspace:/Users/a@example.com/old.csv",
                 "path": "/Users/a@example.com/old.csv", "policy": "retention", "reviewer": None,
                 "archived_at": "2025-03-02T10:00:00Z", "archive_location": "/archive/cd/old.csv",
                 "checked_snapshot_id": "20250304T113232Z-0001", "checked_at": "2025-03-04T11:30:00Z"},
            ],
        },
        "owners": {"top": [
            {"owner": "alice@example.com", "files": 120 * scale, "bytes": 4_000_000_000 * scale, "flagged_files": 12},
            {"owner": "bob@example.com", "files": 30, "bytes": 1_000_000, "flagged_files": 0},
        ], "unowned_files": 17},
    }


def without_sources() -> dict:
    """What collect_report_data returns for a state directory with no tables."""
    catalogue = [{**p, "in_catalogue": True, "detected_on": None, "files": None, "bytes": None, "owners": None,
                  "suppressed_files": None, "files_change": None, "bytes_change": None} for p in CATALOGUE]
    return {"generated_at": "2025-03-04T12:00:00Z", "tables": {}, "freshness": [], "headline": {}, "rules": [],
            "worst_rules": [], "duplicates": None, "owners": None, "users": None, "changes": None, "disposition": None,
            "policies": {"computed": False, "table": None, "detected_on": None, "previous_detected_on": None,
                         "first_run": False, "summary": catalogue}}


def copy_of(data: dict) -> dict:
    return copy.deepcopy(data)


class PageIndex(HTMLParser):
    """The parts of a report page the tests look at: metrics, charts, bars, rendered sizes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.metrics: dict[str, dict] = {}
        self.charts: dict[str, dict] = {}
        self.bars: dict[str, list[dict]] = {}
        self.table_rows: dict[str, str] = {}
        self.sections: dict[str, dict] = {}  # <section id> -> its attributes, in page order
        self.scripts = 0
        self.external: list[str] = []
        self._open_metric: list = []
        self._chart = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        for name in ("src", "href"):
            if a.get(name) and not a[name].startswith("#"):
                self.external.append(a[name])
        if "data-metric" in a:
            entry = {"value": a.get("data-value"), "text": "", "attrs": a}
            self.metrics[a["data-metric"]] = entry
            self._open_metric.append((tag, entry))
        elif self._open_metric:
            self._open_metric.append((tag, None))
        if tag == "svg" and "data-chart" in a:
            self.charts[a["data-chart"]] = a
            self._chart = a["data-chart"]
            self.bars[self._chart] = []
        if tag == "rect" and self._chart and "data-date" in a:
            self.bars[self._chart].append(a)
        if tag == "section" and a.get("id"):
            self.sections[a["id"]] = a
        if "data-table-rows" in a:
            self.table_rows[a["data-table-rows"]] = a.get("data-value")

    def handle_endtag(self, tag):
        if tag == "svg":
            self._chart = None
        if self._open_metric:
            self._open_metric.pop()

    def handle_data(self, data):
        for _, entry in self._open_metric:
            if entry is not None:
                entry["text"] += data


def index_page(text: str) -> PageIndex:
    page = PageIndex()
    page.feed(text)
    page.close()
    return page


# --- headless Chromium -----------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
    # No name resolves: the page must render from the file alone.
    "--host-resolver-rules=MAP * ~NOTFOUND",
)
MEASURE_SCRIPT = """<script>
for (const el of document.querySelectorAll('svg[data-chart], svg[data-chart] rect.bar, [data-metric], section[id]')) {
  const box = el.getBoundingClientRect();
  el.setAttribute('data-rendered-width', box.width.toFixed(1));
  el.setAttribute('data-rendered-height', box.height.toFixed(1));
  el.setAttribute('data-rendered-top', (box.top + window.scrollY).toFixed(1));
}
document.body.setAttribute('data-measured', '1');
</script>"""


def chromium(profile: Path, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    """Run headless Chromium once with its own profile directory."""
    command = [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"chromium exited {result.returncode}\n{result.stderr[-3000:]}")
    return result


def rendered_dom(page: Path, work: Path) -> str:
    """The DOM of `page` after Chromium laid it out, with every chart, bar and number annotated
    with its rendered size (data-rendered-width / -height). The report itself has no script:
    the measuring script goes into a copy."""
    measured = work / f"measured-{page.name}"
    measured.write_text(page.read_text(encoding="utf-8").replace("</body>", MEASURE_SCRIPT + "</body>"), encoding="utf-8")
    return chromium(work / "profile-dom", "--virtual-time-budget=2000", "--dump-dom", measured.as_uri()).stdout


def screenshot(page: Path, png: Path, work: Path, size: str = "1280,2400") -> bytes:
    chromium(work / f"profile-{png.stem}", f"--window-size={size}", f"--screenshot={png}", page.as_uri())
    return png.read_bytes()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
