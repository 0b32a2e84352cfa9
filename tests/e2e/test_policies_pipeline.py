"""Policies end to end: the real pipeline (DXR + workspace, run twice) -> silver_all_files ->
gold_policy_flags / gold_policy_summary, then the export and a remediation dry run on it.

The query functions of the policy tables are registered over Spark Connect before their upstream
tables exist (first run) and again against existing tables (second run): `two_runs` completing at
all is the regression test for eager analysis at registration. This run sets no hold-list file, so
holds come from legal-hold labels only.
"""

from __future__ import annotations

import csv
from pathlib import Path

import orjson
import pytest

from file_records.policies.evaluate import FLAG_COLUMNS
from file_records.policies.export import FORMULA_TRIGGERS, read_csv_rows
from file_records.policies.model import DESTRUCTIVE_ACTIONS, load_catalogue
from tests.e2e.conftest import _cli, _query

pytestmark = [pytest.mark.e2e, pytest.mark.spark]

# Rich wraps console output at 80 columns when not on a terminal; error texts are asserted on.
WIDE = {"COLUMNS": "500"}


def _key(row) -> tuple[str, str]:
    return row["source_system"], row["file_id"]


@pytest.fixture(scope="module")
def state(two_runs):
    return two_runs[0]


@pytest.fixture(scope="module")
def flags(state):
    rows = _query(state, "SELECT * FROM gold_policy_flags")
    assert rows, "the demo corpus should trip several policies"
    return rows


@pytest.fixture(scope="module")
def duplicate_export(state, tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "dup.csv"
    # Export options go after the table name; --state-dir may be anywhere.
    args = ["export", "--state-dir", str(state), "gold_policy_flags",
            "--policy", "duplicate", "--format", "csv", "--out", str(out)]
    _cli(args, state)
    with out.open(newline="", encoding="utf-8") as fh:
        raw = list(csv.reader(fh))
    # Cells that a spreadsheet would run as a formula are written with a leading quote (the demo
    # corpus has file ids starting with '-'); read_csv_rows, as remediation does, undoes that.
    assert not [cell for row in raw for cell in row if cell and cell[0] in FORMULA_TRIGGERS]
    header, rows = read_csv_rows(out)
    assert len(rows) == len(raw) - 1 and header == raw[0]
    return out, rows


def test_flag_columns_are_the_documented_ones(state, flags):
    assert tuple(flags[0]) == FLAG_COLUMNS
    described = _query(state, "DESCRIBE TABLE gold_policy_flags")
    names = []
    for row in described:
        if not row["col_name"] or row["col_name"].startswith("#"):
            break
        names.append(row["col_name"])
    assert tuple(names) == FLAG_COLUMNS


def test_flags_name_catalogue_policies_with_their_action_and_a_reason(flags):
    catalogue = {p.name: p for p in load_catalogue().policies}
    for row in flags:
        policy = catalogue.get(row["policy"])
        assert policy is not None, f"{row['policy']!r} is not a catalogue policy"
        assert (row["action"], row["severity"]) == (policy.action, policy.severity), row
        assert row["reason"] and row["reason"].strip(), f"flag without a reason: {row}"
        assert row["detected_on"], row
    # One row per file and policy.
    assert len({(*_key(r), r["policy"]) for r in flags}) == len(flags)


def test_every_duplicate_copy_but_the_keeper_is_flagged(state, flags):
    groups = _query(
        state, "SELECT lower(content_sha256) AS sha, copies, keeper_file_id FROM gold_duplicate_files"
    )
    assert groups, "the demo corpus has duplicated content"
    files = _query(state, "SELECT source_system, file_id, content_sha256 FROM silver_all_files "
                          "WHERE content_sha256 IS NOT NULL")
    by_sha: dict[str, list[dict]] = {}
    for row in files:
        by_sha.setdefault(row["content_sha256"], []).append(row)
    expected = set()
    for group in groups:
        members = by_sha.get(group["sha"], [])
        assert len(members) == group["copies"], group
        assert group["keeper_file_id"] in {m["file_id"] for m in members}, group
        expected |= {_key(m) for m in members if m["file_id"] != group["keeper_file_id"]}
    flagged = {_key(r) for r in flags if r["policy"] == "duplicate"}
    assert flagged == expected
    assert len(flagged) == sum(g["copies"] - 1 for g in groups)
    keepers = {("dxr", g["keeper_file_id"]) for g in groups}
    assert not flagged & keepers
    assert all("copies of content" in r["reason"] for r in flags if r["policy"] == "duplicate")


def test_without_a_hold_list_only_labels_hold_and_they_suppress_destructive_flags(state, flags):
    assert not any("hold list:" in r["reason"] for r in flags if r["policy"] == "legal_hold")
    labelled = {
        _key(r) for r in _query(
            state,
            "SELECT source_system, file_id FROM silver_all_files "
            "WHERE exists(labels, l -> lower(trim(l)) IN ('legal hold', 'litigation hold'))",
        )
    }
    held = {_key(r) for r in flags if r["policy"] == "legal_hold"}
    assert held == labelled
    kept = {_key(r) for r in flags if r["policy"] == "keep_forever"}
    for row in flags:
        key = _key(row)
        if row["action"] in DESTRUCTIVE_ACTIONS:
            want = "legal_hold" if key in held else "keep_forever" if key in kept else None
            assert row["suppressed_by"] == want, row
        else:
            assert row["suppressed_by"] is None, row


def test_orphaned_is_every_owner_who_is_not_an_active_workspace_user(state, flags):
    # Users of the newest scan; a missing `active` counts as active (as the pipeline does).
    users = _query(
        state,
        "SELECT lower(trim(username)) AS username, bool_or(coalesce(active, true)) AS active "
        "FROM silver_workspace_scan_status "
        "WHERE scan_id = (SELECT max(scan_id) FROM silver_workspace_scan_status) GROUP BY 1",
    )
    active = {u["username"] for u in users if u["active"]}
    assert users and len(active) < len(users), "the demo workspace has an inactive user"
    expected = set()
    for row in _query(state, "SELECT source_system, file_id, owner FROM silver_all_files"):
        owner = (row["owner"] or "").strip().lower()
        # DXR owners are matched by e-mail only; a display name is not evidence of an orphan.
        if owner and (row["source_system"] != "dxr" or "@" in owner) and owner not in active:
            expected.add(_key(row))
    orphaned = {_key(r) for r in flags if r["policy"] == "orphaned"}
    assert orphaned == expected
    assert {source for source, _ in orphaned} == {"dxr", "workspace"}


def test_summary_counts_match_the_flags(state, flags):
    summary = _query(state, "SELECT * FROM gold_policy_summary")
    by_policy: dict[str, list[dict]] = {}
    for row in flags:
        by_policy.setdefault(row["policy"], []).append(row)
    # Both runs were on the same day: one detected_on, no previous run to compare with.
    assert sorted(r["policy"] for r in summary) == sorted(by_policy)
    for row in summary:
        rows = by_policy[row["policy"]]
        assert row["detected_on"] == rows[0]["detected_on"]
        assert row["files"] == len({_key(r) for r in rows}), row["policy"]
        assert row["bytes"] == sum(r["size"] or 0 for r in rows), row["policy"]
        owners = {r["owner"].lower() for r in rows if r["owner"] is not None}
        assert row["owners"] == len(owners), row["policy"]
        assert row["suppressed_files"] == len({_key(r) for r in rows if r["suppressed_by"]}), row["policy"]
        assert row["previous_detected_on"] is None and row["files_change"] is None


def test_export_writes_exactly_the_duplicate_rows_with_hashes(state, flags, duplicate_export):
    _, rows = duplicate_export
    assert rows and all(r["policy"] == "duplicate" for r in rows)
    assert {_key(r) for r in rows} == {_key(r) for r in flags if r["policy"] == "duplicate"}
    assert len(rows) == len({_key(r) for r in rows})
    hashes = {
        _key(r): r["content_sha256"]
        for r in _query(state, "SELECT source_system, file_id, content_sha256 FROM silver_all_files")
    }
    for row in rows:
        assert len(row["content_sha256"]) == 64 and row["content_sha256"] == hashes[_key(row)], row


def test_remediation_dry_run_on_the_export_touches_nothing(state, duplicate_export, tmp_path):
    plan, rows = duplicate_export
    mount, archive = tmp_path / "mnt", tmp_path / "archive"
    mount.mkdir()
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    plan_bytes = plan.read_bytes()
    args = ["remediate", "--plan", str(plan), "--archive-root", str(archive), "--state-dir", str(state),
            "--path-map", f"/={mount}", "--json"]
    result = _cli(args, state, check=False)
    assert result.returncode == 1, result.stdout + result.stderr  # rows refused or missing
    report = orjson.loads(result.stdout)
    assert report["mode"] == "dry-run"
    suppressed = sum(1 for r in rows if r["suppressed_by"])
    expected = {"refused": suppressed, "failed": len(rows) - suppressed}
    assert report["counts"] == {status: n for status, n in expected.items() if n}
    for res in report["results"]:
        if res["status"] == "failed":
            assert res["message"].startswith("missing:"), res
            assert Path(res["source"]).is_relative_to(mount.resolve()), res
        else:
            assert res["status"] == "refused" and "suppressed by" in res["message"], res
        assert res["archived_to"] is None and res["stub"] is None
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert not archive.exists()
    assert plan.read_bytes() == plan_bytes


def test_a_bad_hold_list_stops_the_pipeline_naming_file_and_field(emulator, tmp_path):
    holds = tmp_path / "holds.csv"
    holds.write_text("hold_id,match_type,value,reason,added_by,added_on\n"
                     "LH-9,path_regex,/Legal/.*,a typo must not silently drop a hold,rm,2026-01-01\n")
    state_dir = tmp_path / "state"
    args = ["run", "--sources", "dxr", "--dry-run", "--state-dir", str(state_dir),
            "--dxr-base-url", emulator.url]
    env = {**WIDE, "FILE_RECORDS_POLICIES_HOLDS_FILE": str(holds)}
    result = _cli(args, state_dir, env_extra=env, check=False)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2, output  # bad input, refused before Spark starts
    assert str(holds.resolve()) in output and "Traceback" not in output, output
    assert "'LH-9'" in output and "'match_type'" in output, output
