"""`file-records run` settings for local runs: a refused connection costs seconds, not minutes."""

from __future__ import annotations

from file_records.commands import run as run_cmd
from file_records.local.runner import ENGINE_CONF
from file_records.settings import load_settings


def test_local_dxr_defaults_unless_set(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = run_cmd._local_dxr_defaults(load_settings(environ={"DXR_BASE_URL": "https://x.example"}))
    assert settings.dxr.max_attempts == 3 and settings.dxr.backoff_seconds == 0.5
    explicit = run_cmd._local_dxr_defaults(load_settings(environ={"DXR_BASE_URL": "https://x.example",
                                                                  "DXR_MAX_ATTEMPTS": "7"}))
    assert explicit.dxr.max_attempts == 7 and explicit.dxr.backoff_seconds == 0.5


def test_the_engine_retries_a_flow_once():
    assert ENGINE_CONF["spark.sql.pipelines.maxFlowRetryAttempts"] == "1"


def test_verbose_flag():
    from file_records.cli import build_parser

    args = build_parser().parse_args(["run", "--verbose", "--demo"])
    assert args.verbose and args.demo
    assert not build_parser().parse_args(["run"]).verbose
