"""Dependencies point one way: CLI -> local runner / report -> pipelines -> connectors, expectations,
policies, remediation -> the foundation (the root package, errors, options, datasets). Checked on the
source's own import statements, so a wrong import fails here before it tangles the code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# folder (relative to the repository) -> its package under the one namespace
FOLDERS = {
    "file_records": "file_records",
    "connectors": "file_records.connectors",
    "emulators": "file_records.emulators",
    "expectations": "file_records.expectations",
    "pipelines": "file_records.pipelines",
    "policies": "file_records.policies",
    "remediation": "file_records.remediation",
}
FOUNDATION = {"file_records", "file_records.errors", "file_records.options", "file_records.datasets",
              "file_records.frames", "file_records.spreadsheet"}
# layer of a package prefix; a module may import its own layer's package and anything lower
LAYERS = [
    ("foundation", FOUNDATION),
    ("libraries", {"file_records.connectors", "file_records.expectations", "file_records.policies"}),
    # remediation acts on policy exports (plans, review sheets): it may read the policies package
    ("remediation", {"file_records.remediation"}),
    ("emulators", {"file_records.emulators"}),
    ("pipelines", {"file_records.pipelines"}),
    ("runner", {"file_records.local", "file_records.report"}),  # one layer: they may import each other
    ("cli", {"file_records.cli", "file_records.commands", "file_records.settings", "file_records.state",
             "file_records.__main__"}),
]
TOP_LEVEL = {"connectors", "emulators", "expectations", "pipelines", "policies", "remediation"}


def _module_name(path: Path) -> str:
    relative = path.relative_to(ROOT)
    package = FOLDERS[relative.parts[0]]
    rest = [part for part in relative.with_suffix("").parts[1:] if part != "__init__"]
    return ".".join([package, *rest])


def _layer(module: str) -> tuple[int, str]:
    best = (-1, "", "")
    for index, (_name, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best[2]):
                best = (index, prefix, prefix)
    assert best[0] >= 0, f"{module} belongs to no layer: add it to tests/test_layers.py"
    return best[0], best[1]


def _sources():
    for folder in FOLDERS:
        yield from sorted((ROOT / folder).rglob("*.py"))


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def test_every_import_uses_the_one_namespace():
    bare = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in _sources()
        for line, name in _imports(path)
        if name.split(".")[0] in TOP_LEVEL
    ]
    assert bare == [], "import these through file_records.<package>:\n" + "\n".join(bare)


@pytest.mark.parametrize("folder", sorted(FOLDERS))
def test_dependencies_point_down(folder):
    wrong = []
    for path in (ROOT / folder).rglob("*.py"):
        module = _module_name(path)
        own_layer, own_package = _layer(module)
        for line, name in _imports(path):
            if not name.startswith("file_records"):
                continue
            target_layer, target_package = _layer(name)
            if target_layer > own_layer:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {module} imports {name} (a higher layer)")
            elif (target_layer == own_layer and target_package != own_package
                  and LAYERS[own_layer][0] == "libraries"):
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {module} imports its sibling {name}")
    assert wrong == [], "\n".join(sorted(set(wrong)))
