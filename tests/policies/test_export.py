"""Export filters, CSV/JSON writers and formula neutralisation."""

from __future__ import annotations

import csv
import datetime as dt
import io

import orjson
import pytest

from file_records.errors import UsageError
from file_records.policies.export import (
    export_flags,
    export_rows,
    export_table,
    filter_flags,
    neutralise_cell,
    read_csv_rows,
    unneutralise_cell,
    with_plan_columns,
)

FLAGS_DDL = ("source_system string, file_id string, path string, owner string, size bigint, policy string,"
             " action string, severity string, reason string, suppressed_by string, detected_on date")
D = dt.date(2026, 3, 1)
FLAG_ROWS = [
    ("dxr", "f1", "/Docs/a.docx", "Alice@Example.com", 10, "duplicate", "archive", "low", "copy", None, D),
    ("dxr", "f2", "=HYPERLINK(\"http://evil\")", "bob@example.com", 20, "duplicate", "archive", "low", "copy",
     "legal_hold", D),
    ("dxr", "f3", "/Docs/c.docx", "alice@example.com", 30, "stale", "review", "low", "+old", None, D),
    ("workspace", "workspace:/Users/c/x", "/Users/c/x", "carol@example.com", 1, "orphaned", "review", "medium",
     "-gone", None, D),
]


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tcmd", "\rcmd", "'=already"])
def test_neutralise_dangerous(value):
    out = neutralise_cell(value)
    assert out == "'" + value
    assert unneutralise_cell(out) == value


@pytest.mark.parametrize("value", ["plain", "a=b", "", " =x", "/path/-x", "report-2024.pdf", "'quoted"])
def test_neutralise_safe(value):
    if value.startswith("'"):
        assert neutralise_cell(value) == "''quoted"  # prefixed so the round trip is exact
    else:
        assert neutralise_cell(value) == value
    assert unneutralise_cell(neutralise_cell(value)) == value


def test_neutralise_non_strings():
    assert neutralise_cell(-5) == -5
    assert neutralise_cell(None) is None
    assert neutralise_cell(1.5) == 1.5


def test_export_rows_csv(tmp_path):
    rows = [
        {"path": "=cmd|' /C calc'!A0", "owner": "@evil", "size": -1, "labels": ["=x", "ok"], "when": D,
         "note": None, "flag": True},
        {"path": "/ok/path.txt", "owner": "dana@example.com", "size": 3, "labels": [], "when": D, "note": "-5",
         "flag": False},
    ]
    out = tmp_path / "sub" / "out.csv"
    assert export_rows(rows, "csv", out) == 2
    with open(out, newline="", encoding="utf-8") as fh:
        data = list(csv.reader(fh))
    assert data[0] == ["path", "owner", "size", "labels", "when", "note", "flag"]
    assert data[1] == ["'=cmd|' /C calc'!A0", "'@evil", "-1", '["=x","ok"]', "2026-03-01", "", "true"]
    assert data[2] == ["/ok/path.txt", "dana@example.com", "3", "[]", "2026-03-01", "'-5", "false"]
    assert not any(tmp_path.joinpath("sub").glob("*.part"))
    header, back = read_csv_rows(out)
    assert back[0]["path"] == "=cmd|' /C calc'!A0" and back[1]["note"] == "-5"


def test_export_rows_json_and_errors(tmp_path):
    rows = [{"path": "=x", "size": 1, "when": D}]
    out = tmp_path / "out.json"
    assert export_rows(rows, "json", out) == 1
    assert orjson.loads(out.read_bytes()) == [{"path": "=x", "size": 1, "when": "2026-03-01"}]
    stream = io.StringIO()  # what the command passes for --out -
    assert export_rows(rows, "json", stream) == 1
    assert orjson.loads(stream.getvalue()) == [{"path": "=x", "size": 1, "when": "2026-03-01"}]
    assert export_rows([], "json", tmp_path / "empty.json") == 0
    assert orjson.loads((tmp_path / "empty.json").read_bytes()) == []
    assert export_rows([], "csv", tmp_path / "empty.csv", columns=["a", "b"]) == 0
    assert (tmp_path / "empty.csv").read_bytes() == b"a,b\r\n"
    with pytest.raises(ValueError):
        export_rows(rows, "xlsx", tmp_path / "x.xlsx")
    with pytest.raises(UsageError):  # a ValueError and a UsageError: the CLI reports it in one line
        export_rows(rows, "xlsx", tmp_path / "x.xlsx")

    def boom():
        yield {"a": 1}
        raise RuntimeError("stream broke")

    existing = tmp_path / "keep.csv"
    existing.write_text("previous export\n")
    with pytest.raises(RuntimeError):
        export_rows(boom(), "csv", existing)
    assert existing.read_text() == "previous export\n"  # never a half-written file
    assert not list(tmp_path.glob("*.part"))


@pytest.fixture(scope="module")
def flags_df(spark):
    return spark.createDataFrame(FLAG_ROWS, FLAGS_DDL)


def test_filter_flags(flags_df):
    def ids(df):
        return sorted(r["file_id"] for r in df.collect())

    assert ids(filter_flags(flags_df)) == ["f1", "f2", "f3", "workspace:/Users/c/x"]
    assert ids(filter_flags(flags_df, policy="duplicate")) == ["f1", "f2"]
    assert ids(filter_flags(flags_df, policy="duplicate,stale", action="review")) == ["f3"]
    assert ids(filter_flags(flags_df, action=["review"])) == ["f3", "workspace:/Users/c/x"]
    assert ids(filter_flags(flags_df, owner="ALICE@example.com")) == ["f1", "f3"]
    assert ids(filter_flags(flags_df, policy="Duplicate", owner="alice@example.com")) == ["f1"]
    assert ids(filter_flags(flags_df, policy="nope")) == []


def test_export_flags_end_to_end(flags_df, spark, tmp_path):
    files = spark.createDataFrame(
        [("dxr", "f1", "a" * 64, "Legal SP", "a.docx"), ("dxr", "f2", "b" * 64, "Legal SP", "b.docx")],
        "source_system string, file_id string, content_sha256 string, datasource_name string, file_name string")
    plan_df = with_plan_columns(flags_df, files)
    assert plan_df.columns[-3:] == ["content_sha256", "datasource_name", "file_name"]
    out = tmp_path / "dup.csv"
    assert export_flags(plan_df, out, "csv", policy="duplicate") == 2
    text = out.read_text()
    assert "'=HYPERLINK" in text
    header, rows = read_csv_rows(out)
    assert header[:11] == ["source_system", "file_id", "path", "owner", "size", "policy", "action", "severity",
                           "reason", "suppressed_by", "detected_on"]
    by_id = {r["file_id"]: r for r in rows}
    assert by_id["f1"]["content_sha256"] == "a" * 64
    assert by_id["f2"]["path"] == '=HYPERLINK("http://evil")'
    assert by_id["f2"]["suppressed_by"] == "legal_hold"
    out_json = tmp_path / "stale.json"
    assert export_flags(flags_df, out_json, "json", action="review", owner="carol@example.com") == 1
    (only,) = orjson.loads(out_json.read_bytes())
    assert only["reason"] == "-gone" and only["detected_on"] == "2026-03-01"


def test_export_table(flags_df, spark, tmp_path):
    files = spark.createDataFrame(
        [("dxr", "f1", "a" * 64, "Legal SP", "a.docx")],
        "source_system string, file_id string, content_sha256 string, datasource_name string, file_name string")
    tables = {"cat.sch.gold_policy_flags": flags_df, "cat.sch.silver_all_files": files}

    def read_table(name):
        if name not in tables:
            raise LookupError(f"table {name} not found")
        return tables[name]

    out = tmp_path / "dup.csv"
    result = export_table(read_table, "cat.sch.gold_policy_flags", out, "csv", policy=["duplicate"])
    assert (result.rows, result.out, result.plan_columns, result.warnings) == (2, str(out), True, [])
    header, rows = read_csv_rows(out)
    assert "content_sha256" in header and {r["file_id"] for r in rows} == {"f1", "f2"}
    with pytest.raises(LookupError, match="not found"):
        export_table(read_table, "cat.sch.nope", out)
    with pytest.raises(UsageError):
        export_table(read_table, "cat.sch.gold_policy_flags", out, "xml")
    # without silver_all_files the flags still export, with a warning
    del tables["cat.sch.silver_all_files"]
    result = export_table(read_table, "cat.sch.gold_policy_flags", out)
    assert result.rows == 4 and not result.plan_columns
    assert "--allow-unhashed" in result.warnings[0]
    assert "content_sha256" not in read_csv_rows(out)[0]
    # ... unless the files table was named explicitly
    with pytest.raises(LookupError):
        export_table(read_table, "cat.sch.gold_policy_flags", out, files_table="cat.sch.silver_all_files")


# --------------------------------------------------------------------------- review sheets, proof log


def test_review_sheet_columns_first_and_empty(tmp_path):
    from file_records.policies.export import REVIEW_COLUMNS, review_sheet

    rows, columns = review_sheet(iter([{"path": "=x", "policy": "duplicate"}]), ["path", "policy"])
    assert columns == ["decision", "reviewer", "comment", "path", "policy"] and tuple(columns[:3]) == REVIEW_COLUMNS
    out = tmp_path / "r.csv"
    assert export_rows(rows, "csv", out, columns=columns) == 1
    header, back = read_csv_rows(out)
    assert header == columns and back == [{"decision": "", "reviewer": "", "comment": "", "path": "=x",
                                           "policy": "duplicate"}]
    with pytest.raises(UsageError, match="already has column"):
        review_sheet(iter([]), ["decision", "path"])


def test_export_table_for_review(flags_df, tmp_path):
    tables = {"gold_policy_flags": flags_df}
    out = tmp_path / "review.json"
    result = export_table(tables.__getitem__, "gold_policy_flags", out, "json", for_review=True, plan_columns=False)
    assert result.rows == 4
    first = orjson.loads(out.read_bytes())[0]
    assert list(first)[:4] == ["decision", "reviewer", "comment", "source_system"]
    assert (first["decision"], first["reviewer"], first["comment"]) == ("", "", "")
    with pytest.raises(UsageError, match="review sheet"):
        export_table(tables.__getitem__, "silver_all_files", out, for_review=True)


def test_export_disposition_log(tmp_path):
    from file_records.remediation import PROOF_FIELDS, ProofContext, ProofLog
    from file_records.remediation.proof import export_disposition_log, make_record

    empty = export_disposition_log(tmp_path, tmp_path / "empty.csv")
    assert empty.rows == 0 and "no disposition-YYYYMMDD.jsonl" in empty.warnings[0]
    assert read_csv_rows(tmp_path / "empty.csv")[0] == PROOF_FIELDS
    log = tmp_path / "log"
    ProofLog(log).append(make_record(ProofContext(operator="+op"), action="archive", outcome="done", size=3))
    result = export_disposition_log(log, tmp_path / "p.csv")
    assert result.rows == 1 and result.warnings == []
    text = (tmp_path / "p.csv").read_text(encoding="utf-8")
    assert "'+op" in text
    _, (row,) = read_csv_rows(tmp_path / "p.csv")
    assert (row["operator"], row["size"], row["action"]) == ("+op", "3", "archive")
