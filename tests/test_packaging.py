"""The wheel: exactly one top-level package, `file_records`, with everything the pipeline loads.

The product's folders (connectors/, pipelines/, policies/, ...) are mapped under `file_records` by
pyproject.toml's package-dir; the pipeline's transformations, its spark-pipeline.yml, the
expectation rules and the policy catalogue are files the code opens by path, so they must be in the
wheel too. The wheel is built from a clean copy of what the build reads (pyproject.toml, the
readme and the mapped folders): building in the working tree would reuse a stale build/ folder.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Iterator

import pytest
from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - pytest depends on tomli before 3.11
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
NAMESPACE = "file_records"
REQUIRED_FILES = (
    "file_records/pipelines/transformations/dxr_files.py",
    "file_records/pipelines/spark-pipeline.yml",
    "file_records/expectations/rules/silver_file_records.yml",
    "file_records/policies/catalogue.yml",
)
BUILD_TIMEOUT_SECONDS = 120


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def package_dirs() -> dict[str, str]:
    return dict(pyproject()["tool"]["setuptools"]["package-dir"])


def build_requirements_installed() -> bool:
    """Whether this interpreter has the build backend's requirements, so the build can run
    without an isolated environment (and without the network)."""
    for line in pyproject()["build-system"]["requires"]:
        requirement = Requirement(line)
        try:
            version = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            return False
        if not requirement.specifier.contains(version, prereleases=True):
            return False
    return True


def source_copy(destination: Path) -> Path:
    config = pyproject()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")
    files = ["pyproject.toml", *[name for name in ("setup.py", "setup.cfg", "MANIFEST.in") if (ROOT / name).exists()]]
    readme = config["project"].get("readme")
    if isinstance(readme, str):
        files.append(readme)
    elif isinstance(readme, dict) and "file" in readme:
        files.append(readme["file"])
    files.extend(p.name for p in ROOT.glob("LICEN[CS]E*"))
    for name in files:
        shutil.copy2(ROOT / name, destination / name)
    for folder in sorted(set(package_dirs().values())):
        shutil.copytree(ROOT / folder, destination / folder, ignore=ignore)
    return destination


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Iterator[tuple[zipfile.ZipFile, str]]:
    """(the wheel, the build's log)."""
    source = source_copy(tmp_path_factory.mktemp("source"))
    out = tmp_path_factory.mktemp("dist")
    command = [sys.executable, "-m", "build", "--wheel", "--outdir", str(out)]
    if build_requirements_installed():
        command.append("--no-isolation")
    # Otherwise `build` installs the backend (setuptools, wheel) into a throwaway environment,
    # from pip's cache or PyPI.
    result = subprocess.run(
        [*command, str(source)], capture_output=True, text=True, timeout=BUILD_TIMEOUT_SECONDS, check=False
    )
    assert result.returncode == 0, f"wheel build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    (path,) = out.glob("*.whl")
    with zipfile.ZipFile(path) as archive:
        yield archive, result.stdout + result.stderr


@pytest.fixture(scope="module")
def wheel(built) -> zipfile.ZipFile:
    return built[0]


def test_one_top_level_package(wheel):
    top = {name.split("/")[0] for name in wheel.namelist()}
    dist_info = {entry for entry in top if entry.endswith(".dist-info")}
    assert len(dist_info) == 1, dist_info
    assert top - dist_info == {NAMESPACE}
    (info,) = dist_info
    if f"{info}/top_level.txt" in wheel.namelist():
        assert wheel.read(f"{info}/top_level.txt").decode().split() == [NAMESPACE]


def test_the_files_the_pipeline_opens_are_inside(wheel):
    names = set(wheel.namelist())
    missing = [name for name in REQUIRED_FILES if name not in names]
    assert missing == []


def test_every_module_of_the_mapped_folders_is_inside(wheel):
    # A subpackage left out of [tool.setuptools] packages would be silently missing from the wheel.
    names = set(wheel.namelist())
    mapping = package_dirs()
    missing = []
    for package, folder in mapping.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT / folder)
            if "__pycache__" in relative.parts:
                continue
            # A folder mapped on its own (file_records.connectors -> connectors/) is checked there.
            dotted = ".".join([package, *relative.parent.parts])
            nested = [other for other in mapping if other.startswith(f"{package}.")]
            if any(dotted == other or dotted.startswith(f"{other}.") for other in nested):
                continue
            in_wheel = "/".join([*package.split("."), *relative.parts])
            if in_wheel not in names:
                missing.append(f"{path.relative_to(ROOT)} -> {in_wheel}")
    assert missing == []


def test_metadata_and_command(wheel):
    (info,) = {name.split("/")[0] for name in wheel.namelist() if ".dist-info/" in name}
    metadata = wheel.read(f"{info}/METADATA").decode()
    assert "Name: file-records" in metadata
    entry_points = wheel.read(f"{info}/entry_points.txt").decode()
    assert "file-records = file_records.cli:main" in entry_points


def test_no_package_left_to_package_data(built):
    """setuptools warns about a folder of modules that is not in `packages` and still copies it as
    package data (for now: "Package would be ignored" in a later release). Only the data folders
    that package-data names on purpose may be in that state; a subpackage of code may not."""
    _, log = built
    warned = set(re.findall(r"Package '([\w.]+)' is absent from the `packages` configuration", log))
    package_data = pyproject()["tool"]["setuptools"].get("package-data") or {}
    on_purpose = {
        f"{package}.{pattern.split('/')[0]}"
        for package, patterns in package_data.items()
        for pattern in patterns
        if "/" in pattern
    }
    assert sorted(warned - on_purpose) == [], "add these to [tool.setuptools] packages in pyproject.toml"
