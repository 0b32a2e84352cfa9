"""DXR emulator -> bronze parquet: the `dxr` connector against the predecessor's naive approach.

One script on purpose: it is run by hand, and the naive baseline, the connector run and the report
side by side let a reader check that both are timed the same way. The emulator's process, which the
other benchmarks start too, is benchmarks/dxr_emulator.py.

For each size N (default 100,000 and 1,000,000; ``--quick``: 20,000 and 100,000) one run measures:

(a) connector: ``spark.read.format("dxr")`` with TWO queries that split the corpus into halves of
    similar size (``size < X`` / ``size >= X``, X = median file size of the corpus), written to
    parquet partitioned by ``ingestion_date`` (the bronze write). records/s = file records written
    / wall seconds of the write job (the read is lazy, so the job includes the HTTP fetch).
    Peak memory = peak of the summed RSS of the Spark driver JVM and every Python worker it starts;
    the runner's own Python process holds no data and is not counted.
(b) naive (the predecessor's shape): ONE request, the whole response read into a Python list on the
    driver (``requests`` + ``json``, each record turned into a dict of the same typed columns), then
    ``spark.createDataFrame(list, schema)`` with that explicit schema (Arrow conversion left at its
    default, off), then the same parquet write. records/s over the whole sequence; peak memory also
    counts the driver Python process, which holds the data. A failure (MemoryError, Java heap space,
    a timeout) is that approach's result, not a crash of the benchmark.

The connector runs with ``spark.driver.memory`` 1g (``--driver-memory``: it streams, so a fixed small heap
serves any size), the naive approach with 2g (``--naive-driver-memory``: at 1g it cannot even write
100,000 records, so it gets the bigger heap); both local[2], and
each (size, approach) pair runs in a fresh runner process with its own JVM so that one run's heap
does not inflate the next one's memory figure. The emulator runs in its own process (not counted)
and its per-query cache is warmed with one request per query before anything is timed. Memory is
sampled with psutil every 50 ms from this (orchestrating) process, which is not counted either.

Prints a table and three targets (PASS/FAIL); writes the figures to benchmarks/results/dxr_ingest.json.

Usage: ``python benchmarks/dxr_ingest.py [--quick | --sizes 100000,1000000] [--driver-memory 1g]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.dxr_emulator import MATCH_ALL, TOKEN, Emulator, median_halves  # noqa: E402 - after the path

TOKEN_ENV = "DXR_BENCH_TOKEN"
SAMPLE_SECONDS = 0.05
# The warm-up job reads and writes this many real records (match-all, capped) through the same path
# before the timed job, so that the JIT-compiled Arrow and parquet writer code is what gets timed in
# both approaches, not the JVM warming up (that costs ~5 s once per process; --cold measures it).
WARMUP_RECORDS = 50_000
RESULTS = REPO / "benchmarks" / "results" / "dxr_ingest.json"

TARGET_RATE = 100_000
TARGET_SPEEDUP = 10.0
TARGET_MEMORY_RATIO = 1.2


# ------------------------------------------------------------------------------------------------
# Runner: one (approach, size) in its own process with its own JVM
# ------------------------------------------------------------------------------------------------


def _emit(event: str, **fields) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def local_spark(driver_memory: str, conf: Optional[dict[str, str]] = None):
    """The runners' local Spark session (``local[2]``); ``conf`` adds settings to it."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("dxr-ingest-benchmark")
        .config("spark.driver.memory", driver_memory)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config(map=conf or {})
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _describe_failure(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    for marker in ("java.lang.OutOfMemoryError", "Java heap space", "GC overhead limit exceeded"):
        if marker in text:
            return f"JVM OutOfMemoryError ({marker})"
    if isinstance(exc, MemoryError):
        return "Python MemoryError on the driver"
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return first[:300]


def read_snapshot(spark, base_url: str, queries: list[str], cap: Optional[int] = None):
    """One DXR snapshot through the ``dxr`` connector (registered on ``spark``), each query capped at
    ``cap`` records if given; the token is read from ``TOKEN_ENV``."""
    read = (
        spark.read.format("dxr")
        .option("base_url", base_url)
        .option("token_env", TOKEN_ENV)
        .option("queries", json.dumps(queries))
    )
    return (read.option("record_cap", str(cap)) if cap else read).load()


def run_connector(args) -> None:
    from pyspark.sql import functions as F

    from file_records.connectors.dxr.source import DxrDataSource

    spark = local_spark(args.driver_memory)
    spark.dataSource.register(DxrDataSource)
    queries = json.loads(args.queries)

    if not args.cold:
        read_snapshot(spark, args.base_url, queries, cap=WARMUP_RECORDS // len(queries)).write.mode("overwrite").partitionBy("ingestion_date").parquet(
            args.out + "-warmup"
        )
    df = read_snapshot(spark, args.base_url, queries)
    _emit("start")
    started = time.perf_counter()
    df.write.mode("overwrite").partitionBy("ingestion_date").parquet(args.out)
    seconds = time.perf_counter() - started
    _emit("stop")
    written = spark.read.parquet(args.out)
    records = written.where(F.col("record_type") == "file").count()
    summaries = {
        row.source_query: json.loads(row.raw_json)
        for row in written.where(F.col("record_type") == "query_summary").select("source_query", "raw_json").collect()
    }
    _emit("result", ok=True, records=records, seconds=seconds, per_query=summaries)
    spark.stop()


def run_naive(args) -> None:
    import requests

    from file_records.connectors.dxr.parse import record_to_row
    from file_records.connectors.dxr.schema import DXR_SPARK_SCHEMA

    spark = local_spark(args.driver_memory)
    if args.python_memory_cap_gb > 0:
        # A safety net for a shared machine: the list of 1M records can take many GB. Set after the
        # JVM has started so that only this Python process is limited.
        import resource

        cap = int(args.python_memory_cap_gb * (1 << 30))
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    from datetime import datetime, timezone

    taken = datetime.now(timezone.utc).replace(microsecond=0)
    shared = {
        "parse_error": None,
        "source_query": MATCH_ALL,
        "snapshot_id": taken.strftime("%Y%m%dT%H%M%SZ") + "-0001",
        "ingestion_date": taken.date(),
        "ingested_at": taken,
    }

    def fetch_rows(limit: Optional[int] = None) -> list[dict]:
        """The whole match-all answer (or its first ``limit`` records) as typed row dicts."""
        rows = []
        with requests.get(
            args.base_url + "/api/v1/files",
            params={"q": MATCH_ALL},
            headers={"Authorization": f"Bearer {os.environ[TOKEN_ENV]}"},
            stream=True,
            timeout=(30, 120),
        ) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if not line:
                    continue
                rows.append({**record_to_row(json.loads(line)), "raw_json": line.decode("utf-8"), **shared})
                if limit is not None and len(rows) >= limit:
                    break
        return rows

    if not args.cold:
        # The same fetch + createDataFrame + write path on the first WARMUP_RECORDS records.
        warmup = spark.createDataFrame(fetch_rows(WARMUP_RECORDS), DXR_SPARK_SCHEMA)
        warmup.write.mode("overwrite").partitionBy("ingestion_date").parquet(args.out + "-warmup")
    _emit("start")
    started = time.perf_counter()
    records = 0
    stage = "fetch"
    try:
        rows = fetch_rows()
        records = len(rows)
        stage = "createDataFrame"
        df = spark.createDataFrame(rows, DXR_SPARK_SCHEMA)
        stage = "write"
        df.write.mode("overwrite").partitionBy("ingestion_date").parquet(args.out)
        seconds = time.perf_counter() - started
        _emit("stop")
        _emit("result", ok=True, records=records, seconds=seconds)
    except BaseException as exc:  # noqa: BLE001 - a failure is this approach's result
        seconds = time.perf_counter() - started
        _emit("stop")
        _emit("result", ok=False, records=records, seconds=seconds, stage=stage, error=_describe_failure(exc))
    try:
        spark.stop()
    except Exception:  # noqa: BLE001 - the JVM may be gone after an OutOfMemoryError
        pass


# ------------------------------------------------------------------------------------------------
# Orchestrator
# ------------------------------------------------------------------------------------------------


class TreeSampler:
    """Peak summed RSS (and CPU seconds) of a runner's Spark processes, sampled every 50 ms.

    Counted: the driver JVM (the runner's `java` child), every Python process below it (daemons,
    planner and reader workers) and, when `include_root`, the runner's own Python process. Helper
    processes the JVM spawns (a `jspawnhelper`/`vfork` child briefly shows the JVM's whole RSS)
    are not Spark memory and are left out.
    """

    def __init__(self, root_pid: int, include_root: bool) -> None:
        import psutil

        self._psutil = psutil
        self.root = psutil.Process(root_pid)
        self.include_root = include_root
        self.window_peak = 0
        self.window_breakdown: dict = {}
        self.in_window = False
        self._window_started = 0.0
        self._cpu_first: dict[int, float] = {}
        self._cpu_last: dict[int, float] = {}
        self._jvm = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def start_window(self) -> None:
        self._window_started = time.time()
        self.in_window = True

    def stop_window(self) -> None:
        self._measure()
        self.in_window = False

    @property
    def cpu_seconds(self) -> float:
        return sum(self._cpu_last[pid] - self._cpu_first.get(pid, 0.0) for pid in self._cpu_last)

    def _processes(self) -> list:
        psutil = self._psutil
        if self._jvm is None:
            try:
                self._jvm = next((p for p in self.root.children() if "java" in p.name()), None)
            except psutil.Error:
                return []
        processes = []
        if self._jvm is not None:
            processes.append(self._jvm)
            try:
                processes += [p for p in self._jvm.children(recursive=True) if p.name().startswith("python")]
            except psutil.Error:
                pass
        if self.include_root:
            processes.append(self.root)
        return processes

    def _measure(self) -> None:
        psutil = self._psutil
        total, breakdown, detail = 0, {}, []
        for process in self._processes():
            try:
                with process.oneshot():
                    rss = process.memory_info().rss
                    cpu = sum(process.cpu_times()[:2])
                    born = process.create_time()
                    cmdline = process.cmdline()
            except psutil.Error:
                continue
            if process.pid not in self._cpu_first:
                # Born during the window: all of its CPU time is the window's.
                self._cpu_first[process.pid] = 0.0 if born >= self._window_started else cpu
            self._cpu_last[process.pid] = cpu
            if process is self._jvm:
                kind, label = "jvm", "jvm"
            elif process.pid == self.root.pid:
                kind, label = "driver-python", "driver-python"
            else:
                kind, label = "python-workers", " ".join(cmdline[-1:])
            breakdown[kind] = breakdown.get(kind, 0) + rss
            total += rss
            detail.append((label, rss))
        if total > self.window_peak:
            breakdown["_processes"] = detail
            self.window_peak, self.window_breakdown = total, breakdown

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self.in_window:
                self._measure()
            self._stop.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def measure(approach: str, records: int, emulator: Emulator, queries: list[str], args) -> dict:
    out_dir = tempfile.mkdtemp(prefix=f"dxr-bench-{approach}-")
    env = {**os.environ, TOKEN_ENV: TOKEN, "PYTHONPATH": str(REPO), "PYSPARK_PYTHON": sys.executable}
    command = [
        sys.executable, str(Path(__file__).resolve()), "--run", approach, "--base-url", emulator.url,
        "--queries", json.dumps(queries), "--out", os.path.join(out_dir, "bronze"),
        "--driver-memory", args.naive_driver_memory if approach == "naive" else args.driver_memory,
        "--python-memory-cap-gb", str(args.python_memory_cap_gb),
    ] + (["--cold"] if args.cold else [])
    runner = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    threading.Thread(target=runner.stderr.read, daemon=True).start()  # Spark's log noise
    sampler = TreeSampler(runner.pid, include_root=(approach == "naive"))
    result: dict = {}
    timed_out = threading.Event()

    def watchdog() -> None:
        if runner.poll() is None:
            timed_out.set()
            _kill_tree(runner.pid)

    timer = threading.Timer(args.timeout, watchdog)
    timer.start()
    try:
        for line in runner.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if message.get("event") == "start":
                sampler.start_window()
            elif message.get("event") == "stop":
                sampler.stop_window()
            elif message.get("event") == "result":
                result = message
        runner.wait()
    finally:
        timer.cancel()
        sampler.stop()
        shutil.rmtree(out_dir, ignore_errors=True)
    if not result:
        reason = f"timed out after {args.timeout:.0f} s" if timed_out.is_set() else f"runner exited {runner.returncode}"
        result = {"ok": False, "records": 0, "seconds": None, "error": reason}
    result.pop("event", None)
    rate = result["records"] / result["seconds"] if result.get("ok") and result.get("seconds") else None
    cpu = sampler.cpu_seconds
    return {
        "size": records,
        "approach": approach,
        **result,
        "records_per_second": rate,
        # CPU seconds of the counted processes during the timed phase; records per CPU-second x 2 is
        # what two otherwise idle cores would sustain, a figure that a busy machine does not distort.
        "cpu_seconds": cpu,
        "cpu_bound_records_per_second_2_cores": (
            result["records"] / cpu * 2 if result.get("ok") and cpu else None
        ),
        "peak_memory_mb": sampler.window_peak / 1e6 if sampler.window_peak else None,
        "peak_memory_breakdown_mb": {
            k: round(v / 1e6, 1) for k, v in sampler.window_breakdown.items() if not k.startswith("_")
        },
        "peak_memory_processes_mb": [
            [label, round(rss / 1e6, 1)] for label, rss in sampler.window_breakdown.get("_processes", [])
        ],
    }


def _kill_tree(pid: int) -> None:
    import psutil

    try:
        parent = psutil.Process(pid)
        family = parent.children(recursive=True) + [parent]
    except psutil.Error:
        return
    for process in family:
        try:
            process.kill()
        except psutil.Error:
            pass


def _fmt(value, spec: str, missing: str = "-") -> str:
    return missing if value is None else format(value, spec)


def print_table(rows: list[dict]) -> None:
    header = (f"{'size':>10}  {'approach':<10} {'records':>10} {'seconds':>8} {'records/s':>11} {'peak MB':>9}"
              f"  {'CPU s':>7} {'rec/s on 2 idle cores*':>22}  note")
    print(header)
    print("-" * len(header))
    for row in rows:
        note = "" if row.get("ok") else f"FAILED at {row.get('stage', '?')}: {row.get('error')}"
        if row.get("ok") and row.get("per_query"):
            note = "queries: " + ", ".join(
                f"{q} -> {s['records']:,}" for q, s in sorted(row["per_query"].items())
            )
        print(
            f"{row['size']:>10,}  {row['approach']:<10} {row['records']:>10,} {_fmt(row['seconds'], '8.1f'):>8} "
            f"{_fmt(row['records_per_second'], '11,.0f'):>11} {_fmt(row['peak_memory_mb'], '9,.0f'):>9}  "
            f"{_fmt(row.get('cpu_seconds'), '7.1f'):>7} {_fmt(row.get('cpu_bound_records_per_second_2_cores'), '22,.0f'):>22}"
            f"  {note}"
        )
    print("* records / (CPU seconds of the Spark processes / 2): the rate two otherwise idle cores would sustain")


def evaluate(rows: list[dict], sizes: list[int]) -> list[dict]:
    def find(size: int, approach: str) -> Optional[dict]:
        return next((r for r in rows if r["size"] == size and r["approach"] == approach), None)

    largest, smallest = max(sizes), min(sizes)
    conn_large, naive_large = find(largest, "connector"), find(largest, "naive")
    conn_small = find(smallest, "connector")
    targets = []

    rate = conn_large and conn_large.get("records_per_second")
    targets.append({
        "target": f"connector >= {TARGET_RATE:,} records/s with two queries at {largest:,}",
        "value": f"{rate:,.0f} records/s" if rate else "no result",
        "pass": bool(rate and rate >= TARGET_RATE),
    })

    naive_rate = naive_large and naive_large.get("records_per_second")
    if rate and naive_rate:
        speedup = rate / naive_rate
        targets.append({"target": f"connector >= {TARGET_SPEEDUP:.0f}x naive at {largest:,}",
                        "value": f"{speedup:.1f}x", "pass": speedup >= TARGET_SPEEDUP})
    elif rate and naive_large and not naive_large.get("ok"):
        targets.append({"target": f"connector >= {TARGET_SPEEDUP:.0f}x naive at {largest:,}",
                        "value": f"naive failed ({naive_large.get('error')}); connector completed",
                        "pass": True})
    else:
        targets.append({"target": f"connector >= {TARGET_SPEEDUP:.0f}x naive", "value": "no result", "pass": False})

    for size in sorted(sizes):
        conn, naive = find(size, "connector"), find(size, "naive")
        if conn and naive and conn.get("records_per_second") and naive.get("records_per_second"):
            targets.append({
                "target": f"(for information) connector / naive at {size:,}, both completed",
                "value": f"{conn['records_per_second'] / naive['records_per_second']:.1f}x",
                "pass": None,
            })

    peak_large = conn_large and conn_large.get("peak_memory_mb")
    peak_small = conn_small and conn_small.get("peak_memory_mb")
    if peak_large and peak_small and largest != smallest:
        ratio = peak_large / peak_small
        targets.append({
            "target": f"connector peak memory at {largest:,} within {TARGET_MEMORY_RATIO}x of {smallest:,}",
            "value": f"{peak_large:,.0f} MB / {peak_small:,.0f} MB = {ratio:.2f}x",
            "pass": ratio <= TARGET_MEMORY_RATIO,
        })
    else:
        targets.append({"target": "connector peak memory ratio", "value": "needs two sizes", "pass": False})
    return targets


def orchestrate(args) -> int:
    if args.quick:
        sizes = [20_000, 100_000]
    else:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    approaches = [a for a in ("connector", "naive") if a not in args.skip]
    print(f"DXR ingest benchmark: sizes {', '.join(f'{s:,}' for s in sizes)}; local[2]; "
          f"spark.driver.memory={args.driver_memory} (connector), {args.naive_driver_memory} (naive); {os.cpu_count()} CPUs; "
          f"Python {platform.python_version()}", flush=True)
    load_before = os.getloadavg()
    print(f"load average before: {load_before[0]:.1f} (1 min), {load_before[1]:.1f} (5 min)", flush=True)
    rows: list[dict] = []
    setup: list[dict] = []
    for size in sizes:
        queries = median_halves(size)
        emulator = Emulator(size)
        try:
            warm = emulator.warm(queries + [MATCH_ALL])
            setup.append({"size": size, "queries": queries, "emulator_ready_seconds": emulator.ready_seconds,
                          "warm_seconds": warm})
            print(f"\n{size:,} records: emulator ready in {emulator.ready_seconds:.1f} s, cache warmed in "
                  f"{sum(warm.values()):.1f} s; queries {queries}", flush=True)
            for approach in approaches:
                row = measure(approach, size, emulator, queries, args)
                rows.append(row)
                status = (f"{row['records']:,} records in {row['seconds']:.1f} s"
                          if row.get("ok") else f"failed: {row.get('error')}")
                print(f"  {approach:<9} {status}; peak {_fmt(row['peak_memory_mb'], ',.0f')} MB "
                      f"{row['peak_memory_breakdown_mb']}", flush=True)
        finally:
            emulator.stop()

    load_after = os.getloadavg()
    print()
    print_table(rows)
    print(f"load average after: {load_after[0]:.1f} (1 min), {load_after[1]:.1f} (5 min), "
          f"{load_after[2]:.1f} (15 min) on {os.cpu_count()} CPUs")
    targets = evaluate(rows, sizes)
    print("\nTargets")
    for target in targets:
        mark = "info" if target["pass"] is None else ("PASS" if target["pass"] else "FAIL")
        print(f"  [{mark}] {target['target']}: {target['value']}")
    print("\nPeak memory = summed RSS of the Spark driver JVM and its Python workers (plus the driver Python "
          "process for the naive approach), sampled every 50 ms during the timed phase.")

    results = Path(args.results)
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps({
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "spark_driver_memory": args.driver_memory,
        "naive_spark_driver_memory": args.naive_driver_memory,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "setup": setup,
        "results": rows,
        "targets": targets,
    }, indent=2, default=str))
    print(f"Figures written to {os.path.relpath(results, REPO)}")
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated record counts")
    parser.add_argument("--quick", action="store_true", help="20,000 and 100,000 records")
    parser.add_argument("--driver-memory", default="1g",
                        help="spark.driver.memory for the connector (it streams: 1g serves any size)")
    parser.add_argument("--naive-driver-memory", default="2g",
                        help="spark.driver.memory for the naive approach (more than the connector's: at 1g it "
                             "cannot write even 100,000 records)")
    parser.add_argument("--skip", action="append", default=[], choices=["connector", "naive"])
    parser.add_argument("--results", default=str(RESULTS), help="where to write the JSON figures")
    parser.add_argument("--cold", action="store_true",
                        help="no warm-up job before the timed one (the first Spark job of a fresh JVM is timed)")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds before a runner is killed")
    parser.add_argument("--python-memory-cap-gb", type=float, default=12.0,
                        help="address-space cap of the naive driver Python process (0 = none)")
    # Internal: the runner side.
    parser.add_argument("--run", choices=["connector", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--queries", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run == "connector":
        run_connector(args)
        return 0
    if args.run == "naive":
        run_naive(args)
        return 0
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main())
