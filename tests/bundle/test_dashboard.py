"""The AI/BI dashboard: datasets over the project's tables only, widgets over existing datasets
and fields, a layout on the grid."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterator

from tests.bundle.document import resource_file, the_dashboard

# The tables the pipeline publishes (issues 2 to 5): the only names a dashboard query may read.
PROJECT_TABLES = frozenset(
    {
        "bronze_dxr_files",
        "silver_file_records",
        "silver_file_records_quarantine",
        "gold_duplicate_files",
        "bronze_workspace_objects",
        "silver_workspace_files",
        "gold_user_inventory",
        "gold_expectation_metrics",
        "gold_policy_flags",
        "gold_policy_summary",
        "gold_file_changes",
        "gold_disposition_status",
    }
)
# What the dashboard must show (issue 6): inventory by user, duplicates, policy flags over time,
# data-quality pass rates.
DASHBOARD_MUST_READ = frozenset(
    {"gold_user_inventory", "gold_duplicate_files", "gold_policy_summary", "gold_expectation_metrics",
     "gold_file_changes"}  # issue 13: what changed per snapshot, as a trend
)


def dashboard_path() -> Path:
    key, dashboard = the_dashboard()
    return (resource_file("dashboards", key).parent / dashboard["file_path"]).resolve()


def dashboard_json() -> dict:
    return json.loads(dashboard_path().read_text(encoding="utf-8"))


def dataset_sql(dataset: dict) -> str:
    if "queryLines" in dataset:
        return "".join(dataset["queryLines"])
    return dataset["query"]


def test_dashboard_resource():
    _, dashboard = the_dashboard()
    assert dashboard_path().is_file()
    assert dashboard_path().name.endswith(".lvdash.json")
    assert dashboard["warehouse_id"] == "${var.warehouse_id}"
    assert dashboard["dataset_catalog"] == "${var.catalog}"
    assert dashboard["dataset_schema"] == "${var.schema}"
    assert dashboard["display_name"]


_SQL_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_SQL_STRING = re.compile(r"'(?:[^'\\]|\\.)*'")
_TABLE_REF = re.compile(r"\b(?:FROM|JOIN)\s+(?!\()([`\w.]+)", re.I)
_CTE_NAME = re.compile(r"(?:\bWITH|,)\s*(\w+)\s+AS\s*\(", re.I)


def tables_read(sql: str) -> set[str]:
    sql = _SQL_STRING.sub("''", _SQL_COMMENT.sub(" ", sql))
    ctes = {name.lower() for name in _CTE_NAME.findall(sql)}
    return {ref.replace("`", "") for ref in _TABLE_REF.findall(sql)} - ctes


def test_dashboard_datasets_read_only_project_tables():
    datasets = dashboard_json()["datasets"]
    assert datasets
    for dataset in datasets:
        sql = dataset_sql(dataset)
        assert "${" not in sql, f"{dataset['name']}: bundle interpolation does not reach the dashboard JSON"
        read = tables_read(sql)
        assert read, f"{dataset['name']} reads no table"
        qualified = sorted(t for t in read if "." in t)
        assert qualified == [], f"{dataset['name']}: use unqualified names (dataset_catalog/schema apply): {qualified}"
        unknown = sorted(read - PROJECT_TABLES)
        assert unknown == [], f"{dataset['name']} reads tables the pipeline does not publish: {unknown}"


def test_dashboard_shows_inventory_duplicates_policies_and_quality():
    read = set().union(*(tables_read(dataset_sql(d)) for d in dashboard_json()["datasets"]))
    assert DASHBOARD_MUST_READ <= read


def _widgets(dashboard: dict) -> Iterator[tuple[str, dict, dict]]:
    for page in dashboard["pages"]:
        for item in page["layout"]:
            yield page["name"], item["widget"], item["position"]


def test_dashboard_widgets_use_existing_datasets_and_fields():
    dashboard = dashboard_json()
    datasets = {d["name"]: dataset_sql(d) for d in dashboard["datasets"]}
    assert len(datasets) == len(dashboard["datasets"]), "dataset names must be unique"
    used: set[str] = set()
    for page, widget, _ in _widgets(dashboard):
        for query in widget.get("queries", []):
            name = query["query"]["datasetName"]
            assert name in datasets, f"{page}/{widget['name']} uses unknown dataset {name!r}"
            used.add(name)
            fields = {f["name"] for f in query["query"]["fields"]}
            for field in query["query"]["fields"]:
                for column in re.findall(r"`([^`]+)`", field["expression"]):
                    assert column == "*" or re.search(rf"\b{re.escape(column)}\b", datasets[name]), (
                        f"{page}/{widget['name']}: column {column!r} is not in dataset {name}"
                    )
            spec = widget.get("spec", {})
            encodings = spec.get("encodings", {})
            referenced = [
                enc["fieldName"]
                for enc in [*encodings.values(), *encodings.get("columns", []), *encodings.get("fields", [])]
                if isinstance(enc, dict) and "fieldName" in enc
            ]
            for field_name in referenced:
                assert field_name in fields, f"{page}/{widget['name']}: encoding uses {field_name!r}, not a query field"
    assert used == set(datasets), f"datasets no widget uses: {sorted(set(datasets) - used)}"


def test_dashboard_layout():
    dashboard = dashboard_json()
    assert {p["displayName"] for p in dashboard["pages"]} >= {"Inventory by user", "Duplicates", "Policy flags", "Data quality"}
    names = [widget["name"] for _, widget, _ in _widgets(dashboard)]
    assert len(names) == len(set(names)), "widget names must be unique"
    for page, widget, position in _widgets(dashboard):
        assert 0 <= position["x"] and position["x"] + position["width"] <= 6, f"{page}/{widget['name']} is off the grid"
        assert position["y"] >= 0 and position["height"] >= 1
        assert "queries" in widget or "multilineTextboxSpec" in widget or "textbox_spec" in widget
