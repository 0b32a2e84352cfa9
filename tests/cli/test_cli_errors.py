"""Every user error ends in one line on stderr and exit status 2; no traceback reaches a user.

In-process and before any JVM starts: these paths must never need Spark."""

from __future__ import annotations

import fcntl
import os

import orjson
import pytest

from file_records import cli

TOKEN = "tok-never-printed-7f3a9c"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith(("DXR_", "DATABRICKS_", "FILE_RECORDS_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


def run_cli(capsys, *argv) -> tuple[int, list[str]]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:  # argparse
        code = exc.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, [line for line in err.splitlines() if line.strip()]


def assert_one_line_exit_2(capsys, *argv, needle: str) -> str:
    code, lines = run_cli(capsys, *argv)
    assert code == 2, lines
    text = " ".join(lines)
    assert needle in text
    assert len(lines) <= 2, lines  # one message (rich may wrap a long one on narrow terminals)
    assert TOKEN not in text
    return text


def make_state(tmp_path):
    state = tmp_path / "state"
    (state / "metastore" / "metastore_db").mkdir(parents=True)
    return state


@pytest.mark.parametrize("command", [["query", "SELECT 1"], ["report"], ["export", "gold_policy_flags", "--out", "x.csv"]])
def test_reading_commands_on_a_missing_state_directory(capsys, tmp_path, command):
    assert_one_line_exit_2(capsys, *command, "--state-dir", str(tmp_path / "nowhere"), needle="no pipeline state")


@pytest.mark.parametrize("command", [["query", "SELECT 1"], ["report"], ["export", "gold_policy_flags", "--out", "x.csv"]])
def test_reading_commands_on_a_locked_state_directory(capsys, tmp_path, command):
    state = make_state(tmp_path)
    with open(state / ".lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert_one_line_exit_2(capsys, *command, "--state-dir", str(state), needle="another file-records process")


@pytest.mark.parametrize("command", [["query", "SELECT 1"], ["report"]])
def test_reading_commands_on_a_file_instead_of_a_state_directory(capsys, tmp_path, command):
    not_a_dir = tmp_path / "state"
    not_a_dir.write_text("x")
    assert_one_line_exit_2(capsys, *command, "--state-dir", str(not_a_dir), needle="is a file")


def test_run_on_a_state_directory_of_another_origin(capsys, tmp_path, monkeypatch):
    state = tmp_path / "state"
    state.mkdir()
    (state / "origin.json").write_bytes(orjson.dumps({"dxr": "https://other.example.com"}))
    monkeypatch.setenv("DXR_BASE_URL", "https://acme.example.com")
    monkeypatch.setenv("DXR_BEARER_TOKEN", TOKEN)
    assert_one_line_exit_2(capsys, "run", "--sources", "dxr", "--state-dir", str(state), needle="another origin")


@pytest.mark.parametrize(
    "env, needle",
    [
        ({"DXR_BASE_URL": "http://127.0.0.1:"}, "DXR_BASE_URL"),
        ({"DXR_BASE_URL": "https://acme.example.com:99999"}, "port"),
        ({"DXR_BASE_URL": "https://user:pw@acme.example.com"}, "user name or password"),
        ({"DXR_BASE_URL": "http://acme.example.com"}, "unencrypted"),
        ({"DXR_BASE_URL": "https://acme.example.com/api/v1/files"}, "origin only"),
        ({"DXR_BASE_URL": "acme.example.com"}, "DXR_BASE_URL"),
        ({"DXR_QUERIES": "not-json"}, "DXR_QUERIES must be a JSON list"),
        ({"DXR_QUERIES": "[]"}, "DXR_QUERIES"),
        ({"DXR_VERIFY_SSL": "yes"}, "DXR_VERIFY_SSL: must be true or false"),
        ({"DXR_HTTP_TIMEOUT": "-1"}, "DXR_HTTP_TIMEOUT"),
        ({"DXR_MAX_ATTEMPTS": "many"}, "DXR_MAX_ATTEMPTS"),
        ({"DXR_SNAPSHOT_INTERVAL": "daily"}, "DXR_SNAPSHOT_INTERVAL"),
        ({"DXR_CA_BUNDLE": "/no/such/ca.pem"}, "DXR_CA_BUNDLE"),
        ({"DXR_TOKEN_SCOPE": "scope"}, "DXR_TOKEN_KEY"),
        ({"FILE_RECORDS_WORKSPACE_MAX_REQUESTS_PER_SECOND": "fast"}, "FILE_RECORDS_WORKSPACE_MAX_REQUESTS_PER_SECOND"),
        ({"FILE_RECORDS_WORKSPACE_USERS": "alice"}, "FILE_RECORDS_WORKSPACE_USERS must be a JSON list"),
        ({"FILE_RECORDS_POLICIES_CATALOGUE": "/no/such/catalogue.yml"}, "FILE_RECORDS_POLICIES_CATALOGUE"),
        ({"FILE_RECORDS_POLICIES_HISTORY_DAYS": "0"}, "FILE_RECORDS_POLICIES_HISTORY_DAYS"),
    ],
)
def test_bad_settings_are_refused_before_spark_starts(capsys, tmp_path, monkeypatch, env, needle):
    monkeypatch.setenv("DXR_BASE_URL", "https://acme.example.com")
    monkeypatch.setenv("DXR_BEARER_TOKEN", TOKEN)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert_one_line_exit_2(capsys, "run", "--state-dir", str(tmp_path / "state"), needle=needle)
    assert not (tmp_path / "state").exists()


def test_bad_settings_in_dotenv_name_the_variable(capsys, tmp_path):
    (tmp_path / ".env").write_text(f"DXR_BASE_URL=https://acme.example.com\nDXR_BEARER_TOKEN={TOKEN}\nDXR_RECORD_CAP=zero\n")
    assert_one_line_exit_2(capsys, "run", "--state-dir", str(tmp_path / "state"), needle="DXR_RECORD_CAP")


def test_no_source_configured(capsys, tmp_path):
    assert_one_line_exit_2(capsys, "run", "--state-dir", str(tmp_path / "s"), needle="no source is configured")


def test_missing_token(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("DXR_BASE_URL", "https://acme.example.com")
    assert_one_line_exit_2(capsys, "run", "--state-dir", str(tmp_path / "s"), needle="DXR_BEARER_TOKEN is not set")


def test_unknown_source_and_unknown_flag(capsys, tmp_path):
    assert_one_line_exit_2(capsys, "run", "--sources", "sharepoint", needle="unknown source")
    assert_one_line_exit_2(capsys, "run", "--no-such-flag", needle="unrecognized arguments")
    assert_one_line_exit_2(capsys, "frobnicate", needle="invalid choice")


def test_full_refresh_of_bronze_is_refused(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("DXR_BASE_URL", "https://acme.example.com")
    monkeypatch.setenv("DXR_BEARER_TOKEN", TOKEN)
    assert_one_line_exit_2(capsys, "run", "--state-dir", str(tmp_path / "s"), "--full-refresh", "bronze_dxr_files",
                           needle="refusing to fully refresh bronze_dxr_files")


def test_an_unexpected_error_is_a_message_not_a_traceback(capsys, monkeypatch):
    from file_records.commands import report

    def broken(args, console):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(report, "run", broken)
    code, lines = run_cli(capsys, "report")
    assert code == 1
    assert "RuntimeError: boom second line" in lines[0] and "--debug" in " ".join(lines)
    with pytest.raises(RuntimeError):
        cli.main(["--debug", "report"])
    with pytest.raises(RuntimeError):
        cli.main(["report", "--debug"])


def test_every_command_has_help(capsys):
    for name in cli.COMMANDS:
        with pytest.raises(SystemExit) as done:
            cli.main([name, "--help"])
        assert done.value.code == 0
        assert "usage: file-records " + name in capsys.readouterr().out
