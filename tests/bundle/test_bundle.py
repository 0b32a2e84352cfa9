"""The Databricks bundle, checked without a workspace.

What `databricks bundle validate` would catch (and some things it would not), offline:

* `databricks.yml` and every `resources/*.yml` against the Databricks CLI's published bundle
  JSON schema, each file on its own as a root document, the merged document, and the merged
  document of every target after its overrides and variables are applied;
* every `${var.X}` is declared, every variable has a value in every target, every
  `${resources...}` reference names a defined resource;
* the pipeline's libraries glob matches the pipeline files on disk, its configuration keys are
  the ones `file_records.pipeline_conf.ALL_KEYS` declares and the pipeline code reads them;
* the job's schedule, retries, notifications and pause status per target;
* the AI/BI dashboard: datasets over the project's tables only, widgets over existing datasets;
* no secret in the bundle, and docs/databricks.md covering variables, keys and commands.

The schema lives outside the repository (``../shared/schemas``, or the path in
``FILE_RECORDS_BUNDLE_SCHEMA``); the schema checks are skipped when it is not there.
"""

from __future__ import annotations

import ast
import copy
import functools
import json
import os
import re
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from file_records import pipeline_conf

ROOT = Path(__file__).resolve().parents[2]
BUNDLE_FILE = ROOT / "databricks.yml"
DOCS_FILE = ROOT / "docs" / "databricks.md"
TRANSFORMATIONS_DIR = ROOT / "pipelines" / "transformations"
SCHEMA_FILE = Path(
    os.environ.get("FILE_RECORDS_BUNDLE_SCHEMA", ROOT.parent / "shared" / "schemas" / "databricks-bundle.schema.json")
)

TARGETS = ("dev", "prod")

# The tables the pipeline publishes (issues 2 to 5): the only names a dashboard query may read.
PROJECT_TABLES = frozenset(
    {
        "bronze_dxr_files",
        "silver_file_records",
        "silver_file_records_quarantine",
        "gold_duplicate_files",
        "bronze_workspace_objects",
        "silver_workspace_files",
        "gold_user_inventory",
        "gold_expectation_metrics",
        "gold_policy_flags",
        "gold_policy_summary",
    }
)
# What the dashboard must show (issue 6): inventory by user, duplicates, policy flags over time,
# data-quality pass rates.
DASHBOARD_MUST_READ = frozenset(
    {"gold_user_inventory", "gold_duplicate_files", "gold_policy_summary", "gold_expectation_metrics"}
)

# Keys a target may carry that are not keys of the root document.
TARGET_ONLY_KEYS = frozenset({"mode", "default", "cluster_id", "compute_id", "git"})

VAR_REF = re.compile(r"\$\{var\.([A-Za-z][\w-]*)((?:\.[A-Za-z][\w-]*|\[\d+\])*)\}")
ANY_REF = re.compile(r"\$\{([^}]*)\}")
WELL_FORMED_REF = re.compile(
    r"(var|bundle|workspace|resources|artifacts)(\.[A-Za-z][A-Za-z0-9]*([-_]*[A-Za-z0-9]+)*(\[[0-9]+\])*)+"
)
RESOURCE_REF = re.compile(r"\$\{resources\.([A-Za-z_]+)\.([\w-]+)\.([\w.]+)\}")


# --------------------------------------------------------------------------------------------
# Loading and merging, the way the CLI does
# --------------------------------------------------------------------------------------------


def load_yaml(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.relative_to(ROOT)} is not a YAML mapping"
    return data


def root_document() -> dict:
    return load_yaml(BUNDLE_FILE)


def included_files() -> list[Path]:
    files: list[Path] = []
    for pattern in root_document().get("include", []):
        matched = sorted(ROOT.glob(pattern))
        assert matched, f"include pattern {pattern!r} matches no file"
        files.extend(matched)
    return files


def bundle_files() -> list[Path]:
    return [BUNDLE_FILE, *included_files()]


def deep_merge(base: Any, override: Any, path: str = "") -> Any:
    """Maps merge key by key; anything else is replaced by the override."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = deep_merge(base[key], value, f"{path}.{key}") if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(override)


def merged_document() -> dict:
    """databricks.yml with every included file merged in. Defining one resource twice is an error."""
    doc = copy.deepcopy(root_document())
    owners: dict[tuple[str, str], Path] = {}
    for path in included_files():
        part = load_yaml(path)
        for kind, items in (part.get("resources") or {}).items():
            for key in items or {}:
                previous = owners.setdefault((kind, key), path)
                assert previous == path, f"resources.{kind}.{key} is defined in {previous} and {path}"
        doc = deep_merge(doc, part)
    return doc


def apply_target(doc: dict, target: str) -> tuple[dict, dict]:
    """The root document as the CLI sees it for one target: (document, target-only settings)."""
    doc = copy.deepcopy(doc)
    targets = doc.pop("targets")
    assert target in targets, f"no target {target!r}"
    settings = copy.deepcopy(targets[target] or {})
    extra = {key: settings.pop(key) for key in list(settings) if key in TARGET_ONLY_KEYS}
    variables = doc.setdefault("variables", {})
    for name, value in (settings.pop("variables", None) or {}).items():
        assert name in variables, f"target {target} sets variable {name!r}, which is not declared"
        if isinstance(value, dict) and ({"default", "lookup"} & set(value)) and set(value) <= {
            "default",
            "lookup",
            "description",
            "type",
        }:
            variables[name] = {k: v for k, v in variables[name].items() if k not in ("default", "lookup")} | value
        else:
            variables[name] = {k: v for k, v in variables[name].items() if k not in ("default", "lookup")} | {
                "default": value
            }
    for key, value in settings.items():
        doc[key] = deep_merge(doc[key], value) if key in doc else copy.deepcopy(value)
    extra["target"] = target
    return doc, extra


def variable_values(doc: dict) -> tuple[dict[str, Any], list[str]]:
    values: dict[str, Any] = {}
    missing: list[str] = []
    for name, decl in (doc.get("variables") or {}).items():
        decl = decl or {}
        if "default" in decl:
            values[name] = decl["default"]
        elif "lookup" in decl:
            (kind, lookup_name), = decl["lookup"].items()
            values[name] = f"<id of {kind} {lookup_name!r}>"
        else:
            missing.append(name)
    return values, missing


def interpolate(node: Any, values: dict[str, Any], bundle: dict[str, str]) -> Any:
    """Replace ${var.X}, ${bundle.name} and ${bundle.target}; a whole-string reference keeps its type."""
    if isinstance(node, dict):
        return {key: interpolate(value, values, bundle) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(item, values, bundle) for item in node]
    if not isinstance(node, str):
        return node
    for name in VAR_REF.findall(node):
        assert name[0] in values, f"${{var.{name[0]}}} is not declared (in {node!r})"
    whole = VAR_REF.fullmatch(node)
    if whole and not whole.group(2):
        return copy.deepcopy(values[whole.group(1)])

    def one(match: re.Match) -> str:
        value = values[match.group(1)]
        assert not isinstance(value, (dict, list)), f"complex variable {match.group(1)} used inside a string: {node!r}"
        return str(value).lower() if isinstance(value, bool) else str(value)

    text = VAR_REF.sub(one, node)
    return text.replace("${bundle.name}", str(bundle.get("name"))).replace("${bundle.target}", str(bundle.get("target")))


def resolve_target(target: str) -> tuple[dict, dict]:
    """Target overrides applied and variables substituted until nothing changes."""
    doc, extra = apply_target(merged_document(), target)
    values, missing = variable_values(doc)
    assert not missing, f"target {target}: variables without a value: {missing}"
    bundle = {"name": doc["bundle"]["name"], "target": target}
    for _ in range(10):
        values = {name: interpolate(value, values, bundle) for name, value in values.items()}
    resolved = interpolate({k: v for k, v in doc.items() if k != "variables"}, values, bundle)
    resolved["variables"] = doc["variables"]
    return resolved, extra


def walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (path, scalar) pair of a parsed YAML / JSON document, keys included as ('path/', key)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}/", key
            yield from walk(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from walk(item, f"{path}[{index}]")
    else:
        yield path, node


def mapping_items(node: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """Every (path of the mapping, key, value) of a parsed document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from mapping_items(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from mapping_items(item, f"{path}[{index}]")


def strings(node: Any) -> Iterator[tuple[str, str]]:
    for path, value in walk(node):
        if isinstance(value, str):
            yield path, value


def only(mapping: dict, what: str) -> tuple[str, dict]:
    assert isinstance(mapping, dict) and len(mapping) == 1, f"expected exactly one {what}, got {list(mapping or {})}"
    return next(iter(mapping.items()))


def the_pipeline(doc: dict | None = None) -> tuple[str, dict]:
    return only((doc or merged_document())["resources"]["pipelines"], "pipeline")


def the_job(doc: dict | None = None) -> tuple[str, dict]:
    return only((doc or merged_document())["resources"]["jobs"], "job")


def the_dashboard(doc: dict | None = None) -> tuple[str, dict]:
    return only((doc or merged_document())["resources"]["dashboards"], "dashboard")


def resource_file(kind: str, key: str) -> Path:
    for path in included_files():
        if key in ((load_yaml(path).get("resources") or {}).get(kind) or {}):
            return path
    raise AssertionError(f"no file defines resources.{kind}.{key}")


# --------------------------------------------------------------------------------------------
# The published schema, made usable by Python's jsonschema
# --------------------------------------------------------------------------------------------


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


@functools.lru_cache(maxsize=1)
def raw_schema() -> dict:
    if not SCHEMA_FILE.is_file():
        pytest.skip(f"bundle JSON schema not found at {SCHEMA_FILE} (set FILE_RECORDS_BUNDLE_SCHEMA)")
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def schema_validator():
    jsonschema = pytest.importorskip("jsonschema")
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


def _schema_node(ref: str) -> dict:
    node: Any = raw_schema()
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def flagged_fields(schema: dict, instance: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Fields the schema marks deprecated or private preview, following the instance."""
    seen = 0
    while "$ref" in schema and seen < 50:
        schema = {**_schema_node(schema["$ref"]), **{k: v for k, v in schema.items() if k != "$ref"}}
        seen += 1
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


# --------------------------------------------------------------------------------------------
# Schema validation
# --------------------------------------------------------------------------------------------


def test_schema_pattern_translation_keeps_the_interpolation_rules():
    pattern = re.compile(python_pattern(r"\$\{(var(\.\p{L}+([-_]*[\p{L}\p{N}]+)*(\[[0-9]+\])*)+)\}"))
    for good in ("${var.catalog}", "${var.dxr_base_url}", "${var.a-b2}", "${var.list[0]}", "${var.é}"):
        assert pattern.search(good), good
    for bad in ("${var.1abc}", "${var._x}", "${catalog}", "$var.catalog", "${var.}"):
        assert not pattern.search(bad), bad


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


# --------------------------------------------------------------------------------------------
# Variables, references, targets
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# The pipeline
# --------------------------------------------------------------------------------------------


def glob_regex(pattern: str) -> re.Pattern:
    """Databricks pipeline glob: `**` crosses directories, `*` and `?` do not."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out)


def test_pipeline_shape():
    key, pipeline = the_pipeline()
    assert pipeline["serverless"] is True
    assert pipeline["catalog"] == "${var.catalog}"
    assert pipeline["schema"] == "${var.schema}"
    assert "clusters" not in pipeline  # serverless
    assert not pipeline.get("continuous"), "a triggered pipeline, run by the daily job"
    assert not pipeline.get("development"), "development comes from the target mode, never hard-coded"
    base = resource_file("pipelines", key).parent
    root_path = (base / pipeline["root_path"]).resolve()
    assert root_path.is_dir(), root_path
    assert ROOT == root_path or ROOT in root_path.parents, "root_path must stay inside the bundle"


def test_pipeline_installs_the_project():
    _, pipeline = the_pipeline()
    dependencies = pipeline["environment"]["dependencies"]
    assert "--editable ${workspace.file_path}" in dependencies
    # workspace.file_path is where the bundle root is synced: the pyproject.toml must be there and
    # must ship every package the pipeline imports.
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    include = re.search(r"\[tool\.setuptools\.packages\.find\][^\[]*include\s*=\s*\[([^\]]*)\]", pyproject)
    assert include, "pyproject.toml has no [tool.setuptools.packages.find] include list"
    for package in ("connectors", "expectations", "policies", "file_records", "pipelines"):
        assert f'"{package}*"' in include.group(1), f"pyproject.toml does not package {package}"


def test_libraries_glob_matches_the_pipeline_files():
    key, pipeline = the_pipeline()
    base = resource_file("pipelines", key).parent
    patterns = [lib["glob"]["include"] for lib in pipeline["libraries"] if "glob" in lib]
    assert patterns, "the pipeline has no libraries glob"
    regexes = []
    for pattern in patterns:
        absolute = os.path.normpath(base / pattern)
        assert absolute.startswith(str(ROOT) + os.sep), f"glob {pattern!r} leaves the bundle"
        regexes.append(glob_regex(Path(absolute).relative_to(ROOT).as_posix()))
    on_disk = sorted(
        p.relative_to(ROOT).as_posix() for p in TRANSFORMATIONS_DIR.rglob("*.py") if "__pycache__" not in p.parts
    )
    assert on_disk, "no pipeline source under pipelines/transformations"
    unmatched = [p for p in on_disk if not any(rx.fullmatch(p) for rx in regexes)]
    assert unmatched == []
    # Nothing outside the transformations folder is loaded as a pipeline source: pipelines/logic
    # holds plain functions imported by the transformations.
    outside = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "pipelines").rglob("*.py")
        if TRANSFORMATIONS_DIR not in p.parents and any(rx.fullmatch(p.relative_to(ROOT).as_posix()) for rx in regexes)
    ]
    assert outside == []


def configuration(doc: dict | None = None) -> dict[str, Any]:
    return the_pipeline(doc)[1].get("configuration") or {}


def test_configuration_keys_are_pipeline_conf_keys():
    keys = set(configuration())
    for target in TARGETS:
        keys |= set(configuration(resolve_target(target)[0]))
    unknown = sorted(keys - set(pipeline_conf.ALL_KEYS))
    assert unknown == [], f"not in file_records.pipeline_conf.ALL_KEYS: {unknown}"


@pytest.mark.parametrize("target", TARGETS)
def test_configuration_values_are_strings(target):
    # Spark confs are strings; the schema requires them too (map of string).
    for key, value in configuration(resolve_target(target)[0]).items():
        assert isinstance(value, str), f"{key} = {value!r}"


def test_keys_without_a_usable_default_are_set_or_documented():
    set_by_bundle = set(configuration())
    docs = DOCS_FILE.read_text(encoding="utf-8")
    for key, default in pipeline_conf.ALL_KEYS.items():
        if default == "" and key not in set_by_bundle:
            assert f"`{key}`" in docs, f"{key} has no default, is not set by the bundle and not documented as optional"


def test_the_dxr_source_is_wired():
    conf = configuration()
    assert conf["file_records.dxr.enabled"] == "${var.dxr_enabled}"
    assert conf["file_records.dxr.base_url"] == "${var.dxr_base_url}"
    assert conf["file_records.dxr.queries"] == "${var.dxr_query}"
    assert conf["file_records.dxr.token_scope"] == "${var.dxr_secret_scope}"
    assert conf["file_records.dxr.token_key"] == "${var.dxr_secret_key}"
    default_queries = json.loads(root_document()["variables"]["dxr_query"]["default"])
    assert default_queries == ['fileName:"*"']


def _pipeline_conf_aliases(tree: ast.AST) -> tuple[set[str], dict[str, str]]:
    modules: set[str] = set()
    functions: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "file_records":
            for alias in node.names:
                if alias.name == "pipeline_conf":
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module == "file_records.pipeline_conf":
            for alias in node.names:
                functions[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "file_records.pipeline_conf" and alias.asname:
                    modules.add(alias.asname)
    return modules, functions


def keys_read_by_pipeline_code(values: dict[str, str]) -> set[str]:
    """Configuration keys the pipeline sources read.

    Direct `spark.conf.get("key")` calls, key literals, and every call into
    file_records.pipeline_conf made from pipelines/ (run here with a recording `conf_get`, so keys
    read through helpers such as `dxr_source_options` count).
    """
    read: set[str] = set()

    def recorder(key: str, default: str | None = None) -> str | None:
        read.add(key)
        return values.get(key, default)

    sources = sorted(p for p in (ROOT / "pipelines").rglob("*.py") if "__pycache__" not in p.parts)
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        modules, functions = _pipeline_conf_aliases(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in pipeline_conf.ALL_KEYS:
                read.add(node.value)
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            target = None
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in modules:
                target = getattr(pipeline_conf, func.attr, None)
            elif isinstance(func, ast.Name) and func.id in functions:
                target = getattr(pipeline_conf, functions[func.id], None)
            if not callable(target) or not node.args:
                continue
            try:
                args = [ast.literal_eval(arg) for arg in node.args[1:]]
                kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg}
            except ValueError:
                continue  # non-literal arguments: the key-literal scan above still applies
            try:
                target(recorder, *args, **kwargs)
            except Exception:  # noqa: BLE001 - a helper may reject the values; what it read counts
                pass
    return read


def _resolved_conf_values() -> dict[str, str]:
    values = dict(pipeline_conf.ALL_KEYS)
    values.update({k: str(v) for k, v in configuration(resolve_target("dev")[0]).items()})
    return values


def test_pipeline_code_reads_every_configured_key():
    read = keys_read_by_pipeline_code(_resolved_conf_values())
    unread = sorted(set(configuration()) - read)
    assert unread == [], f"set by the bundle but never read by the pipeline code: {unread}"


def test_pipeline_code_reads_every_declared_key():
    read = keys_read_by_pipeline_code(_resolved_conf_values())
    unread = sorted(set(pipeline_conf.ALL_KEYS) - read)
    assert unread == [], f"in pipeline_conf.ALL_KEYS but never read by the pipeline code: {unread}"


def test_snapshot_interval_fits_a_daily_schedule():
    interval = int(configuration()["file_records.dxr.snapshot_interval_seconds"])
    # Below 24 h, so jitter in a daily schedule never skips a day; above 12 h, so a same-day re-run
    # does not take a second snapshot.
    assert 12 * 3600 <= interval < 24 * 3600
    text = resource_file("pipelines", the_pipeline()[0]).read_text(encoding="utf-8")
    comment = text.split("file_records.dxr.snapshot_interval_seconds")[0].rsplit("configuration:", 1)[-1]
    assert "jitter" in comment, "explain the snapshot interval in a YAML comment next to it"


# --------------------------------------------------------------------------------------------
# The job
# --------------------------------------------------------------------------------------------


def test_job_runs_the_pipeline_incrementally():
    _, job = the_job()
    pipeline_key, _ = the_pipeline()
    (task,) = job["tasks"]
    assert task["pipeline_task"]["pipeline_id"] == f"${{resources.pipelines.{pipeline_key}.id}}"
    assert task["pipeline_task"]["full_refresh"] is False
    assert task["max_retries"] == "${var.job_max_retries}"
    assert job["max_concurrent_runs"] == 1
    assert job["email_notifications"]["on_failure"] == "${var.notification_emails}"
    assert job["schedule"]["quartz_cron_expression"] == "${var.schedule_cron}"
    assert job["schedule"]["timezone_id"] == "${var.schedule_timezone}"
    assert job["schedule"]["pause_status"] == "${var.schedule_pause_status}"


def test_schedule_default_is_daily_at_0200_utc():
    variables = root_document()["variables"]
    fields = variables["schedule_cron"]["default"].split()
    assert len(fields) in (6, 7), "a Quartz cron has 6 or 7 fields"
    seconds, minutes, hours, day_of_month, month, day_of_week = fields[:6]
    assert (seconds, minutes, hours) == ("0", "0", "2")
    assert month == "*" and {day_of_month, day_of_week} == {"*", "?"}
    assert variables["schedule_timezone"]["default"] == "UTC"


@pytest.mark.parametrize("target,expected", [("dev", "PAUSED"), ("prod", "UNPAUSED")])
def test_schedule_pause_status_per_target(target, expected):
    _, job = the_job(resolve_target(target)[0])
    assert job["schedule"]["pause_status"] == expected


@pytest.mark.parametrize("target", TARGETS)
def test_retries_and_notifications_resolve(target):
    resolved, _ = resolve_target(target)
    _, job = the_job(resolved)
    (task,) = job["tasks"]
    assert isinstance(task["max_retries"], int) and task["max_retries"] >= 1
    assert isinstance(task["min_retry_interval_millis"], int)
    recipients = job["email_notifications"]["on_failure"]
    assert isinstance(recipients, list) and all("@" in r for r in recipients)


# --------------------------------------------------------------------------------------------
# The dashboard
# --------------------------------------------------------------------------------------------


def dashboard_path() -> Path:
    key, dashboard = the_dashboard()
    return (resource_file("dashboards", key).parent / dashboard["file_path"]).resolve()


def dashboard_json() -> dict:
    return json.loads(dashboard_path().read_text(encoding="utf-8"))


def dataset_sql(dataset: dict) -> str:
    if "queryLines" in dataset:
        return "".join(dataset["queryLines"])
    return dataset["query"]


def test_dashboard_resource():
    _, dashboard = the_dashboard()
    assert dashboard_path().is_file()
    assert dashboard_path().name.endswith(".lvdash.json")
    assert dashboard["warehouse_id"] == "${var.warehouse_id}"
    assert dashboard["dataset_catalog"] == "${var.catalog}"
    assert dashboard["dataset_schema"] == "${var.schema}"
    assert dashboard["display_name"]


_SQL_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_SQL_STRING = re.compile(r"'(?:[^'\\]|\\.)*'")
_TABLE_REF = re.compile(r"\b(?:FROM|JOIN)\s+(?!\()([`\w.]+)", re.I)
_CTE_NAME = re.compile(r"(?:\bWITH|,)\s*(\w+)\s+AS\s*\(", re.I)


def tables_read(sql: str) -> set[str]:
    sql = _SQL_STRING.sub("''", _SQL_COMMENT.sub(" ", sql))
    ctes = {name.lower() for name in _CTE_NAME.findall(sql)}
    return {ref.replace("`", "") for ref in _TABLE_REF.findall(sql)} - ctes


def test_dashboard_datasets_read_only_project_tables():
    datasets = dashboard_json()["datasets"]
    assert datasets
    for dataset in datasets:
        sql = dataset_sql(dataset)
        assert "${" not in sql, f"{dataset['name']}: bundle interpolation does not reach the dashboard JSON"
        read = tables_read(sql)
        assert read, f"{dataset['name']} reads no table"
        qualified = sorted(t for t in read if "." in t)
        assert qualified == [], f"{dataset['name']}: use unqualified names (dataset_catalog/schema apply): {qualified}"
        unknown = sorted(read - PROJECT_TABLES)
        assert unknown == [], f"{dataset['name']} reads tables the pipeline does not publish: {unknown}"


def test_dashboard_shows_inventory_duplicates_policies_and_quality():
    read = set().union(*(tables_read(dataset_sql(d)) for d in dashboard_json()["datasets"]))
    assert DASHBOARD_MUST_READ <= read


def _widgets(dashboard: dict) -> Iterator[tuple[str, dict, dict]]:
    for page in dashboard["pages"]:
        for item in page["layout"]:
            yield page["name"], item["widget"], item["position"]


def test_dashboard_widgets_use_existing_datasets_and_fields():
    dashboard = dashboard_json()
    datasets = {d["name"]: dataset_sql(d) for d in dashboard["datasets"]}
    assert len(datasets) == len(dashboard["datasets"]), "dataset names must be unique"
    used: set[str] = set()
    for page, widget, _ in _widgets(dashboard):
        for query in widget.get("queries", []):
            name = query["query"]["datasetName"]
            assert name in datasets, f"{page}/{widget['name']} uses unknown dataset {name!r}"
            used.add(name)
            fields = {f["name"] for f in query["query"]["fields"]}
            for field in query["query"]["fields"]:
                for column in re.findall(r"`([^`]+)`", field["expression"]):
                    assert column == "*" or re.search(rf"\b{re.escape(column)}\b", datasets[name]), (
                        f"{page}/{widget['name']}: column {column!r} is not in dataset {name}"
                    )
            spec = widget.get("spec", {})
            encodings = spec.get("encodings", {})
            referenced = [
                enc["fieldName"]
                for enc in [*encodings.values(), *encodings.get("columns", []), *encodings.get("fields", [])]
                if isinstance(enc, dict) and "fieldName" in enc
            ]
            for field_name in referenced:
                assert field_name in fields, f"{page}/{widget['name']}: encoding uses {field_name!r}, not a query field"
    assert used == set(datasets), f"datasets no widget uses: {sorted(set(datasets) - used)}"


def test_dashboard_layout():
    dashboard = dashboard_json()
    assert {p["displayName"] for p in dashboard["pages"]} >= {"Inventory by user", "Duplicates", "Policy flags", "Data quality"}
    names = [widget["name"] for _, widget, _ in _widgets(dashboard)]
    assert len(names) == len(set(names)), "widget names must be unique"
    for page, widget, position in _widgets(dashboard):
        assert 0 <= position["x"] and position["x"] + position["width"] <= 6, f"{page}/{widget['name']} is off the grid"
        assert position["y"] >= 0 and position["height"] >= 1
        assert "queries" in widget or "multilineTextboxSpec" in widget or "textbox_spec" in widget


# --------------------------------------------------------------------------------------------
# Secrets and docs
# --------------------------------------------------------------------------------------------

SECRET_LOOKING = [
    re.compile(r"dapi[0-9a-f]{32}"),  # Databricks personal access token
    re.compile(r"\bBearer\s+\S"),
    re.compile(r"eyJ[\w-]{10,}\.[\w-]{10,}"),  # JWT
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"AKIA[0-9A-Z]{16}"),
    re.compile(r"\{\{\s*secrets/"),  # Spark-conf secret injection would put the token in the configuration
]
SENSITIVE_NAME = re.compile(r"token|secret|password|passwd|api_?key|credential|bearer", re.I)
NAME_SUFFIXES = ("_scope", "_key", "_env", ".token_scope", ".token_key", ".token_env")


def _high_entropy(value: str) -> bool:
    for word in re.findall(r"[A-Za-z0-9+/=_-]{32,}", value):
        if re.search(r"[a-z]", word) and re.search(r"[A-Z]", word) and re.search(r"\d", word):
            return True
    return False


def test_no_secret_in_the_bundle():
    documents = {path.name: load_yaml(path) for path in bundle_files()}
    documents[dashboard_path().name] = dashboard_json()
    for name, doc in documents.items():
        for where, value in strings(doc):
            for pattern in SECRET_LOOKING:
                assert not pattern.search(value), f"{name}: {where} looks like a secret"
            assert not _high_entropy(value), f"{name}: {where} looks like a secret"
    for name, doc in documents.items():
        if name.endswith(".lvdash.json"):
            continue
        for where, key, value in mapping_items(doc):
            if not SENSITIVE_NAME.search(str(key)) or isinstance(value, bool):
                continue
            # A secret-sounding setting may only name where the secret is (scope, key, env var).
            assert str(key).endswith(NAME_SUFFIXES), f"{name}: {where}.{key}: only secret scope / key names belong here"
            if isinstance(value, str):
                assert VAR_REF.fullmatch(value) or re.fullmatch(r"[\w.-]{0,128}", value), (name, where, key)
    variables = root_document()["variables"]
    for name in ("dxr_secret_scope", "dxr_secret_key"):
        assert re.fullmatch(r"[\w.-]{1,128}", variables[name]["default"]), f"{name} must be a name"


def test_docs_cover_the_deployment():
    docs = DOCS_FILE.read_text(encoding="utf-8")
    for command in ("databricks bundle validate", "databricks bundle deploy", "databricks bundle run"):
        assert command in docs, command
    for needle in (
        "databricks secrets create-scope",
        "databricks secrets put-secret",
        "databricks secrets put-acl",
        "READ",
        "details:flow_progress.data_quality.expectations",
        "details:flow_progress.data_quality.dropped_records",
        "passed_records",
        "failed_records",
    ):
        assert needle in docs, needle
    for name in root_document()["variables"]:
        assert f"`{name}`" in docs, f"docs/databricks.md does not describe variable {name}"
    for kind in ("pipelines", "jobs", "dashboards"):
        for key in merged_document()["resources"][kind]:
            assert key in docs, f"docs/databricks.md does not name resource {key}"
