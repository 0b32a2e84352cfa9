"""`file-records doctor` against the DXR emulator, in-process."""

from __future__ import annotations

import argparse
import fcntl

import pytest
from rich.console import Console

from file_records.commands import doctor
from file_records.emulators.dxr_server import DxrEmulator

TOKEN = "doctor-token-0123456789"


@pytest.fixture(scope="module")
def emulator():
    with DxrEmulator([], token=TOKEN) as emu:
        yield emu


def _checks(tmp_path, env, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no .env of the repository
    args = argparse.Namespace(state_dir=tmp_path / "state", dxr_base_url=None)
    return {c.name: c for c in doctor.run_checks(args, environ=env)}


def test_ok(emulator, tmp_path, monkeypatch):
    checks = _checks(tmp_path, {"DXR_BASE_URL": emulator.url, "DXR_BEARER_TOKEN": TOKEN}, monkeypatch)
    assert checks["dxr"].status == doctor.OK, checks["dxr"].detail
    assert checks["configuration"].status == doctor.OK
    assert checks["workspace"].status == doctor.SKIPPED
    assert checks["state directory"].status == doctor.OK


def test_bad_token(emulator, tmp_path, monkeypatch):
    checks = _checks(tmp_path, {"DXR_BASE_URL": emulator.url, "DXR_BEARER_TOKEN": "wrong-token-000000"},
                     monkeypatch)
    assert checks["dxr"].status == doctor.PROBLEM
    assert "rejected the token" in checks["dxr"].detail and "wrong-token" not in checks["dxr"].detail


def test_unreachable(tmp_path, monkeypatch):
    checks = _checks(tmp_path, {"DXR_BASE_URL": "https://127.0.0.1:9", "DXR_BEARER_TOKEN": TOKEN}, monkeypatch)
    assert checks["dxr"].status == doctor.PROBLEM and "could not connect" in checks["dxr"].detail


def test_bad_configuration_is_reported_not_raised(tmp_path, monkeypatch):
    checks = _checks(tmp_path, {"DXR_BASE_URL": "https://x.example", "DXR_MAX_ATTEMPTS": "many"}, monkeypatch)
    assert checks["configuration"].status == doctor.PROBLEM and "DXR_MAX_ATTEMPTS" in checks["configuration"].detail
    assert checks["dxr"].status == doctor.SKIPPED


def test_locked_state_dir(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    with open(state / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        check = doctor.check_state_dir(state)
    assert check.status == doctor.PROBLEM and "in use" in check.detail
    assert doctor.check_state_dir(state).status == doctor.OK
    (tmp_path / "file").write_text("")
    assert doctor.check_state_dir(tmp_path / "file").status == doctor.PROBLEM


def test_workspace_with_a_fake_client(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from file_records.settings import load_settings

    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={"DATABRICKS_HOST": "https://adb-1.azuredatabricks.net", "DATABRICKS_TOKEN": "dapi0"})

    def good(**kwargs):
        assert kwargs["token"] == "dapi0"
        return SimpleNamespace(current_user=SimpleNamespace(me=lambda: SimpleNamespace(user_name="a@b.c")))

    def bad(**kwargs):
        def me():
            raise PermissionError("401 Unauthorized: invalid access token")
        return SimpleNamespace(current_user=SimpleNamespace(me=me))

    assert doctor.check_workspace(settings, good).status == doctor.OK
    assert doctor.check_workspace(settings, bad).status == doctor.PROBLEM


def test_command_exit_status_and_table(emulator, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DXR_BASE_URL", emulator.url)
    monkeypatch.setenv("DXR_BEARER_TOKEN", "wrong-token-000000")
    for name in ("DATABRICKS_HOST", "DATABRICKS_CONFIG_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(doctor, "check_java", lambda: doctor.Check("java", doctor.OK, "fake"))
    args = argparse.Namespace(state_dir=tmp_path / "state", dxr_base_url=None)
    assert doctor.run(args, Console(stderr=True)) == 1
    monkeypatch.setenv("DXR_BEARER_TOKEN", TOKEN)
    assert doctor.run(args, Console(stderr=True)) == 0


def test_workspace_against_the_emulator(tmp_path, monkeypatch):
    from file_records.emulators.workspace_server import WorkspaceEmulator
    from file_records.emulators.workspace_tree import SyntheticWorkspace
    from file_records.settings import load_settings

    monkeypatch.chdir(tmp_path)
    with WorkspaceEmulator(SyntheticWorkspace.demo(), token="dapi-good-0000") as emu:
        good = load_settings(environ={"DATABRICKS_HOST": emu.url, "DATABRICKS_TOKEN": "dapi-good-0000"})
        bad = load_settings(environ={"DATABRICKS_HOST": emu.url, "DATABRICKS_TOKEN": "dapi-bad-0000"})
        assert doctor.check_workspace(good).status == doctor.OK
        check = doctor.check_workspace(bad)
        assert check.status == doctor.PROBLEM and "rejected the credentials" in check.detail
    refused = load_settings(environ={"DATABRICKS_HOST": "https://127.0.0.1:9", "DATABRICKS_TOKEN": "x"})
    check = doctor.check_workspace(refused)
    assert check.status == doctor.PROBLEM and "could not connect" in check.detail
