"""The pipeline resource's `configuration:` against the components' options models.

Each key is `file_records.<component>.<field>` of an options model (or the component's `enabled`
key), listed by `file_records.pipelines.conf.all_keys()`; the values the bundle gives, with the
variables' defaults (or realistic overrides) substituted, parse with the models; and the pipeline
code reads every key the bundle sets.
"""

from __future__ import annotations

import ast
import json
from datetime import timedelta
from typing import Any, Optional

import pytest

from file_records.pipelines import conf as pipeline_conf
from tests.bundle.document import (
    DOCS_FILE,
    PIPELINES_DIR,
    ROOT,
    TARGETS,
    configuration,
    resolve_target,
    resource_file,
    root_document,
    the_pipeline,
)

# Realistic values for the variables that default to empty, as a deployment would set them
# (--var / BUNDLE_VAR_...): each must reach its field and parse.
EXAMPLE_VARIABLES = {
    "dxr_base_url": "https://dxr.example.com",
    "dxr_query": '["fileName:\\"*.pdf\\"", "fileName:\\"*.docx\\""]',
    "workspace_users": '["ana@example.com", "bo@example.com"]',
    "workspace_max_users": "25",
    "legal_holds_table": "main.records.legal_holds",
}


def conf_getter(conf: dict[str, Any]):
    """A `spark.conf.get` over the resolved bundle configuration."""

    def conf_get(key: str, default: Optional[str] = None) -> Optional[str]:
        return conf.get(key, default)

    return conf_get


def resolved_configuration(target: str, overrides: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    conf = configuration(resolve_target(target, overrides)[0])
    unresolved = {key: value for key, value in conf.items() if "${" in str(value)}
    assert unresolved == {}, f"configuration the test cannot resolve offline: {unresolved}"
    return conf


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------


def test_configuration_keys_are_fields_of_the_options_models():
    keys = set(configuration())
    for target in TARGETS:
        keys |= set(configuration(resolve_target(target)[0]))
    known = set(pipeline_conf.all_keys())
    # The engine's own keys (pipelines.*) are Databricks settings, not file-records settings.
    unknown = sorted(key for key in keys - known if not key.startswith("pipelines."))
    assert unknown == [], f"not a field of {sorted(m.__name__ for m in pipeline_conf.COMPONENTS.values())}: {unknown}"


def test_all_keys_are_derived_from_the_models():
    # What the test above compares against: one `enabled` key and one key per field, per component.
    for component, model in pipeline_conf.COMPONENTS.items():
        assert model.COMPONENT == component
        assert pipeline_conf.enabled_key(component) in pipeline_conf.all_keys()
        for field in model.model_fields:
            assert f"file_records.{component}.{field}" in pipeline_conf.all_keys()


def test_every_component_is_configured():
    components = {key.split(".")[1] for key in configuration() if key.startswith("file_records.")}
    assert components == set(pipeline_conf.COMPONENTS)
    for component in pipeline_conf.COMPONENTS:
        assert pipeline_conf.enabled_key(component) in configuration(), f"the bundle does not switch {component}"


@pytest.mark.parametrize("target", TARGETS)
def test_configuration_values_are_strings(target):
    # Spark confs are strings; the schema requires them too (map of string).
    for key, value in configuration(resolve_target(target)[0]).items():
        assert isinstance(value, str), f"{key} = {value!r}"


# --------------------------------------------------------------------------------------------
# Values parse with the models
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("component", sorted(pipeline_conf.COMPONENTS))
@pytest.mark.parametrize("target", TARGETS)
def test_configuration_parses_with_the_model(target, component):
    conf_get = conf_getter(resolved_configuration(target))
    settings = pipeline_conf.COMPONENTS[component].from_pipeline_conf(conf_get)
    assert settings == pipeline_conf.options(conf_get, component)
    assert pipeline_conf.enabled(conf_get, component) is True


def test_example_values_reach_their_fields():
    conf_get = conf_getter(resolved_configuration("prod", EXAMPLE_VARIABLES))
    dxr = pipeline_conf.options(conf_get, "dxr")
    assert dxr.base_url == "https://dxr.example.com"
    assert dxr.queries == ['fileName:"*.pdf"', 'fileName:"*.docx"']
    assert (dxr.token_scope, dxr.token_key) == ("file-records", "dxr-token")
    assert dxr.configured
    workspace = pipeline_conf.options(conf_get, "workspace")
    assert workspace.users == ["ana@example.com", "bo@example.com"]
    assert workspace.max_users == 25
    assert workspace.host is None, "on Databricks the source uses the pipeline's own workspace"
    policies = pipeline_conf.options(conf_get, "policies")
    assert policies.holds_table == "main.records.legal_holds"


@pytest.mark.parametrize("variable", ["dxr_enabled", "workspace_enabled"])
def test_a_source_can_be_switched_off(variable):
    conf_get = conf_getter(resolved_configuration("dev", {variable: "false"}))
    component = variable.removesuffix("_enabled")
    assert pipeline_conf.enabled(conf_get, component) is False


@pytest.mark.parametrize("component", ["dxr", "workspace"])
def test_snapshot_interval_fits_a_daily_schedule(component):
    settings = pipeline_conf.options(conf_getter(resolved_configuration("prod")), component)
    # Below 24 h, so jitter in a daily schedule never skips a day; above 12 h, so a same-day re-run
    # does not take a second snapshot.
    assert timedelta(hours=12) <= settings.snapshot_interval < timedelta(hours=24)
    key = pipeline_conf.COMPONENTS[component].conf_key("snapshot_interval")
    assert key in configuration(), f"the bundle must set {key}"
    text = resource_file("pipelines", the_pipeline()[0]).read_text(encoding="utf-8")
    comment = text.split("file_records.dxr.snapshot_interval")[0].rsplit("configuration:", 1)[-1]
    assert "jitter" in comment, "explain the snapshot interval in a YAML comment next to it"


def test_the_dxr_source_is_wired():
    conf = configuration()
    assert conf["file_records.dxr.enabled"] == "${var.dxr_enabled}"
    assert conf["file_records.dxr.base_url"] == "${var.dxr_base_url}"
    assert conf["file_records.dxr.queries"] == "${var.dxr_query}"
    assert conf["file_records.dxr.token_scope"] == "${var.dxr_secret_scope}"
    assert conf["file_records.dxr.token_key"] == "${var.dxr_secret_key}"
    default_queries = json.loads(root_document()["variables"]["dxr_query"]["default"])
    assert default_queries == ['fileName:"*"']


def test_docs_name_every_key():
    docs = DOCS_FILE.read_text(encoding="utf-8")
    missing = [key for key in pipeline_conf.all_keys() if f"`{key}`" not in docs]
    assert missing == [], f"docs/databricks.md does not describe {missing}"


# --------------------------------------------------------------------------------------------
# The pipeline code reads the keys
# --------------------------------------------------------------------------------------------


def _pipeline_conf_aliases(tree: ast.AST) -> tuple[set[str], dict[str, str]]:
    """Names under which a file uses file_records.pipelines.conf: (module aliases, function aliases)."""
    modules: set[str] = set()
    functions: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "file_records.pipelines":
            modules.update(alias.asname or alias.name for alias in node.names if alias.name == "conf")
        elif isinstance(node, ast.ImportFrom) and node.module == "file_records.pipelines.conf":
            functions.update({alias.asname or alias.name: alias.name for alias in node.names})
        elif isinstance(node, ast.Import):
            modules.update(a.asname for a in node.names if a.name == "file_records.pipelines.conf" and a.asname)
    return modules, functions


def keys_read_by_pipeline_code(values: dict[str, str]) -> set[str]:
    """Configuration keys the pipeline sources read.

    Key literals, and every call into file_records.pipelines.conf made from pipelines/ with a
    literal component (`enabled(spark.conf.get, "dxr")`, `options(spark.conf.get, "dxr")`), run
    here with a recording `conf_get`: the keys a component's model reads are derived from its
    fields, so a component counts as read when its model is asked for its settings.
    """
    read: set[str] = set()
    all_keys = set(pipeline_conf.all_keys())

    def recorder(key: str, default: Optional[str] = None) -> Optional[str]:
        read.add(key)
        return values.get(key, default)

    sources = sorted(p for p in PIPELINES_DIR.rglob("*.py") if "__pycache__" not in p.parts)
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        modules, functions = _pipeline_conf_aliases(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in all_keys:
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


def _code_reads() -> set[str]:
    return keys_read_by_pipeline_code({k: str(v) for k, v in resolved_configuration("dev").items()})


def test_pipeline_code_reads_every_configured_key():
    unread = sorted(key for key in set(configuration()) - _code_reads() if not key.startswith("pipelines."))
    assert unread == [], f"set by the bundle but never read by the pipeline code: {unread}"


def test_pipeline_code_reads_every_component():
    read = _code_reads()
    for component, model in pipeline_conf.COMPONENTS.items():
        assert pipeline_conf.enabled_key(component) in read, f"the pipeline never checks whether {component} is on"
        unread = sorted(set(model.conf_keys()) - read)
        assert unread == [], f"the pipeline never reads the {component} settings: {unread}"


def test_the_reader_scan_sees_the_transformations():
    # Guard for the scan above: it finds the calls in the transformation files, not only elsewhere.
    transformations = PIPELINES_DIR / "transformations"
    calls = 0
    for path in transformations.glob("*.py"):
        modules, _ = _pipeline_conf_aliases(ast.parse(path.read_text(encoding="utf-8")))
        calls += bool(modules)
    assert calls >= 3, f"{transformations.relative_to(ROOT)}: pipeline_conf imports not found"
