"""Workspace inventory scan against the emulator, the way the pipeline runs it, with default settings.

The set-up of issue 11: a fake workspace of 120 users (empty homes, missing DBFS homes, missing
Workspace homes, a 403 user, deep trees, Git folders), 50 ms latency per request and a global limit
of 40 requests/s (429 + ``Retry-After: 1`` above it, a token bucket holding one second of requests),
then the same workspace limited to 12 requests/s.

The scan runs as the DataSource runs it: the "driver" (this process) lists users over SCIM and
resolves the credentials once; the users are split into ``--partitions`` shards (default 4, the
default setting) that run in ``--parallel`` worker processes at a time (default 2: a 2-core
machine), each with only the shipped credentials, each process with its own adaptive pace (no
ceiling: the default). Worker processes are reused, as Spark reuses Python workers.

Printed per limit: the server's busy window (first request received to last answered), the floor
set by the successful (non-429) requests at that limit, their ratio (target <= 1.15 at 40/s,
<= 1.3 at 12/s), the share of requests answered 429 (target <= 5% / <= 10%), and how many users'
file_count, total_size, status and file_source equal the emulator's ground truth.

Usage: ``python benchmarks/workspace_scan.py [--limits 40,12] [--users 120] [--partitions 4] [--parallel 2]``
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import sys
import time
from typing import Optional

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from file_records.connectors.workspace import (
    NOTEBOOK_SIZE_ESTIMATE_BYTES,
    ScanConfig,
    StatusRow,
    WorkspaceAuth,
)
from file_records.connectors.workspace.auth import ShippedCredentials
from file_records.emulators.workspace_server import WorkspaceEmulator
from file_records.emulators.workspace_tree import SyntheticWorkspace

TOKEN = "bench-token"


def _worker_init(progress: bool) -> None:
    logging.basicConfig(level=logging.WARNING, format="  %(processName)s %(message)s")
    if progress:
        logging.getLogger("file_records.progress").setLevel(logging.INFO)


def _scan_shard(args: tuple) -> list[dict]:
    """One partition, in a worker process, with only what was shipped (like ``read_shard``)."""
    from file_records.connectors.workspace import scan_users

    users, credentials, config, label = args
    auth = WorkspaceAuth(credentials=credentials)
    started = time.monotonic()
    rows = [row.as_dict() for row in scan_users(users, config, auth, label=label) if isinstance(row, StatusRow)]
    if os.environ.get("BENCH_DEBUG"):
        from file_records.connectors.workspace.ratelimit import shared_limiter

        stats = shared_limiter(f"databricks:{credentials.host}", None).stats()
        print(f"  {label}: {time.monotonic() - started:.1f} s, limiter {stats}", flush=True)
    return rows


def expected(tree: SyntheticWorkspace, username: str) -> tuple:
    ws, dbfs = tree.truth(username, "workspace"), tree.truth(username, "dbfs")
    files = ws.files + dbfs.files
    size = ws.bytes + dbfs.bytes + (ws.notebooks + dbfs.notebooks) * NOTEBOOK_SIZE_ESTIMATE_BYTES
    return files, size, _status([ws.status, dbfs.status], files), _file_source(ws.files, dbfs.files)


def measured(rows: list[dict]) -> tuple:
    files = sum(r["files"] for r in rows)
    size = sum(r["bytes"] for r in rows)
    ws = sum(r["files"] for r in rows if r["source"] == "workspace")
    dbfs = sum(r["files"] for r in rows if r["source"] == "dbfs")
    return files, size, _status([r["status"] for r in rows], files), _file_source(ws, dbfs)


def _status(statuses: list[str], files: int) -> str:  # as pipelines/logic/workspace.py
    if all(s == "error" for s in statuses):
        return "error"
    if any(s in ("error", "partial") for s in statuses):
        return "partial"
    return "success" if files else "empty"


def _file_source(ws: int, dbfs: int) -> str:
    return "both" if ws and dbfs else "dbfs" if dbfs else "workspace" if ws else "none"


def build_tree(users: int) -> SyntheticWorkspace:
    return SyntheticWorkspace.generate(
        users, dirs_per_user=4, objects_per_user=24, seed=11, deactivated_ratio=0.1, deep_ratio=0.05,
        deep_levels=8, repo_ratio=0.3, empty_ratio=0.05, missing_ratio=0.02, missing_dbfs_ratio=0.35,
        missing_workspace_ratio=0.05, empty_workspace_ratio=0.15, forbidden_ratio=0.01, failing_ratio=0.0)


def run(tree: SyntheticWorkspace, limit: float, latency_ms: float, partitions: int, parallel: int,
        ceiling: Optional[float], progress: bool) -> dict:
    from file_records.connectors.workspace import list_users

    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(parallel, initializer=_worker_init, initargs=(progress,)) as pool, \
            WorkspaceEmulator(tree, token=TOKEN, latency_ms=latency_ms, rate_limit_per_second=limit,
                              rate_limit_burst=limit, retry_after_seconds=1.0) as emu:
        pool.map(time.sleep, [0.0] * parallel)  # workers started before the clock
        auth = WorkspaceAuth(host=emu.url, token=TOKEN)
        _ = auth.host
        emu.reset_counters()
        started = time.monotonic()
        # the driver: SCIM, then the credentials resolved once and shipped with every shard
        users = [u.username for u in list_users(auth)]
        credentials: ShippedCredentials = auth.ship()
        shards = max(1, min(partitions, len(users)))
        config = ScanConfig(max_requests_per_second=ceiling)
        tasks = [(users[i::shards], credentials, config, f"shard {i + 1}/{shards}") for i in range(shards)]
        rows = [row for shard in pool.imap_unordered(_scan_shard, tasks) for row in shard]
        wall = time.monotonic() - started
        by_status = emu.responses_by_status
        busy = emu.busy_seconds
    total = sum(by_status.values())
    throttled = by_status.get(429, 0)
    by_user: dict[str, list[dict]] = {}
    for row in rows:
        by_user.setdefault(row["username"], []).append(row)
    right = sum(1 for u in tree.users if measured(by_user.get(u.username, [])) == expected(tree, u.username))
    wrong = [u.username for u in tree.users if measured(by_user.get(u.username, [])) != expected(tree, u.username)]
    return {"busy": busy, "wall": wall, "requests": total, "throttled": throttled,
            "successful": total - throttled, "right": right, "users": len(tree.users), "wrong": wrong[:5],
            "home_missing": sum(1 for r in rows if r["home_missing"]),
            "statuses": _count(r["status"] for r in rows)}


def _count(values) -> dict:
    out: dict = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=120)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--limits", default="40,12", help="server-side global limits (requests/s), comma-separated")
    parser.add_argument("--partitions", type=int, default=4, help="user shards (the default setting)")
    parser.add_argument("--parallel", type=int, default=2, help="shards running at once (cores)")
    parser.add_argument("--ceiling", type=float, default=None,
                        help="max_requests_per_second (default: unset, the default setting)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress log lines")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="  %(message)s")

    tree = build_tree(args.users)
    kinds = _count(k for u in tree.users for k in u.kinds)
    print(f"workspace: {len(tree.users)} users, {tree.expected_listings()} listings needed; kinds {kinds}")
    for limit in (float(x) for x in args.limits.split(",")):
        print(f"\nlimit {limit:g} requests/s, {args.latency_ms:g} ms latency; {args.partitions} partitions, "
              f"{args.parallel} at a time; ceiling {args.ceiling or 'unset'}")
        res = run(tree, limit, args.latency_ms, args.partitions, args.parallel, args.ceiling, not args.no_progress)
        floor = res["successful"] / limit
        print(f"  requests        : {res['requests']:,} ({res['successful']:,} successful, "
              f"{res['throttled']:,} answered 429 = {100 * res['throttled'] / max(res['requests'], 1):.1f}%)")
        print(f"  floor           : {floor:.1f} s  (successful requests / {limit:g} per s)")
        print(f"  busy window     : {res['busy']:.1f} s  (wall incl. start-up {res['wall']:.1f} s)")
        print(f"  ratio busy/floor: {res['busy'] / floor:.2f}")
        print(f"  users right     : {res['right']}/{res['users']} (file_count, total_size, status, file_source)"
              + (f"; wrong: {res['wrong']}" if res["wrong"] else ""))
        print(f"  status rows     : {res['statuses']}, home_missing {res['home_missing']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
