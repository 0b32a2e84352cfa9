"""Whether a daily run's cost stays flat as history accumulates: `file-records run`, one snapshot a day.

One DXR emulator with N records (default 100,000) serves the whole benchmark; one fresh state
directory takes every run. Day d (d = 1 .. `--days`, default 9) runs
``faketime '<2026-01-01 + (d-1) days> 06:00:00 UTC' python -m file_records run --sources dxr ...``:
Debian's `faketime` moves the clock of the whole process tree (the CLI, the Spark JVM and its Python
workers) to that morning, so every run is one simulated day after the previous one and takes a new
snapshot while the history tables keep growing. A run that prints "Nothing new" (no snapshot taken)
fails the benchmark, and so does a change to the code between two days (the figures would mix
two versions, and the changed code's fingerprint would make the next run refresh for that reason too).

The snapshot interval is set to 20h (`DXR_SNAPSHOT_INTERVAL`, `--snapshot-interval`), the value the
bundle's daily schedule uses: with the local default of 24h, a run at 06:00:00 the next day sees its
clock a few seconds short of 24h after the previous snapshot (taken once the engine was up), and no
snapshot is due. The tenant is the same every day (the emulator serves one fixed corpus; unlike
``--demo-day 2`` no files are removed, changed or added between days), so each day adds a full
snapshot of unchanged files to the history. The corpus's dates run up to 2026-11-01, so from a
2026-01-01 clock about 30% of files look modified in the future: the `modified_not_future` rule
warns (it keeps the rows); `--start 2026-11-02` moves the days after the corpus.

Prints the wall seconds of each day's whole command and the tables whose time grew the most from
day 2 to the last day (from the CLI's per-table progress lines); writes every figure to
`benchmarks/results/history_days.json`. Issue target: the 9th day's run costs <= 1.25x the 2nd
day's (with `--days` other than 9: the last day's).

Usage: ``python benchmarks/history_days.py [--records 100000] [--days 9] [--keep-state DIR]``
(also ``python -m benchmarks.history_days``; ``--start 2026-01-01``, ``--snapshot-interval 20h``)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.dxr_emulator import TOKEN, Emulator

TARGET = 1.25
FIRST_DAY = "2026-01-01"
RUN_TIME = "06:00:00 UTC"
RESULTS = Path(__file__).resolve().parent / "results" / "history_days.json"
# ` 5 of 16 OK silver_file_records ........ 496 rows in 7.3 s` (file_records/local/progress.py)
PROGRESS_LINE = re.compile(r"^\s*\d+ of \d+ (?P<status>OK|FAILED) (?P<table>\S+) \.{3,}(?P<rest>.*)$")
ROWS = re.compile(r"(?P<rows>[\d,]+) rows?\b")
SECONDS = re.compile(r"\bin (?P<seconds>[\d.]+) s\b")
REPO = Path(__file__).resolve().parent.parent
# What a run executes: if it changes between two days, the figures mix two versions of the code.
CODE_DIRS = ("file_records", "pipelines", "connectors", "expectations", "policies", "emulators", "remediation")


def faketime_run(faketime: str, moment: str, state: Path, url: str, interval: str) -> tuple[float, str]:
    """One whole `file-records run` with the process tree's clock at ``moment``; wall seconds and output."""
    env = {**os.environ, "DXR_BEARER_TOKEN": TOKEN, "COLUMNS": "200", "DXR_SNAPSHOT_INTERVAL": interval}
    for name in ("DXR_BASE_URL", "DATABRICKS_HOST", "DATABRICKS_CONFIG_PROFILE"):
        env.pop(name, None)
    command = [faketime, moment, sys.executable, "-m", "file_records", "run", "--sources", "dxr",
               "--state-dir", str(state), "--dxr-base-url", url]
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"run at {moment} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds, done.stdout + done.stderr


def code_digest() -> str:
    hasher = hashlib.sha256()
    for folder in CODE_DIRS:
        for path in sorted((REPO / folder).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".yml", ".yaml", ".csv", ".sql") \
                    and "__pycache__" not in path.parts:
                hasher.update(str(path.relative_to(REPO)).encode())
                hasher.update(path.read_bytes())
    return hasher.hexdigest()


def table_progress(output: str) -> dict[str, dict]:
    """{table: {"seconds": float | None, "rows": int | None, "ok": bool}} from the progress lines."""
    tables = {}
    for line in output.splitlines():
        match = PROGRESS_LINE.match(line)
        if match is None:
            continue
        rows = ROWS.search(match.group("rest"))
        seconds = SECONDS.search(match.group("rest"))
        tables[match.group("table")] = {
            "seconds": float(seconds.group("seconds")) if seconds else None,
            "rows": int(rows.group("rows").replace(",", "")) if rows else None,
            "ok": match.group("status") == "OK",
        }
    return tables


def measure(records: int, days: int, first: date, state: Path, faketime: str, interval: str) -> list[dict]:
    emulator = Emulator(records)
    url = emulator.url
    results = []
    code = code_digest()
    try:
        for day in range(1, days + 1):
            if code_digest() != code:
                raise SystemExit(f"the code changed in {REPO} before day {day}: the figures would mix two versions")
            moment = f"{(first + timedelta(days=day - 1)).isoformat()} {RUN_TIME}"
            seconds, output = faketime_run(faketime, moment, state, url, interval)
            if "Nothing new" in output:
                raise SystemExit(f"day {day} ({moment}) took no snapshot (\"Nothing new\"):\n{output[-2000:]}")
            tables = table_progress(output)
            if not tables:
                raise SystemExit(f"day {day} ({moment}): no per-table progress line in the output:\n{output[-2000:]}")
            results.append({"day": day, "clock": moment, "wall_seconds": round(seconds, 2), "tables": tables})
            print(f"day {day} ({moment}): {seconds:.1f} s, {len(tables)} tables refreshed", flush=True)
        if code_digest() != code:
            raise SystemExit(f"the code changed in {REPO} during the last day: the figures would mix two versions")
    finally:
        emulator.stop()
    return results


def table_deltas(second: dict, last: dict) -> list[tuple[str, float, float, float]]:
    """(table, day-2 s, last-day s, delta) for tables timed on both days, largest growth first."""
    rows = []
    for table, figures in last["tables"].items():
        before = second["tables"].get(table, {}).get("seconds")
        after = figures["seconds"]
        if before is not None and after is not None:
            rows.append((table, before, after, after - before))
    return sorted(rows, key=lambda row: row[3], reverse=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="records the emulator serves (default 100000)")
    parser.add_argument("--days", type=int, default=9, help="daily runs, one snapshot each (default 9, at least 2)")
    parser.add_argument("--keep-state", type=Path, metavar="DIR",
                        help="a new or empty directory to keep the state in (default: a temporary one, removed)")
    parser.add_argument("--snapshot-interval", default="20h",
                        help="DXR_SNAPSHOT_INTERVAL of the runs (default 20h, the bundle's daily value)")
    parser.add_argument("--start", type=date.fromisoformat, default=FIRST_DAY,
                        help=f"the first day's date (default {FIRST_DAY}); each run is at {RUN_TIME}")
    args = parser.parse_args()
    if args.days < 2:
        parser.error("--days must be at least 2")
    faketime = shutil.which("faketime")
    if faketime is None:
        print("faketime not found: apt-get install faketime", file=sys.stderr)
        return 2
    if args.keep_state is not None:
        state = args.keep_state.resolve()
        if state.exists() and any(state.iterdir()):
            parser.error(f"--keep-state {state} is not empty: the benchmark needs a fresh state directory")
        work = None
    else:
        work = Path(tempfile.mkdtemp(prefix="file-records-bench-"))
        state = work / "state"
    try:
        days = measure(args.records, args.days, args.start, state, faketime, args.snapshot_interval)
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)

    second, last = days[1], days[-1]
    ratio = last["wall_seconds"] / second["wall_seconds"]
    verdict = "PASS" if ratio <= TARGET else "FAIL"
    deltas = table_deltas(second, last)
    print()
    print(f"{args.records:,} records, {args.days} daily snapshots (snapshot interval {args.snapshot_interval})")
    print(f"{'day':>4} {'clock':>24} {'wall s':>8} {'tables':>7}")
    for row in days:
        print(f"{row['day']:>4} {row['clock']:>24} {row['wall_seconds']:>8.1f} {len(row['tables']):>7}")
    print(f"day 2: {second['wall_seconds']:.1f} s, day {last['day']}: {last['wall_seconds']:.1f} s, "
          f"ratio {ratio:.2f}x")
    print(f"  day {last['day']} run <= {TARGET}x day 2's: {verdict}")
    print(f"tables whose time grew the most, day 2 -> day {last['day']}:")
    for table, before, after, delta in deltas[:5]:
        print(f"  {table:<40} {before:>7.1f} s -> {after:>7.1f} s  ({delta:+.1f} s)")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "records": args.records,
        "days": days,
        "snapshot_interval": args.snapshot_interval,
        "start": args.start.isoformat(),
        "day2_seconds": second["wall_seconds"],
        "last_day": last["day"],
        "last_day_seconds": last["wall_seconds"],
        "ratio": round(ratio, 3),
        "target": TARGET,
        "verdict": verdict,
        "table_deltas": [{"table": t, "day2_seconds": b, "last_day_seconds": a, "delta_seconds": round(d, 2)}
                         for t, b, a, d in deltas],
        "state_dir": str(state) if work is None else None,
    }, indent=2) + "\n", encoding="utf-8")
    print(f"figures: {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
