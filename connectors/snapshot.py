"""Offsets of the streaming sources: one offset = one complete snapshot (DXR) or scan (workspace).

The API has no cursor, so an offset is a snapshot sequence number and the time it was
taken. A new snapshot is due when the minimum interval has passed since the previous one,
or when a forced snapshot was requested after it. Replaying a batch (after a crash) uses
the same offset and so the same snapshot id and ingestion date.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Optional

INITIAL_OFFSET = {"seq": 0, "taken_at": ""}


def format_instant(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(text: str) -> Optional[datetime]:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def snapshot_id(offset: dict) -> str:
    """Sorts in time order: 20261123T104125Z-0003."""
    taken = parse_instant(offset["taken_at"])
    if taken is None:
        raise ValueError("the initial offset has no snapshot")
    return f"{taken.strftime('%Y%m%dT%H%M%SZ')}-{int(offset['seq']):04d}"


def snapshot_due(
    start: dict, now: datetime, min_interval: timedelta, force_after: Optional[datetime] = None
) -> bool:
    last = parse_instant(start.get("taken_at", ""))
    if last is None:
        return True
    # taken_at has whole seconds: compare the flag at the same precision, or a snapshot taken in
    # the flag's own second would look older than the flag and be forced again.
    if force_after is not None and last < force_after.replace(microsecond=0):
        return True
    return now - last >= min_interval


def next_offset(start: dict, now: datetime, min_interval: timedelta, force_after: Optional[datetime] = None) -> dict:
    """The offset the next micro-batch should end at (== start when no snapshot is due)."""
    if not snapshot_due(start, now, min_interval, force_after):
        return dict(start)
    taken = now.replace(microsecond=0)
    previous = parse_instant(start.get("taken_at", ""))
    if previous is not None and taken <= previous:
        taken = previous + timedelta(seconds=1)  # strictly increasing, even on a fast re-run
    return {"seq": int(start.get("seq", 0)) + 1, "taken_at": format_instant(taken)}


def first_offset_now() -> dict:
    """The offset of a snapshot taken now (batch reads)."""
    return next_offset(INITIAL_OFFSET, datetime.now(timezone.utc), timedelta(0))


class SnapshotStreamOffsets:
    """Offset bookkeeping for a stream reader whose micro-batch is one whole snapshot.

    Mixed into a `DataSourceStreamReader` that provides `_partitions(offset)`; the reader
    calls `_init_offsets` from its constructor.
    """

    def _init_offsets(self, interval_seconds: float, force_after: Optional[datetime]) -> None:
        self._interval = timedelta(seconds=interval_seconds)
        self._force_after = force_after
        # Runtimes older than Spark 4.2 call latestOffset() without `start`; remember it here.
        self._last_end: dict = dict(INITIAL_OFFSET)

    def initialOffset(self) -> dict:
        return dict(INITIAL_OFFSET)

    def latestOffset(self, start: Optional[dict] = None, limit=None) -> dict:
        base = start if start is not None else self._last_end
        end = next_offset(base, datetime.now(timezone.utc), self._interval, self._force_after)
        self._last_end = end
        return end

    def partitions(self, start: dict, end: dict) -> list:
        if int(end.get("seq", 0)) <= int(start.get("seq", 0)):
            return []
        return self._partitions(end)

    def commit(self, end: dict) -> None:
        self._last_end = dict(end)
