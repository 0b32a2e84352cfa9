"""File lifecycle: silver_file_history versions, gold_file_changes counts and gold_disposition_status,
on small bronze tables whose snapshots remove, change and add known files."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from file_records.connectors.dxr.schema import COLUMN_NAMES, DXR_SPARK_SCHEMA
from file_records.connectors.workspace.source import WORKSPACE_SPARK_SCHEMA
from file_records.expectations.rules import load_rules
from file_records.pipelines.logic import disposition, dxr, lifecycle, workspace
from file_records.policies.unified import unified_files

pytestmark = pytest.mark.spark

T0 = datetime(2026, 10, 30, tzinfo=timezone.utc)
SHA, SHA2 = "a" * 64, "b" * 64
WS_NAMES = [field.name for field in WORKSPACE_SPARK_SCHEMA.fields]

# Four DXR snapshots, a day apart; the last one is empty (only its query_summary row).
S1, S2, S3, S4 = (f"2026110{d}T010000Z-000{d}" for d in (1, 2, 3, 4))
AT = {S1: datetime(2026, 11, 1, 1, tzinfo=timezone.utc), S2: datetime(2026, 11, 2, 1, tzinfo=timezone.utc),
      S3: datetime(2026, 11, 3, 1, tzinfo=timezone.utc), S4: datetime(2026, 11, 4, 1, tzinfo=timezone.utc)}
W1, W2, W3 = (f"2026110{d}T020000Z-000{d}" for d in (1, 2, 3))
WAT = {W1: datetime(2026, 11, 1, 2, tzinfo=timezone.utc), W2: datetime(2026, 11, 2, 2, tzinfo=timezone.utc),
       W3: datetime(2026, 11, 3, 2, tzinfo=timezone.utc)}
ANN, BOB = "ann@example.com", "bob@example.com"


def _utc(value):
    """A collected timestamp (naive, session time zone UTC) as an aware UTC datetime."""
    return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)


def _file(file_id, snapshot, size=100, sha=SHA, labels=(), **values):
    row = {name: None for name in COLUMN_NAMES}
    row.update(
        record_type="file", source_query="q", snapshot_id=snapshot, ingestion_date=AT[snapshot].date(),
        ingested_at=AT[snapshot], datasource_id="ds", datasource_name="DS",
        labels=[{"id": f"id-{name}", "name": name} for name in labels], parse_error=None, file_id=file_id,
        path=f"/share/{file_id}.doc", file_name=f"{file_id}.doc", size=size, content_sha256=sha, created_at=T0,
        last_modified_at=T0,
    )
    row.update(values)
    return row


def _summary(snapshot):
    row = {name: None for name in COLUMN_NAMES}
    row.update(record_type="query_summary", source_query="q", snapshot_id=snapshot,
               ingestion_date=AT[snapshot].date(), ingested_at=AT[snapshot])
    return row


def _object(user, name, scan, size=10):
    row = {name_: None for name_ in WS_NAMES}
    row.update(
        record_type="object", username=user, user_active=True, source="workspace", path=f"/Users/{user}/{name}",
        object_type="FILE", size=size, size_is_exact=True, size_estimated=False, modified_at=T0, scan_id=scan,
        ingestion_date=WAT[scan].date(), ingested_at=WAT[scan],
    )
    return row


def _status(user, scan, status):
    row = {name: None for name in WS_NAMES}
    row.update(record_type="status", username=user, user_active=True, source="workspace", status=status,
               scan_id=scan, ingestion_date=WAT[scan].date(), ingested_at=WAT[scan])
    return row


DXR_ROWS = [
    # S1: six files, all valid.
    *[_file(f, S1) for f in ("a", "b", "c", "q", "q2")],
    _file("d", S1, labels=("x", "y")),
    # S2: b grows, c is gone, e is new, q and q2 are quarantined (negative size: neither removed nor
    # changed), d's labels come back in another order (not a change).
    _file("a", S2), _file("b", S2, size=250), _file("e", S2, size=300), _file("q", S2, size=-1),
    _file("q2", S2, size=-1), _file("d", S2, labels=("y", "x")),
    # The same file returned by two queries of one snapshot counts once.
    _file("a", S2, source_query="q-other"),
    # S3: c is back, e's content changed, q is valid again and as it was, d and q2 are gone; z only
    # ever shows up quarantined (no version).
    _file("a", S3), _file("b", S3, size=250), _file("c", S3), _file("e", S3, size=300, sha=SHA2), _file("q", S3),
    _file("z", S3, size=-7),
    # S4: the tenant has no files any more.
    _summary(S4),
]

WS_ROWS = [
    # W1: ann has x and y, bob has k; every listing complete.
    _object(ANN, "x.py", W1), _object(ANN, "y.py", W1), _object(BOB, "k.py", W1),
    _status(ANN, W1, "success"), _status(BOB, W1, "success"),
    # W2: ann's listing failed (proves nothing about x and y); bob's k is gone.
    _status(ANN, W2, "error"), _status(BOB, W2, "empty"),
    # W3: ann listed completely: y is there, x is gone.
    _object(ANN, "y.py", W3), _status(ANN, W3, "success"), _status(BOB, W3, "empty"),
]


@pytest.fixture(scope="module")
def bronzes(spark):
    dxr_bronze = spark.createDataFrame([tuple(r[n] for n in COLUMN_NAMES) for r in DXR_ROWS], DXR_SPARK_SCHEMA)
    ws_bronze = spark.createDataFrame([tuple(r[n] for n in WS_NAMES) for r in WS_ROWS], WORKSPACE_SPARK_SCHEMA)
    return dxr_bronze, ws_bronze


@pytest.fixture(scope="module")
def history(bronzes):
    dxr_bronze, ws_bronze = bronzes
    return lifecycle.file_history(
        dxr_bronze=dxr_bronze,
        dxr_rules=load_rules("silver_file_records"),
        workspace_bronze=ws_bronze,
        workspace_rules=load_rules("silver_workspace_files"),
    ).cache()


@pytest.fixture(scope="module")
def snaps(bronzes):
    return lifecycle.snapshots(*bronzes).cache()


def _versions(history, source="dxr"):
    return sorted(
        (r.file_id, r.change_type, r.opened_snapshot_id, r.closed_snapshot_id, r.size)
        for r in history.where(f"source_system = '{source}'").collect()
    )


def test_history_has_exactly_the_expected_versions(history):
    assert tuple(history.columns) == lifecycle.HISTORY_COLUMNS
    assert _versions(history) == sorted([
        ("a", "added", S1, S4, 100),
        ("b", "added", S1, S2, 100),
        ("b", "changed", S2, S4, 250),
        ("c", "added", S1, S2, 100),
        ("c", "added", S3, S4, 100),  # back after its removal: added again
        ("d", "added", S1, S3, 100),
        ("e", "added", S2, S3, 300),
        ("e", "changed", S3, S4, 300),
        ("q", "added", S1, S4, 100),  # quarantined in S2: neither closed nor changed
        ("q2", "added", S1, S3, 100),  # quarantined in S2, gone in S3: removed by S3, not S2
    ])


def test_validity_times_are_the_snapshot_times(history):
    rows = {(r.file_id, r.opened_snapshot_id): r for r in history.where("source_system = 'dxr'").collect()}
    b1, b2 = rows[("b", S1)], rows[("b", S2)]
    assert (_utc(b1.valid_from), _utc(b1.valid_to), b1.is_current) == (AT[S1], AT[S2], False)
    assert (_utc(b2.valid_from), _utc(b2.valid_to)) == (AT[S2], AT[S4])
    assert rows[("e", S3)].content_sha256 == SHA2
    # Newest snapshot that returned the file while the version was open (quarantined rows count).
    assert rows[("q", S1)].last_seen_snapshot_id == S3
    assert rows[("q2", S1)].last_seen_snapshot_id == S2
    assert rows[("d", S1)].labels == ["x", "y"]


def test_open_versions_are_current(bronzes, spark):
    dxr_bronze, _ = bronzes
    upto_s3 = lifecycle.file_history(
        dxr_bronze=dxr_bronze.where(f"snapshot_id <= '{S3}'"), dxr_rules=load_rules("silver_file_records")
    )
    current = sorted(
        (r.file_id, r.opened_snapshot_id) for r in upto_s3.where("is_current").collect()
    )
    assert current == [("a", S1), ("b", S2), ("c", S3), ("e", S3), ("q", S1)]
    assert upto_s3.where("is_current AND valid_to IS NOT NULL").count() == 0


def test_quarantined_row_neither_opens_nor_closes_a_version(history):
    assert history.where("file_id = 'z'").count() == 0
    assert history.where("file_id = 'q'").count() == 1


def test_workspace_removal_needs_a_complete_listing(history):
    assert _versions(history, "workspace") == [
        ("workspace:/Users/ann@example.com/x.py", "added", W1, W3, 10),  # W2 failed: not removed there
        ("workspace:/Users/ann@example.com/y.py", "added", W1, None, 10),
        ("workspace:/Users/bob@example.com/k.py", "added", W1, W2, 10),
    ]


def test_file_changes_per_snapshot(history, snaps):
    changes = lifecycle.file_changes(history, snaps)
    assert tuple(changes.columns) == lifecycle.CHANGES_COLUMNS
    got = {
        (r.source_system, r.snapshot_id): (
            r.files_total, r.bytes_total, r.files_added, r.files_removed, r.files_changed, r.bytes_added,
            r.bytes_removed,
        )
        for r in changes.collect()
    }
    assert got == {
        # total, bytes, added, removed, changed, bytes added, bytes removed
        ("dxr", S1): (6, 600, 6, 0, 0, 600, 0),  # first snapshot: everything added
        ("dxr", S2): (6, 950, 1, 1, 1, 300, 100),  # +e, -c, b changed; q, q2 quarantined still count
        ("dxr", S3): (5, 850, 1, 2, 1, 100, 200),  # +c, -d, -q2, e changed
        ("dxr", S4): (0, 0, 0, 5, 0, 0, 850),  # empty snapshot: everything removed
        ("workspace", W1): (3, 30, 3, 0, 0, 30, 0),
        ("workspace", W2): (2, 20, 0, 1, 0, 0, 10),
        ("workspace", W3): (1, 10, 0, 1, 0, 0, 10),
    }
    dates = {r.snapshot_id: r.ingestion_date for r in changes.collect()}
    assert dates[S2] == date(2026, 11, 2)


def test_observation_columns_follow_unified_files(bronzes):
    dxr_bronze, _ = bronzes
    rules = load_rules("silver_file_records")
    obs = lifecycle.dxr_sightings(dxr.file_history(dxr_bronze), rules).where(f"snapshot_id = '{S3}' AND present")
    silver = dxr.file_history(dxr_bronze.where(f"snapshot_id = '{S3}'"))
    from file_records.expectations import engine

    unified = unified_files(engine.passing(silver, rules), None)
    cols = ["file_id", "path", "file_name", "size", "content_sha256", "last_modified_at", "owner", "labels"]
    assert sorted(tuple(r) for r in obs.select(*cols).collect()) == sorted(tuple(r) for r in unified.select(*cols).collect())


# --------------------------------------------------------------------------------------------------
# gold_disposition_status
# --------------------------------------------------------------------------------------------------

def _iso(at):
    """``logged_at`` as remediation/proof.py writes it: ISO 8601 UTC with a trailing Z."""
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _log(spark, *entries):
    rows = []
    for logged_at, action, outcome, source, file_id, path in entries:
        rows.append((_iso(logged_at), action, outcome, source, file_id, path, SHA, 100, "rot", "rita", "otto",
                     f"s3://archive/{file_id or path}"))
    return spark.createDataFrame(rows, disposition.DISPOSITION_LOG_SCHEMA)


def test_disposition_status(spark, history, snaps):
    hour = timedelta(hours=1)
    x_path, y_path = f"/Users/{ANN}/x.py", f"/Users/{ANN}/y.py"
    log = _log(
        spark,
        (AT[S1] + hour, "archive", "done", "dxr", "c", "/share/c.doc"),  # gone in S2, back in S3
        (AT[S2] + hour, "archive", "done", "dxr", "d", "/share/d.doc"),  # gone in S3 and S4
        (AT[S4] + hour, "archive", "done", "dxr", "a", "/share/a.doc"),  # no snapshot since
        (AT[S1] + hour, "archive", "done", "dxr", "b", "/share/b.doc"),
        (AT[S1] + 2 * hour, "undo", "done", "dxr", "b", "/share/b.doc"),  # put back: seen again (newest sighting: S3)
        (AT[S1] + hour, "archive", "failed", "dxr", "e", "/share/e.doc"),  # failed: not listed
        (AT[S2] + 2 * hour, "undo", "failed", "dxr", "d", "/share/d.doc"),  # failed undo: ignored
        (WAT[W1] + hour, "archive", "done", "workspace", f"workspace:{x_path}", x_path),  # W2 failed, gone in W3
        (WAT[W1] + hour, "archive", "done", "workspace", None, y_path),  # no file_id: by path; back in W3
    )
    status = disposition.disposition_status(log, history, snaps)
    assert tuple(status.columns) == disposition.DISPOSITION_COLUMNS
    rows = status.collect()
    got = {(r.source_system, r.path): (r.status, r.checked_snapshot_id, _utc(r.checked_at)) for r in rows}
    restored = {r.path: _utc(r.restored_at) for r in rows if r.restored_at is not None}
    assert restored == {"/share/b.doc": AT[S1] + 2 * hour}  # why b is back: an undo, not a leak
    assert got == {
        ("dxr", "/share/c.doc"): ("reappeared", S3, AT[S3]),
        ("dxr", "/share/d.doc"): ("confirmed", S4, AT[S4]),
        ("dxr", "/share/a.doc"): ("pending", None, None),
        ("dxr", "/share/b.doc"): ("reappeared", S3, AT[S3]),
        ("workspace", x_path): ("confirmed", W3, WAT[W3]),
        ("workspace", y_path): ("reappeared", W3, WAT[W3]),
    }
    row = status.where("path = '/share/d.doc'").first()
    assert (row.policy, row.reviewer, _utc(row.archived_at), row.archive_location) == (
        "rot", "rita", AT[S2] + hour, "s3://archive/d",
    )


def test_disposition_pending_while_no_complete_listing(spark, bronzes):
    """x.py archived after W1; W2 could not list ann's home: not proof, the status stays pending."""
    _, ws_bronze = bronzes
    upto_w2 = ws_bronze.where(f"scan_id <= '{W2}'")
    history = lifecycle.file_history(workspace_bronze=upto_w2, workspace_rules=load_rules("silver_workspace_files"))
    log = _log(spark, (WAT[W1] + timedelta(hours=1), "archive", "done", "workspace", None, f"/Users/{ANN}/x.py"))
    rows = disposition.disposition_status(log, history, lifecycle.snapshots(None, upto_w2)).collect()
    assert [(r.status, r.checked_snapshot_id) for r in rows] == [("pending", None)]


def test_empty_disposition_log(spark, history, snaps):
    assert disposition.disposition_status(disposition.empty_disposition_log(spark), history, snaps).count() == 0


def test_read_disposition_log(spark, tmp_path, history, snaps):
    assert disposition.read_disposition_log(spark, None).count() == 0
    assert disposition.read_disposition_log(spark, tmp_path / "missing").count() == 0
    assert disposition.read_disposition_log(spark, tmp_path).count() == 0  # empty folder
    record = {
        "proof_version": 1, "record_id": "r1", "logged_at": _iso(AT[S2] + timedelta(hours=1)), "action": "archive",
        "outcome": "done", "source_system": "dxr", "file_id": "d", "path": "/share/d.doc", "policy": "rot",
        "reviewer": "rita", "operator": "otto", "archive_location": "/archive/d.doc", "size": 100,
        "content_sha256": SHA, "stub_path": None,
    }
    import json

    (tmp_path / "disposition-20261102.jsonl").write_text(json.dumps(record) + "\n" + '{"logged_at": "2026-11-0')
    (tmp_path / "notes.txt").write_text("not a log\n")
    log = disposition.read_disposition_log(spark, tmp_path)
    rows = disposition.disposition_status(log, history, snaps).collect()
    assert [(r.file_id, r.status, r.checked_snapshot_id, r.archive_location) for r in rows] == [
        ("d", "confirmed", S4, "/archive/d.doc")
    ]


# --------------------------------------------------------------------------------------------------
# The demo corpus: day 2 removes, changes and adds known files
# --------------------------------------------------------------------------------------------------

def test_demo_day2_shows_in_history_and_changes(spark):
    import pyarrow as pa

    from file_records.connectors.dxr.parse import SnapshotContext, parse_chunk
    from file_records.emulators.dxr_corpus import demo_day_changes, demo_records, render_lines

    batches = []
    for day, snapshot in ((1, S1), (2, S2)):
        context = SnapshotContext(source_query="all", snapshot_id=snapshot, ingested_at=AT[snapshot])
        batches.append(parse_chunk(b"\n".join(render_lines(demo_records(seed=7, day=day))), context))
    bronze = spark.createDataFrame(pa.Table.from_batches(batches)).select(*COLUMN_NAMES)
    rules = load_rules("silver_file_records")
    history = lifecycle.file_history(dxr_bronze=bronze, dxr_rules=rules).cache()
    expected = demo_day_changes(seed=7)

    def ids(where):
        return sorted(r.file_id for r in history.where(where).select("file_id").collect())

    removed = sorted(
        set(ids(f"closed_snapshot_id = '{S2}'")) - set(ids(f"opened_snapshot_id = '{S2}'"))
    )
    assert removed == expected["removed"]
    assert ids(f"opened_snapshot_id = '{S2}' AND change_type = 'changed'") == expected["changed"]
    assert ids(f"opened_snapshot_id = '{S2}' AND change_type = 'added'") == expected["added"]
    changes = {r.snapshot_id: r for r in lifecycle.file_changes(history, lifecycle.snapshots(bronze)).collect()}
    day1, day2 = changes[S1], changes[S2]
    assert day1.files_added == day1.files_total and day1.files_removed == 0
    assert (day2.files_removed, day2.files_changed, day2.files_added) == (7, 9, 5)
    assert day2.files_total == day1.files_total - 7 + 5


def test_history_folded_from_each_snapshots_own_sightings_equals_the_recomputed_history(bronzes, history, snaps):
    """Kept facts (pipelines/kept_facts.py): each snapshot sighted alone, when it was the newest in
    bronze, from its candidates; the fold of those sightings is the history recomputed from bronze."""
    from pyspark.sql import functions as F

    dxr_bronze, ws_bronze = bronzes
    dxr_rules, ws_rules = load_rules("silver_file_records"), load_rules("silver_workspace_files")
    kept = None
    for snapshot in (S1, S2, S3, S4):
        newest = dxr.file_record_candidates(dxr_bronze.where(F.col("snapshot_id") <= snapshot))
        part = lifecycle.sightings(dxr_candidates=newest, dxr_rules=dxr_rules)
        kept = part if kept is None else kept.union(part)
    for scan in (W1, W2, W3):
        newest = workspace.workspace_file_candidates(ws_bronze.where(F.col("scan_id") <= scan))
        kept = kept.union(lifecycle.sightings(workspace_candidates=newest, workspace_rules=ws_rules))
    folded = lifecycle.history_from_sightings(kept, snaps, lifecycle.complete_listings(ws_bronze))
    columns = list(lifecycle.HISTORY_COLUMNS)
    assert sorted(map(tuple, folded.select(*columns).collect()), key=repr) == sorted(
        map(tuple, history.select(*columns).collect()), key=repr
    )


def test_attribute_hash_tells_apart_values_that_move_between_columns_or_into_nulls(spark):
    """The version boundary compares a 64-bit hash that skips nulls: swapping a value into a null
    neighbour, or an empty label list for one holding a null, must still read as a change."""
    rows = spark.createDataFrame(
        [
            (1, 10, None, None, "p", ["x"], None),
            (2, 10, None, None, None, ["x"], "p"),  # the value moved from path to owner
            (3, 10, None, None, "p", [], None),
            (4, 10, None, None, "p", [None], None),  # [] and [null]
            (5, 10, None, None, "p", ["b", "a"], None),
            (6, 10, None, None, "p", ["a", "b"], None),  # label order is ignored
        ],
        "n int, size long, content_sha256 string, last_modified_at timestamp, path string, labels array<string>, "
        "owner string",
    )
    hashes = dict(rows.select("n", lifecycle._attribute_hash().alias("h")).collect())
    assert hashes[1] != hashes[2]
    assert hashes[3] != hashes[4]
    assert hashes[5] == hashes[6]
