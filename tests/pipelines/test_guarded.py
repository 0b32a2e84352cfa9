"""The candidates table keeps the raw line only where the quarantine shows it (pipelines/guarded.py)."""

from __future__ import annotations

import pytest

from file_records.expectations.rules import Rule
from file_records.pipelines.guarded import _raw_lines_of_quarantined_rows_only

pytestmark = pytest.mark.spark

COLUMNS = ("file_id", "size", "raw_json")


def _rule(constraint: str, action: str = "drop") -> Rule:
    return Rule(name="size_not_negative", constraint=constraint, action=action, description="d")


def _rows(spark):
    return spark.createDataFrame([("ok", 1, '{"ok":1}'), ("bad", -1, '{"bad":1}')], "file_id string, size long, raw_json string")


def _raw(df):
    return {r.file_id: r.raw_json for r in df.collect()}


def test_only_rows_a_drop_or_fail_rule_breaks_keep_their_raw_line(spark):
    kept = _raw_lines_of_quarantined_rows_only(_rows(spark), [_rule("size >= 0")], COLUMNS)
    assert _raw(kept) == {"ok": None, "bad": '{"bad":1}'}
    warned = _raw_lines_of_quarantined_rows_only(_rows(spark), [_rule("size >= 0", "warn")], COLUMNS)
    assert _raw(warned) == {"ok": None, "bad": None}  # a warn rule quarantines nothing


def test_a_rule_that_reads_the_raw_line_keeps_every_raw_line(spark):
    rules = [_rule("size >= 0"), _rule("raw_json IS NOT NULL")]
    assert _raw(_raw_lines_of_quarantined_rows_only(_rows(spark), rules, COLUMNS)) == {"ok": '{"ok":1}', "bad": '{"bad":1}'}
    no_raw = _rows(spark).select("file_id", "size")
    kept = _raw_lines_of_quarantined_rows_only(no_raw, [_rule("size >= 0")], ("file_id", "size"))
    assert kept.columns == ["file_id", "size"]
