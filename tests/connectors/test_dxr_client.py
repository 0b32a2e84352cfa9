"""`fetch_to_spool` against a real, started DXR emulator: happy path, every fault, bad query, bad token.

No HTTP mocks: each test starts a `DxrEmulator` on a free port and switches its faults. Backoff is
0.01 s so retries are fast; the only real waits are a 1 s Retry-After and a 0.5 s read timeout.
"""

from __future__ import annotations

import os
import time

import orjson
import pytest

from file_records.connectors.dxr.client import (
    DxrAuthError,
    DxrError,
    DxrQueryError,
    DxrTruncatedError,
    DxrUnavailableError,
    FetchOptions,
    fetch_to_spool,
)
from file_records.emulators.dxr_corpus import generate_records
from file_records.emulators.dxr_server import FORBIDDEN_TOKEN, DxrEmulator, FaultConfig

TOKEN = "test-token-5f1d9c"
MATCH_ALL = 'fileName:"*"'
N_RECORDS = 2000


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return list(generate_records(N_RECORDS))


@pytest.fixture(scope="module")
def served_bytes(records) -> bytes:
    """Exactly what the emulator serves for the match-all query: one orjson line per record."""
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


@pytest.fixture
def emu(records):
    emulator = DxrEmulator(records, token=TOKEN, faults=FaultConfig(missing_q="error")).start()
    try:
        yield emulator
    finally:
        emulator.stop()
    # `q` is always sent: with missing_q="error" the emulator would 400 a request without it.
    files_requests = [r for r in emulator.requests if r.path == "/api/v1/files"]
    assert all(r.q is not None and r.q.strip() for r in files_requests), files_requests


def options(emu: DxrEmulator, tmp_path, **overrides) -> FetchOptions:
    values = dict(
        base_url=emu.url,
        query=MATCH_ALL,
        token=TOKEN,
        backoff_seconds=0.01,
        backoff_max_seconds=0.05,
        max_attempts=3,
        spool_dir=str(tmp_path),
    )
    values.update(overrides)
    return FetchOptions(**values)


def files_requests(emu: DxrEmulator) -> list:
    return [r for r in emu.requests if r.path == "/api/v1/files"]


def spool_files(tmp_path) -> list[str]:
    return sorted(os.listdir(tmp_path))


def read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


# --- happy path ----------------------------------------------------------------------------------


def test_happy_path_spools_exactly_the_served_lines(emu, tmp_path, served_bytes):
    spooled = fetch_to_spool(options(emu, tmp_path))
    try:
        assert spooled.records == N_RECORDS
        assert spooled.bytes == len(served_bytes)
        assert spooled.attempts == 1
        assert spooled.capped is False
        assert os.path.dirname(spooled.path) == str(tmp_path)
        assert read(spooled.path) == served_bytes
    finally:
        spooled.discard()
    assert spool_files(tmp_path) == []
    requests_seen = files_requests(emu)
    assert len(requests_seen) == 1
    assert requests_seen[0].q == MATCH_ALL and requests_seen[0].outcome == "complete"


def test_filtered_query_is_sent_as_q(emu, tmp_path, records):
    query = "size < 100000"
    expected = [r for r in records if r["size"] < 100000]
    spooled = fetch_to_spool(options(emu, tmp_path, query=query))
    try:
        assert spooled.records == len(expected) > 0
        assert read(spooled.path) == b"".join(orjson.dumps(r) + b"\n" for r in expected)
    finally:
        spooled.discard()
    assert [r.q for r in files_requests(emu)] == [query]


def test_bearer_token_is_sent(emu, tmp_path):
    spooled = fetch_to_spool(options(emu, tmp_path, user_agent="file-records-test/1.0"))
    spooled.discard()
    assert files_requests(emu)[0].auth_ok


# --- status faults (retried by urllib3) -------------------------------------------------------------


def test_429_honours_retry_after_then_succeeds(emu, tmp_path):
    emu.faults = FaultConfig(rate_limit_first_n=1, retry_after_seconds=1.0)
    started = time.monotonic()
    spooled = fetch_to_spool(options(emu, tmp_path))
    elapsed = time.monotonic() - started
    spooled.discard()
    assert spooled.records == N_RECORDS
    assert spooled.attempts == 1  # status retries happen below the body-attempt loop
    assert [r.status for r in files_requests(emu)] == [429, 200]
    # Backoff is 0.01 s, so only the Retry-After of 1 s explains the wait.
    assert elapsed >= 0.95


def test_429_with_fractional_retry_after_is_retried(emu, tmp_path):
    emu.faults = FaultConfig(rate_limit_first_n=1, retry_after_seconds=0.5)
    spooled = fetch_to_spool(options(emu, tmp_path))
    spooled.discard()
    assert [r.status for r in files_requests(emu)] == [429, 200]


def test_fail_first_n_503_then_success(emu, tmp_path, served_bytes):
    emu.faults = FaultConfig(fail_first_n=2, status_for_failures=503)
    spooled = fetch_to_spool(options(emu, tmp_path))
    try:
        assert read(spooled.path) == served_bytes
        assert spooled.attempts == 1
    finally:
        spooled.discard()
    assert [r.status for r in files_requests(emu)] == [503, 503, 200]


def test_persistent_503_is_unavailable_error(emu, tmp_path):
    emu.faults = FaultConfig(fail_first_n=1000, status_for_failures=503)
    with pytest.raises(DxrUnavailableError) as caught:
        fetch_to_spool(options(emu, tmp_path, max_attempts=3))
    message = str(caught.value)
    assert "503" in message and MATCH_ALL in message and "3 attempts" in message
    assert [r.status for r in files_requests(emu)] == [503, 503, 503]
    assert spool_files(tmp_path) == []


def test_504_on_match_all_suggests_splitting_the_query(emu, tmp_path):
    emu.faults = FaultConfig(gateway_timeout_match_all_over=100)
    with pytest.raises(DxrUnavailableError) as caught:
        fetch_to_spool(options(emu, tmp_path, max_attempts=2))
    message = str(caught.value)
    assert "504" in message
    assert "split" in message.lower()
    assert [r.status for r in files_requests(emu)] == [504, 504]
    assert spool_files(tmp_path) == []


def test_504_rule_does_not_hit_a_narrower_query(emu, tmp_path):
    emu.faults = FaultConfig(gateway_timeout_match_all_over=100)
    spooled = fetch_to_spool(options(emu, tmp_path, query="size >= 100000"))
    spooled.discard()
    assert spooled.records > 0
    assert [r.status for r in files_requests(emu)] == [200]


# --- broken bodies (retried by fetch_to_spool) ------------------------------------------------------


def test_truncated_once_then_complete(emu, tmp_path, served_bytes):
    emu.faults = FaultConfig(truncate_after_rows=10, truncate_times=1)
    spooled = fetch_to_spool(options(emu, tmp_path))
    try:
        assert spooled.attempts == 2
        assert spooled.records == N_RECORDS
        assert read(spooled.path) == served_bytes
    finally:
        spooled.discard()
    assert [r.outcome for r in files_requests(emu)] == ["truncated", "complete"]
    assert spool_files(tmp_path) == []  # the truncated attempt's spool file was removed


def test_truncated_every_time_fails_and_stores_nothing(emu, tmp_path):
    emu.faults = FaultConfig(truncate_after_rows=10)
    with pytest.raises(DxrTruncatedError) as caught:
        fetch_to_spool(options(emu, tmp_path, max_attempts=3))
    message = str(caught.value)
    assert MATCH_ALL in message
    assert "split the query" in message
    assert "No partial snapshot was stored" in message
    assert [r.outcome for r in files_requests(emu)] == ["truncated"] * 3
    assert spool_files(tmp_path) == []


@pytest.mark.parametrize("rst", [False, True], ids=["fin", "rst"])
def test_connection_reset_mid_stream_is_retried(emu, tmp_path, served_bytes, rst):
    emu.faults = FaultConfig(reset_after_rows=10, reset_times=1, reset_with_rst=rst)
    spooled = fetch_to_spool(options(emu, tmp_path))
    try:
        assert spooled.attempts == 2
        assert read(spooled.path) == served_bytes
    finally:
        spooled.discard()
    assert [r.outcome for r in files_requests(emu)] == ["reset", "complete"]
    assert spool_files(tmp_path) == []


def test_reset_every_time_is_an_error(emu, tmp_path):
    emu.faults = FaultConfig(reset_after_rows=10)
    with pytest.raises(DxrTruncatedError) as caught:
        fetch_to_spool(options(emu, tmp_path, max_attempts=2))
    assert "connection dropped" in str(caught.value)
    assert spool_files(tmp_path) == []


def test_stall_longer_than_http_timeout_is_retried(emu, tmp_path, served_bytes):
    emu.faults = FaultConfig(stall_after_rows=10, stall_seconds=2.0, stall_times=1)
    started = time.monotonic()
    spooled = fetch_to_spool(options(emu, tmp_path, http_timeout=0.5))
    elapsed = time.monotonic() - started
    try:
        assert spooled.attempts == 2
        assert read(spooled.path) == served_bytes
    finally:
        spooled.discard()
    assert len(files_requests(emu)) == 2
    assert elapsed < 1.9  # gave up on the stalled response after ~0.5 s, did not wait it out


def test_short_stall_within_http_timeout_is_not_a_retry(emu, tmp_path):
    emu.faults = FaultConfig(stall_after_rows=10, stall_seconds=0.2, stall_times=1)
    spooled = fetch_to_spool(options(emu, tmp_path, http_timeout=2.0))
    spooled.discard()
    assert spooled.attempts == 1
    assert len(files_requests(emu)) == 1


# --- client errors ----------------------------------------------------------------------------------


def test_bad_query_is_query_error_quoting_the_query(emu, tmp_path):
    query = 'fileName:"*.pdf" AND (size > '
    with pytest.raises(DxrQueryError) as caught:
        fetch_to_spool(options(emu, tmp_path, query=query))
    message = str(caught.value)
    assert query in message
    assert "400" in message
    assert len(files_requests(emu)) == 1  # a 400 is not retried
    assert spool_files(tmp_path) == []


def test_wrong_token_is_auth_error_and_never_shows_the_token(emu, tmp_path):
    secret = "wrong-token-s3cr3t-7c4e"
    opts = options(emu, tmp_path, token=secret)
    with pytest.raises(DxrAuthError) as caught:
        fetch_to_spool(opts)
    error = caught.value
    assert "401" in str(error)
    texts = [str(error), repr(error), repr(opts), str(opts)]
    cause = error.__cause__ or error.__context__
    while cause is not None:
        texts += [str(cause), repr(cause)]
        cause = cause.__cause__ or cause.__context__
    for text in texts:
        assert secret not in text
    assert len(files_requests(emu)) == 1  # a 401 is not retried
    assert spool_files(tmp_path) == []


def test_forbidden_token_is_403_auth_error(emu, tmp_path):
    with pytest.raises(DxrAuthError) as caught:
        fetch_to_spool(options(emu, tmp_path, token=FORBIDDEN_TOKEN))
    assert "403" in str(caught.value)
    assert [r.status for r in files_requests(emu)] == [403]


def test_fetch_options_repr_hides_the_token():
    opts = FetchOptions(base_url="http://127.0.0.1:1", query=MATCH_ALL, token="abc-very-secret-123")
    assert "abc-very-secret-123" not in repr(opts)
    assert "abc-very-secret-123" not in str(opts)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_server_fails_fast_without_leaking_the_token(tmp_path):
    # A port nothing listens on: connection refused, bounded retries, then an error.
    opts = FetchOptions(
        base_url=f"http://127.0.0.1:{_free_port()}", query=MATCH_ALL, token=TOKEN, max_attempts=2,
        backoff_seconds=0.01, backoff_max_seconds=0.02, spool_dir=str(tmp_path), connect_timeout=1.0,
    )
    started = time.monotonic()
    with pytest.raises(DxrError) as caught:
        fetch_to_spool(opts)
    assert time.monotonic() - started < 5
    assert TOKEN not in str(caught.value)
    assert spool_files(tmp_path) == []


def test_unreachable_server_is_unavailable_error_naming_the_url(tmp_path):
    base_url = f"http://127.0.0.1:{_free_port()}"
    opts = FetchOptions(base_url=base_url, query=MATCH_ALL, token=TOKEN, max_attempts=2,
                        backoff_seconds=0.01, backoff_max_seconds=0.02, spool_dir=str(tmp_path))
    with pytest.raises(DxrUnavailableError) as caught:
        fetch_to_spool(opts)
    assert base_url in str(caught.value)
    assert "split" not in str(caught.value).lower()


# --- record cap -------------------------------------------------------------------------------------


def test_record_cap_stops_early(emu, tmp_path, records):
    cap = 150
    spooled = fetch_to_spool(options(emu, tmp_path, record_cap=cap))
    try:
        assert spooled.capped is True
        assert spooled.records == cap
        data = read(spooled.path)
        assert data == b"".join(orjson.dumps(r) + b"\n" for r in records[:cap])
        assert spooled.bytes == len(data)
    finally:
        spooled.discard()


def test_record_cap_larger_than_response_is_not_capped(emu, tmp_path):
    spooled = fetch_to_spool(options(emu, tmp_path, record_cap=N_RECORDS + 1))
    spooled.discard()
    assert spooled.capped is False
    assert spooled.records == N_RECORDS


# --- stale spool files ---------------------------------------------------------------------------


def _dead_pid() -> int:
    import subprocess

    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _spool_name(pid: int, host: str | None = None) -> str:
    from file_records.connectors.dxr import client

    return f"{client.SPOOL_PREFIX}{pid}-{host or client._host_tag()}-abc123{client.SPOOL_SUFFIX}"


def test_remove_stale_spools_only_removes_dead_owners_on_this_host(tmp_path):
    from file_records.connectors.dxr.client import remove_stale_spools

    dead = _dead_pid()
    stale = tmp_path / _spool_name(dead)
    keep = {
        "running": tmp_path / _spool_name(os.getppid()),
        "mine": tmp_path / _spool_name(os.getpid()),
        "other host": tmp_path / _spool_name(dead, host="0badc0de"),
        "unrelated": tmp_path / "dxr-old.jsonl",
        "not a spool": tmp_path / f"notes-{dead}.jsonl",
    }
    for path in (stale, *keep.values()):
        path.write_bytes(b'{"a": 1}\n')
    (tmp_path / _spool_name(dead).replace("abc123", "dir")).mkdir()  # not a regular file: kept

    assert remove_stale_spools(str(tmp_path)) == [str(stale)]
    assert not stale.exists()
    assert all(path.exists() for path in keep.values())
    assert remove_stale_spools(str(tmp_path / "missing")) == []


def test_fetch_removes_stale_spools_and_names_its_own(emu, tmp_path):
    stale = tmp_path / _spool_name(_dead_pid())
    stale.write_bytes(b"x" * 1024)
    spooled = fetch_to_spool(options(emu, tmp_path))
    try:
        assert not stale.exists()
        assert os.path.basename(spooled.path).startswith(f"file-records-dxr-spool-{os.getpid()}-")
        assert spool_files(tmp_path) == [os.path.basename(spooled.path)]
    finally:
        spooled.discard()
