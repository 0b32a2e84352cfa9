"""The plan: which files to archive, read from an export CSV and mapped to local paths.

The export names files by their Data X-Ray datasource-relative ``path``; ``--path-map PREFIX=LOCAL``
says where such a path lives on this machine (longest matching prefix, whole path components; a key
may be scoped to one datasource as ``DATASOURCE::PREFIX``). A row that cannot be mapped safely (no
matching prefix, ``..`` components, a mapped root that does not exist, a path that resolves, symlinks
included, outside its mapped root, a file that is itself a symlink) keeps its ``error`` and is refused.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Optional, Union

from file_records.remediation.errors import PlanError, RowRefused
from file_records.remediation.fs import within
from file_records.spreadsheet import read_csv_rows

SCOPE_SEP = "::"
# Never remediated, whatever the plan says: these actions exist to keep a file where it is.
REFUSED_ACTIONS = frozenset({"hold", "keep"})
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class PlanRow:
    """One row of the plan; ``error`` set means it is refused without touching anything."""

    row: int
    path: str
    content_sha256: Optional[str] = None
    local_path: Optional[str] = None
    error: Optional[str] = None
    source_system: Optional[str] = None
    file_id: Optional[str] = None
    policy: Optional[str] = None
    action: Optional[str] = None
    suppressed_by: Optional[str] = None
    datasource_name: Optional[str] = None
    mapped_root: Optional[str] = None


def parse_path_map(items: Union[Iterable[str], Mapping[str, str]]) -> dict[str, str]:
    """``["PREFIX=LOCAL", ...]`` (split at the first ``=``) or a dict, validated."""
    if isinstance(items, Mapping):
        pairs = list(items.items())
    else:
        pairs = []
        for item in items:
            prefix, sep, local = item.partition("=")
            if not sep or not local.strip():
                raise PlanError(f"--path-map {item!r} is not PREFIX=LOCAL")
            pairs.append((prefix, local))
    out: dict[str, str] = {}
    for prefix, local in pairs:
        local = str(local).strip()
        if not local:
            raise PlanError(f"path map entry {prefix!r} has an empty local root")
        key = str(prefix).strip()
        if key in out:
            raise PlanError(f"path map prefix {key!r} given twice")
        out[key] = local
    if not out:
        raise PlanError("no path map: give at least one --path-map PREFIX=LOCAL")
    return out


def _components(path: str) -> list[str]:
    parts = [c for c in path.split("/") if c not in ("", ".")]
    if any(c == ".." for c in parts):
        raise RowRefused(f"path {path!r} contains '..' (traversal)")
    if any("\x00" in c for c in parts):
        raise RowRefused("path contains a NUL character")
    return parts


def translate_path(path: str, path_map: Mapping[str, str], datasource: Optional[str] = None) -> tuple[str, str]:
    """Map a DXR datasource-relative path to a local path: ``(resolved local path, resolved root)``.

    Raises :class:`RowRefused` with the reason when the path cannot be mapped safely.
    """
    parts = _components(path)
    best: Optional[tuple[tuple[int, int], list[str], str]] = None
    for key, local in path_map.items():
        scope, sep, prefix = key.partition(SCOPE_SEP)
        if not sep:
            scope, prefix = "", key
        elif not datasource or scope.strip().casefold() != datasource.strip().casefold():
            continue
        pparts = _components(prefix)
        if parts[: len(pparts)] != pparts:
            continue
        rank = (1 if sep else 0, len(pparts))
        if best is None or rank > best[0]:
            best = (rank, pparts, local)
    if best is None:
        raise RowRefused(f"path {path!r} is under no --path-map prefix")
    _, pparts, local = best
    rest = parts[len(pparts):]
    if not rest:
        raise RowRefused(f"path {path!r} is a mapped root itself, not a file")
    root = os.path.realpath(os.path.expanduser(local))
    if not os.path.isdir(root):
        raise RowRefused(f"mapped root {local!r} does not exist or is not a directory")
    candidate = os.path.join(root, *rest)
    if os.path.islink(candidate):
        raise RowRefused(f"{candidate} is a symbolic link; only regular files are archived")
    real = os.path.realpath(candidate)
    if not within(real, root):
        raise RowRefused(f"{candidate} resolves to {real}, outside the mapped root {root}")
    return real, root


def _clean(v: Optional[str]) -> Optional[str]:
    if v is None:
        return None
    v = v.strip()
    return v or None


def plan_from_csv(path: Union[str, Path], path_map: Union[Mapping[str, str], Iterable[str]]) -> list[PlanRow]:
    """Read an export (CSV with at least ``path``; ``content_sha256``, ``action``, ``suppressed_by``,
    ``policy``, ``file_id``, ``datasource_name`` used when present) and translate every path.

    Rows that cannot be mapped safely keep ``error`` set and are refused by
    :func:`~file_records.remediation.remediate`.
    Neutralised cells (``'=...``) are un-neutralised first.
    """
    pm = parse_path_map(path_map)
    try:
        header, rows = read_csv_rows(path)
    except FileNotFoundError:
        raise PlanError(f"plan {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"cannot read plan {path}: {exc}") from None
    if "path" not in header:
        raise PlanError(f"plan {path} has no 'path' column (columns: {', '.join(header) or 'none'})")
    plan: list[PlanRow] = []
    for i, r in enumerate(rows, start=1):
        sha = _clean(r.get("content_sha256"))
        row = PlanRow(
            row=i,
            path=r.get("path") or "",
            content_sha256=sha.lower() if sha else None,
            source_system=_clean(r.get("source_system")),
            file_id=_clean(r.get("file_id")),
            policy=_clean(r.get("policy")),
            action=(_clean(r.get("action")) or "").lower() or None,
            suppressed_by=_clean(r.get("suppressed_by")),
            datasource_name=_clean(r.get("datasource_name")),
        )
        if not row.path.strip():
            row.error = "empty path"
        elif row.content_sha256 and not _SHA_RE.match(row.content_sha256):
            row.error = f"content_sha256 {row.content_sha256!r} is not 64 hexadecimal characters"
        else:
            try:
                row.local_path, row.mapped_root = translate_path(row.path, pm, row.datasource_name)
            except RowRefused as exc:
                row.error = str(exc)
        plan.append(row)
    return plan
