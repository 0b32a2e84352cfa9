"""The bundle against the Databricks CLI's published bundle JSON schema, offline.

`databricks.yml` and every `resources/*.yml` on its own as a root document, the merged document,
and the merged document of every target after its overrides and variables are applied. The schema
is test data in the repository (tests/bundle/data): these tests never skip.
"""

from __future__ import annotations

import copy
import re

import pytest

from tests.bundle.document import (
    ROOT,
    TARGETS,
    bundle_files,
    load_yaml,
    merged_document,
    resolve_target,
    strings,
    the_pipeline,
)
from tests.bundle.schema import (
    SCHEMA_README,
    flagged_fields,
    python_pattern,
    raw_schema,
    resolve_refs,
    schema_errors,
    schema_sha256,
)


def test_the_schema_is_the_documented_copy():
    readme = SCHEMA_README.read_text(encoding="utf-8")
    assert "databricks bundle schema" in readme, "say where the schema comes from"
    assert schema_sha256() in readme, "the schema changed: update the source and checksum in data/README.md"
    # The bundle's own sections are in it, so it is the bundle schema and not some other one.
    assert {"bundle", "resources", "targets", "variables", "include", "workspace"} <= set(raw_schema()["properties"])


def test_schema_pattern_translation_keeps_the_interpolation_rules():
    pattern = re.compile(python_pattern(r"\$\{(var(\.\p{L}+([-_]*[\p{L}\p{N}]+)*(\[[0-9]+\])*)+)\}"))
    for good in ("${var.catalog}", "${var.dxr_base_url}", "${var.a-b2}", "${var.list[0]}", "${var.é}"):
        assert pattern.search(good), good
    for bad in ("${var.1abc}", "${var._x}", "${catalog}", "$var.catalog", "${var.}"):
        assert not pattern.search(bad), bad


def _object_branch(node: dict) -> dict:
    node = resolve_refs(node)
    (branch,) = [b for b in node.get("oneOf", [node]) if b.get("type") == "object"]
    return branch


def test_refs_resolve_to_the_pipeline_definition():
    resources = _object_branch(raw_schema()["properties"]["resources"])
    pipelines = _object_branch(resources["properties"]["pipelines"])
    pipeline = _object_branch(pipelines["additionalProperties"])
    assert {"root_path", "libraries", "environment", "configuration", "serverless"} <= set(pipeline["properties"])


def test_the_schema_rejects_a_broken_pipeline():
    # The checks below pass only if the validator can fail: a misspelt field, a wrong type.
    key, pipeline = the_pipeline()
    for field, value in (("serverles", True), ("libraries", "pipelines/transformations/**"), ("serverless", [])):
        broken = copy.deepcopy(pipeline)
        broken[field] = value
        assert schema_errors({"resources": {"pipelines": {key: broken}}}) != [], (field, value)


@pytest.mark.parametrize("path", bundle_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_each_file_is_a_valid_root_document(path):
    assert schema_errors(load_yaml(path)) == []


def test_merged_document_is_valid():
    assert schema_errors(merged_document()) == []


@pytest.mark.parametrize("target", TARGETS)
def test_target_resolves_to_a_valid_document(target):
    resolved, _ = resolve_target(target)
    leftover = [(path, value) for path, value in strings(resolved) if "${var." in value]
    assert leftover == [], f"unresolved variables in target {target}: {leftover}"
    assert schema_errors(resolved) == []


@pytest.mark.parametrize("path", bundle_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_top_level_keys_are_known(path):
    # The schema's root has additionalProperties {}: a misspelt top-level key would pass it.
    known = set(raw_schema()["properties"]) - {"environments"}  # "environments" is the deprecated "targets"
    assert set(load_yaml(path)) <= known


def test_no_deprecated_or_private_preview_fields():
    flagged = list(flagged_fields(raw_schema(), merged_document()))
    for target in TARGETS:
        flagged.extend((f"[{target}] {p}", why) for p, why in flagged_fields(raw_schema(), resolve_target(target)[0]))
    assert flagged == []
