"""The Databricks CLI's bundle JSON schema, made usable by Python's jsonschema.

The schema is test data in this repository (``tests/bundle/data/bundle_schema.json``, see the README
next to it), so the bundle checks run wherever the tests run; a missing or unreadable schema is a
test failure, never a skip.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Iterator

import jsonschema

DATA_DIR = Path(__file__).resolve().parent / "data"
SCHEMA_FILE = DATA_DIR / "bundle_schema.json"
SCHEMA_README = DATA_DIR / "README.md"


def python_pattern(pattern: str) -> str:
    """The schema's patterns use \\p{L} / \\p{N} (Go RE2 / ECMA with u-flag); Python's re has neither."""
    translated = (
        pattern.replace(r"[\p{L}\p{N}]", r"[^\W_]")  # letter or digit
        .replace(r"\p{L}", r"[^\W\d_]")  # letter
        .replace(r"\p{N}", r"\d")
    )
    assert r"\p" not in translated, f"untranslated Unicode class in schema pattern {pattern!r}"
    re.compile(translated)
    return translated


def _translate_patterns(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: python_pattern(value) if key == "pattern" and isinstance(value, str) else _translate_patterns(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_translate_patterns(item) for item in node]
    return node


def schema_sha256() -> str:
    assert SCHEMA_FILE.is_file(), f"the bundle JSON schema is missing: {SCHEMA_FILE} (see {SCHEMA_README.name})"
    return hashlib.sha256(SCHEMA_FILE.read_bytes()).hexdigest()


@functools.lru_cache(maxsize=1)
def raw_schema() -> dict:
    assert SCHEMA_FILE.is_file(), f"the bundle JSON schema is missing: {SCHEMA_FILE} (see {SCHEMA_README.name})"
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert isinstance(schema, dict) and "properties" in schema and "$defs" in schema, f"{SCHEMA_FILE} is no bundle schema"
    return schema


@functools.lru_cache(maxsize=1)
def schema_validator():
    schema = _translate_patterns(raw_schema())
    # No "$schema" in the file; "$defs" and the rest are draft 2020-12.
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls.check_schema(schema)
    return cls(schema)


def _explain(error, depth: int = 0) -> list[str]:
    where = "/".join(str(p) for p in error.absolute_path) or "<root>"
    lines = [f"{'  ' * depth}{where}: {error.message[:300]}"]
    # oneOf / anyOf: show why the object-shaped branch failed, which is the interesting one.
    for sub in sorted(error.context or [], key=lambda e: -len(e.absolute_path))[:4]:
        lines.extend(_explain(sub, depth + 1))
    return lines


def schema_errors(document: dict) -> list[str]:
    errors = sorted(schema_validator().iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    return [line for error in errors for line in _explain(error)]


def schema_node(ref: str) -> dict:
    """The node a local ``$ref`` ("#/$defs/...") points at."""
    assert ref.startswith("#/"), f"only local references are supported: {ref!r}"
    node: Any = raw_schema()
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def resolve_refs(schema: dict) -> dict:
    """Follow ``$ref`` until the node has none; sibling keywords override the referenced ones."""
    seen = 0
    while "$ref" in schema:
        assert seen < 50, f"$ref cycle at {schema['$ref']!r}"
        schema = {**schema_node(schema["$ref"]), **{k: v for k, v in schema.items() if k != "$ref"}}
        seen += 1
    return schema


def flagged_fields(schema: dict, instance: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Fields the schema marks deprecated or private preview, following the instance."""
    schema = resolve_refs(schema)
    branches = schema.get("oneOf") or schema.get("anyOf")
    if branches:
        wanted = "object" if isinstance(instance, dict) else "array" if isinstance(instance, list) else None
        for branch in branches:
            if wanted and branch.get("type") == wanted:
                yield from flagged_fields(branch, instance, path)
                return
        return
    if isinstance(instance, dict):
        properties = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        for key, value in instance.items():
            sub = properties.get(key, additional if isinstance(additional, dict) else None)
            if not sub:
                continue
            child = f"{path}.{key}" if path else key
            if sub.get("deprecated"):
                yield child, sub.get("deprecationMessage", "deprecated")
            if sub.get("x-databricks-launch-stage") == "PRIVATE_PREVIEW":
                yield child, "private preview"
            yield from flagged_fields(sub, value, child)
    elif isinstance(instance, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(instance):
            yield from flagged_fields(schema["items"], item, f"{path}[{index}]")
