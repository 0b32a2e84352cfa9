"""Policy catalogue models and loader (no Spark)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from file_records.policies.model import (
    DEFAULT_CATALOGUE,
    PolicyConfigError,
    load_catalogue,
    load_holds,
    parse_catalogue,
    parse_overrides,
    render_template,
    sql_literal,
)

EXPECTED = ["duplicate", "retention", "rot", "stale", "oversized", "orphaned", "sensitive_exposed", "legal_hold",
            "keep_forever"]


def base_data() -> dict:
    return yaml.safe_load(DEFAULT_CATALOGUE.read_text())


def write(tmp_path: Path, data) -> Path:
    p = tmp_path / "catalogue.yml"
    p.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return p


def test_default_catalogue_loads():
    cat = load_catalogue()
    assert cat.names == EXPECTED
    assert cat.source == str(DEFAULT_CATALOGUE)
    assert {p.action for p in cat.policies} <= {"archive", "review", "delete", "keep", "hold"}
    assert cat.get("legal_hold").action == "hold"
    assert cat.get("keep_forever").action == "keep"
    assert cat.get("duplicate").destructive and not cat.get("stale").destructive
    assert cat.get("stale").predicate_sql == "days_since_modified > 1825"
    assert cat.get("oversized").parameters["size_limit_bytes"] == 5 * 1024**3
    assert cat.get("orphaned").requires == ("users",)


def test_sql_literals():
    assert sql_literal(True) == "TRUE"
    assert sql_literal(7) == "7"
    assert sql_literal(0.5) == "0.5D"
    assert sql_literal("O'Brien \\ x") == "'O\\'Brien \\\\ x'"
    assert sql_literal(["a", "b'c"]) == "array('a', 'b\\'c')"
    assert sql_literal([]) == "CAST(array() AS ARRAY<STRING>)"
    assert render_template("x > {n} AND y = '{{literal}}'", {"n": 3}) == "x > 3 AND y = '{literal}'"
    assert render_template("x LIKE ANY ({p*})", {"p": ["a%", "b'"]}) == "x LIKE ANY ('a%', 'b\\'')"
    assert render_template("x IN ({p *})", {"p": []}) == "x IN (CAST(NULL AS STRING))"


def test_spread_placeholder_needs_a_list():
    data = base_data()
    data["policies"][0]["predicate"] = "size IN ({limit*})"
    data["policies"][0]["parameters"] = {"limit": 5}
    with pytest.raises(PolicyConfigError, match=r"\{limit\*\} spreads a list, but that parameter is not a list"):
        parse_catalogue(data)


def test_parameter_injection_is_quoted(tmp_path):
    data = base_data()
    overrides = {"keep_forever": {"keep_labels": ["x') OR TRUE OR ('"]}}
    cat = parse_catalogue(data, overrides=overrides)
    assert "'x\\') OR TRUE OR (\\''" in cat.get("keep_forever").predicate_sql


def test_overrides(tmp_path):
    cat = load_catalogue(overrides={"stale": {"stale_days": 365}, "oversized": {"size_limit_bytes": "500 MB"}})
    assert cat.get("stale").predicate_sql == "days_since_modified > 365"
    assert cat.get("oversized").parameters["size_limit_bytes"] == 500_000_000
    assert parse_overrides(["stale.stale_days=90", "rot.rot_labels=[rot]"]) == {
        "stale": {"stale_days": 90}, "rot": {"rot_labels": ["rot"]}}
    with pytest.raises(PolicyConfigError, match="unknown parameter"):
        load_catalogue(overrides={"stale": {"stael_days": 3}})
    with pytest.raises(PolicyConfigError, match="unknown policy"):
        load_catalogue(overrides={"nope": {"x": 1}})
    with pytest.raises(PolicyConfigError, match="stale_days"):
        load_catalogue(overrides={"stale": {"stale_days": -1}})
    assert cat.get("stale").with_parameters(stale_days=10).predicate_sql == "days_since_modified > 10"


def _broken(tmp_path, mutate) -> PolicyConfigError:
    data = base_data()
    mutate(data)
    path = write(tmp_path, data)
    with pytest.raises(PolicyConfigError) as info:
        load_catalogue(path)
    assert str(path) in str(info.value)
    return info.value


@pytest.mark.parametrize(
    "mutate, policy, words",
    [
        (lambda d: d["policies"][3].update(name="Stale"), "Stale", ["name", "lower-case"]),
        (lambda d: d["policies"][3].update(action="shred"), "stale", ["action"]),
        (lambda d: d["policies"][3].update(severity="urgent"), "stale", ["severity"]),
        (lambda d: d["policies"][3].update(predicat="x"), "stale", ["predicat"]),
        (lambda d: d["policies"][3].update(predicate="days_since_modified > {stale_dayz}"), "stale",
         ["{stale_dayz}", "predicate"]),
        (lambda d: d["policies"][3]["parameters"].update(extra_days=3), "stale", ["extra_days", "declared but"]),
        (lambda d: d["policies"][3]["parameters"].update(stale_days=-5), "stale", ["stale_days", "negative"]),
        (lambda d: d["policies"][3]["parameters"].update(stale_days="ninety"), "stale", ["stale_days", "integer"]),
        (lambda d: d["policies"][3]["parameters"].update(stale_days=True), "stale", ["stale_days"]),
        (lambda d: d["policies"][4]["parameters"].update(size_limit_bytes="lots"), "oversized", ["size_limit_bytes"]),
        (lambda d: d["policies"][3].update(requires=["printer"]), "stale", ["requires"]),
        (lambda d: d["policies"][3].update(predicate="  "), "stale", ["predicate"]),
        (lambda d: d["policies"][3].update(predicate="a > {"), "stale", ["unbalanced"]),
        (lambda d: d["policies"][3].pop("description"), "stale", ["description"]),
        (lambda d: d["policies"].append(copy.deepcopy(d["policies"][3])), "stale", ["duplicate policy name"]),
    ],
)
def test_bad_policy_names_file_policy_and_field(tmp_path, mutate, policy, words):
    err = _broken(tmp_path, mutate)
    assert err.policy == policy
    assert f"policy {policy!r}" in str(err)
    for w in words:
        assert w in str(err)


def test_bad_file_level(tmp_path):
    with pytest.raises(PolicyConfigError, match="not valid YAML at line 3"):
        load_catalogue(write(tmp_path, "version: 1\npolicies: [\n  - name: x\n"))
    with pytest.raises(PolicyConfigError, match="non-empty list"):
        load_catalogue(write(tmp_path, {"version": 1, "policies": []}))
    with pytest.raises(PolicyConfigError, match="version"):
        load_catalogue(write(tmp_path, {"version": 2, "policies": base_data()["policies"]}))
    with pytest.raises(PolicyConfigError, match="unknown top-level"):
        load_catalogue(write(tmp_path, {**base_data(), "polices": []}))
    with pytest.raises(PolicyConfigError, match="cannot read"):
        load_catalogue(tmp_path / "missing.yml")


def test_holds_default_and_errors(tmp_path):
    holds = load_holds()
    assert {h.match_type for h in holds} == {"file_id", "path_prefix", "path_glob", "content_sha256"}
    p = tmp_path / "holds.csv"
    p.write_text("hold_id,match_type,value,reason,added_by,added_on\nH1,path_regex,/x,r,a,2026-01-01\n")
    with pytest.raises(PolicyConfigError) as info:
        load_holds(p)
    assert str(p) in str(info.value) and "line 2" in str(info.value) and "match_type" in str(info.value)
    p.write_text("hold_id,match_type,value\nH2,content_sha256,abc\n")
    with pytest.raises(PolicyConfigError, match="64 hexadecimal"):
        load_holds(p)
    p.write_text("hold_id,match_type,value,colour\nH3,file_id,x,red\n")
    with pytest.raises(PolicyConfigError, match="unknown column"):
        load_holds(p)
    p.write_text("hold_id,match_type,value,added_on\nH4,File_ID, abc ,\n\n")
    (hold,) = load_holds(p)
    assert hold.match_type == "file_id" and hold.value == "abc" and hold.added_on is None


def test_error_names_the_field(tmp_path):
    err = _broken(tmp_path, lambda d: d["policies"][3]["parameters"].update(stale_days=-5))
    assert err.field == "parameters.stale_days" and err.policy == "stale"
    err = _broken(tmp_path, lambda d: d["policies"][3].update(predicate="days_since_modified > {nope}"))
    assert err.field == "predicate"
    err = _broken(tmp_path, lambda d: d["policies"][3].update(action="shred"))
    assert err.field == "action"
