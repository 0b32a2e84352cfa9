"""`query` with a small classic local Spark: the parsed-plan check (defence in depth behind the
lexical one), the reason of a SQL error, and formula-safe CSV output."""

from __future__ import annotations

import argparse
import contextlib
import csv
import io

import pytest
from rich.console import Console

from file_records.commands import query as query_cmd
from file_records.errors import UsageError
from file_records.sql_guard import ReadOnlyError, check_plan

PLAN_READS = [
    "SELECT 1",
    "(SELECT 1)",
    "WITH a AS (SELECT 1 AS x) SELECT * FROM a",
    "VALUES (1)",
    "TABLE t",
    "SHOW TABLES",
    "SHOW CREATE TABLE t",
    "DESCRIBE t",
    "DESCRIBE QUERY SELECT 1",
    "EXPLAIN SELECT 1",
    "EXPLAIN SHOW TABLES",
]

PLAN_WRITES = [
    "DROP TABLE t",
    "INSERT INTO t SELECT 1",
    "INSERT OVERWRITE DIRECTORY '/tmp/file-records-never' SELECT 1",  # InsertIntoDir: not a Command
    "WITH a AS (SELECT 1 AS x) INSERT INTO t SELECT * FROM a",  # a write under UnresolvedWith
    "FROM t INSERT INTO u SELECT *",
    "CACHE TABLE t",
    "SET a=b",
    "ADD JAR /tmp/x.jar",
    "CREATE TEMP VIEW v AS SELECT 1",
    "REFRESH TABLE t",
    "MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE",
    "EXPLAIN INSERT INTO t SELECT 1",
]


@pytest.mark.parametrize("sql", PLAN_READS)
def test_plan_check_passes_reads(spark, sql):
    check_plan(spark, sql)


@pytest.mark.parametrize("sql", PLAN_WRITES)
def test_plan_check_refuses_writes(spark, sql):
    with pytest.raises(ReadOnlyError, match="read-only"):
        check_plan(spark, sql)


def test_plan_check_gives_the_parser_reason(spark):
    with pytest.raises(UsageError) as exc:
        check_plan(spark, "SELECT * FORM x WHERE")
    message = str(exc.value)
    assert message.startswith("the query failed: ") and len(message) > len("the query failed: ") + 5
    assert "\n" not in message


def test_a_typo_has_a_reason(spark):
    from pyspark.errors import ParseException

    with pytest.raises(ParseException) as exc:
        spark.sql("SELEC * FROM x")
    reason = query_cmd._reason(exc.value)
    assert reason.strip() and "SELEC" in reason


def test_csv_output_is_formula_safe(spark, monkeypatch, capsys):
    @contextlib.contextmanager
    def session(state_dir):
        yield spark

    import file_records.local.runner as runner

    monkeypatch.setattr(runner, "reading_session", session)
    args = argparse.Namespace(
        sql="SELECT '=HYPERLINK(\"http://evil\",\"x\")' AS link, '+1' AS plus, 'plain' AS text, 7 AS n, '-2' AS `=col`",
        state_dir=None, format="csv", limit=None, engine="spark",
    )
    assert query_cmd.run(args, Console(stderr=True)) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["link", "plus", "text", "n", "'=col"]
    assert rows[1] == ["'=HYPERLINK(\"http://evil\",\"x\")", "'+1", "plain", "7", "'-2"]
