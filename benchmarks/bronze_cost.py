"""Where the CPU of a bronze load goes: the `dxr` connector's read against the parquet write.

One warm local Spark session (local[2], 1g, as benchmarks/dxr_ingest.py gives the connector) reads one
DXR snapshot of N records (default 400,000) as two queries from the emulator, R times (default 3) each:

- ``read``: into Spark's ``noop`` sink. The Python workers download and parse the JSON Lines into Arrow
  batches; the JVM turns the batches into rows.
- ``bronze``: into parquet, as the bronze table is written: the same read plus the parquet writer.

For each it prints the wall seconds and the CPU seconds of the JVM, of its Python workers and of the
emulator beside them, and then, from the medians, microseconds of CPU per record for the Python side,
the JVM's read and the parquet write, and the rate two otherwise idle cores could sustain for the bronze
load alone: a ceiling for any pipeline that loads this bronze table, before its first silver table.
A warm-up of 50,000 records through the same path comes first, so JIT compilation is not timed.

Usage: ``python benchmarks/bronze_cost.py [--records 400000] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.dxr_emulator import TOKEN, Emulator, median_halves
from benchmarks.dxr_ingest import TOKEN_ENV, WARMUP_RECORDS, local_spark, read_snapshot

CORES = 2


@dataclass(frozen=True)
class Cpu:
    """CPU seconds, user plus system, by process group."""

    jvm: float
    python_workers: float
    emulator: float

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(self.jvm - other.jvm, self.python_workers - other.python_workers, self.emulator - other.emulator)


def process_cpu(process) -> float:
    """A process's CPU seconds, with those of its children that have ended (a Python worker that exited
    is counted in the daemon that forked it)."""
    times = process.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def cpu_now(emulator_pid: int) -> Cpu:
    import psutil

    me = psutil.Process()
    jvm = next(p for p in me.children() if "java" in p.name())
    workers = [p for p in jvm.children(recursive=True) if p.name().startswith("python")]
    jvm_times = jvm.cpu_times()
    return Cpu(jvm_times.user + jvm_times.system, sum(process_cpu(p) for p in workers),
               process_cpu(psutil.Process(emulator_pid)))


@dataclass(frozen=True)
class Sample:
    wall: float
    cpu: Cpu


def per_record(samples: list[Sample], records: int) -> dict[str, float]:
    """Median microseconds of CPU per record of each process group."""
    groups = ("jvm", "python_workers", "emulator")
    return {group: statistics.median(getattr(s.cpu, group) for s in samples) / records * 1e6 for group in groups}


def breakdown(read: dict[str, float], bronze: dict[str, float]) -> dict[str, float]:
    """Microseconds of CPU per record of the bronze load, part by part, from the two sinks' medians."""
    return {
        "Python workers (download, parse to Arrow)": bronze["python_workers"],
        "JVM: Arrow batches to rows": read["jvm"],
        "JVM: parquet write": bronze["jvm"] - read["jvm"],
    }


def ceiling(parts: dict[str, float], cores: int = CORES) -> float:
    """Records/s that ``cores`` otherwise idle cores could sustain for the bronze load alone."""
    return cores / (sum(parts.values()) / 1e6)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=400_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    queries = median_halves(args.records)
    emulator = Emulator(args.records)
    out = Path(tempfile.mkdtemp(prefix="file-records-bench-bronze-"))
    os.environ[TOKEN_ENV] = TOKEN
    try:
        emulator.warm(queries)
        from file_records.connectors.dxr.source import DxrDataSource
        from file_records.local.spark import LocalSparkSettings, StatePaths, spark_conf

        # The parquet writer's settings of a local run (no dictionary encoding), so that the write is
        # bronze's.
        writer = {key: value for key, value in spark_conf(StatePaths(out), LocalSparkSettings()).items()
                  if key.startswith("spark.hadoop.parquet.")}
        spark = local_spark("1g", writer)
        spark.dataSource.register(DxrDataSource)

        def snapshot(cap: Optional[int] = None):
            return read_snapshot(spark, emulator.url, queries, cap)

        def write(frame, sink: str) -> None:
            if sink == "read":
                frame.write.format("noop").mode("overwrite").save()
            else:
                frame.write.mode("overwrite").parquet(str(out / "bronze"))

        for sink in ("read", "bronze"):
            write(snapshot(WARMUP_RECORDS // len(queries)), sink)
        samples: dict[str, list[Sample]] = {"read": [], "bronze": []}
        for _ in range(args.repeats):
            for sink, taken in samples.items():
                frame = snapshot()
                before, started = cpu_now(emulator.process.pid), time.perf_counter()
                write(frame, sink)
                taken.append(Sample(time.perf_counter() - started, cpu_now(emulator.process.pid) - before))
        spark.stop()
    finally:
        emulator.stop()
        shutil.rmtree(out, ignore_errors=True)

    print(f"bronze load of {args.records:,} records, two queries, local[{CORES}], warm JVM; "
          f"{os.cpu_count()} CPUs")
    print(f"{'sink':>8} {'wall s':>7} {'JVM cpu s':>10} {'Python cpu s':>13} {'emulator cpu s':>15}")
    for sink, taken in samples.items():
        for sample in taken:
            print(f"{sink:>8} {sample.wall:>7.1f} {sample.cpu.jvm:>10.1f} {sample.cpu.python_workers:>13.1f} "
                  f"{sample.cpu.emulator:>15.1f}")
    parts = breakdown(per_record(samples["read"], args.records), per_record(samples["bronze"], args.records))
    print("CPU per record (medians):")
    for part, micros in parts.items():
        print(f"  {part:<44} {micros:6.1f} us")
    print(f"  {'bronze load in all':<44} {sum(parts.values()):6.1f} us")
    wall = statistics.median(s.wall for s in samples["bronze"])
    print(f"bronze load: {args.records / wall:,.0f} records/s (median wall {wall:.1f} s); {CORES} idle cores could "
          f"sustain at most {ceiling(parts):,.0f} records/s for it, before any silver or gold table")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
