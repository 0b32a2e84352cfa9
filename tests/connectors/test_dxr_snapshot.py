"""Streaming offsets of the `dxr` source (connectors/snapshot.py, shared with the workspace source):
when a snapshot is due, and how snapshots are named."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from file_records.connectors import snapshot
from file_records.connectors.snapshot import (
    INITIAL_OFFSET,
    next_offset,
    parse_instant,
    snapshot_due,
    snapshot_id,
)

DAY = timedelta(hours=24)
T0 = datetime(2026, 11, 1, 8, 30, 15, 250000, tzinfo=timezone.utc)


def test_first_snapshot_is_always_due():
    offset = next_offset(INITIAL_OFFSET, T0, DAY)
    assert offset["seq"] == 1
    assert abs(parse_instant(offset["taken_at"]) - T0) < timedelta(seconds=1)  # whole seconds
    assert INITIAL_OFFSET == {"seq": 0, "taken_at": ""}  # not mutated


def test_not_due_before_the_interval_returns_the_same_offset():
    first = next_offset(INITIAL_OFFSET, T0, DAY)
    for later in (timedelta(0), timedelta(seconds=1), timedelta(hours=23, minutes=59, seconds=44)):
        again = next_offset(first, T0 + later, DAY)
        assert again == first
        assert again is not first  # a copy: the caller may keep it
        assert not snapshot_due(first, T0 + later, DAY)


def test_due_once_the_interval_has_passed():
    first = next_offset(INITIAL_OFFSET, T0, DAY)
    taken = parse_instant(first["taken_at"])
    second = next_offset(first, taken + DAY, DAY)
    assert second == {"seq": 2, "taken_at": snapshot.format_instant(taken + DAY)}


def test_zero_interval_is_always_due():
    first = next_offset(INITIAL_OFFSET, T0, timedelta(0))
    second = next_offset(first, T0 + timedelta(seconds=5), timedelta(0))
    assert second["seq"] == 2


def test_forced_snapshot_when_the_last_one_is_older_than_the_flag():
    first = next_offset(INITIAL_OFFSET, T0, DAY)
    force_after = T0 + timedelta(minutes=10)
    now = T0 + timedelta(minutes=11)
    assert snapshot_due(first, now, DAY, force_after)
    forced = next_offset(first, now, DAY, force_after)
    assert forced["seq"] == 2
    assert parse_instant(forced["taken_at"]) > force_after
    # Once taken, the same flag does not force another one.
    assert next_offset(forced, now + timedelta(minutes=1), DAY, force_after) == forced


def test_force_flag_older_than_the_last_snapshot_does_nothing():
    first = next_offset(INITIAL_OFFSET, T0, DAY)
    assert next_offset(first, T0 + timedelta(hours=1), DAY, T0 - timedelta(days=3)) == first


def test_forced_snapshot_in_the_same_second_as_the_flag_is_not_repeated():
    first = next_offset(INITIAL_OFFSET, T0, DAY)
    force_after = T0 + timedelta(minutes=10, microseconds=600000)
    forced = next_offset(first, force_after + timedelta(microseconds=100000), DAY, force_after)
    assert forced["seq"] == 2
    assert next_offset(forced, force_after + timedelta(microseconds=300000), DAY, force_after) == forced


def test_taken_at_is_strictly_increasing_even_on_a_fast_rerun_or_clock_skew():
    offset = next_offset(INITIAL_OFFSET, T0, timedelta(0))
    previous = parse_instant(offset["taken_at"])
    for now in (T0, T0 + timedelta(milliseconds=300), T0 - timedelta(minutes=5), T0 + timedelta(seconds=1)):
        # A forced snapshot is due whatever the clock says; its time must still move forward.
        offset = next_offset(offset, now, DAY, force_after=now + DAY)
        taken = parse_instant(offset["taken_at"])
        assert taken > previous
        previous = taken


def test_clock_behind_the_last_snapshot_is_not_due_without_force():
    offset = next_offset(INITIAL_OFFSET, T0, timedelta(0))
    assert next_offset(offset, T0 - timedelta(minutes=5), timedelta(0)) == offset


def test_offsets_are_json_round_trippable():
    import json

    offset = next_offset(INITIAL_OFFSET, T0, DAY)
    assert json.loads(json.dumps(offset)) == offset


def test_snapshot_id_format():
    offset = next_offset(INITIAL_OFFSET, T0.replace(microsecond=0), DAY)
    assert offset == {"seq": 1, "taken_at": "2026-11-01T08:30:15Z"}
    assert snapshot_id(offset) == "20261101T083015Z-0001"
    assert snapshot_id({"seq": 12345, "taken_at": "2027-01-02T03:04:05Z"}) == "20270102T030405Z-12345"


def test_initial_offset_has_no_snapshot_id():
    with pytest.raises(ValueError):
        snapshot_id(INITIAL_OFFSET)


def test_snapshot_ids_sort_chronologically():
    rng = random.Random(3)
    offset = dict(INITIAL_OFFSET)
    now = datetime(2026, 12, 31, 23, 59, 58, tzinfo=timezone.utc)  # crosses a year boundary
    ids = []
    for _ in range(12000):  # crosses seq 9999 -> 10000
        now += timedelta(seconds=rng.choice([0, 0.2, 1, 59, 3600, 86400 * 40]))
        offset = next_offset(offset, now, timedelta(0), force_after=now + DAY)
        ids.append(snapshot_id(offset))
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_snapshot_id_uses_utc():
    from zoneinfo import ZoneInfo

    local = datetime(2026, 11, 1, 9, 30, tzinfo=ZoneInfo("Europe/Berlin"))  # 08:30 UTC
    assert snapshot_id(next_offset(INITIAL_OFFSET, local, DAY)) == "20261101T083000Z-0001"
