"""One declaration per component's settings: options, environment and pipeline keys agree."""

from __future__ import annotations

from datetime import timedelta

import pytest

from file_records.connectors.dxr.options import DxrSourceOptions
from file_records.connectors.workspace.options import WorkspaceSourceOptions
from file_records.errors import ConfigError
from file_records.options import parse_duration
from file_records.pipelines import conf as pipeline_conf
from file_records.policies.options import PolicyOptions
from file_records.settings import load_settings


def test_env_names_follow_the_model():
    assert DxrSourceOptions.env_names("base_url") == ["DXR_BASE_URL"]
    assert DxrSourceOptions.env_names("snapshot_interval") == ["DXR_SNAPSHOT_INTERVAL"]
    assert WorkspaceSourceOptions.env_names("host") == ["DATABRICKS_HOST", "FILE_RECORDS_WORKSPACE_HOST"]
    assert WorkspaceSourceOptions.env_names("max_requests_per_second") == [
        "FILE_RECORDS_WORKSPACE_MAX_REQUESTS_PER_SECOND"
    ]
    assert PolicyOptions.env_names("history_days") == ["FILE_RECORDS_POLICIES_HISTORY_DAYS"]


def test_pipeline_keys_are_the_model_fields():
    keys = pipeline_conf.all_keys()
    for component, model in pipeline_conf.COMPONENTS.items():
        assert pipeline_conf.enabled_key(component) in keys
        for field in model.model_fields:
            assert f"file_records.{component}.{field}" in keys
    assert len(keys) == len(set(keys)) == sum(len(m.model_fields) + 1 for m in pipeline_conf.COMPONENTS.values())


@pytest.mark.parametrize("model, values", [
    (DxrSourceOptions, {"base_url": "https://acme.example.com", "queries": ["a", "b"], "verify_ssl": False,
                        "snapshot_interval": "20h", "record_cap": 10, "force_snapshot_after": "2026-12-01T00:00:00Z"}),
    (WorkspaceSourceOptions, {"host": "https://adb-1.azuredatabricks.net", "users": ["a@x", "b@x"],
                              "extra_roots": ["/Shared"], "max_depth": 0, "include_dbfs": False}),
    (PolicyOptions, {"holds_table": "main.records.holds", "history_days": 30}),
])
def test_options_round_trip_through_strings(model, values):
    """CLI -> pipeline configuration -> data source: the same values arrive."""
    typed = model.from_options(values)
    conf = pipeline_conf.conf_for(model.COMPONENT, typed)
    assert all(isinstance(value, str) for value in conf.values())
    assert conf[pipeline_conf.enabled_key(model.COMPONENT)] == "true"
    from_conf = pipeline_conf.options(lambda key, default=None: conf.get(key, default), model.COMPONENT)
    assert from_conf == typed
    assert model.from_options(typed.to_options()) == typed


def test_defaults_are_not_written_out():
    assert PolicyOptions().to_options() == {}
    assert DxrSourceOptions.from_options({"base_url": "https://a.example.com"}).to_options() == {
        "base_url": "https://a.example.com"
    }


def test_precedence_flags_then_environment_then_dotenv(tmp_path):
    environ = {"DXR_BASE_URL": "https://env.example.com", "DXR_HTTP_TIMEOUT": "30"}
    dotenv = {"DXR_BASE_URL": "https://dotenv.example.com", "DXR_HTTP_TIMEOUT": "40", "DXR_RECORD_CAP": "7"}
    settings = DxrSourceOptions.from_env(environ, dotenv, overrides={"http_timeout": 50})
    assert settings.base_url == "https://env.example.com"
    assert settings.http_timeout == 50
    assert settings.record_cap == 7


def test_base_url_normalisation():
    for given in ("https://acme.example.com/", "https://acme.example.com/api", " https://acme.example.com/api/ "):
        assert DxrSourceOptions.from_options({"base_url": given}).base_url == "https://acme.example.com"
    assert DxrSourceOptions.from_options({"base_url": "http://127.0.0.1:8765"}).base_url == "http://127.0.0.1:8765"
    assert DxrSourceOptions.from_options({"base_url": "http://[::1]:8765"}).base_url == "http://[::1]:8765"
    opted_in = DxrSourceOptions.from_options({"base_url": "http://dxr.internal", "allow_http": "true"})
    assert opted_in.base_url == "http://dxr.internal"


def test_errors_name_the_setting_as_written_and_never_repeat_the_value():
    secret_like = "https://user:s3cr3t-value@acme.example.com"
    with pytest.raises(ConfigError) as from_env:
        DxrSourceOptions.from_env({"DXR_BASE_URL": secret_like}, {})
    assert "DXR_BASE_URL" in str(from_env.value) and "s3cr3t" not in str(from_env.value)
    with pytest.raises(ConfigError) as from_conf:
        PolicyOptions.from_pipeline_conf(lambda key, default=None: "x" if key.endswith("history_days") else default)
    assert "file_records.policies.history_days" in str(from_conf.value)
    with pytest.raises(ConfigError) as from_option:
        WorkspaceSourceOptions.from_options({"partitions": "0"})
    assert 'workspace option "partitions"' in str(from_option.value)
    with pytest.raises(ConfigError, match="unknown|Extra inputs"):
        DxrSourceOptions.from_options({"base_ur1": "https://a.example.com"})


@pytest.mark.parametrize("text, seconds", [("24h", 86400), ("90m", 5400), ("3600", 3600), ("1.5d", 129600), (60, 60)])
def test_durations(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("value, expected", [("true", True), ("FALSE", False), (" True ", True)])
def test_booleans_accept_exactly_true_and_false(value, expected):
    assert DxrSourceOptions.from_options({"verify_ssl": value}).verify_ssl is expected


@pytest.mark.parametrize("value", ["yes", "1", "on", "off", "0", "no"])
def test_booleans_refuse_anything_else(value):
    with pytest.raises(ConfigError, match="must be true or false"):
        DxrSourceOptions.from_options({"verify_ssl": value})


def test_secrets_come_from_the_environment_or_dotenv_and_never_show(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("DXR_BEARER_TOKEN=from-dotenv-123\nDXR_BASE_URL=https://acme.example.com\n")
    settings = load_settings(environ={"DATABRICKS_TOKEN": "dapi-abc"})
    assert settings.dxr_token.get_secret_value() == "from-dotenv-123"
    assert settings.workspace_token.get_secret_value() == "dapi-abc"
    assert "from-dotenv-123" not in repr(settings) and "dapi-abc" not in repr(settings)
    assert settings.dxr.base_url == "https://acme.example.com"
