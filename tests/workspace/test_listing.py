"""The listing engine against the real emulator over HTTP: totals equal the emulator's own tree."""

from __future__ import annotations

import pickle
import threading
import time

import pytest

from file_records.connectors.workspace import (
    NOTEBOOK_SIZE_ESTIMATE_BYTES,
    ObjectRow,
    RateLimiter,
    ScanConfig,
    StatusRow,
    UserRef,
    WorkspaceAuth,
    WorkspaceHttp,
    scan_users,
)
from file_records.connectors.workspace.client import ApiError, parse_root
from file_records.emulators.workspace_server import WS_LIST, WorkspaceEmulator
from file_records.emulators.workspace_tree import SyntheticWorkspace

TOKEN = "test-token"
FAST = dict(max_requests_per_second=None, backoff_base_seconds=0.01, backoff_cap_seconds=0.05)


@pytest.fixture(scope="module")
def demo_emu():
    with WorkspaceEmulator(SyntheticWorkspace.demo(), token=TOKEN) as emulator:
        yield emulator


def scan(emu, users=None, *, limiter=None, **config):
    settings = {**FAST, **config}
    cfg = ScanConfig(**settings)
    users = users if users is not None else [u.username for u in emu.tree.users]
    limiter = limiter or RateLimiter(cfg.max_requests_per_second, adaptive=False, max_pause=1.0)
    rows = list(scan_users(users, cfg, WorkspaceAuth(host=emu.url, token=TOKEN), limiter=limiter))
    objects = [r for r in rows if isinstance(r, ObjectRow)]
    statuses = {(r.username, r.source): r for r in rows if isinstance(r, StatusRow)}
    return objects, statuses


def assert_matches_truth(tree: SyntheticWorkspace, objects, statuses, sources=("workspace", "dbfs")):
    for user in tree.users:
        for source in sources:
            truth = tree.truth(user.username, source)
            row = statuses[(user.username, source)]
            estimated = truth.notebooks * NOTEBOOK_SIZE_ESTIMATE_BYTES
            got = (row.status, row.files, row.bytes, row.estimated_bytes)
            assert got == (truth.status, truth.files, truth.bytes + estimated, estimated), (user.username, source)
            mine = [o for o in objects if o.username == user.username and o.source == source]
            assert len(mine) == row.files
            assert len({o.path for o in mine}) == len(mine)  # never a duplicate row
    assert len(statuses) == len(tree.users) * len(sources)


def test_demo_totals_equal_ground_truth(demo_emu):
    objects, statuses = scan(demo_emu)
    assert_matches_truth(demo_emu.tree, objects, statuses)
    assert statuses[("bob@example.com", "dbfs")].bytes == 3_344_682_261
    assert all(r.duration_seconds >= 0 for r in statuses.values())


def test_deep_trees_fully_listed(demo_emu):
    objects, statuses = scan(demo_emu, ["dave@example.com", "alice@example.com"])
    dave_ws = [o.path for o in objects if o.username == "dave@example.com" and o.source == "workspace"]
    assert "/Users/dave@example.com/a/" + "/".join(f"l{i}" for i in range(1, 16)) + "/bottom.txt" in dave_ws
    assert statuses[("dave@example.com", "workspace")].files == 16
    assert statuses[("dave@example.com", "dbfs")].files == 15
    alice_dbfs = statuses[("alice@example.com", "dbfs")]
    assert (alice_dbfs.files, alice_dbfs.requests, alice_dbfs.depth_capped) == (16, 14, False)


def test_max_depth_is_reported(demo_emu):
    objects, statuses = scan(demo_emu, ["dave@example.com"], max_depth=3)
    row = statuses[("dave@example.com", "workspace")]
    assert row.depth_capped and row.status == "success"
    assert row.files == 2  # home=0, a=1, a/l1=2, a/l1/l2=3 are listed: the notebooks in l1 and l2


def test_repos_descended_and_not_rows(demo_emu):
    objects, statuses = scan(demo_emu, ["ivan@example.com", "alice@example.com"])
    paths = {o.path for o in objects}
    assert "/Users/ivan@example.com/service/pkg/mod/core.py" in paths
    assert "/Users/ivan@example.com/work/infra/main.tf" in paths
    assert "/Users/alice@example.com/analytics-repo/src/train" in paths
    assert not {"REPO", "DIRECTORY"} & {o.object_type for o in objects}
    assert statuses[("ivan@example.com", "workspace")].files == 4


def test_sizes_exact_or_estimated(demo_emu):
    objects, _ = scan(demo_emu, ["alice@example.com", "judy@example.com", "bob@example.com"])
    by_path = {o.path: o for o in objects}
    nb = by_path["/Users/alice@example.com/nb1"]
    assert (nb.object_type, nb.language, nb.size, nb.size_is_exact, nb.size_estimated) == (
        "NOTEBOOK", "PYTHON", NOTEBOOK_SIZE_ESTIMATE_BYTES, False, True)
    assert nb.modified_at is not None and nb.modified_at.utcoffset().total_seconds() == 0
    assert isinstance(nb.object_id, int)
    helper = by_path["/Users/alice@example.com/proj/helper.py"]
    assert (helper.size, helper.size_is_exact, helper.size_estimated) == (55_555, True, False)
    lib = by_path["/Users/judy@example.com/lib/spark-utils"]
    assert (lib.object_type, lib.size, lib.size_is_exact, lib.size_estimated) == ("LIBRARY", None, False, False)
    big = by_path["/Users/bob@example.com/big/dump.bin"]
    assert (big.source, big.object_type, big.size, big.size_is_exact, big.object_id) == (
        "dbfs", "FILE", 3_344_682_261, True, None)


def test_empty_missing_forbidden_partial(demo_emu):
    _, st = scan(demo_emu, ["carol@example.com", "frank@example.com", "grace@example.com", "heidi@example.com",
                            "judy@example.com"], max_attempts=3)
    carol = st[("carol@example.com", "workspace")]
    assert (carol.status, carol.error, carol.requests) == ("empty", None, 1)
    frank = st[("frank@example.com", "workspace")]
    assert (frank.status, frank.error, frank.home_missing, frank.requests) == ("empty", None, True, 1)
    assert (st[("frank@example.com", "dbfs")].status, st[("frank@example.com", "dbfs")].home_missing) == (
        "empty", True)
    assert not carol.home_missing
    grace = st[("grace@example.com", "workspace")]
    assert grace.status == "error" and "403" in grace.error and "PERMISSION_DENIED" in grace.error
    assert grace.retries == 0  # 4xx is final
    assert st[("grace@example.com", "dbfs")].status == "success"
    assert st[("judy@example.com", "dbfs")].status == "error"
    heidi = st[("heidi@example.com", "workspace")]
    assert heidi.status == "partial" and heidi.files == 2
    assert "/Users/heidi@example.com/broken" in heidi.error and "3 attempts" in heidi.error
    assert heidi.retries == 2


def test_failing_subdirectory_tried_max_attempts_times():
    with WorkspaceEmulator(SyntheticWorkspace.demo(), token=TOKEN) as emu:
        _, st = scan(emu, ["heidi@example.com"], max_attempts=4)
        assert emu.listings[(WS_LIST, "/Users/heidi@example.com/broken")] == 4
        assert st[("heidi@example.com", "workspace")].status == "partial"


def test_generated_workspace_totals():
    tree = SyntheticWorkspace.generate(40, dirs_per_user=8, objects_per_user=40, seed=3, failing_ratio=0.05)
    with WorkspaceEmulator(tree, token=TOKEN) as emu:
        objects, statuses = scan(emu, threads_per_partition=16, max_attempts=2)
    assert_matches_truth(tree, objects, statuses)
    assert {r.status for r in statuses.values()} == {"success", "empty", "partial", "error"}
    assert any(r.home_missing for r in statuses.values())


def test_429_storm_all_found_and_retries_counted():
    tree = SyntheticWorkspace.generate(16, dirs_per_user=5, objects_per_user=15, seed=8)
    with WorkspaceEmulator(tree, token=TOKEN, rate_limit_per_second=50, rate_limit_burst=10,
                           retry_after_seconds=0.2) as emu:
        objects, statuses = scan(emu, threads_per_partition=32, max_attempts=20)
        throttled = emu.responses_by_status[429]
    assert_matches_truth(tree, objects, statuses)
    retries = sum(r.retries for r in statuses.values())
    assert throttled > 0 and retries == throttled
    assert sum(r.requests for r in statuses.values()) == emu.requests_by_path[WS_LIST] + emu.requests_by_path[
        "/api/2.0/dbfs/list"]


def test_5xx_and_resets_retried_without_double_counting():
    tree = SyntheticWorkspace.generate(20, dirs_per_user=6, objects_per_user=25, seed=4)
    with WorkspaceEmulator(tree, token=TOKEN, fail_every_n=4, reset_every_n=9) as emu:
        objects, statuses = scan(emu, threads_per_partition=8, max_attempts=8)
        faults = sum(n for code, n in emu.responses_by_status.items() if code == "reset" or code >= 500)
    assert_matches_truth(tree, objects, statuses)
    assert faults > 10
    assert sum(r.retries for r in statuses.values()) == faults


def test_concurrency_within_one_user():
    tree = SyntheticWorkspace()
    tree.add_user("wide@example.com")
    for k in range(40):
        tree.add_ws_file(f"/Users/wide@example.com/d{k:02d}/f.txt", k)
    with WorkspaceEmulator(tree, token=TOKEN, latency_ms=50) as emu:
        started = time.monotonic()
        _, st = scan(emu, ["wide@example.com"], include_dbfs=False, threads_per_partition=16)
        wall = time.monotonic() - started
        assert emu.max_concurrency >= 8
    row = st[("wide@example.com", "workspace")]
    assert (row.files, row.requests) == (40, 41)
    assert wall < 0.6 * 41 * 0.05  # sequential would be >= 2.05 s; 16 threads need ~0.25 s


def test_limiter_bounds_request_rate():
    tree = SyntheticWorkspace()
    tree.add_user("wide@example.com")
    for k in range(29):
        tree.add_dbfs_file(f"/Users/wide@example.com/d{k:02d}/f.txt", 1)
    with WorkspaceEmulator(tree, token=TOKEN) as emu:
        started = time.monotonic()
        _, st = scan(emu, ["wide@example.com"], include_workspace=False, threads_per_partition=16,
                     max_requests_per_second=100)
        wall = time.monotonic() - started
    assert st[("wide@example.com", "dbfs")].files == 29
    assert 0.27 <= wall < 1.5  # 30 requests at 100/s with a burst of one


def test_users_as_strings_deduplicated_and_sources_selectable(demo_emu):
    _, st = scan(demo_emu, ["alice@example.com", UserRef("alice@example.com"), " alice@example.com "],
                 include_dbfs=False)
    assert list(st) == [("alice@example.com", "workspace")]


def test_extra_volume_roots(demo_emu):
    _, st = scan(demo_emu, ["mallory@example.com", "bob@example.com", "zoe+ops@example.com"],
                 extra_roots=["/Volumes/main/default/home/{username}"])
    mallory = st[("mallory@example.com", "volume")]
    assert (mallory.status, mallory.files, mallory.bytes) == ("success", 2, 975)
    assert (st[("bob@example.com", "volume")].status, st[("bob@example.com", "volume")].error) == ("empty", None)
    assert st[("zoe+ops@example.com", "volume")].files == 1
    assert parse_root("dbfs:/FileStore/{username}/", "a@b") == ("dbfs", "/FileStore/a@b")
    with pytest.raises(ValueError):
        ScanConfig(extra_roots=["/Volumes/main/default/shared"])  # no placeholder


def test_token_never_in_errors_repr_or_pickle(demo_emu):
    secret = "dapi-very-secret-123"
    auth = WorkspaceAuth(host=demo_emu.url, token=secret)
    assert secret not in repr(auth)
    rows = list(scan_users(["alice@example.com"], ScanConfig(**FAST), auth,
                           limiter=RateLimiter(None, adaptive=False)))
    statuses = [r for r in rows if isinstance(r, StatusRow)]
    assert {r.status for r in statuses} == {"error"}
    assert all("401" in r.error and secret not in r.error for r in statuses)
    clone = pickle.loads(pickle.dumps(WorkspaceAuth(host=demo_emu.url, token=TOKEN)))
    with WorkspaceHttp(clone, ScanConfig(**FAST), limiter=RateLimiter(None, adaptive=False)) as http:
        assert http.get(WS_LIST, {"path": "/Users/bob@example.com"}, what="x").data == {}
        with pytest.raises(ApiError) as info:
            http.get(WS_LIST, {"path": "/Users/frank@example.com"}, what="x")
        assert info.value.kind == "not_found" and TOKEN not in str(info.value)


def test_retry_after_is_honoured():
    delays: list[float] = []
    with WorkspaceEmulator(SyntheticWorkspace.demo(), token=TOKEN, rate_limit_per_second=0.5, rate_limit_burst=1,
                           retry_after_seconds=0.7) as emu:
        auth = WorkspaceAuth(host=emu.url, token=TOKEN)
        limiter = RateLimiter(None, adaptive=False, max_pause=0.01)
        with WorkspaceHttp(auth, ScanConfig(**FAST), limiter=limiter, sleep=delays.append) as http:
            http.get(WS_LIST, {"path": "/Users/bob@example.com"}, what="first")
            with pytest.raises(ApiError) as info:
                http.get(WS_LIST, {"path": "/Users/bob@example.com"}, what="second")
    assert info.value.kind == "exhausted" and "429" in str(info.value)
    assert len(delays) == 5 and all(0.7 <= d <= 0.8 for d in delays)
    assert limiter.throttles == 6


def test_fixed_pace_shared_across_threads():
    limiter = RateLimiter(200.0, adaptive=False)
    started = time.monotonic()
    threads = [threading.Thread(target=lambda: [limiter.acquire() for _ in range(10)]) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 0.35 <= time.monotonic() - started < 1.0  # 80 requests at 200/s, evenly spaced
    limiter.throttle(0.2)  # a fixed pace only pauses on 429
    assert limiter.effective_rate == 200.0
    started = time.monotonic()
    limiter.acquire()
    assert time.monotonic() - started >= 0.19
