"""The HTML report: one self-contained page over the local tables.

`collect_report_data(spark)` reads the tables into plain Python data, `render_report(data)`
turns that into HTML (inline CSS and SVG, no scripts, nothing fetched), and `write_report`
does both for a state directory.
"""

from __future__ import annotations

from file_records.report.data import collect_report_data, redact
from file_records.report.render import render_report

__all__ = ["collect_report_data", "redact", "render_report"]
