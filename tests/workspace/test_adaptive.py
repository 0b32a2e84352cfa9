"""Issue 11: the adaptive pace, shipped credentials, missing homes, quiet SDK, progress lines."""

from __future__ import annotations

import logging
import os
import pickle
import threading

import pytest

from file_records.connectors.workspace import (
    RateLimiter,
    ScanConfig,
    ScanProgress,
    ShippedCredentials,
    StatusRow,
    WorkspaceAuth,
    scan_users,
)
from file_records.connectors.workspace.auth import CredentialsExpired, quiet_sdk_logging
from file_records.connectors.workspace.options import WorkspaceSourceOptions
from file_records.emulators.workspace_server import WorkspaceEmulator
from file_records.emulators.workspace_tree import SyntheticWorkspace

TOKEN = "dapi-test-token-0123456789"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _limiter(clock: FakeClock, **kw) -> RateLimiter:
    return RateLimiter(kw.pop("rate", None), clock=clock, sleep=clock.sleep, **kw)


def _send(limiter: RateLimiter, clock: FakeClock, seconds: float) -> int:
    """Acquire back to back (the limiter is the bottleneck) for ``seconds``; returns requests."""
    end, n = clock.now + seconds, 0
    while clock.now < end:
        limiter.acquire()
        n += 1
    return n


def test_slow_start_then_multiplicative_decrease_on_429():
    clock = FakeClock()
    limiter = _limiter(clock, initial=10.0)
    _send(limiter, clock, 1.5)
    assert limiter.effective_rate > 40  # doubled every 0.5 s
    before = limiter.effective_rate
    sent = clock.now
    limiter.throttle(1.0, sent_at=sent)
    assert limiter.effective_rate == pytest.approx(before * 0.8)
    limiter.throttle(1.0, sent_at=sent - 0.01)  # sent before the cut: the same congestion, no second cut
    assert limiter.effective_rate == pytest.approx(before * 0.8) and limiter.cuts == 1


def test_additive_increase_then_probe_finds_a_higher_limit():
    clock = FakeClock()
    limiter = _limiter(clock, initial=20.0)
    limiter.throttle(None, sent_at=clock.now)  # leave slow start at 16/s
    _send(limiter, clock, 1.0)
    assert 16.0 < limiter.effective_rate < 18.0  # + max(0.5, 4 %) per second
    _send(limiter, clock, 6.0)  # back at the cut level (20/s) after ~6 s of additive increase
    assert 19.0 < limiter.effective_rate < 23.0
    _send(limiter, clock, 5.0)  # held it 2 s without a 429: the limit may have risen, probe
    assert limiter.effective_rate > 30.0


def test_ceiling_is_a_ceiling_not_the_pace():
    clock = FakeClock()
    limiter = _limiter(clock, rate=25.0, initial=10.0)
    assert limiter.effective_rate == 10.0
    _send(limiter, clock, 5.0)
    assert limiter.effective_rate == 25.0


def test_no_growth_when_the_limiter_is_not_the_bottleneck():
    clock = FakeClock()
    limiter = _limiter(clock, initial=10.0)
    for _ in range(20):
        limiter.acquire()
        clock.now += 1.0  # one request a second: never waits
    assert limiter.effective_rate == pytest.approx(10.0)


def test_repeated_cuts_within_retry_after_pause_everyone():
    clock = FakeClock()
    limiter = _limiter(clock, initial=50.0)
    for _ in range(3):
        limiter.throttle(2.0, sent_at=clock.now)
        clock.now += 0.1
    assert limiter.pauses == 1
    waited = limiter.acquire()
    assert waited == pytest.approx(1.9, abs=0.05)  # until 2 s after the third cut


def test_pace_is_per_process_not_divided_among_partitions():
    settings = WorkspaceSourceOptions.from_options({"partitions": "8"})
    assert settings.max_requests_per_second is None
    assert settings.scan_config(8).max_requests_per_second is None
    capped = WorkspaceSourceOptions.from_options({"partitions": "8", "max_requests_per_second": "30"})
    assert capped.scan_config(8).max_requests_per_second == 30.0


def test_two_processes_adapt_to_a_shared_limit():
    """Two independent limiters (two partitions) against one 30 req/s bucket settle near it."""
    tree = SyntheticWorkspace.generate(24, dirs_per_user=4, objects_per_user=10, seed=2, missing_ratio=0,
                                       forbidden_ratio=0, empty_ratio=0)
    with WorkspaceEmulator(tree, token=TOKEN, rate_limit_per_second=30, rate_limit_burst=30,
                           retry_after_seconds=0.5, latency_ms=20) as emu:
        auth = WorkspaceAuth(host=emu.url, token=TOKEN)
        names = [u.username for u in tree.users]
        results: list = []

        def shard(users):
            cfg = ScanConfig(max_attempts=20, initial_requests_per_second=10.0)
            rows = list(scan_users(users, cfg, auth, limiter=RateLimiter(None, initial=10.0)))
            results.extend(r for r in rows if isinstance(r, StatusRow))

        threads = [threading.Thread(target=shard, args=(names[i::2],)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        throttled, total, busy = emu.responses_by_status[429], emu.request_count, emu.busy_seconds
    assert {r.status for r in results} == {"success"} and len(results) == 48
    successful = total - throttled
    assert throttled / total < 0.15
    assert busy < 1.6 * successful / 30  # near the limit, not at the initial pace (3x the floor)


# ---------------------------------------------------------------- missing homes
def test_missing_homes_are_empty_not_errors():
    tree = SyntheticWorkspace()
    tree.add_user("wsonly@x.com", dbfs_home=False)
    tree.add_ws_file("/Users/wsonly@x.com/a.py", 10)
    tree.add_user("dbfsonly@x.com", workspace_home=False)
    tree.add_dbfs_file("/Users/dbfsonly@x.com/d.csv", 20)
    tree.add_user("nothing@x.com", dbfs_home=False)  # empty Workspace home, no DBFS home
    tree.add_user("denied@x.com")
    tree.forbid("workspace", "/Users/denied@x.com")
    with WorkspaceEmulator(tree, token=TOKEN) as emu:
        rows = list(scan_users([u.username for u in tree.users], ScanConfig(max_attempts=2),
                               WorkspaceAuth(host=emu.url, token=TOKEN), limiter=RateLimiter(None, adaptive=False)))
    st = {(r.username, r.source): r for r in rows if isinstance(r, StatusRow)}
    for (user, source), row in st.items():
        truth = tree.truth(user, source)
        assert (row.status, row.files, row.home_missing) == (truth.status, truth.files, truth.home_missing)
    assert st[("wsonly@x.com", "dbfs")].error is None and st[("wsonly@x.com", "dbfs")].home_missing
    assert st[("dbfsonly@x.com", "workspace")].status == "empty"
    assert st[("nothing@x.com", "workspace")].home_missing is False
    assert st[("denied@x.com", "workspace")].status == "error" and not st[("denied@x.com", "workspace")].home_missing


def test_folder_deleted_while_listing_is_not_a_failure():
    tree = SyntheticWorkspace()
    tree.add_user("ana@x.com")
    tree.add_ws_file("/Users/ana@x.com/keep/a.py", 1)
    tree.add_ws_file("/Users/ana@x.com/gone/b.py", 2)

    class Vanishing(WorkspaceEmulator):
        def _ws_list(self, target):
            if target == "/Users/ana@x.com/gone":
                return 404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "gone"}, {}
            return super()._ws_list(target)

    with Vanishing(tree, token=TOKEN) as emu:
        rows = list(scan_users(["ana@x.com"], ScanConfig(include_dbfs=False), WorkspaceAuth(host=emu.url, token=TOKEN),
                               limiter=RateLimiter(None, adaptive=False)))
    row = next(r for r in rows if isinstance(r, StatusRow))
    assert (row.status, row.files, row.error, row.home_missing) == ("success", 1, None, False)


# ---------------------------------------------------------------- credentials shipped from the driver
def test_partition_needs_no_ambient_credentials(tmp_path, monkeypatch):
    """The driver resolves; a partition reads a shard with only what the partition carries."""
    pytest.importorskip("pyspark")
    from file_records.connectors.workspace.source import WorkspaceBatchReader

    tree = SyntheticWorkspace.demo()
    with WorkspaceEmulator(tree, token=TOKEN) as emu:
        monkeypatch.setenv("DATABRICKS_HOST", emu.url)
        monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
        reader = WorkspaceBatchReader({"host": emu.url, "users": '["alice@example.com", "oscar@example.com"]',
                                       "partitions": "2"})
        parts = reader.partitions()
        shipped = pickle.dumps((reader, parts))
        for text in (repr(parts), repr(reader), str(parts[0].credentials)):
            assert TOKEN not in text
        # the "executor": no DATABRICKS_* variables, no ~/.databrickscfg
        for name in [n for n in list(os.environ) if n.startswith("DATABRICKS_")]:
            monkeypatch.delenv(name)
        monkeypatch.setenv("HOME", str(tmp_path))
        monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "absent.cfg"))
        executor_reader, executor_parts = pickle.loads(shipped)
        rows = [row for part in executor_parts for row in executor_reader.read(part)]
    statuses = {(r[1], r[3]): r for r in rows if r[0] == "status"}
    assert statuses[("alice@example.com", "workspace")][12] == "success"
    assert statuses[("oscar@example.com", "dbfs")][12] == "empty" and statuses[("oscar@example.com", "dbfs")][-1]
    assert all(r[19] is None for r in statuses.values())  # no 401 anywhere


def test_expired_shipped_token_fails_the_partition_retryably():
    creds = ShippedCredentials("http://127.0.0.1:1", {"Authorization": f"Bearer {TOKEN}"}, expires_at=1.0,
                               auth_type="oauth-m2m")
    assert TOKEN not in repr(creds) and TOKEN not in repr(WorkspaceAuth(credentials=creds))
    with pytest.raises(CredentialsExpired, match="retry the batch"):
        list(scan_users(["a@x.com"], ScanConfig(), creds, limiter=RateLimiter(None, adaptive=False)))
    clone = pickle.loads(pickle.dumps(creds))
    assert clone.host == creds.host and clone.expires_at == 1.0 and clone.secrets()


def test_ship_resolves_headers_once_on_the_driver():
    with WorkspaceEmulator(SyntheticWorkspace.demo(), token=TOKEN) as emu:
        creds = WorkspaceAuth(host=emu.url, token=TOKEN).ship()
        assert creds.host == emu.url and creds.auth_type == "pat" and creds.expires_at is None
    assert creds.headers()["Authorization"] == f"Bearer {TOKEN}"


# ---------------------------------------------------------------- quiet SDK, progress
def test_host_metadata_warning_at_most_once_at_debug(caplog):
    quiet_sdk_logging()
    sdk = logging.getLogger("databricks.sdk")
    with caplog.at_level(logging.DEBUG, logger="databricks.sdk"):
        for _ in range(3):
            sdk.warning("Failed to automatically resolve config from host metadata: boom. Falling back")
    hits = [r for r in caplog.records if "host metadata" in r.getMessage()]
    assert len(hits) <= 1 and all(r.levelno == logging.DEBUG for r in hits)


def test_progress_lines_at_most_every_interval(caplog):
    clock = FakeClock()
    progress = ScanProgress(10, label="shard 1/2", interval=5.0, clock=clock)
    with caplog.at_level(logging.INFO, logger="file_records.progress"):
        progress.user_done(3)
        progress.folders(40)
        progress.traffic(50, 2, 12.5)
        assert not progress.maybe_log()
        clock.now += 5.0
        assert progress.maybe_log()
        assert not progress.maybe_log()
    (line,) = [r for r in caplog.records if r.name == "file_records.progress"]
    assert "3/10 users" in line.getMessage() and "40 folders" in line.getMessage()
    assert "2 answered 429" in line.getMessage() and line.progress["requests"] == 50
