"""No secret in the bundle, and docs/databricks.md covering the deployment: commands, the secret
scope, the event-log queries, every variable and resource."""

from __future__ import annotations

import re

from tests.bundle.document import (
    DOCS_FILE,
    VAR_REF,
    bundle_files,
    load_yaml,
    mapping_items,
    merged_document,
    root_document,
    strings,
)
from tests.bundle.test_dashboard import dashboard_json, dashboard_path

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
