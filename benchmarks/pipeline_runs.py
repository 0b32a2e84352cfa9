"""Whole-pipeline runs as a user makes them: `file-records run` against the DXR emulator.

For each size N (default 200,000 records), in a fresh state directory:

1. **new snapshot**: the first run (bronze, silver, gold, policies, history: every table);
2. **idle**: the same command again at once: no snapshot is due and nothing changed;
3. **forced snapshot**: `--force-snapshot`: a second snapshot of the same tenant, every table refreshed.

Prints the wall and CPU seconds of each and the idle run as a share of the new-snapshot run (target:
at most 25%, with no table rewritten). With two sizes or more it also prints the marginal throughput
between the smallest and the largest: (N_large - N_small) / (t_large - t_small) records/s for the
first run (issue target: 25,000 records/s; the whole pipeline, every table refreshed).

With ``--queries 2`` the DXR snapshot is read as two queries split at the corpus's median file size
(two Spark partitions, as benchmarks/dxr_ingest.py reads it); with ``--naive`` the naive bronze-only
load (benchmarks/dxr_ingest.py's ``naive`` runner) is timed against the same emulator, and the
marginal throughput is compared with it (issue target: at least 2x). With ``--bronze-only`` the
connector's own bronze-only load (dxr_ingest.py's ``connector`` runner: the same queries, a warm JVM,
bronze's parquet written, nothing else) is timed at every size too, and its marginal throughput printed
beside the whole pipeline's: every run loads that bronze before anything else, so on this machine no
whole-pipeline figure can pass it.

``--repeats N`` takes N rounds. Each round makes the new-snapshot run of every size (and the naive
and bronze-only loads) one after the other, so that a machine whose speed drifts over minutes slows
both ends of a round alike: the marginal throughput and its ratio to the naive load are computed per
round, and
their medians reported. Every size's emulator runs throughout, its cache warmed with the run's
queries before anything is timed (it stands in for a remote service, but shares the two cores).
CPU seconds are user plus system time of the run's process and of the processes it waited for (its
JVM, and the Python workers the JVM waited for), as the operating system counts them.

Usage: ``python benchmarks/pipeline_runs.py [--sizes 200000] [--sizes 50000,400000] [--queries 2] [--naive]
[--bronze-only] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

# The repository root, so that `python benchmarks/pipeline_runs.py` can import its sibling benchmark.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.dxr_emulator import MATCH_ALL, TOKEN, Emulator, median_halves
from benchmarks.dxr_ingest import measure as measure_load

CLI = [sys.executable, "-m", "file_records"]
IDLE_TARGET = 0.25
THROUGHPUT_TARGET = 25_000


def dxr_queries(records: int, count: int) -> list[str]:
    """``--dxr-query`` arguments: none for one query (the default, every file), else the corpus split
    at its median file size, as benchmarks/dxr_ingest.py does (one Spark partition per query)."""
    if count == 1:
        return []
    return [argument for query in median_halves(records) for argument in ("--dxr-query", query)]


def _bronze_load(approach: str, records: int, url: str, queries: list[str]) -> dict:
    """One bronze-only load by benchmarks/dxr_ingest.py's runner for ``approach`` against the emulator."""
    # The naive approach holds the whole snapshot in the driver. With a 2g heap it stalled at 400,000
    # files (no task running, the old generation 87% full, the machine idle); with 6g it finished in
    # 86 s, peaking at 9.4 GB in all: what it needs, so that its speed, not its memory, is compared.
    # The connector streams: 1g, as dxr_ingest.py gives it.
    options = argparse.Namespace(naive_driver_memory="6g", driver_memory="1g", python_memory_cap_gb=12.0,
                                 cold=False, timeout=1200.0)
    return measure_load(approach, records, argparse.Namespace(url=url), queries or [MATCH_ALL], options)


def naive_bronze_only(records: int, url: str, queries: list[str]) -> Optional[float]:
    """records/s of the naive approach (everything to the driver, ``createDataFrame``, bronze written),
    in this run."""
    return _bronze_load("naive", records, url, queries)["records_per_second"]


def connector_bronze_only(records: int, url: str, queries: list[str]) -> Optional[float]:
    """Seconds of the connector's bronze-only load (its write job in a warm JVM, after a warm-up through
    the same path), in this run; None if it failed."""
    result = _bronze_load("connector", records, url, queries)
    return result["seconds"] if result.get("ok") else None


@dataclass
class Timing:
    wall: float
    cpu: float


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_run(state: Path, url: str, *extra: str) -> tuple[Timing, str]:
    env = {**os.environ, "DXR_BEARER_TOKEN": TOKEN, "COLUMNS": "200"}
    for name in ("DXR_BASE_URL", "DATABRICKS_HOST", "DATABRICKS_CONFIG_PROFILE"):
        env.pop(name, None)
    started, cpu = time.monotonic(), _children_cpu()
    done = subprocess.run([*CLI, "run", "--sources", "dxr", "--state-dir", str(state), "--dxr-base-url", url, *extra],
                          env=env, capture_output=True, text=True, check=False)
    timing = Timing(time.monotonic() - started, _children_cpu() - cpu)
    if done.returncode != 0:
        raise SystemExit(f"run failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return timing, done.stdout + done.stderr


def table_files(state: Path) -> dict[str, tuple[int, int]]:
    warehouse = state / "warehouse"
    return {str(p.relative_to(warehouse)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in warehouse.rglob("*") if p.is_file()}


@dataclass
class Size:
    """One corpus size: its emulator, its queries and what was measured against it."""

    records: int
    queries: list[str]
    emulator: Emulator
    firsts: list[Timing] = field(default_factory=list)
    naives: list[Optional[float]] = field(default_factory=list)
    bronze_only: list[Optional[float]] = field(default_factory=list)  # seconds of the connector's load
    idle: Optional[Timing] = None
    forced: Optional[Timing] = None
    untouched: bool = False

    @property
    def first(self) -> Timing:
        return Timing(statistics.median(t.wall for t in self.firsts), statistics.median(t.cpu for t in self.firsts))


def start_sizes(sizes: list[int], queries: int) -> list[Size]:
    # The emulator stands in for Data X-Ray, a remote service, but runs on the same two cores: it
    # builds each query's lines on the first request (about 5 s at 400,000 files). Warmed first, as
    # for dxr_ingest.py's figures and the naive load, so its work is not timed as the run's.
    started: list[Size] = []
    try:
        for records in sizes:
            split = dxr_queries(records, queries)
            started.append(Size(records, split, Emulator(records)))
            started[-1].emulator.warm(split[1::2] or [MATCH_ALL])
    except BaseException:
        for size in started:
            size.emulator.stop()
        raise
    return started


def measure(sizes: list[Size], work: Path, naive: bool = False, rounds: int = 1, bronze_only: bool = False) -> None:
    """``rounds`` rounds of a new-snapshot run per size (and the naive load of the largest, and the
    connector's bronze-only load of every size), each run in a fresh state directory; then the idle
    and forced runs on the last round's states."""
    states: dict[int, Path] = {}
    for number in range(rounds):
        for size in sizes:
            state = work / f"state-{size.records}-{number}"
            if size.records in states:
                shutil.rmtree(states[size.records])
            states[size.records] = state
            size.firsts.append(timed_run(state, size.emulator.url, *size.queries)[0])
        if naive:
            largest = sizes[-1]
            largest.naives.append(naive_bronze_only(largest.records, largest.emulator.url, largest.queries[1::2]))
        if bronze_only:
            for size in sizes:
                size.bronze_only.append(connector_bronze_only(size.records, size.emulator.url, size.queries[1::2]))
    for size in sizes:
        state, url = states[size.records], size.emulator.url
        before = table_files(state)
        size.idle, idle_output = timed_run(state, url, *size.queries)
        size.untouched = table_files(state) == before and "Nothing new" in idle_output
        size.forced, _ = timed_run(state, url, "--force-snapshot", *size.queries)


def marginal_rate(small_records: int, small_seconds: float, large_records: int, large_seconds: float) -> float:
    """Records/s between two sizes (unbounded when the larger was not slower: the sizes are too close
    for the machine's noise)."""
    extra = large_seconds - small_seconds
    return (large_records - small_records) / extra if extra > 0 else math.inf


def marginal(small: Size, large: Size, number: int) -> float:
    """Records/s between the smallest and the largest size, from round ``number``'s first runs."""
    return marginal_rate(small.records, small.firsts[number].wall, large.records, large.firsts[number].wall)


def bronze_only_report(small: Size, large: Size, rates: list[float]) -> Optional[str]:
    """The connector's bronze-only marginal throughput per round and the whole pipeline's share of it;
    a line saying so if it failed in some round; None when it was not measured."""
    pairs = list(zip(small.bronze_only, large.bronze_only, strict=True))
    if not pairs:
        return None
    if not all(low and high for low, high in pairs):
        return "connector bronze-only load: failed in some round (dxr_ingest.py prints why)"
    ceilings = [marginal_rate(small.records, low, large.records, high) for low, high in pairs]
    shares = [rate / ceiling for rate, ceiling in zip(rates, ceilings, strict=True)]
    by_round = f" (rounds: {', '.join(f'{c:,.0f}' for c in ceilings)}; median)" if len(ceilings) > 1 else ""
    return (f"connector bronze-only load, marginal {small.records:,} -> {large.records:,}: "
            f"{statistics.median(ceilings):,.0f} records/s{by_round}; the whole pipeline loads the same bronze "
            f"first, so no whole-pipeline figure here can pass it (whole pipeline = {statistics.median(shares):.0%} of it)")


def report(sizes: list[Size], queries: int) -> None:
    print(f"{'records':>10} {'new snapshot s':>15} {'cpu s':>7} {'idle s':>8} {'idle/new':>9} {'forced s':>9} "
          f"{'idle rewrote':>13}")
    for size in sizes:
        first = size.first
        share = size.idle.wall / first.wall
        print(f"{size.records:>10,} {first.wall:>15.1f} {first.cpu:>7.1f} {size.idle.wall:>8.1f} {share:>8.0%} "
              f"{size.forced.wall:>9.1f} {'no table' if size.untouched else 'TABLES':>13}")
        if len(size.firsts) > 1:
            print(f"  new-snapshot runs, round by round: {', '.join(f'{t.wall:.1f}' for t in size.firsts)} s "
                  f"(cpu {', '.join(f'{t.cpu:.1f}' for t in size.firsts)} s; medians above)")
        verdict = "PASS" if share <= IDLE_TARGET and size.untouched else "FAIL"
        print(f"  idle run <= {IDLE_TARGET:.0%} of a new-snapshot run, no table rewritten: {verdict}")
    if len(sizes) < 2:
        return
    small, large = sizes[0], sizes[-1]
    rates = [marginal(small, large, number) for number in range(len(small.firsts))]
    rate = statistics.median(rates)
    verdict = "PASS" if rate >= THROUGHPUT_TARGET else "FAIL"
    by_round = f" (rounds: {', '.join(f'{r:,.0f}' for r in rates)}; median)" if len(rates) > 1 else ""
    print(f"marginal throughput {small.records:,} -> {large.records:,}: {rate:,.0f} records/s{by_round} "
          f"(target {THROUGHPUT_TARGET:,}), {queries} DXR quer{'y' if queries == 1 else 'ies'}: {verdict}")
    cpu_per_record = (large.first.cpu - small.first.cpu) / (large.records - small.records)
    print(f"marginal CPU: {cpu_per_record * 1e6:,.0f} us per record (median runs)")
    if large.naives and all(large.naives):
        ratios = [r / n for r, n in zip(rates, large.naives, strict=True)]
        by_round = f" (rounds: {', '.join(f'{r:.2f}x' for r in ratios)}; median)" if len(ratios) > 1 else ""
        ratio = statistics.median(ratios)
        print(f"naive bronze-only load at {large.records:,}: {statistics.median(large.naives):,.0f} records/s; whole "
              f"pipeline marginal / naive = {ratio:.2f}x{by_round} (target 2x): {'PASS' if ratio >= 2 else 'FAIL'}")
    elif large.naives:
        print(f"naive bronze-only load at {large.records:,}: failed in {large.naives.count(None)} of "
              f"{len(large.naives)} rounds (dxr_ingest.py prints why): no ratio")
    ceiling = bronze_only_report(small, large, rates)
    if ceiling:
        print(ceiling)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200000", help="comma-separated record counts (default 200000)")
    parser.add_argument("--queries", type=int, choices=(1, 2), default=1,
                        help="DXR queries (Spark partitions): 1 = every file (the default setting), 2 = split at the median size")
    parser.add_argument("--naive", action="store_true",
                        help="also time the naive bronze-only load (benchmarks/dxr_ingest.py) against the same emulator")
    parser.add_argument("--bronze-only", action="store_true",
                        help="also time the connector's bronze-only load (benchmarks/dxr_ingest.py) at every size: "
                             "the ceiling of the whole pipeline's marginal throughput on this machine")
    parser.add_argument("--repeats", type=int, default=1,
                        help="rounds of new-snapshot runs, every size in turn within a round, each from scratch; "
                             "medians are reported (a run varies by 10 to 20%% on a 2-core machine)")
    args = parser.parse_args()
    sizes = start_sizes(sorted(int(size) for size in args.sizes.split(",")), args.queries)
    work = Path(tempfile.mkdtemp(prefix="file-records-bench-"))
    try:
        measure(sizes, work, args.naive, max(args.repeats, 1), args.bronze_only)
    finally:
        for size in sizes:
            size.emulator.stop()
        shutil.rmtree(work, ignore_errors=True)
    report(sizes, args.queries)
    return 0


if __name__ == "__main__":
    sys.exit(main())
