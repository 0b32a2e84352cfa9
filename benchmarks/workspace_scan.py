"""Workspace inventory scan against the emulator: parallel frontier vs. a one-at-a-time walk.

Default set-up (the issue's): 1,000 users, each with 20 directories and 200 objects in the
Workspace and again in DBFS (so 2 × 21 listings per user), 50 ms latency per request, a global
limit of 100 requests/s on the emulator (429 + Retry-After above it).

Figures printed for each walk: requests needed (one successful listing per directory), the floor
set by the rate limit (requests needed / 100 per second), wall time, the ratio wall / floor
(target ≤ 1.3), requests sent and retries.

* parallel: ``scan_users`` — one call, 16 threads over a frontier of directories, the client-side
  limiter at the known limit (``--client-rate``, default 100/s; ``--client-rate 0`` disables it
  to show pure 429 handling);
* sequential baseline: the predecessor's shape — one request at a time, user after user
  (``threads_per_partition=1``). At 50 ms a request it would take ~35 minutes for 1,000 users,
  so it runs on a sample of users (``--baseline-users``, default 20) and the time is
  extrapolated linearly to all users (printed as such).

Usage: ``python benchmarks/workspace_scan.py [--users N] [--quick]``
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from file_records.connectors.workspace import (
    RateLimiter,
    ScanConfig,
    StatusRow,
    WorkspaceAuth,
    list_users,
    scan_users,
)
from file_records.emulators.workspace_server import WorkspaceEmulator
from file_records.emulators.workspace_tree import SyntheticWorkspace

TOKEN = "bench-token"


def run_scan(emu: WorkspaceEmulator, usernames: list[str], threads: int, client_rate: float | None) -> dict:
    config = ScanConfig(threads_per_partition=threads, max_requests_per_second=client_rate, max_attempts=10)
    limiter = RateLimiter(client_rate)
    auth = WorkspaceAuth(host=emu.url, token=TOKEN)
    _ = auth.host  # resolve the SDK config before the clock starts
    emu.reset_counters()
    files = requests = retries = 0
    statuses: dict[str, int] = {}
    started = time.monotonic()
    for row in scan_users(usernames, config, auth, limiter=limiter):
        if isinstance(row, StatusRow):
            files += row.files
            requests += row.requests
            retries += row.retries
            statuses[row.status] = statuses.get(row.status, 0) + 1
    wall = time.monotonic() - started
    return {"files": files, "requests": requests, "retries": retries, "wall": wall, "statuses": statuses,
            "http_429": emu.responses_by_status.get(429, 0), "max_concurrency": emu.max_concurrency,
            "server_requests": emu.request_count}


def show(title: str, res: dict, limit: float, note: str = "") -> None:
    needed = res["requests"] - res["retries"]  # one successful listing per directory
    floor = needed / limit
    print(f"\n{title}")
    print(f"  requests needed : {needed:,}  (sent {res['requests']:,}; server saw {res['server_requests']:,}, "
          f"429 answers {res['http_429']:,}, peak concurrency {res['max_concurrency']})")
    print(f"  floor           : {floor:,.1f} s  (requests / {limit:g} per s)")
    print(f"  wall time       : {res['wall']:,.1f} s{note}")
    print(f"  ratio wall/floor: {res['wall'] / floor:.2f}")
    print(f"  retries         : {res['retries']:,}")
    print(f"  files found     : {res['files']:,}   statuses: {res['statuses']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--dirs", type=int, default=20)
    parser.add_argument("--objects", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--limit", type=float, default=100.0, help="server-side requests/s")
    parser.add_argument("--client-rate", type=float, default=100.0, help="client limiter (0 = none)")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--baseline-users", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="100 users, baseline on 5 users")
    args = parser.parse_args(argv)
    if args.quick:
        args.users = min(args.users, 100)
        args.baseline_users = min(args.baseline_users, 5)
    logging.getLogger("databricks.sdk").setLevel(logging.ERROR)

    t0 = time.monotonic()
    tree = SyntheticWorkspace.generate(
        args.users, dirs_per_user=args.dirs, objects_per_user=args.objects, seed=11,
        deactivated_ratio=0.1, deep_ratio=0.1, repo_ratio=0.4,
        empty_ratio=0.0, missing_ratio=0.0, forbidden_ratio=0.0, failing_ratio=0.0)
    truth_files = sum(t.files for t in tree.truths().values())
    print(f"workspace: {args.users:,} users × ({args.dirs} dirs + home, {args.objects} objects) in Workspace "
          f"and in DBFS; {truth_files:,} files; {tree.expected_listings():,} listings needed; "
          f"generated in {time.monotonic() - t0:.1f} s")
    print(f"emulator : {args.latency_ms:g} ms latency per request, global limit {args.limit:g} requests/s "
          f"(429 + Retry-After: 1)")
    client_rate = args.client_rate or None
    with WorkspaceEmulator(tree, token=TOKEN, latency_ms=args.latency_ms, rate_limit_per_second=args.limit,
                           retry_after_seconds=1.0) as emu:
        t0 = time.monotonic()
        users = list_users(WorkspaceAuth(host=emu.url, token=TOKEN),
                           config=ScanConfig(max_requests_per_second=client_rate))
        print(f"SCIM     : {len(users):,} users in {time.monotonic() - t0:.1f} s "
              f"({emu.requests_by_path.get('/api/2.0/preview/scim/v2/Users', 0)} pages)")
        names = [u.username for u in users]

        par = run_scan(emu, names, args.threads, client_rate)
        assert par["files"] == truth_files, (par["files"], truth_files)
        show(f"parallel frontier: scan_users, {args.threads} threads, client limiter "
             f"{client_rate if client_rate else 'off'}", par, args.limit)

        sample = names[: args.baseline_users]
        seq = run_scan(emu, sample, 1, None)
        factor = len(names) / len(sample)
        extrapolated = {**seq, "wall": seq["wall"] * factor, "requests": int(round(seq["requests"] * factor)),
                        "retries": int(round(seq["retries"] * factor)), "files": int(round(seq["files"] * factor)),
                        "server_requests": int(round(seq["server_requests"] * factor)),
                        "http_429": int(round(seq["http_429"] * factor))}
        show(f"sequential baseline: one request at a time, user after user — measured on {len(sample)} users "
             f"({seq['requests']:,} requests, {seq['wall']:.1f} s), extrapolated ×{factor:g} to {len(names):,} users",
             extrapolated, args.limit, note="  (extrapolated)")
        print(f"\nspeed-up parallel vs sequential: {extrapolated['wall'] / par['wall']:.1f}×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
