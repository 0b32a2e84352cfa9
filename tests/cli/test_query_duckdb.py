"""`query` on its default engine, DuckDB over the committed table files (no JVM): the three output
formats, the one stderr line that names the engine (stdout stays the result alone), errors as one
line, and the read-only checks in front of DuckDB."""

from __future__ import annotations

import csv
import io

import orjson
import pytest

from file_records import cli
from file_records.commands import query as query_cmd
from file_records.local.tables import ENGINE_NOTE, open_tables
from file_records.sql_guard import ReadOnlyError
from tests.local.test_tables import make_state


@pytest.fixture
def state(tmp_path):
    return make_state(tmp_path / "state")


@pytest.fixture(autouse=True)
def no_spark(monkeypatch):
    import file_records.local.runner as runner

    def refuse(*args, **kwargs):
        raise AssertionError("Spark must not start")

    monkeypatch.setattr(runner, "reading_session", refuse)


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


SQL = ("SELECT file_id, path, owner, size, detected_on, suppressed_by FROM gold_policy_flags "
       "WHERE policy = 'duplicate' ORDER BY file_id")


def test_csv_is_formula_safe_and_stdout_holds_only_the_rows(capsys, state):
    code, out, err = run_cli(capsys, "query", SQL, "--format", "csv", "--state-dir", str(state))
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows == [["file_id", "path", "owner", "size", "detected_on", "suppressed_by"],
                    ["f1", "/Docs/a.docx", "Alice@Example.com", "10", "2026-03-01", ""],
                    ["f2", "'=HYPERLINK(\"http://evil\")", "bob@example.com", "20", "2026-03-01", "legal_hold"]]
    assert ENGINE_NOTE in " ".join(err.split())


def test_json_values_are_plain(capsys, state):
    sql = ("SELECT file_id, detected_on, 1.50::DECIMAL(5, 2) AS ratio, 2.00::DECIMAL(5, 2) AS whole, "
           "[path] AS paths, {'size': size} AS info FROM gold_policy_flags ORDER BY file_id LIMIT 1")
    code, out, err = run_cli(capsys, "query", sql, "--format", "json", "--state-dir", str(state))
    assert code == 0
    assert orjson.loads(out) == [{"file_id": "f1", "detected_on": "2026-03-01", "ratio": 1.5, "whole": 2,
                                  "paths": ["/Docs/a.docx"], "info": {"size": 10}}]
    assert "DuckDB" in err


def test_table_format_limit_and_engine_note(capsys, state):
    code, out, err = run_cli(capsys, "query", "SELECT file_id FROM bronze_dxr_files ORDER BY file_id",
                             "--state-dir", str(state), "--limit", "2")
    assert code == 0
    assert "b1" in out and "b2" in out and "b3" not in out and "uncommitted" not in out
    text = " ".join(err.split())
    assert "2 row(s)" in text and ENGINE_NOTE in text


def test_the_explicit_engine_flag(capsys, state):
    code, out, _ = run_cli(capsys, "query", "SELECT count(*) AS n FROM bronze_dxr_files", "--engine", "duckdb",
                           "--format", "csv", "--state-dir", str(state))
    assert (code, out.split()) == (0, ["n", "3"])  # the uncommitted part file is not read
    with pytest.raises(SystemExit):
        cli.main(["query", "SELECT 1", "--engine", "presto"])


def test_a_failed_query_is_one_usage_error(capsys, state):
    code, out, err = run_cli(capsys, "query", "SELECT nope FROM gold_policy_flags", "--engine", "duckdb",
                             "--state-dir", str(state))
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and out == ""
    assert "the query failed: Binder Error" in err and len(lines) <= 2


def test_auto_hands_spark_sql_and_show_to_spark(capsys, state, monkeypatch):
    asked = []

    def spark(args, limit):
        asked.append(args.sql)
        return ["from_spark"], [[1]]

    monkeypatch.setattr(query_cmd, "_run_spark", spark)
    # Spark SQL that DuckDB does not speak (a higher-order function): answered by Spark, and said so
    code, out, err = run_cli(capsys, "query", "SELECT exists(array(1), x -> x > 0) AS any_positive",
                             "--format", "csv", "--state-dir", str(state))
    assert (code, out.split()) == (0, ["from_spark", "1"])
    assert "DuckDB cannot run this statement" in err and "Spark SQL" in err
    # SHOW / DESCRIBE keep Spark's output columns
    run_cli(capsys, "query", "SHOW TABLES", "--state-dir", str(state))
    assert asked == ["SELECT exists(array(1), x -> x > 0) AS any_positive", "SHOW TABLES"]
    # what DuckDB runs, it answers
    code, out, err = run_cli(capsys, "query", "SELECT 1 AS one", "--format", "csv", "--state-dir", str(state))
    assert out.split() == ["one", "1"] and "DuckDB" in err and len(asked) == 2


def test_missing_state_is_the_usual_error(capsys, tmp_path):
    code, _, err = run_cli(capsys, "query", "SELECT 1", "--state-dir", str(tmp_path / "nowhere"))
    assert code == 2 and "no pipeline state in" in err
    assert not (tmp_path / "nowhere").exists()


def test_writes_are_refused_before_and_by_duckdb(capsys, state, tmp_path):
    code, _, err = run_cli(capsys, "query", f"COPY gold_policy_flags TO '{tmp_path / 'x.csv'}'",
                           "--state-dir", str(state))
    assert code == 2 and "read-only" in err
    with open_tables(state) as con:
        query_cmd._check_statement(con, "SELECT 1")
        query_cmd._check_statement(con, "EXPLAIN SELECT 1")
        for sql in ("COPY (SELECT 1) TO 'x.csv'", "SELECT 1; SELECT 2", "PRAGMA version"):
            with pytest.raises(ReadOnlyError, match="read-only"):
                query_cmd._check_statement(con, sql)
        with pytest.raises(query_cmd._NotDuckDb):
            query_cmd._check_statement(con, "SELECT FROM WHERE (")
    assert not (tmp_path / "x.csv").exists()
