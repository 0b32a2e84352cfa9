"""Shared by the remediation tests: a small share with three files, plan rows, snapshots."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from file_records import remediation as rm
from file_records.policies.export import export_rows

PLAN_COLUMNS = ["source_system", "file_id", "path", "owner", "size", "policy", "action", "severity", "reason",
                "suppressed_by", "detected_on", "content_sha256", "datasource_name"]


class Crash(BaseException):
    """Simulates the process dying: not an Exception, so the engine does not catch it."""


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def snapshot(root: Path) -> dict[str, tuple]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            p = Path(dirpath, d)
            out[str(p.relative_to(root)) + "/"] = ("dir",)
        for f in filenames:
            p = Path(dirpath, f)
            st = os.lstat(p)
            out[str(p.relative_to(root))] = (p.read_bytes() if not p.is_symlink() else os.readlink(p), st.st_mtime_ns)
    return out


def make_env(tmp_path: Path) -> dict:
    share = tmp_path / "share"  # the mounted datasource, DXR path "/Finance/..." maps here
    (share / "Archive" / "Copies").mkdir(parents=True)
    (share / "Reports").mkdir()
    files = {
        "Archive/Copies/payroll (1).xlsx": b"payroll workbook bytes",
        "Reports/q1.pdf": b"%PDF q1 report",
        "Reports/notes.txt": b"some notes\n",
    }
    for rel, data in files.items():
        (share / rel).write_bytes(data)
    os.utime(share / "Reports/q1.pdf", ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    archive = tmp_path / "archive"
    return {"tmp": tmp_path, "share": share, "archive": archive, "files": files,
            "path_map": {"/Finance": str(share)}}


def row(path: str, content: bytes | None, **kw) -> dict:
    base = {
        "source_system": "dxr", "file_id": kw.pop("file_id", "id-" + path), "path": path, "owner": "dana@example.com",
        "size": len(content) if content is not None else None, "policy": "duplicate", "action": "archive",
        "severity": "low", "reason": "one of 2 copies", "suppressed_by": None, "detected_on": "2026-03-01",
        "content_sha256": sha(content) if content is not None else None, "datasource_name": "Finance NAS",
    }
    base.update(kw)
    return base


def write_plan(env, rows, name="plan.csv") -> Path:
    out = env["tmp"] / name
    export_rows(rows, "csv", out, columns=PLAN_COLUMNS)
    return out


def standard_plan(env) -> list[rm.PlanRow]:
    f = env["files"]
    rows = [row("/Finance/" + rel, data) for rel, data in f.items()]
    return rm.plan_from_csv(write_plan(env, rows), env["path_map"])
