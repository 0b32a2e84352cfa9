"""The emulator over real HTTP: happy path, auth, 400s, query features, faults, CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import orjson
import pytest
import requests

from file_records.emulators.dxr_corpus import (
    DEMO_MALFORMED_LINES,
    demo_records,
    generate_lines,
    generate_records,
    iter_lines,
    render_lines,
)
from file_records.emulators.dxr_server import DxrEmulator, FaultConfig

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)
MATCH_ALL = 'fileName:"*"'
REPO = Path(__file__).resolve().parents[2]


def _acc(name, account_type="USER"):
    return {
        "id": f"acc-{name}",
        "accountType": account_type,
        "realmAccountId": f"r-{name}",
        "realmKey": "R1",
        "accountSubType": account_type,
        "name": name,
    }


def _rec(file_id, file_name, size, created, labels=(), who=(), **extra):
    r = {
        "datasource": {"id": "ds-1", "name": "DS", "connector": {"type": "NETWORK_DRIVE_SMB"}},
        "fileName": file_name,
        "fileId": file_id,
        "path": f"Share/{file_name}",
        "size": size,
        "createdAt": created,
        "lastModifiedAt": created,
        "labels": [{"id": f"lab-{n}", "name": n} for n in labels],
        "entitlements": {"whoCanAccess": list(who)},
    }
    r.update(extra)
    return r


CRAFTED = [
    _rec(
        "f1",
        "Annual Report.pdf",
        5_000_000,
        "2026-10-20T00:00:00Z",
        ["ROT", "Records"],
        [_acc("Legal", "GROUP"), _acc("Everyone", "USER")],
    ),
    _rec(
        "f2",
        "payroll (1).xlsx",
        98_304,
        "2023-01-01T00:00:00Z",
        ["Confidential"],
        [_acc("Everyone", "GROUP")],
    ),
    _rec("f3", "~$notes.docx", 162, "2015-01-01T00:00:00Z", [], [_acc("Lee Park")]),
    _rec("f4", "Zürich Büro.docx", 0, "2026-10-31T00:00:00Z", ["ROT"], []),
    _rec(
        "f5",
        "scan.TMP",
        2_000_000_000,
        "2020-06-01T00:00:00Z",
        ["Records", "Legal hold"],
        [_acc("Everyone", "GROUP")],
    ),
]


@pytest.fixture
def emu():
    with DxrEmulator(CRAFTED, token=TOKEN, now=NOW) as e:
        yield e


def get(emu, q=MATCH_ALL, headers=AUTH, **kw):
    params = {} if q is None else {"q": q}
    return requests.get(f"{emu.url}/api/v1/files", params=params, headers=headers, timeout=10, **kw)


def ids(resp) -> list[str]:
    assert resp.status_code == 200, resp.text
    return [orjson.loads(line)["fileId"] for line in resp.content.splitlines() if line.strip()]


# ------------------------------------------------------------------------------------------------------------
# Happy path
# ------------------------------------------------------------------------------------------------------------


def test_happy_path_match_all_streams_jsonlines():
    records = list(generate_records(3000, seed=7))
    with DxrEmulator(records, token=TOKEN) as e:
        r = get(e)
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "application/jsonlines"
        assert r.headers.get("Transfer-Encoding") == "chunked"
        assert r.content.endswith(b"\n")
        lines = r.content.split(b"\n")[:-1]
        assert len(lines) == 3000
        parsed = [orjson.loads(x) for x in lines]
        assert parsed == records
        assert e.requests[-1].rows == 3000 and e.requests[-1].outcome == "complete"


def test_lines_constructor_and_large_chunks():
    lines = generate_lines(2000, seed=1)
    with DxrEmulator(lines=lines, token=TOKEN, faults=FaultConfig(chunk_bytes=64 * 1024)) as e:
        with get(e, stream=True) as r:
            chunks = list(r.iter_content(chunk_size=None))
        body = b"".join(chunks)
        assert body == b"\n".join(lines) + b"\n"
        assert len(chunks) > 10  # really chunked


def test_lazy_lines_corpus_serves_same_bytes_and_knows_labels():
    with DxrEmulator(lines=iter_lines(1500, seed=3), token=TOKEN) as e:
        assert e._corpus.trusted and e._corpus.labels  # no decoding pass needed for classifications
        assert get(e).content == b"\n".join(generate_lines(1500, seed=3)) + b"\n"
        data = requests.get(f"{e.url}/api/v1/classifications", headers=AUTH, timeout=10).json()["data"]
        assert {d["name"] for d in data} == set(e._corpus.labels)


def test_default_corpus_and_keep_alive_session():
    with DxrEmulator(token=TOKEN) as e, requests.Session() as s:
        for _ in range(3):
            r = s.get(f"{e.url}/api/v1/files", params={"q": MATCH_ALL}, headers=AUTH, timeout=10)
            assert r.status_code == 200 and len(r.content.splitlines()) == 1000


def test_query_filters_on_server(emu):
    assert sorted(ids(get(emu, 'labels.name:"ROT"'))) == ["f1", "f4"]
    assert ids(get(emu, 'fileName:"does-not-exist"')) == []
    r = get(emu, 'fileName:"does-not-exist"')
    assert r.status_code == 200 and r.content == b""


def test_second_identical_query_uses_cache(emu):
    q = 'labels.name:"Records" AND size > 1000'
    first = emu.matching_indexes(q)
    assert emu.matching_indexes(q) is first
    assert sorted(ids(get(emu, q))) == ["f1", "f5"]
    assert sorted(ids(get(emu, q))) == ["f1", "f5"]


def test_set_records_replaces_corpus_and_clears_cache(emu):
    assert sorted(ids(get(emu, 'labels.name:"ROT"'))) == ["f1", "f4"]
    emu.set_records(CRAFTED[:2])
    assert ids(get(emu, 'labels.name:"ROT"')) == ["f1"]
    assert ids(get(emu)) == ["f1", "f2"]


def test_prefilter_gives_same_results_as_plain_evaluation():
    lines = generate_lines(4000, seed=9)
    queries = [
        'labels.name:"ROT"',
        'fileName:"*report*" AND size > 1000',
        'entitlements.whoCanAccess:{accountType:"GROUP" AND name:"everyone"}',
        'path:"*zürich*"',
        'path:"*ZURICH*" OR fileName:"*.TMP"',
        'annotators.domain.name:"pii" AND NOT labels.name:"Public"',
        'owner.name:"*müller*"',
        'datasource.name:"finance nas"',
    ]
    fast = DxrEmulator(lines=lines, token=TOKEN, now=NOW)  # orjson-rendered lines: prefilter on
    slow = DxrEmulator(lines=list(lines), token=TOKEN, now=NOW)  # plain list: prefilter off
    assert fast._corpus.trusted and not slow._corpus.trusted
    for q in queries:
        a, b = fast.matching_indexes(q), slow.matching_indexes(q)
        assert list(a) == list(b), q
        assert len(a) > 0, q


# ------------------------------------------------------------------------------------------------------------
# Auth, routing, 400s
# ------------------------------------------------------------------------------------------------------------


def test_missing_token_is_401(emu):
    r = get(emu, headers={})
    assert r.status_code == 401
    assert r.text.strip() and r.headers["Content-Type"].startswith("text/plain")
    assert emu.requests[-1].auth_ok is False


@pytest.mark.parametrize("header", ["Bearer wrong-token", "Basic dXNlcjpwYXNz", "Bearer", TOKEN])
def test_wrong_token_is_401(emu, header):
    r = get(emu, headers={"Authorization": header})
    assert r.status_code == 401


def test_forbidden_token_is_403_with_empty_body(emu):
    r = get(emu, headers={"Authorization": "Bearer forbidden-token"})
    assert r.status_code == 403
    assert r.content == b""


def test_request_log(emu):
    get(emu, 'labels.name:"ROT"')
    get(emu, headers={})
    log = list(emu.requests)
    assert [(x.path, x.q, x.auth_ok, x.status) for x in log] == [
        ("/api/v1/files", 'labels.name:"ROT"', True, 200),
        ("/api/v1/files", MATCH_ALL, False, 401),
    ]
    assert len(emu.requests) == 2
    emu.requests.clear()
    assert len(emu.requests) == 0


def test_unknown_path_is_404(emu):
    for path in ("/api/v1/nope", "/api/v1/files/f1/content", "/"):
        assert requests.get(emu.url + path, headers=AUTH, timeout=10).status_code == 404


@pytest.mark.parametrize(
    "q",
    [
        "fileName:report",
        'labels.name:"ROT" and size > 1',
        "createdAt >= 2026-03-12",
        "size:>=1",
        "_exists_:annotators",
        "fileName > 1",
        'fileName:"unbalanced',
    ],
)
def test_bad_query_is_400_with_plain_text_message(emu, q):
    r = get(emu, q)
    assert r.status_code == 400
    assert r.headers["Content-Type"].startswith("text/plain")
    assert r.text.startswith("line 1:")


def test_missing_q_is_400_insufficient_parameters_by_default(emu):
    for q in (None, ""):
        r = get(emu, q)
        assert r.status_code == 400
        assert "Insufficient parameters" in r.text


def test_missing_q_can_mean_match_all(emu):
    emu.faults = FaultConfig(missing_q="match_all")
    assert len(ids(get(emu, None))) == 5
    assert len(ids(get(emu, ""))) == 5


def test_classifications_endpoint(emu):
    r = requests.get(f"{emu.url}/api/v1/classifications", headers=AUTH, timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert {d["name"] for d in body["data"]} == {"ROT", "Records", "Confidential", "Legal hold"}
    assert all(d["type"] == "LABEL" for d in body["data"])
    assert {d["name"]: d["id"] for d in body["data"]}["ROT"] == "lab-ROT"
    assert requests.get(f"{emu.url}/api/v1/classifications", timeout=10).status_code == 401


def test_classifications_from_lines():
    with DxrEmulator(lines=render_lines(CRAFTED), token=TOKEN) as e:
        data = requests.get(f"{e.url}/api/v1/classifications", headers=AUTH, timeout=10).json()["data"]
        assert len(data) == 4


# ------------------------------------------------------------------------------------------------------------
# Query features over HTTP (crafted records)
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "q, expected",
    [
        ('fileName:"*REPORT*"', {"f1"}),
        ('fileName:"annual report.PDF"', {"f1"}),
        ('fileName:"*.tmp"', {"f5"}),
        ('fileName:"*zürich*"', {"f4"}),
        ('labels.name:"ROT" AND size > 1000', {"f1"}),
        ('labels.name:"ROT" OR labels.name:"Confidential"', {"f1", "f2", "f4"}),
        ('NOT labels.name:"ROT"', {"f2", "f3", "f5"}),
        ('(labels.name:"Records" OR labels.name:"ROT") AND size < 1000', {"f4"}),
        ('labels.name:"Records" OR labels.name:"ROT" AND size < 1000', {"f1", "f4", "f5"}),
        ('labels.name:"Records" labels.name:"Legal hold"', {"f5"}),
        ("size >= 162 AND size <= 98304", {"f2", "f3"}),
        ("createdAt >= 2026-03-12T00:00:00Z", {"f1", "f4"}),
        ("createdAt > now-30d", {"f1", "f4"}),
        ("createdAt < now-10y", {"f3"}),
        ('entitlements.whoCanAccess: { accountType:"GROUP" AND name:"Everyone" }', {"f2", "f5"}),
        (
            'entitlements.whoCanAccess.accountType:"GROUP" AND entitlements.whoCanAccess.name:"Everyone"',
            {"f1", "f2", "f5"},
        ),
    ],
)
def test_query_features_over_http(emu, q, expected):
    assert set(ids(get(emu, q))) == expected


# ------------------------------------------------------------------------------------------------------------
# Faults
# ------------------------------------------------------------------------------------------------------------


def test_rate_limit_then_success(emu):
    emu.faults = FaultConfig(rate_limit_first_n=2, retry_after_seconds=2)
    for _ in range(2):
        r = get(emu)
        assert r.status_code == 429
        assert r.headers["Retry-After"] == "2"
    assert get(emu).status_code == 200


def test_retry_after_fractional(emu):
    emu.faults = FaultConfig(rate_limit_first_n=1, retry_after_seconds=1.5)
    assert get(emu).headers["Retry-After"] == "1.5"


def test_fail_first_n_then_success(emu):
    emu.faults = FaultConfig(fail_first_n=2)
    assert [get(emu).status_code for _ in range(3)] == [503, 503, 200]


def test_fail_first_n_custom_status_after_rate_limit(emu):
    emu.faults = FaultConfig(rate_limit_first_n=1, fail_first_n=1, status_for_failures=500)
    assert [get(emu).status_code for _ in range(3)] == [429, 500, 200]


def test_faults_are_mutable_at_runtime(emu):
    assert get(emu).status_code == 200
    emu.faults.fail_first_n = 1
    assert get(emu).status_code == 503
    assert get(emu).status_code == 200


def test_gateway_timeout_for_match_all_over_threshold(emu):
    emu.faults = FaultConfig(gateway_timeout_match_all_over=3)
    r = get(emu)
    assert r.status_code == 504 and r.content == b""
    assert get(emu, 'labels.name:"ROT"').status_code == 200  # narrower query is fine
    emu.faults = FaultConfig(gateway_timeout_match_all_over=5)
    assert get(emu).status_code == 200  # corpus not larger than the threshold


def test_gateway_timeout_applies_to_missing_q_as_match_all(emu):
    emu.faults = FaultConfig(gateway_timeout_match_all_over=1, missing_q="match_all")
    assert get(emu, None).status_code == 504


def test_truncation_is_clean_200_with_unparseable_last_line(emu):
    emu.faults = FaultConfig(truncate_after_rows=3)
    r = get(emu)
    assert r.status_code == 200  # no exception: the chunked stream ended cleanly
    assert not r.content.endswith(b"\n")
    lines = r.content.split(b"\n")
    assert len(lines) == 4
    for line in lines[:3]:
        orjson.loads(line)
    assert lines[3]
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(lines[3])
    full = render_lines(CRAFTED)[3]
    assert full.startswith(lines[3])
    assert emu.requests[-1].outcome == "truncated" and emu.requests[-1].rows == 3


def test_truncate_times_limits_truncation(emu):
    emu.faults = FaultConfig(truncate_after_rows=2, truncate_times=1)
    assert not get(emu).content.endswith(b"\n")
    r = get(emu)
    assert r.content.endswith(b"\n") and len(ids(r)) == 5


def test_truncation_needs_more_rows_than_threshold(emu):
    emu.faults = FaultConfig(truncate_after_rows=5)
    assert len(ids(get(emu))) == 5


def test_reset_raises_on_client(emu):
    emu.faults = FaultConfig(reset_after_rows=2)
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
        get(emu)
    rows = []
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
        with get(emu, stream=True) as r:
            for line in r.iter_lines():
                rows.append(orjson.loads(line))
    assert len(rows) == 2  # everything before the reset arrived


def test_reset_with_rst(emu):
    emu.faults = FaultConfig(reset_after_rows=1, reset_with_rst=True)
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
        get(emu)


def test_reset_times_then_success(emu):
    emu.faults = FaultConfig(reset_after_rows=1, reset_times=1)
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
        get(emu)
    assert len(ids(get(emu))) == 5


def test_stall_delays_stream(emu):
    emu.faults = FaultConfig(stall_after_rows=2, stall_seconds=0.6, stall_times=1)
    t0 = time.perf_counter()
    with get(emu, stream=True) as r:
        assert r.status_code == 200
        first = r.raw.read(1)  # headers and the first rows arrive before the stall
        t_first = time.perf_counter() - t0
        rest = r.raw.read()
    total = time.perf_counter() - t0
    assert t_first < 0.5
    assert total >= 0.55
    assert len((first + rest).splitlines()) == 5
    t0 = time.perf_counter()
    assert len(ids(get(emu))) == 5  # stall_times=1: second request is not stalled
    assert time.perf_counter() - t0 < 0.5


def test_stall_longer_than_client_read_timeout(emu):
    emu.faults = FaultConfig(stall_after_rows=1, stall_seconds=1.0)
    with pytest.raises((requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
        requests.get(f"{emu.url}/api/v1/files", params={"q": MATCH_ALL}, headers=AUTH, timeout=(5, 0.3))


def test_malformed_lines_interleaved_never_last(emu):
    emu.faults = FaultConfig(malformed_every=2)
    r = get(emu)
    lines = r.content.split(b"\n")
    assert lines[-1] == b""
    lines = lines[:-1]
    bad = [x for x in lines if x in DEMO_MALFORMED_LINES]
    assert len(bad) == 2 and len(lines) == 7  # r r M r r M r
    assert lines[2] in DEMO_MALFORMED_LINES and lines[5] in DEMO_MALFORMED_LINES
    orjson.loads(lines[-1])
    emu.set_records(CRAFTED[:4])
    lines = get(emu).content.split(b"\n")[:-1]
    assert len(lines) == 5 and lines[-1] not in DEMO_MALFORMED_LINES  # r r M r r


def test_latency_per_chunk(emu):
    emu.faults = FaultConfig(latency_ms_per_chunk=60, chunk_bytes=1)  # one row per chunk
    t0 = time.perf_counter()
    assert len(ids(get(emu))) == 5
    assert time.perf_counter() - t0 >= 0.28


def test_shuffle_changes_order_deterministically():
    records = list(generate_records(200, seed=4))
    base_ids = [r["fileId"] for r in records]
    orders = []
    for _ in range(2):
        with DxrEmulator(records, token=TOKEN, faults=FaultConfig(shuffle=True)) as e:
            first, second = ids(get(e)), ids(get(e))
            orders.append((first, second))
    assert orders[0] == orders[1]  # seeded by the request sequence number
    first, second = orders[0]
    assert sorted(first) == sorted(base_ids) == sorted(second)
    assert first != base_ids and first != second


def test_demo_corpus_with_malformed_lines():
    records = demo_records()
    with DxrEmulator(records, token=TOKEN, faults=FaultConfig(malformed_every=100)) as e:
        lines = get(e).content.split(b"\n")[:-1]
        good = []
        bad = 0
        for line in lines:
            try:
                good.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                bad += 1
        assert len(good) == len(records) and bad == (len(records) - 1) // 100


def test_match_all_fast_path_throughput():
    lines = generate_lines(20_000, seed=2)
    with DxrEmulator(lines=lines, token=TOKEN) as e:
        t0 = time.perf_counter()
        n = 0
        with get(e, stream=True) as r:
            for chunk in r.iter_content(chunk_size=1 << 20):
                n += chunk.count(b"\n")
        dt = time.perf_counter() - t0
    assert n == 20_000
    assert dt < 3.0  # typically ~0.05 s; generous for loaded CI machines


# ------------------------------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------------------------------


def test_cli_serves_and_never_prints_token():
    env = dict(os.environ, DXR_BEARER_TOKEN="cli-secret-token", PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "file_records.emulators.dxr_server",
            "--port",
            "0",
            "--records",
            "50",
            "--fail-first",
            "1",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        out = []
        url = None
        deadline = time.time() + 30
        while time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            out.append(line)
            if "Listening on " in line:
                url = line.split("Listening on ", 1)[1].split()[0]
                break
        assert url, "".join(out)
        h = {"Authorization": "Bearer cli-secret-token"}
        assert (
            requests.get(f"{url}/api/v1/files", params={"q": MATCH_ALL}, headers=h, timeout=10).status_code
            == 503
        )
        r = requests.get(f"{url}/api/v1/files", params={"q": MATCH_ALL}, headers=h, timeout=10)
        assert r.status_code == 200 and len(r.content.splitlines()) == 50
    finally:
        proc.terminate()
        try:
            rest, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            rest, _ = proc.communicate()
    assert "cli-secret-token" not in "".join(out) + (rest or "")
