"""Whole-pipeline runs as a user makes them: `file-records run` against the DXR emulator.

For each size N (default 200,000 records) in a fresh state directory, one after the other:

1. **new snapshot**: the first run (bronze, silver, gold, policies, history: every table);
2. **idle**: the same command again at once: no snapshot is due and nothing changed;
3. **forced snapshot**: `--force-snapshot`: a second snapshot of the same tenant, every table refreshed.

Prints the wall seconds of each and the idle run as a share of the new-snapshot run (target: at
most 25%, with no table rewritten). With two sizes or more it also prints the marginal throughput
between the smallest and the largest: (N_large - N_small) / (t_large - t_small) records/s for the
first run (issue target: 25,000 records/s; the whole pipeline, every table refreshed).

With ``--queries 2`` the DXR snapshot is read as two queries split at the corpus's median file size
(two Spark partitions, as benchmarks/dxr_ingest.py reads it); with ``--naive`` the naive bronze-only
load (benchmarks/dxr_ingest.py's ``naive`` runner) is timed against the same emulator, and the
marginal throughput is compared with it (issue target: at least 2x).

The emulator's cache is warmed with the run's queries before anything is timed (it stands in for a
remote service, but shares the two cores). ``--repeats N`` times N new-snapshot runs per size, each
from scratch, and uses their median.

Usage: ``python benchmarks/pipeline_runs.py [--sizes 200000] [--sizes 50000,400000] [--queries 2] [--naive]
[--repeats 3]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

# The repository root, so that `python benchmarks/pipeline_runs.py` can import its sibling benchmark.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.dxr_emulator import MATCH_ALL, TOKEN, Emulator, split_boundary
from benchmarks.dxr_ingest import measure as measure_load

CLI = [sys.executable, "-m", "file_records"]
IDLE_TARGET = 0.25
THROUGHPUT_TARGET = 25_000


def dxr_queries(records: int, count: int) -> list[str]:
    """``--dxr-query`` arguments: none for one query (the default, every file), else the corpus split
    at its median file size, as benchmarks/dxr_ingest.py does (one Spark partition per query)."""
    if count == 1:
        return []
    boundary = split_boundary(records)
    return ["--dxr-query", f"size < {boundary}", "--dxr-query", f"size >= {boundary}"]


def naive_bronze_only(records: int, url: str, queries: list[str]) -> Optional[float]:
    """records/s of the naive approach (everything to the driver, ``createDataFrame``, bronze written:
    benchmarks/dxr_ingest.py's ``naive`` runner) against the same emulator, in this run."""
    # The naive approach holds the whole snapshot in the driver. With a 2g heap it stalled at 400,000
    # files (no task running, the old generation 87% full, the machine idle); with 6g it finished in
    # 86 s, peaking at 9.4 GB in all: what it needs, so that its speed, not its memory, is compared.
    options = argparse.Namespace(naive_driver_memory="6g", driver_memory="1g", python_memory_cap_gb=12.0,
                                 cold=False, timeout=1200.0)
    result = measure_load("naive", records, argparse.Namespace(url=url), queries or [MATCH_ALL], options)
    return result["records_per_second"]


def timed_run(state: Path, url: str, *extra: str) -> tuple[float, str]:
    env = {**os.environ, "DXR_BEARER_TOKEN": TOKEN, "COLUMNS": "200"}
    for name in ("DXR_BASE_URL", "DATABRICKS_HOST", "DATABRICKS_CONFIG_PROFILE"):
        env.pop(name, None)
    started = time.monotonic()
    done = subprocess.run([*CLI, "run", "--sources", "dxr", "--state-dir", str(state), "--dxr-base-url", url, *extra],
                          env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"run failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds, done.stdout + done.stderr


def table_files(state: Path) -> dict[str, tuple[int, int]]:
    warehouse = state / "warehouse"
    return {str(p.relative_to(warehouse)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in warehouse.rglob("*") if p.is_file()}


def measure(records: int, work: Path, queries: int = 1, naive: bool = False, repeats: int = 1) -> dict:
    split = dxr_queries(records, queries)
    emulator = Emulator(records)
    url = emulator.url
    # The emulator stands in for Data X-Ray, a remote service, but runs on the same two cores: it
    # builds each query's lines on the first request (about 5 s at 400,000 files). Warmed first, as
    # for dxr_ingest.py's figures and the naive load below, so its work is not timed as the run's.
    try:
        emulator.warm(split[1::2] or [MATCH_ALL])
        firsts = []
        for attempt in range(repeats):  # each in a fresh state directory; the last one goes on below
            state = work / f"state-{records}-{attempt}"
            firsts.append(timed_run(state, url, *split)[0])
            if attempt < repeats - 1:
                shutil.rmtree(state)
        first = statistics.median(firsts)
        before = table_files(state)
        idle, idle_output = timed_run(state, url, *split)
        untouched = table_files(state) == before and "Nothing new" in idle_output
        forced, _ = timed_run(state, url, "--force-snapshot", *split)
        naive_rate = naive_bronze_only(records, url, split[1::2]) if naive else None
    finally:
        emulator.stop()
    return {"records": records, "first": first, "firsts": firsts, "idle": idle, "forced": forced, "untouched": untouched,
            "naive": naive_rate}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200000", help="comma-separated record counts (default 200000)")
    parser.add_argument("--queries", type=int, choices=(1, 2), default=1,
                        help="DXR queries (Spark partitions): 1 = every file (the default setting), 2 = split at the median size")
    parser.add_argument("--naive", action="store_true",
                        help="also time the naive bronze-only load (benchmarks/dxr_ingest.py) against the same emulator")
    parser.add_argument("--repeats", type=int, default=1,
                        help="new-snapshot runs per size, each from scratch; the median is used (a run varies by "
                             "about 10%% on a 2-core machine)")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    work = Path(tempfile.mkdtemp(prefix="file-records-bench-"))
    try:
        results = [measure(size, work, args.queries, args.naive, max(args.repeats, 1)) for size in sizes]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'records':>10} {'new snapshot s':>15} {'idle s':>8} {'idle/new':>9} {'forced s':>9} {'idle rewrote':>13}")
    for row in results:
        share = row["idle"] / row["first"]
        print(f"{row['records']:>10,} {row['first']:>15.1f} {row['idle']:>8.1f} {share:>8.0%} {row['forced']:>9.1f} "
              f"{'no table' if row['untouched'] else 'TABLES':>13}")
        if len(row["firsts"]) > 1:
            print(f"  new-snapshot runs: {', '.join(f'{seconds:.1f}' for seconds in row['firsts'])} s (median above)")
        verdict = "PASS" if share <= IDLE_TARGET and row["untouched"] else "FAIL"
        print(f"  idle run <= {IDLE_TARGET:.0%} of a new-snapshot run, no table rewritten: {verdict}")
    if len(results) > 1:
        small, large = results[0], results[-1]
        rate = (large["records"] - small["records"]) / max(large["first"] - small["first"], 1e-9)
        verdict = "PASS" if rate >= THROUGHPUT_TARGET else "FAIL"
        print(f"marginal throughput {small['records']:,} -> {large['records']:,}: {rate:,.0f} records/s "
              f"(target {THROUGHPUT_TARGET:,}), {args.queries} DXR quer{'y' if args.queries == 1 else 'ies'}: {verdict}")
        if large["naive"]:
            ratio = rate / large["naive"]
            print(f"naive bronze-only load at {large['records']:,}: {large['naive']:,.0f} records/s; whole pipeline "
                  f"marginal / naive = {ratio:.2f}x (target 2x): {'PASS' if ratio >= 2 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
