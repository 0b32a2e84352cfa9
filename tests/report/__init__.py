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
                {"key": "bad-negative-size-01", "failed_rules": ["size_not_negative"], "path": EVIL_PATH,
                 "excerpt": '{"fileId":"bad-negative-size-01","size":-5,"note":"<img src=x onerror=alert(1)>"}'},
                {"key": None, "failed_rules": ["json_parsed", "size_not_negative"], "path": None,
                 "excerpt": '{"fileId": "broken-1", "fileName":'},
            ],
        },
        {
            "dataset": "silver_file_records", "rule": "modified_not_future", "action": "warn",
            "description": "The last-modified time is not more than one day in the future.", "date": DATES[-1],
            "failed": 1, "total": dxr_totals[-1], "failure_rate": 1 / dxr_totals[-1],
            "quarantined": None, "kept": True,
            "examples": [{"key": "bad-mod-in-future-01", "failed_rules": ["modified_not_future"],
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
        "policies": {"summary": [
            {"policy": "duplicate_copy", "action": "archive", "severity": "medium", "detected_on": DATES[-1],
             "files": 20 * scale, "bytes": 900_000 * scale, "files_change": 3},
            {"policy": "rot_empty_file", "action": "delete", "severity": "low", "detected_on": DATES[-1],
             "files": 11 * scale, "bytes": 0, "files_change": None},
        ]},
    }


def without_sources() -> dict:
    """What collect_report_data returns for a state directory with no tables."""
    return {"generated_at": "2025-03-04T12:00:00Z", "tables": {}, "freshness": [], "headline": {}, "rules": [],
            "worst_rules": [], "duplicates": None, "users": None, "policies": None}


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
for (const el of document.querySelectorAll('svg[data-chart], svg[data-chart] rect.bar, [data-metric]')) {
  const box = el.getBoundingClientRect();
  el.setAttribute('data-rendered-width', box.width.toFixed(1));
  el.setAttribute('data-rendered-height', box.height.toFixed(1));
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
