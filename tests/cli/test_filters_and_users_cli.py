"""`export` checks --policy/--action against the catalogue before Spark; `users` writes a
formula-safe CSV. In-process, no Spark."""

from __future__ import annotations

import csv
import os

import pytest

from file_records import cli
from file_records.connectors.workspace.client import UserRef


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith(("DXR_", "DATABRICKS_", "FILE_RECORDS_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


@pytest.fixture
def no_spark(monkeypatch):
    import file_records.local.runner as runner

    def refuse(*args, **kwargs):
        raise AssertionError("Spark must not start")

    monkeypatch.setattr(runner, "reading_session", refuse)


def run_cli(capsys, *argv) -> tuple[int, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) <= 3, lines
    return code, " ".join(line.strip() for line in lines)


def test_export_unknown_policy(capsys, tmp_path, no_spark):
    code, err = run_cli(capsys, "export", "gold_policy_flags", "--policy", "dupliate",
                        "--state-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o.csv"))
    assert code == 2
    assert "unknown policy 'dupliate'; the catalogue has: duplicate, retention," in err
    assert not (tmp_path / "o.csv").exists()


def test_export_unknown_action_and_several_policies(capsys, tmp_path, no_spark):
    code, err = run_cli(capsys, "export", "gold_policy_flags", "--action", "archive,purge",
                        "--out", str(tmp_path / "o.csv"))
    assert code == 2 and "unknown action 'purge'; the catalogue has: archive, review, delete, keep, hold" in err
    code, err = run_cli(capsys, "export", "gold_policy_flags", "--policy", "duplicate,nope", "--policy", "zilch",
                        "--out", str(tmp_path / "o.csv"))
    assert code == 2 and "unknown policies 'nope', 'zilch'" in err


def test_export_policy_from_a_custom_catalogue(capsys, tmp_path, monkeypatch, no_spark):
    from file_records.policies.model import DEFAULT_CATALOGUE

    custom = tmp_path / "catalogue.yml"
    custom.write_text(DEFAULT_CATALOGUE.read_text(encoding="utf-8").replace("name: duplicate", "name: dupes"))
    monkeypatch.setenv("FILE_RECORDS_POLICIES_CATALOGUE", str(custom))
    code, err = run_cli(capsys, "export", "gold_policy_flags", "--policy", "duplicate", "--out", str(tmp_path / "o"))
    assert code == 2 and "unknown policy 'duplicate'; the catalogue has: dupes," in err


def test_export_known_filters_reach_the_state_check(capsys, tmp_path):
    """Valid (case-insensitive) filters pass the check; the next error is the missing state."""
    code, err = run_cli(capsys, "export", "gold_policy_flags", "--policy", "Duplicate", "--action", "ARCHIVE",
                        "--state-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o.csv"))
    assert code == 2 and "no pipeline state" in err


def test_users_csv_is_formula_safe(capsys, tmp_path, monkeypatch):
    import file_records.connectors.workspace.users as users_mod

    monkeypatch.setenv("DATABRICKS_HOST", "https://adb-1.azuredatabricks.net")
    monkeypatch.setenv("DATABRICKS_TOKEN", "tok-never-printed")
    people = [UserRef("dana@example.com", True, '=HYPERLINK("http://evil","click")'),
              UserRef("@lex@example.com", False, "Lex"), UserRef("sam@example.com", True, None)]
    monkeypatch.setattr(users_mod, "list_users", lambda auth, max_users=None: people)
    out = tmp_path / "users.csv"
    code, _ = run_cli(capsys, "users", "--out", str(out))
    assert code == 0
    rows = list(csv.reader(out.open(newline="")))
    assert rows == [["username", "display_name", "active"],
                    ["dana@example.com", "'=HYPERLINK(\"http://evil\",\"click\")", "true"],
                    ["'@lex@example.com", "Lex", "false"],
                    ["sam@example.com", "", "true"]]
    plain = tmp_path / "users.txt"
    assert run_cli(capsys, "users", "--out", str(plain), "--plain")[0] == 0
    assert plain.read_text().splitlines() == ["dana@example.com", "@lex@example.com", "sam@example.com"]
