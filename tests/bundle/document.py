"""The bundle as the Databricks CLI sees it, without a workspace.

Loading ``databricks.yml`` and its ``include``d files, merging them, applying a target's overrides
and substituting variables (``${var.X}``, ``${bundle.name}``, ``${bundle.target}``) the way
``databricks bundle validate`` does; and small helpers to walk the parsed documents.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional

import yaml

ROOT = Path(__file__).resolve().parents[2]
BUNDLE_FILE = ROOT / "databricks.yml"
DOCS_FILE = ROOT / "docs" / "databricks.md"
PYPROJECT_FILE = ROOT / "pyproject.toml"
PIPELINES_DIR = ROOT / "pipelines"
TRANSFORMATIONS_DIR = PIPELINES_DIR / "transformations"

TARGETS = ("dev", "prod")

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


def deep_merge(base: Any, override: Any) -> Any:
    """Maps merge key by key; anything else is replaced by the override."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(value)
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
        declared = {k: v for k, v in variables[name].items() if k not in ("default", "lookup")}
        if isinstance(value, dict) and ({"default", "lookup"} & set(value)) and set(value) <= {
            "default",
            "lookup",
            "description",
            "type",
        }:
            variables[name] = declared | value
        else:
            variables[name] = declared | {"default": value}
    for key, value in settings.items():
        doc[key] = deep_merge(doc[key], value) if key in doc else copy.deepcopy(value)
    extra["target"] = target
    return doc, extra


def variable_values(doc: dict) -> tuple[dict[str, Any], list[str]]:
    """Each variable's value (its default, or a placeholder for a lookup) and those without one."""
    values: dict[str, Any] = {}
    missing: list[str] = []
    for name, decl in (doc.get("variables") or {}).items():
        decl = decl or {}
        if "default" in decl:
            values[name] = decl["default"]
        elif "lookup" in decl:
            ((kind, lookup_name),) = decl["lookup"].items()
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


def resolve_target(target: str, overrides: Optional[Mapping[str, Any]] = None) -> tuple[dict, dict]:
    """Target overrides applied and variables substituted until nothing changes.

    ``overrides`` are variable values as ``--var name=value`` / ``BUNDLE_VAR_name`` would give them.
    """
    doc, extra = apply_target(merged_document(), target)
    values, missing = variable_values(doc)
    for name, value in (overrides or {}).items():
        assert name in values or name in missing, f"--var {name}: no such variable"
        values[name] = value
    missing = [name for name in missing if name not in values]
    assert not missing, f"target {target}: variables without a value: {missing}"
    bundle = {"name": doc["bundle"]["name"], "target": target}
    for _ in range(10):
        values = {name: interpolate(value, values, bundle) for name, value in values.items()}
    resolved = interpolate({k: v for k, v in doc.items() if k != "variables"}, values, bundle)
    resolved["variables"] = doc["variables"]
    return resolved, extra


# --------------------------------------------------------------------------------------------
# Walking parsed documents
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# The bundle's resources
# --------------------------------------------------------------------------------------------


def only(mapping: dict, what: str) -> tuple[str, dict]:
    assert isinstance(mapping, dict) and len(mapping) == 1, f"expected exactly one {what}, got {list(mapping or {})}"
    return next(iter(mapping.items()))


def the_pipeline(doc: Optional[dict] = None) -> tuple[str, dict]:
    return only((doc or merged_document())["resources"]["pipelines"], "pipeline")


def the_job(doc: Optional[dict] = None) -> tuple[str, dict]:
    return only((doc or merged_document())["resources"]["jobs"], "job")


def the_dashboard(doc: Optional[dict] = None) -> tuple[str, dict]:
    return only((doc or merged_document())["resources"]["dashboards"], "dashboard")


def resource_file(kind: str, key: str) -> Path:
    for path in included_files():
        if key in ((load_yaml(path).get("resources") or {}).get(kind) or {}):
            return path
    raise AssertionError(f"no file defines resources.{kind}.{key}")


def configuration(doc: Optional[dict] = None) -> dict[str, Any]:
    """The pipeline resource's ``configuration:`` (the Spark confs the pipeline code reads)."""
    return the_pipeline(doc)[1].get("configuration") or {}
