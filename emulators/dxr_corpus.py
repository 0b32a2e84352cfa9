"""Seeded synthetic corpus of Data X-Ray file records (``GET /api/v1/files`` rows).

Every record has the JSON shape of the contract (``docs/dxr-api.md`` §3): camelCase keys,
ISO-8601 UTC timestamps with second precision and a trailing ``Z``, optional fields genuinely absent on some
rows.

Determinism: ``generate_records(count, seed, now)`` yields identical records for identical arguments. ``now``
defaults to the fixed instant :data:`DEFAULT_NOW` (2026-11-01T00:00:00Z) so tests are stable.

Stable identifiers (independent of the seed): datasource ids (:data:`DATASOURCES`), label ids
(:data:`LABEL_IDS`), annotator/domain ids and DLP label ids are UUIDv5 values derived from their names.

Mix (approximate shares of records):

* 6 datasources: SharePoint, SMB, Box, S3, OneDrive, Google Drive.
* ~15 % of files are in a duplicate group (same ``contentSha256``, size and mime type; 2-5 members; same file
  name in another folder, ``name (1).ext``, ``Copy of name`` or ``name - Copy.ext``).
* ~10 % without ``contentSha256`` (all ``DISCOVERY``-only rows, ~5 %, plus ~5 % classified rows).
* ~60 % without ``owner``; ~80 % without ``dlpLabels``; ``annotators`` absent or ``[]`` on many rows.
* ~12 % readable by the GROUP ``Everyone``; ~4 % temp/backup names (``~$x.docx``, ``.tmp``, ``.bak``), mostly
  labelled ``ROT``.
* created up to 12 years before ``now``; ~10 % created in the last 30 days.
* unicode folders and names (``Zürich``, ``日本語``, ``Ωmega``, emoji).
* sizes log-uniform per file type, 0 bytes to ~4.5 GB.

Records are fresh dicts (no sub-object is shared between two records), so callers may mutate them. For speed
the bulky nested parts (``annotators`` lists, ``entitlements``) are drawn from per-seed pools of 4096 / 512
(per datasource) pre-generated variants.

API: :func:`generate_records` (dicts), :func:`render_lines` (dicts -> orjson lines), :func:`generate_lines`
(same bytes as ``render_lines(generate_records(...))``, faster), :func:`iter_lines` (lazy version, for
``DxrEmulator(lines=iter_lines(1_000_000))``), :func:`demo_records` + :data:`DEMO_MALFORMED_LINES`
(data-quality demo; ``day=2`` serves the next day's corpus: some files removed, changed and added, see
:func:`demo_day_changes`), :func:`label_classifications` (``/api/v1/classifications`` payload).

This module is the entry point and holds the line rendering, the demo corpus and the classifications;
the record generator is :mod:`~file_records.emulators.dxr_generator` (with its per-seed pools in
:mod:`~file_records.emulators.dxr_pools`) and the word lists and stable ids are data in
:mod:`~file_records.emulators.dxr_vocab`. Everything listed in ``__all__`` is importable from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

from file_records.emulators.dxr_generator import FRAGMENTS_SUPPORTED, format_ts, generate, generate_records
from file_records.emulators.dxr_vocab import DATASOURCES, DEFAULT_NOW, LABEL_IDS, LABEL_NAMES, stable_uuid

__all__ = [
    "DEFAULT_NOW",
    "DATASOURCES",
    "LABEL_NAMES",
    "LABEL_IDS",
    "DEMO_BAD_RECORD_IDS",
    "DEMO_MALFORMED_LINES",
    "generate_records",
    "generate_lines",
    "iter_lines",
    "LineStream",
    "RenderedLines",
    "demo_records",
    "demo_day_changes",
    "collect_labels",
    "render_lines",
    "label_classifications",
]


def _compact(b: bytes) -> bytes:
    """Exact-size copy of an orjson output.

    orjson's result keeps its larger allocation (a 1.5 KB line held ~7 KB of RSS in tests), so keeping
    millions of them directly costs ~5x the memory and most of the time (page faults); the copy is cheap and
    the original's block is reused by the next ``dumps``.
    """
    return memoryview(b).tobytes()


class RenderedLines(list):
    """``list[bytes]`` of orjson-rendered records, without newlines.

    Marker type for the emulator: lines rendered by orjson allow its byte-level query prefilter, and
    ``labels`` (label name -> id of every label used) saves it a decoding pass for
    ``/api/v1/classifications``.
    """

    orjson_rendered = True
    labels: dict[str, str] | None = None


class LineStream:
    """Iterator over rendered lines (see :func:`iter_lines`); ``labels`` is filled in once it is exhausted."""

    orjson_rendered = True

    def __init__(self, count: int, seed: int, now: datetime | None):
        self.labels: dict[str, str] | None = None
        self._names: set[str] = set()
        self._it = self._run(count, seed, now)

    def _run(self, count, seed, now):
        dumps = orjson.dumps
        if not FRAGMENTS_SUPPORTED:
            for r in generate(count, seed, now, fragments=False, label_sink=self._names):
                yield dumps(r)
        else:
            for r in generate(count, seed, now, fragments=True, label_sink=self._names):
                yield dumps(r)
        self.labels = {name: LABEL_IDS[name] for name in sorted(self._names)}

    def __iter__(self):
        return self

    def __next__(self) -> bytes:
        return next(self._it)


def iter_lines(count: int, seed: int = 7, now: datetime | None = None) -> LineStream:
    """Lazily yield the lines of :func:`generate_lines` (nothing is kept; e.g.
    ``DxrEmulator(lines=iter_lines(n))``).
    """
    return LineStream(count, seed, now)


def generate_lines(count: int, seed: int = 7, now: datetime | None = None) -> RenderedLines:
    """Same bytes as ``render_lines(generate_records(count, seed, now))``, roughly 1.5-2x faster."""
    if not FRAGMENTS_SUPPORTED:  # old orjson without Fragment
        return render_lines(generate_records(count, seed, now))
    dumps = orjson.dumps
    names: set[str] = set()
    out = RenderedLines(
        _compact(dumps(r)) for r in generate(count, seed, now, fragments=True, label_sink=names)
    )
    out.labels = {name: LABEL_IDS[name] for name in sorted(names)}
    return out


def render_lines(records: Iterable[dict]) -> RenderedLines:
    """orjson-dump each record; one ``bytes`` per record, without the trailing newline."""
    dumps = orjson.dumps
    out = RenderedLines()
    append = out.append
    labels: dict[str, str] = {}
    for r in records:
        append(_compact(dumps(r)))
        collect_labels(r, labels)
    out.labels = labels
    return out


def collect_labels(record: Any, labels: dict[str, str]) -> None:
    """Add the record's label names -> ids to ``labels`` (the first id seen for a name wins)."""
    labs = record.get("labels") if isinstance(record, dict) else None
    if labs:
        for lab in labs:
            if isinstance(lab, dict):
                name = lab.get("name")
                if isinstance(name, str) and name not in labels:
                    labels[name] = lab.get("id")


# ------------------------------------------------------------------------------------------------------------
# Demo corpus with deliberately bad records
# ------------------------------------------------------------------------------------------------------------

#: kind -> fileId of the deliberately bad record in :func:`demo_records`.
DEMO_BAD_RECORD_IDS: dict[str, str] = {
    "negative_size": "bad-negative-size-01",
    "bad_sha256": "bad-sha256-format-01",
    "modified_before_created": "bad-mod-before-crt-01",
    "modified_in_future": "bad-mod-in-future-01",
    "empty_path": "bad-empty-path-00001",
    "missing_datasource": "bad-no-datasource-01",
}

#: Lines that are not valid JSON. A server may interleave them (never as the last line of a response).
DEMO_MALFORMED_LINES: list[bytes] = [
    b'{"fileId": "broken-1", "fileName": ',
    b'{"fileId":"broken-2","fileName":"x.pdf","size":12,,"labels":[]}',
]

_DEMO_SIZE = 500


def demo_records(seed: int = 7, now: datetime | None = None, day: int = 1) -> list[dict]:
    """About 500 realistic records plus six deliberately bad (but valid JSON) records.

    The bad records' fileIds are listed in :data:`DEMO_BAD_RECORD_IDS`. ``now`` as in :func:`generate_records`
    (default :data:`DEFAULT_NOW`); the "future" record is modified ~5 years after ``now``.

    ``day=2``: the same tenant a day later, so two pipeline runs show a lifecycle: the day-1 corpus with
    :data:`DEMO_DAY2_REMOVED` files gone, :data:`DEMO_DAY2_CHANGED` files rewritten (new size, content hash
    and a modification time on day 2) and :data:`DEMO_DAY2_ADDED` new files (fileIds ``demo-day2-new-NN``).
    Which fileIds: :func:`demo_day_changes`. Deterministic for (seed, now, day); the bad records stay.
    """
    if day not in (1, 2):
        raise ValueError(f"demo_records: day must be 1 or 2, got {day!r}")
    records = _demo_day1(seed, now)
    if day == 2:
        records = _apply_day2(records, seed, now)
    return records


#: How many files :func:`demo_records` removes / changes / adds on day 2.
DEMO_DAY2_REMOVED, DEMO_DAY2_CHANGED, DEMO_DAY2_ADDED = 7, 9, 5
_DAY2_ADDED_PREFIX = "demo-day2-new-"


def _day2_picks(records: list[dict], seed: int) -> tuple[list[str], list[str]]:
    """fileIds removed and changed on day 2: drawn from the good day-1 records; changed ones have a hash."""
    import random

    bad = set(DEMO_BAD_RECORD_IDS.values())
    good = [r["fileId"] for r in records if r["fileId"] not in bad]
    hashed = {r["fileId"] for r in records if r.get("contentSha256")}
    rng = random.Random(f"dxr-demo-day2:{seed}")
    order = rng.sample(good, len(good))
    removed = order[:DEMO_DAY2_REMOVED]
    changed = [fid for fid in order[DEMO_DAY2_REMOVED:] if fid in hashed][:DEMO_DAY2_CHANGED]
    return removed, changed


def demo_day_changes(seed: int = 7, now: datetime | None = None) -> dict[str, list[str]]:
    """What :func:`demo_records` ``day=2`` does to day 1, as fileIds: ``{"removed": [...], "changed": [...],
    "added": [...]}`` (sorted) -- what ``silver_file_history`` / ``gold_file_changes`` should show."""
    day1 = _demo_day1(seed, now)
    removed, changed = _day2_picks(day1, seed)
    added = [f"{_DAY2_ADDED_PREFIX}{k + 1:02d}" for k in range(DEMO_DAY2_ADDED)]
    return {"removed": sorted(removed), "changed": sorted(changed), "added": added}


def _apply_day2(records: list[dict], seed: int, now: datetime | None) -> list[dict]:
    import hashlib

    if now is None:
        now = DEFAULT_NOW
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    removed, changed = _day2_picks(records, seed)
    gone, rewritten = set(removed), set(changed)
    modified = format_ts((now + timedelta(hours=20)).timestamp())
    out = []
    for rec in records:
        if rec["fileId"] in gone:
            continue
        if rec["fileId"] in rewritten:
            rec["size"] = int(rec.get("size") or 0) * 2 + 1024
            rec["contentSha256"] = hashlib.sha256(f"{rec['contentSha256']}:day2".encode()).hexdigest()
            rec["lastModifiedAt"] = modified
        out.append(rec)
    # New files: fresh records of another seed, created and modified on day 2.
    created = format_ts((now + timedelta(hours=18)).timestamp())
    for k, rec in enumerate(generate_records(DEMO_DAY2_ADDED, seed=seed + 1_000_003, now=now)):
        rec["fileId"] = f"{_DAY2_ADDED_PREFIX}{k + 1:02d}"
        rec["createdAt"] = created
        rec["lastModifiedAt"] = modified
        out.append(rec)
    return out


def _demo_day1(seed: int, now: datetime | None) -> list[dict]:
    if now is None:
        now = DEFAULT_NOW
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    n_bad = len(DEMO_BAD_RECORD_IDS)
    records = list(generate_records(_DEMO_SIZE, seed=seed, now=now))
    # The bad records are the last generated records, modified (each keeps its other realistic fields).
    base = records[-n_bad:]
    del records[-n_bad:]
    bad: list[dict] = []

    r = base[0]
    r["fileId"] = DEMO_BAD_RECORD_IDS["negative_size"]
    r["size"] = -4096
    bad.append(r)

    r = base[1]
    r["fileId"] = DEMO_BAD_RECORD_IDS["bad_sha256"]
    r["contentSha256"] = "da39a3ee5e6b4b0d3255bfef95601890afd8070Z"  # 40 chars, not hex-only, not 64
    bad.append(r)

    r = base[2]
    r["fileId"] = DEMO_BAD_RECORD_IDS["modified_before_created"]
    r["createdAt"] = "2024-06-01T12:00:00Z"
    r["lastModifiedAt"] = "2023-01-15T08:30:00Z"
    bad.append(r)

    r = base[3]
    r["fileId"] = DEMO_BAD_RECORD_IDS["modified_in_future"]
    r["lastModifiedAt"] = format_ts((now + timedelta(days=5 * 365)).timestamp())
    bad.append(r)

    r = base[4]
    r["fileId"] = DEMO_BAD_RECORD_IDS["empty_path"]
    r["path"] = ""
    bad.append(r)

    r = base[5]
    r["fileId"] = DEMO_BAD_RECORD_IDS["missing_datasource"]
    del r["datasource"]
    bad.append(r)

    # Spread them deterministically through the list.
    step = len(records) // (n_bad + 1)
    for k, rec in enumerate(bad):
        records.insert((k + 1) * step + k, rec)
    return records


def label_classifications(labels: Iterable) -> list[dict]:
    """``/api/v1/classifications`` entries (type LABEL), sorted by name.

    ``labels``: label names, or ``(name, id)`` pairs (e.g. ``dict.items()``); a missing id is the corpus'
    stable id.
    """
    by_name: dict[str, str] = {}
    for item in labels:
        if isinstance(item, str):
            name, lid = item, None
        else:
            name, lid = item
        by_name.setdefault(name, lid or LABEL_IDS.get(name) or stable_uuid("label", name))
    out = []
    for name in sorted(by_name):
        lid = by_name[name]
        out.append(
            {
                "id": lid,
                "name": name,
                "type": "LABEL",
                "subtype": "STANDARD",
                "description": f"{name} label",
                "createdAt": "2024-01-15T09:00:00Z",
                "updatedAt": "2025-06-30T12:00:00Z",
                "link": f"/labels/{lid}",
                "searchLink": f'/search?q=labels.id:"{lid}"',
            }
        )
    return out
