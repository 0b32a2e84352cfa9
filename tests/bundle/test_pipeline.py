"""The pipeline resource: its shape, its source files, and the installed `file_records` package.

On Databricks the transformations (pipelines/transformations/*.py) are loaded as source files by
the libraries glob, and everything they import comes from the project installed in the pipeline's
environment (`--editable ${workspace.file_path}`: the pyproject.toml synced at the bundle root).
So the package-dir mapping of pyproject.toml must reach every `file_records.*` module the pipeline
imports, directly or through other project modules.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from pathlib import Path
from typing import Optional

from tests.bundle.document import (
    PIPELINES_DIR,
    PYPROJECT_FILE,
    ROOT,
    TRANSFORMATIONS_DIR,
    resource_file,
    root_document,
    the_pipeline,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - pytest depends on tomli before 3.11
    import tomli as tomllib

NAMESPACE = "file_records"


def pipeline_base() -> tuple[Path, dict]:
    key, pipeline = the_pipeline()
    return resource_file("pipelines", key).parent, pipeline


def test_pipeline_shape():
    base, pipeline = pipeline_base()
    assert pipeline["serverless"] is True
    assert pipeline["catalog"] == "${var.catalog}"
    assert pipeline["schema"] == "${var.schema}"
    assert "clusters" not in pipeline  # serverless
    # Triggered by default (the daily job runs it); continuous is a choice (docs/databricks.md).
    assert pipeline.get("continuous") == "${var.pipeline_continuous}"
    assert root_document()["variables"]["pipeline_continuous"]["default"] is False
    assert pipeline["configuration"]["pipelines.trigger.interval"] == "${var.pipeline_trigger_interval}"
    assert not pipeline.get("development"), "development comes from the target mode, never hard-coded"
    root_path = (base / pipeline["root_path"]).resolve()
    assert root_path.is_dir(), root_path
    assert ROOT == root_path or ROOT in root_path.parents, "root_path must stay inside the bundle"


def test_root_path_holds_the_sources_and_shadows_no_package():
    base, pipeline = pipeline_base()
    root_path = (base / pipeline["root_path"]).resolve()
    # The pipeline's folder, as in the Lakeflow templates: it holds the transformations...
    assert root_path == TRANSFORMATIONS_DIR or root_path in TRANSFORMATIONS_DIR.parents
    # ...and is put on sys.path: a `file_records` there would be imported instead of the installed
    # package, which has the connectors, pipelines, policies... under it (the repository root has a
    # `file_records/` folder with only the command line's modules).
    shadowing = [p.name for p in root_path.iterdir() if p.name in (NAMESPACE, f"{NAMESPACE}.py")]
    assert shadowing == [], f"root_path {root_path} would shadow the installed {NAMESPACE} package"


def test_pipeline_installs_the_project():
    _, pipeline = pipeline_base()
    dependencies = pipeline["environment"]["dependencies"]
    assert "--editable ${workspace.file_path}" in dependencies
    # workspace.file_path is where the bundle root is synced: the pyproject.toml must be there.
    assert PYPROJECT_FILE.is_file()
    sync = root_document().get("sync") or {}
    assert sync.get("paths") in (None, ["."]), "the bundle root (with pyproject.toml) must be synced"
    for folder in package_dirs().values():
        assert not any(Path(folder).match(pattern) for pattern in sync.get("exclude") or []), folder


def test_libraries_glob_matches_the_pipeline_files():
    base, pipeline = pipeline_base()
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
        for p in PIPELINES_DIR.rglob("*.py")
        if TRANSFORMATIONS_DIR not in p.parents and any(rx.fullmatch(p.relative_to(ROOT).as_posix()) for rx in regexes)
    ]
    assert outside == []


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


# --------------------------------------------------------------------------------------------
# pyproject.toml's package-dir mapping covers what the pipeline imports
# --------------------------------------------------------------------------------------------


def setuptools_config() -> dict:
    return tomllib.loads(PYPROJECT_FILE.read_text(encoding="utf-8"))["tool"]["setuptools"]


def package_dirs() -> dict[str, str]:
    return dict(setuptools_config().get("package-dir") or {})


def listed_packages() -> set[str]:
    packages = setuptools_config().get("packages")
    assert isinstance(packages, list), "[tool.setuptools] packages must list the packages explicitly"
    return set(packages)


def module_file(name: str) -> Optional[Path]:
    """The file of module or package ``name`` as the installed project has it: the longest mapped
    prefix of the package-dir mapping, then the rest of the name as folders. None: not installed."""
    mapping = package_dirs()
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        prefix = ".".join(parts[:cut])
        if prefix in mapping:
            path = ROOT.joinpath(mapping[prefix], *parts[cut:])
            break
    else:
        return None
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    module = path.parent / f"{path.name}.py"
    return module if parts[cut:] and module.is_file() else None


def package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def project_imports(path: Path, package: str) -> set[str]:
    """Every `file_records...` module a file imports (at any depth of its code), as full names."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            found.add(module)
            # `from file_records.pipelines import conf`: conf may be a module.
            found.update(f"{module}.{alias.name}" for alias in node.names if module_file(f"{module}.{alias.name}"))
    return {name for name in found if name == NAMESPACE or name.startswith(f"{NAMESPACE}.")}


def pipeline_sources() -> list[Path]:
    return sorted(p for p in PIPELINES_DIR.rglob("*.py") if "__pycache__" not in p.parts)


def test_pyproject_maps_one_namespace():
    mapping = package_dirs()
    assert mapping, "pyproject.toml has no [tool.setuptools.package-dir] mapping"
    assert NAMESPACE in mapping
    for package, folder in mapping.items():
        assert package == NAMESPACE or package.startswith(f"{NAMESPACE}."), f"{package} is outside {NAMESPACE}"
        assert (ROOT / folder / "__init__.py").is_file(), f"{package} -> {folder}/ is not a package folder"
    assert all(p == NAMESPACE or p.startswith(f"{NAMESPACE}.") for p in listed_packages())
    assert set(mapping) <= listed_packages()


def test_package_dir_mapping_covers_everything_the_pipeline_imports():
    """Each `file_records.X` imported under pipelines/, and every project module those import in
    turn, resolves through the mapping to a file, and its package is one the wheel ships."""
    packages = listed_packages()
    pending = [(path, "") for path in pipeline_sources()]
    seen: set[str] = set()
    problems: list[str] = []
    while pending:
        path, package = pending.pop()
        for name in sorted(project_imports(path, package) - seen):
            seen.add(name)
            target = module_file(name)
            if target is None:
                problems.append(f"{path.relative_to(ROOT)}: {name} is not reached by the package-dir mapping")
                continue
            if package_of(name, target) not in packages:
                problems.append(f"{path.relative_to(ROOT)}: {name}: {package_of(name, target)} is not in packages")
            pending.append((target, package_of(name, target)))
    assert problems == []
    # The walk did reach the components the transformations use.
    for component in ("connectors", "expectations", "pipelines", "policies"):
        assert any(name.startswith(f"{NAMESPACE}.{component}.") for name in seen), component


def test_pipeline_code_imports_only_through_the_namespace():
    # The folders are no top-level packages any more: `import connectors...` would work only where
    # the repository root happens to be on sys.path.
    folders = {Path(folder).name for package, folder in package_dirs().items() if package != NAMESPACE}
    for path in pipeline_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in folders, f"{path.relative_to(ROOT)}: import {name}"
