"""What a state directory holds, so demo data and a real tenant never end up in one catalog."""

from __future__ import annotations

from pathlib import Path

import orjson

from file_records.errors import StateError

MARKER_FILE = "origin.json"


class StateMismatchError(StateError):
    """The state directory holds data from another origin."""


def claim(state_dir: Path, origin: dict[str, str]) -> None:
    """Record where this state directory's data comes from, or refuse if it came from elsewhere."""
    state_dir.mkdir(parents=True, exist_ok=True)
    marker = state_dir / MARKER_FILE
    if marker.exists():
        recorded = orjson.loads(marker.read_bytes())
        clashes = {k: (recorded[k], v) for k, v in origin.items() if k in recorded and recorded[k] != v}
        if clashes:
            described = "; ".join(f"{k}: holds {old!r}, asked for {new!r}" for k, (old, new) in clashes.items())
            raise StateMismatchError(
                f"{state_dir} already holds data from another origin ({described}). Use another --state-dir, "
                "or delete this one to start over."
            )
        origin = {**recorded, **origin}
    marker.write_bytes(orjson.dumps(origin, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
