"""`query` is read-only: the lexical checker (no Spark) and the in-process CLI refusing before Spark."""

from __future__ import annotations

import pytest

from file_records import cli
from file_records.errors import UsageError
from file_records.sql_guard import ReadOnlyError, check_read_only

ALLOWED = [
    ("SELECT * FROM gold_duplicate_files", "SELECT"),
    ("select 1", "SELECT"),
    ("  -- a comment\n/* and /* a nested */ one */ SELECT 1", "SELECT"),
    ("((SELECT 1))", "SELECT"),
    ("SELECT 1;", "SELECT"),
    ("SELECT 1 ;  -- done\n", "SELECT"),
    ("SELECT ';' AS semi, 'DROP TABLE x; --' AS s", "SELECT"),
    ("SELECT `a;b` FROM t WHERE x = \"y;\" AND z = 'it\\'s; fine'", "SELECT"),
    ("WITH a AS (SELECT 1 AS x) SELECT * FROM a", "WITH"),
    ("WITH a (x) AS (SELECT 1), b AS (SELECT * FROM a) SELECT * FROM b", "WITH"),
    ("WITH a AS (SELECT 1) (SELECT * FROM a)", "WITH"),
    ("VALUES (1, 'a'), (2, 'b')", "VALUES"),
    ("TABLE gold_policy_flags", "TABLE"),
    ("SHOW TABLES", "SHOW"),
    ("DESCRIBE gold_policy_flags", "DESCRIBE"),
    ("desc TABLE gold_policy_flags", "DESCRIBE"),
    ("EXPLAIN SELECT 1", "EXPLAIN"),
    ("EXPLAIN FORMATTED WITH a AS (SELECT 1) SELECT * FROM a", "EXPLAIN"),
]

REFUSED = [
    ("DROP TABLE gold_policy_flags", "DROP"),
    ("drop table x", "DROP"),
    ("INSERT INTO t VALUES (1)", "INSERT"),
    ("INSERT OVERWRITE DIRECTORY '/tmp/x' SELECT 1", "INSERT"),
    ("DELETE FROM t WHERE 1=1", "DELETE"),
    ("CREATE TABLE t AS SELECT 1", "CREATE"),
    ("CREATE TEMP VIEW v AS SELECT 1", "CREATE"),
    ("ALTER TABLE t RENAME TO u", "ALTER"),
    ("CACHE TABLE t", "CACHE"),
    ("UNCACHE TABLE t", "UNCACHE"),
    ("SET spark.sql.ansi.enabled=false", "SET"),
    ("ADD JAR /tmp/evil.jar", "ADD"),
    ("MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE", "MERGE"),
    ("UPDATE t SET a = 1", "UPDATE"),
    ("TRUNCATE TABLE t", "TRUNCATE"),
    ("REFRESH TABLE t", "REFRESH"),
    ("MSCK REPAIR TABLE t", "MSCK"),
    ("LOAD DATA LOCAL INPATH '/tmp/x' INTO TABLE t", "LOAD"),
    ("USE other", "USE"),
    ("FROM t INSERT INTO u SELECT *", "FROM"),
    ("-- harmless\n/* SELECT */ DROP TABLE t", "DROP"),
    ("(DROP TABLE t)", "DROP"),
    ("/* /* nested */ SELECT 1 */ DROP TABLE t", "DROP"),
    ("WITH a AS (SELECT 1 AS x) INSERT INTO t SELECT * FROM a", "INSERT"),
    ("WITH a AS (SELECT 1) DELETE FROM t", "DELETE"),
    ("EXPLAIN INSERT INTO t SELECT 1", "INSERT"),
    ("EXPLAIN EXTENDED DROP TABLE t", "DROP"),
]

MULTIPLE = [
    "SELECT 1; DROP TABLE t",
    "SELECT 1;DROP TABLE t;",
    "SELECT ';'; DROP TABLE t",
    "SELECT 1; -- trailing\n DROP TABLE t",
    "SELECT 1; SELECT 2",
]

MALFORMED = ["", "   ", "-- only a comment", "/* unterminated SELECT 1", "SELECT 'unterminated",
             "; SELECT 1", "WITH a AS SELECT 1", "42", "EXPLAIN EXPLAIN SELECT 1"]


@pytest.mark.parametrize(("sql", "keyword"), ALLOWED)
def test_reads_are_allowed(sql, keyword):
    assert check_read_only(sql) == keyword


@pytest.mark.parametrize(("sql", "keyword"), REFUSED)
def test_writes_and_commands_are_refused(sql, keyword):
    with pytest.raises(ReadOnlyError) as exc:
        check_read_only(sql)
    message = str(exc.value)
    assert "read-only" in message and keyword in message and "\n" not in message
    assert isinstance(exc.value, UsageError) and exc.value.exit_code == 2


@pytest.mark.parametrize("sql", MULTIPLE)
def test_multiple_statements_are_refused(sql):
    with pytest.raises(ReadOnlyError, match="one statement at a time"):
        check_read_only(sql)


@pytest.mark.parametrize("sql", MALFORMED)
def test_malformed_statements_are_refused(sql):
    with pytest.raises(ReadOnlyError):
        check_read_only(sql)


def test_cli_refuses_a_drop_before_spark_starts(capsys, tmp_path, monkeypatch):
    """No state directory exists: the refusal must come before reading_session (which would say
    'no pipeline state') and before any JVM."""
    import file_records.local.runner as runner

    def no_spark(*args, **kwargs):
        raise AssertionError("Spark must not start for a refused statement")

    monkeypatch.setattr(runner, "reading_session", no_spark)
    code = cli.main(["query", "DROP TABLE gold_policy_flags", "--state-dir", str(tmp_path / "nowhere")])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2
    assert len(lines) <= 2 and "Traceback" not in err  # one message (rich may wrap it)
    assert "read-only" in err and "DROP" in err
    assert not (tmp_path / "nowhere").exists()


def test_a_typo_in_the_first_keyword_is_named():
    with pytest.raises(ReadOnlyError, match="SELEC does not start a statement"):
        check_read_only("SELEC * FROM x")


class _Blank(Exception):
    def __str__(self) -> str:
        return "\n\n   \n[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'. SQLSTATE: 42601\n== SQL ==\nSELEC"


def test_reason_skips_leading_blank_lines():
    from file_records.commands.query import _reason

    assert _reason(_Blank()) == "[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'. SQLSTATE: 42601"
    assert _reason(Exception("\n \n")) == "Exception"
    assert _reason(Exception("")) == "Exception"
