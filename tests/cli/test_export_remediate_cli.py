"""`export` and `remediate` as command modules (HELP, add_arguments, run): flags, error paths and the
remediation report, driven without the top-level parser. No Spark: export's errors here all happen
before a session would start."""

from __future__ import annotations

import argparse
from pathlib import Path

import orjson
import pytest
from rich.console import Console

from file_records.commands import export as export_cmd
from file_records.commands import remediate as remediate_cmd
from file_records.errors import UsageError
from tests.remediation.helpers import make_env, row, snapshot, write_plan


def parse(module, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"file-records {module.__name__.rsplit('.', 1)[-1]}")
    module.add_arguments(parser)
    return parser.parse_args(argv)


def call(module, argv: list[str]) -> int:
    return module.run(parse(module, argv), Console(stderr=True))


@pytest.fixture
def env(tmp_path: Path) -> dict:
    return make_env(tmp_path)


@pytest.fixture
def base(env) -> list[str]:
    rows = [row("/Finance/" + rel, data) for rel, data in env["files"].items()]
    plan = write_plan(env, rows)
    return ["--plan", str(plan), "--archive-root", str(env["archive"]), "--path-map", f"/Finance={env['share']}"]


@pytest.mark.parametrize("module", [export_cmd, remediate_cmd])
def test_protocol(module):
    assert isinstance(module.HELP, str) and module.HELP and "\n" not in module.HELP
    assert callable(module.add_arguments) and callable(module.run)


def test_remediate_missing_plan_file(env, tmp_path):
    args = ["--plan", str(tmp_path / "nope.csv"), "--archive-root", str(env["archive"]),
            "--path-map", f"/Finance={env['share']}"]
    with pytest.raises(UsageError, match="does not exist"):
        call(remediate_cmd, args)
    assert not env["archive"].exists()


def test_remediate_missing_flags(env, base):
    with pytest.raises(UsageError, match="--archive-root, --path-map"):
        call(remediate_cmd, base[:2])


@pytest.mark.parametrize("bad", ["no-equals-sign", "/Finance=", "/Finance=  "])
def test_remediate_malformed_path_map(env, base, bad):
    with pytest.raises(UsageError, match="PREFIX=LOCAL"):
        call(remediate_cmd, base[:4] + ["--path-map", bad])


def test_remediate_path_map_prefix_twice(env, base):
    with pytest.raises(UsageError, match="given twice"):
        call(remediate_cmd, base + ["--path-map", f"/Finance={env['tmp']}"])


def test_remediate_undo_missing_journal(tmp_path):
    for extra in ([], ["--apply"]):
        with pytest.raises(UsageError, match="does not exist"):
            call(remediate_cmd, ["--undo", str(tmp_path / "journal.jsonl"), *extra])
    assert not (tmp_path / "journal.jsonl").exists()


def test_remediate_unusable_archive_root(env, base):
    blocker = env["tmp"] / "a-file"
    blocker.write_bytes(b"not a directory")
    args = base[:2] + ["--archive-root", str(blocker / "archive")] + base[4:] + ["--apply", "--no-hold-check"]
    with pytest.raises(UsageError, match="cannot use"):
        call(remediate_cmd, args)
    assert all((env["share"] / rel).read_bytes() == data for rel, data in env["files"].items())


def test_remediate_dry_run_prints_and_touches_nothing(env, base, capsys):
    before = snapshot(env["tmp"])
    assert call(remediate_cmd, base) == 0
    out = capsys.readouterr().out
    assert [line.split()[2] for line in out.splitlines() if line.startswith("row ")] == ["would_do"] * 3
    assert "would move" in out and "/Finance/Reports/q1.pdf" in out
    assert "dry-run: would_do 3" in out and "Dry run: nothing was changed" in out
    assert snapshot(env["tmp"]) == before
    assert not env["archive"].exists()


def test_remediate_apply_undo_and_exit_codes(env, base, capsys):
    """What the old in-module CLI test covered: dry run, --apply --json, --undo dry run and --apply,
    and exit status 1 when a row is refused."""
    before = snapshot(env["share"])
    assert call(remediate_cmd, base) == 0
    out = capsys.readouterr().out
    assert "would_do" in out and "Dry run" in out
    assert snapshot(env["share"]) == before
    assert call(remediate_cmd, base + ["--apply", "--json", "--no-hold-check"]) == 0
    data = orjson.loads(capsys.readouterr().out)
    assert data["counts"] == {"done": 3} and data["mode"] == "apply"
    journal = data["journal"]
    assert call(remediate_cmd, ["--undo", journal]) == 0  # dry run
    assert "undo-dry-run" in capsys.readouterr().out
    assert not (env["share"] / "Reports/q1.pdf").exists()
    assert call(remediate_cmd, ["--undo", journal, "--apply"]) == 0
    assert snapshot(env["share"]) == before
    (env["share"] / "Reports/q1.pdf").write_bytes(b"changed")
    capsys.readouterr()
    assert call(remediate_cmd, base + ["--apply", "--no-hold-check"]) == 1
    out = capsys.readouterr().out
    assert "hash mismatch" in out and f"Journal: {journal}" in out


def test_export_flags_parse():
    args = parse(export_cmd, ["gold_policy_flags", "--policy", "duplicate,stale", "--policy", "orphaned",
                              "--state-dir", "/tmp/s", "--out", "-", "--format", "json"])
    assert args.table == "gold_policy_flags" and args.state_dir == Path("/tmp/s") and args.format == "json"
    assert export_cmd._split(args.policy) == ["duplicate", "stale", "orphaned"]
    assert export_cmd._split(args.owner) is None
    defaults = parse(export_cmd, ["gold_user_inventory", "--out", "x.csv"])
    assert (defaults.format, defaults.all_scans, defaults.no_plan_columns) == ("csv", False, False)


def test_export_bad_format_and_missing_out_are_usage_errors():
    for argv in (["gold_policy_flags", "--out", "x", "--format", "xml"], ["gold_policy_flags"]):
        with pytest.raises(SystemExit) as exc:
            parse(export_cmd, argv)
        assert exc.value.code == 2


def test_export_without_state_dir(tmp_path):
    with pytest.raises(UsageError, match="no pipeline state"):
        call(export_cmd, ["gold_policy_flags", "--state-dir", str(tmp_path / "none"), "--out", str(tmp_path / "o")])
    assert not (tmp_path / "o").exists()
