"""Rules files, the pydantic model, the loader and its validation (mostly without Spark)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from file_records.datasets import DATASETS
from file_records.expectations.rules import (
    ACTIONS,
    KNOWN_DATASETS,
    RULES_DIR,
    ExpectationConfigError,
    Rule,
    by_action,
    check_rules,
    load_all,
    load_file,
    load_rules,
    sql_problem,
    validate_sql,
)

EXPECTED = {
    "silver_file_records": {
        "json_parsed": "drop",
        "file_id_present": "drop",
        "path_present": "drop",
        "size_not_negative": "drop",
        "sha256_format": "drop",
        "modified_not_future": "warn",
        "modified_after_created": "warn",
        "datasource_present": "drop",
    },
    "silver_workspace_files": {
        "user_is_email": "drop",
        "path_under_home": "drop",
        "size_not_negative": "drop",
        "size_exact_or_estimated": "warn",
    },
}


def write(directory: Path, name: str, body: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


GOOD = """\
- name: size_not_negative
  constraint: size IS NOT NULL AND size >= 0
  action: drop
  description: Size known and not negative.
"""


# ---------------------------------------------------------------- shipped rules


def test_shipped_rules_load_with_expected_names_and_actions():
    rules = load_all()
    assert set(rules) == set(EXPECTED) == set(KNOWN_DATASETS) == set(DATASETS)  # the registry's datasets
    for dataset, expected in EXPECTED.items():
        got = {r.name: r.action for r in rules[dataset]}
        assert got == expected
        for rule in rules[dataset]:
            assert rule.dataset == dataset
            assert rule.source == str(RULES_DIR / f"{dataset}.yml")
            assert rule.description and "\n" not in rule.description


def test_shipped_rules_parse_with_spark_parser(spark):
    for dataset in KNOWN_DATASETS:
        rules = load_rules(dataset, spark=spark)  # raises on any parse error
        validate_sql(rules, spark)
        assert rules


def test_load_rules_is_per_dataset():
    assert [r.name for r in load_rules("silver_workspace_files")] == list(EXPECTED["silver_workspace_files"])


def test_by_action_groups_name_to_constraint_in_order():
    grouped = by_action(load_rules("silver_file_records"))
    assert set(grouped) == set(ACTIONS)
    assert list(grouped["warn"]) == ["modified_not_future", "modified_after_created"]
    assert grouped["drop"]["size_not_negative"] == "size IS NOT NULL AND size >= 0"
    assert grouped["fail"] == {}


# ---------------------------------------------------------------- loader errors


def test_unknown_dataset_file_is_an_error_naming_the_file(tmp_path):
    path = write(tmp_path, "silver_nonsense.yml", GOOD)
    with pytest.raises(ExpectationConfigError) as err:
        load_all(tmp_path)
    assert str(path) in str(err.value)
    assert "unknown dataset 'silver_nonsense'" in str(err.value)
    with pytest.raises(ExpectationConfigError, match="unknown dataset"):
        load_file(path)


def test_unknown_dataset_name_in_load_rules(tmp_path):
    with pytest.raises(ExpectationConfigError) as err:
        load_rules("gold_whatever", tmp_path)
    assert "gold_whatever" in str(err.value) and str(tmp_path) in str(err.value)


def test_missing_rules_file_for_known_dataset(tmp_path):
    with pytest.raises(ExpectationConfigError, match="no rules file"):
        load_rules("silver_file_records", tmp_path)


def test_duplicate_rule_name_names_file_and_rule(tmp_path):
    path = write(
        tmp_path,
        "silver_file_records.yml",
        GOOD
        + """\
- name: size_not_negative
  constraint: size >= 0
  action: warn
  description: Again.
""",
    )
    with pytest.raises(ExpectationConfigError) as err:
        load_rules("silver_file_records", tmp_path)
    message = str(err.value)
    assert str(path) in message
    assert "rule 'size_not_negative'" in message
    assert "duplicate" in message


def test_unknown_action_names_file_and_rule(tmp_path):
    path = write(
        tmp_path,
        "silver_file_records.yml",
        """\
- name: path_present
  constraint: path IS NOT NULL
  action: dropp
  description: Path present.
""",
    )
    with pytest.raises(ExpectationConfigError) as err:
        load_rules("silver_file_records", tmp_path)
    message = str(err.value)
    assert str(path) in message
    assert "rule 'path_present'" in message
    assert "unknown action 'dropp'" in message and "warn, drop, fail" in message


def test_invalid_sql_without_spark_uses_python_check(tmp_path):
    path = write(
        tmp_path,
        "silver_file_records.yml",
        """\
- name: broken_parens
  constraint: (size >= 0
  action: drop
  description: Broken.
- name: broken_quote
  constraint: path = 'abc
  action: drop
  description: Broken.
""",
    )
    with pytest.raises(ExpectationConfigError) as err:
        load_rules("silver_file_records", tmp_path)
    message = str(err.value)
    assert len(err.value.problems) == 2  # every problem reported at once
    assert f"{path}: rule 'broken_parens'" in message and "parentheses" in message
    assert f"{path}: rule 'broken_quote'" in message and "unterminated" in message


def test_invalid_sql_with_spark_parser(tmp_path, spark):
    path = write(
        tmp_path,
        "silver_workspace_files.yml",
        """\
- name: bad_syntax
  constraint: size > > 1
  action: drop
  description: Does not parse.
- name: alias_trap
  constraint: size >= AND path
  action: drop
  description: Parses as an alias.
- name: fine
  constraint: size >= 0
  action: warn
  description: Parses.
""",
    )
    # The pure-Python check cannot see this one ...
    assert load_rules("silver_workspace_files", tmp_path)
    # ... Spark's parser can.
    with pytest.raises(ExpectationConfigError) as err:
        load_rules("silver_workspace_files", tmp_path, spark=spark)
    message = str(err.value)
    assert len(err.value.problems) == 2
    assert f"{path}: rule 'bad_syntax'" in message
    assert "PARSE_SYNTAX_ERROR" in message
    assert f"{path}: rule 'alias_trap'" in message and "alias" in message
    assert "fine" not in message


def test_missing_and_unknown_keys_and_bad_names(tmp_path):
    path = write(
        tmp_path,
        "silver_file_records.yml",
        """\
- name: no_description
  constraint: size >= 0
  action: warn
- name: extra_key
  constraint: size >= 0
  action: warn
  description: x
  severity: high
- name: Not-Snake
  constraint: size >= 0
  action: warn
  description: x
""",
    )
    with pytest.raises(ExpectationConfigError) as err:
        load_rules("silver_file_records", tmp_path)
    problems = err.value.problems
    assert len(problems) == 3
    assert all(p.startswith(str(path)) for p in problems)
    assert "rule 'no_description'" in problems[0] and "description" in problems[0]
    assert "rule 'extra_key'" in problems[1] and "severity" in problems[1]
    assert "rule 'Not-Snake'" in problems[2] and "snake_case" in problems[2]


def test_not_a_list(tmp_path):
    path = write(tmp_path, "silver_file_records.yml", "name: x\n")
    with pytest.raises(ExpectationConfigError, match="expected a YAML list") as err:
        load_rules("silver_file_records", tmp_path)
    assert str(path) in str(err.value)


def test_empty_file(tmp_path):
    write(tmp_path, "silver_file_records.yml", "")
    with pytest.raises(ExpectationConfigError, match="empty file"):
        load_rules("silver_file_records", tmp_path)


def test_load_all_reports_every_file(tmp_path):
    write(tmp_path, "silver_file_records.yml", GOOD.replace("drop", "nope"))
    write(tmp_path, "silver_unknown.yml", GOOD)
    with pytest.raises(ExpectationConfigError) as err:
        load_all(tmp_path)
    assert len(err.value.problems) == 2


def test_check_rules_for_inline_rules():
    rules = check_rules(
        [
            {"name": "a", "constraint": "x > 0", "action": "warn", "description": "a"},
            Rule(name="b", constraint="y IS NULL", action="fail", description="b"),
        ],
        dataset="silver_file_records",
    )
    assert [r.name for r in rules] == ["a", "b"]
    assert all(r.dataset == "silver_file_records" for r in rules)
    with pytest.raises(ExpectationConfigError, match="<inline rules>: rule 'a'.*duplicate"):
        check_rules(
            [
                {"name": "a", "constraint": "x > 0", "action": "warn", "description": "a"},
                {"name": "a", "constraint": "x > 1", "action": "warn", "description": "a"},
            ]
        )


# ---------------------------------------------------------------- pure-Python SQL check


@pytest.mark.parametrize(
    "constraint",
    [
        "size IS NOT NULL AND size >= 0",
        "content_sha256 IS NULL OR content_sha256 RLIKE '^[0-9a-f]{64}$'",
        "path = 'it''s (not) a paren'",
        "name = 'a\\'b' AND (x > 1)",
        "`weird col)` > 0",
        "note = 'please select one'",
    ],
)
def test_sql_problem_accepts(constraint):
    assert sql_problem(constraint) is None


@pytest.mark.parametrize(
    "constraint, fragment",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("(a > 1", "not closed"),
        ("a > 1)", "unexpected ')'"),
        ("a = 'x", "unterminated"),
        ("a > 1; DROP TABLE t", "single expression"),
        ("file_id IN (SELECT id FROM other)", "subquery"),
    ],
)
def test_sql_problem_rejects(constraint, fragment):
    problem = sql_problem(constraint)
    assert problem is not None and fragment in problem
