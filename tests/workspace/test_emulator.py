"""The Databricks workspace emulator: REST shapes, faults, SCIM paging, the synthetic tree."""

from __future__ import annotations

import time

import pytest
import requests

from file_records.emulators.workspace_server import (
    DBFS_LIST,
    WS_LIST,
    WorkspaceEmulator,
)
from file_records.emulators.workspace_tree import SyntheticWorkspace

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def emu():
    with WorkspaceEmulator(SyntheticWorkspace.demo(), token=TOKEN) as emulator:
        yield emulator


def get(emu, path, **kw):
    kw.setdefault("headers", AUTH)
    return requests.get(emu.url + path, timeout=10, **kw)


def test_dbfs_list_shapes_query_and_body(emu):
    by_query = get(emu, DBFS_LIST, params={"path": "/Users/alice@example.com"})
    by_body = get(emu, DBFS_LIST, json={"path": "/Users/alice@example.com"})
    assert by_query.status_code == by_body.status_code == 200
    assert by_query.json() == by_body.json()
    files = by_query.json()["files"]
    assert {"path": "/Users/alice@example.com/data_0.csv", "is_dir": False, "file_size": 1000,
            "modification_time": 1_700_000_000_000} in files
    deep = [f for f in files if f["path"] == "/Users/alice@example.com/deep"]
    assert deep and deep[0]["is_dir"] is True and deep[0]["file_size"] == 0
    # every path is absolute (the predecessor recursed on them verbatim)
    assert all(f["path"].startswith("/Users/alice@example.com/") for f in files)


def test_empty_missing_forbidden(emu):
    assert get(emu, DBFS_LIST, params={"path": "/Users/carol@example.com"}).json() == {}
    assert get(emu, WS_LIST, params={"path": "/Users/carol@example.com"}).json() == {}
    missing = get(emu, WS_LIST, params={"path": "/Users/frank@example.com"})
    assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    missing = get(emu, DBFS_LIST, json={"path": "/Users/frank@example.com"})
    assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    forbidden = get(emu, WS_LIST, params={"path": "/Users/grace@example.com"})
    assert forbidden.status_code == 403 and forbidden.json()["error_code"] == "PERMISSION_DENIED"
    broken = get(emu, WS_LIST, params={"path": "/Users/heidi@example.com/broken"})
    assert broken.status_code == 500


def test_workspace_list_shapes(emu):
    objects = get(emu, WS_LIST, params={"path": "/Users/alice@example.com/proj"}).json()["objects"]
    by_path = {o["path"]: o for o in objects}
    helper = by_path["/Users/alice@example.com/proj/helper.py"]
    assert helper["object_type"] == "FILE" and helper["size"] == 55_555 and isinstance(helper["object_id"], int)
    etl = by_path["/Users/alice@example.com/proj/etl"]
    assert etl["object_type"] == "NOTEBOOK" and etl["language"] == "SQL" and "size" not in etl
    home = get(emu, WS_LIST, json={"path": "/Users/alice@example.com"}).json()["objects"]
    repo = [o for o in home if o["object_type"] == "REPO"]
    assert repo and "size" not in repo[0]
    inside = get(emu, WS_LIST, params={"path": repo[0]["path"]}).json()["objects"]
    assert {o["object_type"] for o in inside} == {"FILE", "DIRECTORY"}
    status = get(emu, "/api/2.0/workspace/get-status", params={"path": "/Users/alice@example.com/nb1"}).json()
    assert status["object_type"] == "NOTEBOOK"
    dbfs_status = get(emu, "/api/2.0/dbfs/get-status", params={"path": "/Users/bob@example.com/big/dump.bin"})
    assert dbfs_status.json()["file_size"] == 3_344_682_261


def test_auth_required_and_missing_path(emu):
    assert get(emu, WS_LIST, params={"path": "/Users"}, headers={}).status_code == 401
    bad = get(emu, WS_LIST, params={"path": "/Users"}, headers={"Authorization": "Bearer wrong"})
    assert bad.status_code == 401 and "wrong" not in bad.text
    assert get(emu, WS_LIST).status_code == 400
    well_known = get(emu, "/.well-known/databricks-config", headers={})
    assert well_known.status_code == 200 and well_known.json()["workspace_id"]


def test_scim_paging_and_filter(emu):
    seen, start, pages = [], 1, 0
    while True:
        body = get(emu, "/api/2.0/preview/scim/v2/Users", params={"startIndex": start, "count": 5}).json()
        assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
        assert body["totalResults"] == 13
        if not body["Resources"]:
            break
        pages += 1
        seen += [r["userName"] for r in body["Resources"]]
        start += len(body["Resources"])
    assert pages == 3 and len(seen) == len(set(seen)) == 13
    body = get(emu, "/api/2.0/preview/scim/v2/Users", params={"filter": 'userName eq "erin@example.com"'}).json()
    assert [(r["userName"], r["active"]) for r in body["Resources"]] == [("erin@example.com", False)]
    body = get(emu, "/api/2.0/preview/scim/v2/Users", params={"filter": 'userName eq "nobody@example.com"'}).json()
    assert body["Resources"] == [] and body["totalResults"] == 0


def test_databricks_sdk_against_emulator(emu):
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient(host=emu.url, token=TOKEN)
    names = [u.user_name for u in w.users.list(count=4)]  # terminates on the empty page
    assert len(names) == 13 and "zoe+ops@example.com" in names
    assert [f.path for f in w.dbfs.list("/Users/bob@example.com/big")] == ["/Users/bob@example.com/big/dump.bin"]
    assert {o.path for o in w.workspace.list("/Users/ivan@example.com")} >= {"/Users/ivan@example.com/service"}


def test_rate_limit_answers_429_with_retry_after():
    with WorkspaceEmulator(SyntheticWorkspace.demo(), rate_limit_per_second=2, rate_limit_burst=2,
                           retry_after_seconds=0.25) as emu:
        answers = [get(emu, WS_LIST, params={"path": "/Users/alice@example.com"}) for _ in range(4)]
        codes = [a.status_code for a in answers]
        assert codes[:2] == [200, 200] and 429 in codes[2:]
        limited = next(a for a in answers if a.status_code == 429)
        assert limited.headers["Retry-After"] == "0.25"
        assert limited.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
        emu.rate_limit_per_second = None  # faults are mutable at runtime
        assert get(emu, WS_LIST, params={"path": "/Users/alice@example.com"}).status_code == 200
        assert emu.responses_by_status[429] >= 1


def test_injected_5xx_resets_and_latency():
    with WorkspaceEmulator(SyntheticWorkspace.demo(), fail_every_n=2) as emu:
        codes = [get(emu, WS_LIST, params={"path": "/Users/alice@example.com"}).status_code for _ in range(4)]
        assert codes[0] == 200 and codes[1] >= 500 and codes[3] >= 500
        emu.fail_every_n = None
        emu.reset_every_n = 1
        with pytest.raises(requests.ConnectionError):
            get(emu, WS_LIST, params={"path": "/Users/alice@example.com"})
        assert emu.responses_by_status["reset"] == 1
        emu.reset_every_n = None
        emu.latency_ms = 120
        started = time.monotonic()
        assert get(emu, WS_LIST, params={"path": "/Users/alice@example.com"}).status_code == 200
        assert time.monotonic() - started >= 0.12
        assert emu.request_count == 6
        assert emu.requests_by_path[WS_LIST] == 6


def test_generated_workspace_is_deterministic_and_has_every_case():
    a = SyntheticWorkspace.generate(60, dirs_per_user=6, objects_per_user=30, seed=5, failing_ratio=0.05,
                                    volume_ratio=0.1)
    b = SyntheticWorkspace.generate(60, dirs_per_user=6, objects_per_user=30, seed=5, failing_ratio=0.05,
                                    volume_ratio=0.1)
    assert [u.username for u in a.users] == [u.username for u in b.users]
    assert a.truths() == b.truths()
    assert a.workspace.entries.keys() == b.workspace.entries.keys()
    c = SyntheticWorkspace.generate(60, dirs_per_user=6, objects_per_user=30, seed=6)
    assert a.truths() != c.truths()
    truths = a.truths()
    statuses = {t.status for t in truths.values()}
    assert statuses == {"success", "empty", "partial", "error"}
    kinds = {k for u in a.users for k in u.kinds}
    assert kinds >= {"deep", "repo", "empty", "missing", "forbidden", "failing", "deactivated", "volume"}
    assert any(not u.active for u in a.users)
    deep = [t for t in truths.values() if t.max_depth > 10]
    assert deep and all(t.files > 0 for t in deep)
    assert {"NOTEBOOK", "FILE", "REPO", "DIRECTORY"} <= {o.object_type for o in a.workspace.entries.values()}
    normal = next(u for u in a.users if not u.kinds & {"missing", "empty", "forbidden", "failing", "deep", "repo"})
    t = a.truth(normal.username, "dbfs")
    assert (t.files, t.directories) == (30, 7)


def test_demo_ground_truth_matches_the_documented_sample():
    demo = SyntheticWorkspace.demo()
    alice_dbfs = demo.truth("alice@example.com", "dbfs")
    assert (alice_dbfs.files, alice_dbfs.max_depth) == (16, 13)
    alice_ws = demo.truth("alice@example.com", "workspace")
    assert (alice_ws.files, alice_ws.notebooks, alice_ws.bytes) == (5, 3, 55_555 + 1_234)
    assert demo.truth("bob@example.com", "dbfs").bytes == 3_344_682_261
    assert demo.truth("carol@example.com", "workspace").status == "empty"
    frank = demo.truth("frank@example.com", "dbfs")
    assert (frank.status, frank.home_missing, frank.error_kind) == ("empty", True, None)
    mallory = demo.truth("mallory@example.com", "workspace")
    assert (mallory.status, mallory.home_missing) == ("empty", True)
    assert demo.truth("mallory@example.com", "dbfs").status == "success"
    oscar = demo.truth("oscar@example.com", "dbfs")
    assert (oscar.status, oscar.home_missing) == ("empty", True)
    assert demo.truth("grace@example.com", "workspace").error_kind == "forbidden"
    heidi = demo.truth("heidi@example.com", "workspace")
    assert (heidi.status, heidi.files, heidi.hidden_files) == ("partial", 2, 2)


def test_generated_missing_homes_of_each_kind():
    tree = SyntheticWorkspace.generate(40, dirs_per_user=3, objects_per_user=6, seed=5, missing_ratio=0.05,
                                       missing_dbfs_ratio=0.2, missing_workspace_ratio=0.1,
                                       empty_workspace_ratio=0.1)
    kinds = {k: [u.username for u in tree.users if k in u.kinds]
             for k in ("missing", "missing_dbfs", "missing_workspace", "empty_workspace")}
    assert {k: len(v) for k, v in kinds.items()} == {"missing": 2, "missing_dbfs": 8, "missing_workspace": 4,
                                                      "empty_workspace": 4}
    for name in kinds["missing_dbfs"]:
        assert tree.truth(name, "dbfs").home_missing and tree.truth(name, "workspace").status == "success"
    for name in kinds["missing_workspace"]:
        assert tree.truth(name, "workspace").home_missing and tree.truth(name, "dbfs").status == "success"
    for name in kinds["empty_workspace"]:
        ws, dbfs = tree.truth(name, "workspace"), tree.truth(name, "dbfs")
        assert (ws.status, ws.home_missing, dbfs.status, dbfs.home_missing) == ("empty", False, "empty", True)
