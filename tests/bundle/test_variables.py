"""Variables, references and targets: what `databricks bundle validate` resolves, checked offline.

Every `${var.X}` is declared, every variable has a value in every target, every `${...}` is well
formed and every `${resources...}` reference names a defined resource.
"""

from __future__ import annotations

import re

import pytest

from tests.bundle.document import (
    ANY_REF,
    RESOURCE_REF,
    TARGETS,
    VAR_REF,
    WELL_FORMED_REF,
    apply_target,
    bundle_files,
    interpolate,
    load_yaml,
    merged_document,
    resolve_target,
    root_document,
    strings,
    variable_values,
)


def test_every_variable_used_is_declared():
    declared = set(root_document()["variables"])
    for path in bundle_files():
        for where, value in strings(load_yaml(path)):
            for match in VAR_REF.finditer(value):
                assert match.group(1) in declared, f"{path.name}: {where} uses undeclared ${{var.{match.group(1)}}}"


def test_every_reference_is_well_formed():
    for path in bundle_files():
        for where, value in strings(load_yaml(path)):
            assert value.count("${") == len(ANY_REF.findall(value)), f"{path.name}: {where}: unclosed ${{ in {value!r}"
            for inner in ANY_REF.findall(value):
                assert WELL_FORMED_REF.fullmatch(inner), f"{path.name}: {where}: malformed reference ${{{inner}}}"


def test_the_interpolation_checks_can_fail():
    # The helpers above and in document.py reject what the CLI rejects.
    for bad in ("${var.1x}", "${vars.catalog}", "${var.}"):
        assert not WELL_FORMED_REF.fullmatch(bad[2:-1]), bad
    with pytest.raises(AssertionError, match="is not declared"):
        interpolate("${var.no_such_variable}", {"catalog": "main"}, {})
    with pytest.raises(AssertionError, match="used inside a string"):
        interpolate("to ${var.emails}", {"emails": ["a@example.com"]}, {})
    assert interpolate("${var.emails}", {"emails": ["a@example.com"]}, {}) == ["a@example.com"]
    assert interpolate("${var.flag}", {"flag": True}, {}) is True
    assert interpolate("x-${var.flag}", {"flag": True}, {}) == "x-true"
    with pytest.raises(AssertionError, match="no such variable"):
        resolve_target("dev", overrides={"no_such_variable": "x"})


def test_resource_references_name_defined_resources():
    doc = merged_document()
    for where, value in strings(doc):
        for kind, key, _field in RESOURCE_REF.findall(value):
            assert key in (doc["resources"].get(kind) or {}), f"{where}: ${{resources.{kind}.{key}...}} is not defined"


def test_resource_keys_are_unique_across_types():
    # `databricks bundle run KEY` and `bundle open KEY` need one resource per key.
    keys = [key for items in merged_document()["resources"].values() for key in items]
    assert len(keys) == len(set(keys)), keys


def test_variables_are_described_and_complex_ones_typed():
    for name, decl in root_document()["variables"].items():
        assert decl.get("description"), f"variable {name} has no description"
        default = decl.get("default")
        if isinstance(default, (dict, list)):
            assert decl.get("type") == "complex", f"variable {name} has a non-scalar default but is not type: complex"
    for target, settings in root_document()["targets"].items():
        for name, value in (settings.get("variables") or {}).items():
            if isinstance(value, list):
                assert root_document()["variables"][name].get("type") == "complex", (target, name)


@pytest.mark.parametrize("target", TARGETS)
def test_every_variable_has_a_value_in_every_target(target):
    doc, _ = apply_target(merged_document(), target)
    _, missing = variable_values(doc)
    assert missing == []


def test_targets_dev_and_prod():
    targets = root_document()["targets"]
    assert set(targets) == set(TARGETS)
    dev, prod = targets["dev"], targets["prod"]
    assert dev["mode"] == "development" and dev.get("default") is True
    assert not prod.get("default")
    assert prod["mode"] == "production"
    # Per-user schema in dev, as the Lakeflow templates do.
    assert dev["variables"]["schema"] == "${workspace.current_user.short_name}"
    # Production: an explicit root path (one copy) and permissions.
    assert str(prod["workspace"]["root_path"]).startswith("/Workspace/")
    assert "${bundle.target}" in prod["workspace"]["root_path"]
    assert prod["permissions"] and all(p.get("level") for p in prod["permissions"])


def test_bundle_identity():
    bundle = root_document()["bundle"]
    assert bundle["name"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", bundle["uuid"])
    assert root_document()["include"] == ["resources/*.yml"]
