"""What changed since the last successful run, read from the state directory without Spark.

A run costs what its new data costs: when no source snapshot is due and nothing the tables depend
on has changed (rules, policy catalogue, hold list, settings, the pipeline's code), there is
nothing to do and no engine is started. When something did change, :func:`plan_refresh` names
the tables it feeds directly; the runner adds everything downstream of them from the pipeline
graph and refreshes exactly those.

The same files let a run check that the state cannot lie: a source whose checkpoint says snapshots
were committed must still have those snapshots' files in its bronze table (:func:`verify_bronze`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterable, Mapping, Optional
from urllib.parse import unquote, urlsplit

import orjson

from file_records import datasets
from file_records.connectors import snapshot
from file_records.datasets import SOURCES
from file_records.errors import StateError

LAST_RUN_FILE = "last-run.json"
DATABASE = "default"
# component -> its bronze table (the only tables a source writes directly)
BRONZE = {name: source.bronze for name, source in SOURCES.items()}
# Settings that change when a run happens, not what it computes.
_VOLATILE_KEY_SUFFIXES = (".force_snapshot_after", ".snapshot_interval")
POLICY_TABLES = ("silver_all_files", "gold_policy_flags", "gold_policy_summary")


EVERYTHING = "*"


def _digest(*parts: bytes) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(len(part).to_bytes(8, "big"))
        hasher.update(part)
    return hasher.hexdigest()


def file_digest(path: Optional[Path]) -> str:
    if path is None:
        return "none"
    path = Path(path)
    return _digest(str(path).encode(), path.read_bytes()) if path.is_file() else f"missing:{path}"


def tree_digest(roots: Iterable[Path], pattern: str = "*.py") -> str:
    parts = []
    for root in roots:
        for path in sorted(Path(root).rglob(pattern)):
            if "__pycache__" not in path.parts:
                parts.extend([str(path.relative_to(root)).encode(), path.read_bytes()])
    return _digest(*parts)


@dataclass(frozen=True)
class RunInputs:
    """Fingerprints of everything a run's results depend on, besides the sources' snapshots."""

    fingerprints: Mapping[str, str]

    @classmethod
    def collect(cls, conf: Mapping[str, str], code_roots: Iterable[Path], rule_files: Mapping[str, Path],
                catalogue: Optional[Path], holds_file: Optional[Path]) -> RunInputs:
        prints = {"code": tree_digest(code_roots)}
        by_component: dict[str, list[bytes]] = {}
        for key in sorted(conf):
            if key.endswith(_VOLATILE_KEY_SUFFIXES):
                continue
            component = key.split(".")[1] if key.count(".") >= 2 else "pipeline"
            by_component.setdefault(component, []).extend([key.encode(), str(conf[key]).encode()])
        for component, parts in by_component.items():
            prints[f"conf:{component}"] = _digest(*parts)
        for dataset, path in sorted(rule_files.items()):
            prints[f"rules:{dataset}"] = file_digest(path)
        prints["policies"] = _digest(file_digest(catalogue).encode(), file_digest(holds_file).encode())
        return cls(prints)


@dataclass
class RefreshPlan:
    """What a run must refresh: ``start`` tables (and, from the graph, everything downstream of
    them), or :data:`EVERYTHING`; empty when nothing changed."""

    start: set[str] = field(default_factory=set)
    reasons: list[str] = field(default_factory=list)

    @property
    def idle(self) -> bool:
        return not self.start

    @property
    def everything(self) -> bool:
        return EVERYTHING in self.start

    def add(self, tables: Iterable[str], reason: str) -> None:
        self.start.update(tables)
        self.reasons.append(reason)


def checkpoint_dir(storage: Path, table: str) -> Path:
    return storage / "_checkpoints" / "spark_catalog" / DATABASE / table


def committed_offsets(storage: Path, table: str) -> list[dict]:
    """The source offsets of every committed micro-batch of ``table``'s streaming flows."""
    found = []
    for commits in sorted(checkpoint_dir(storage, table).glob("*/*/commits")):
        offsets = commits.parent / "offsets"
        for commit in commits.iterdir():
            if not commit.name.isdigit():
                continue
            offset_file = offsets / commit.name
            if not offset_file.is_file():
                continue
            last = offset_file.read_text(encoding="utf-8").strip().splitlines()[-1]
            try:
                found.append(orjson.loads(last))
            except orjson.JSONDecodeError:
                continue
    return found


def last_snapshot_taken(storage: Path, table: str) -> Optional[datetime]:
    taken = [snapshot.parse_instant(offset.get("taken_at", "")) for offset in committed_offsets(storage, table)
             if isinstance(offset, dict)]
    taken = [moment for moment in taken if moment is not None]
    return max(taken) if taken else None


def snapshot_due(storage: Path, table: str, now: datetime, interval: timedelta,
                 force_after: Optional[datetime]) -> bool:
    last = last_snapshot_taken(storage, table)
    start = {"taken_at": snapshot.format_instant(last)} if last else dict(snapshot.INITIAL_OFFSET)
    return snapshot.snapshot_due(start, now, interval, force_after)


def next_due(storage: Path, table: str, interval: timedelta) -> Optional[datetime]:
    last = last_snapshot_taken(storage, table)
    return None if last is None else last + interval


def load_last_run(root: Path) -> Optional[dict]:
    path = root / LAST_RUN_FILE
    if not path.is_file():
        return None
    try:
        return orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        return None


def save_last_run(root: Path, inputs: RunInputs, counts: Mapping[str, int], finished_at: datetime) -> None:
    """Written only after a run completed: a crashed or failed run leaves the previous record, so
    the next run redoes what this one did not finish."""
    path = root / LAST_RUN_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(orjson.dumps(
        {"fingerprints": dict(inputs.fingerprints), "tables": sorted(counts), "counts": dict(counts),
         "finished_at": snapshot.format_instant(finished_at)},
        option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS,
    ))
    temporary.replace(path)


def plan_refresh(previous: Optional[dict], inputs: RunInputs, due_sources: Iterable[str],
                 expected_tables: Iterable[str], warehouse: Path) -> RefreshPlan:
    """What this run must refresh, and why (one reason per change, for the run's output)."""
    plan = RefreshPlan()
    for source in sorted(due_sources):
        plan.add([BRONZE[source]], f"a new {source} snapshot is due")
    if previous is None:
        plan.add([EVERYTHING], "no previous complete run in this state directory")
        return plan
    missing = sorted(name for name in expected_tables if not (warehouse / name).is_dir())
    if missing:
        plan.add([EVERYTHING], f"tables missing: {', '.join(missing)}")
    old = previous.get("fingerprints", {})
    for key, value in sorted(inputs.fingerprints.items()):
        if old.get(key) == value:
            continue
        kind, _, name = key.partition(":")
        if kind == "rules":
            # Everything that reads the candidates applies the rules (silver, its quarantine, the newest
            # metrics and sightings, silver_all_files, the duplicates), and the candidates keep the raw
            # line of the rows the rules quarantine.
            plan.add([datasets.dataset(name).candidates], f"the rules of {name} changed")
        elif kind == "policies":
            plan.add(POLICY_TABLES, "the policy catalogue or hold list changed")
        elif kind == "conf" and name == "policies":
            plan.add(POLICY_TABLES, "the policy settings changed")
        elif kind == "conf" and name in BRONZE:
            plan.add([EVERYTHING], f"the {name} settings changed")
        else:
            plan.add([EVERYTHING], "the pipeline's code or settings changed" if kind in ("code", "conf")
                     else f"{key} changed")
    for key in sorted(set(old) - set(inputs.fingerprints)):
        plan.add([EVERYTHING], f"{key} is no longer configured")
    return plan


def verify_bronze(storage: Path, warehouse: Path, tables: Iterable[str]) -> None:
    """Refuse a state directory whose checkpoints say snapshots were committed that its bronze
    tables no longer hold (a dropped table, deleted files): a run on it would report an empty
    success, because the checkpoint says no snapshot is due."""
    for table in tables:
        committed = committed_offsets(storage, table)
        if not committed:
            continue
        log = warehouse / table / "_spark_metadata"
        entries = sorted(p for p in log.glob("*") if p.name.split(".")[0].isdigit()) if log.is_dir() else []
        files = []
        for entry in entries:
            for line in entry.read_text(encoding="utf-8").splitlines()[1:]:
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                if record.get("action") == "add":
                    files.append(record.get("path", ""))
        lost = [path for path in files if not Path(unquote(urlsplit(path).path)).is_file()]
        if not entries or lost:
            raise StateError(
                f"{table}: the checkpoint records {len(committed)} committed snapshot(s), but "
                f"{'the table is gone' if not entries else f'{len(lost)} of its files are missing'}; the "
                "snapshots cannot be fetched again from the source. Restore this state directory from a "
                "backup, or start over with a new --state-dir."
            )


@dataclass(frozen=True)
class SourceSchedule:
    """When a source's next snapshot is due: its minimum interval and a forced-snapshot time."""

    interval: timedelta
    force_after: Optional[datetime] = None


@dataclass
class RunDecision:
    plan: RefreshPlan
    inputs: RunInputs
    previous: Optional[dict]
    next_due: dict[str, Optional[datetime]]


def code_roots() -> list[Path]:
    """The packages whose code decides what the tables hold."""
    from file_records import connectors, expectations, pipelines, policies

    return [Path(package.__file__).resolve().parent for package in (connectors, expectations, pipelines, policies)]


def decide(root: Path, storage: Path, warehouse: Path, conf: Mapping[str, str],
           schedules: Mapping[str, SourceSchedule], catalogue: Optional[Path], holds_file: Optional[Path],
           expected_tables: Iterable[str], now: datetime) -> RunDecision:
    """What this run must refresh (see :func:`plan_refresh`), from the state directory alone."""
    from file_records.expectations.rules import RULES_DIR
    from file_records.policies.model import DEFAULT_CATALOGUE

    rule_files = {path.stem: path for path in sorted(RULES_DIR.glob("*.y*ml"))}
    inputs = RunInputs.collect(conf, code_roots(), rule_files, catalogue or DEFAULT_CATALOGUE, holds_file)
    due = [source for source, schedule in schedules.items()
           if snapshot_due(storage, BRONZE[source], now, schedule.interval, schedule.force_after)]
    previous = load_last_run(root)
    plan = plan_refresh(previous, inputs, due, expected_tables, warehouse)
    next_times = {source: next_due(storage, BRONZE[source], schedule.interval)
                  for source, schedule in schedules.items()}
    return RunDecision(plan, inputs, previous, next_times)


def downstream(reads: Mapping[str, set[str]], start: Iterable[str]) -> set[str]:
    """``start`` and every dataset of the graph that reads from them, directly or not."""
    selected = {name for name in start if name in reads}
    changed = True
    while changed:
        changed = False
        for name, sources in reads.items():
            if name not in selected and sources & selected:
                selected.add(name)
                changed = True
    return selected
