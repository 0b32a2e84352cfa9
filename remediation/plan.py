"""The plan: which files to archive, read from an export CSV and mapped to local paths.

The export names files by their Data X-Ray datasource-relative ``path``; ``--path-map PREFIX=LOCAL``
says where such a path lives on this machine (longest matching prefix, whole path components; a key
may be scoped to one datasource as ``DATASOURCE::PREFIX``). A row that cannot be mapped safely (no
matching prefix, ``..`` components, a mapped root that does not exist, a path that resolves, symlinks
included, outside its mapped root, a file that is itself a symlink) keeps its ``error`` and is refused.

A plan with a ``decision`` column is a review sheet (:mod:`.review`): its rows carry the decision,
the reviewer and the comment, and only approved rows are acted on. A plan may be the CSV export or
its JSON form (an array of objects, ``--format json``; read when the file name ends in ``.json``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Optional, Union

import orjson

from file_records.remediation.errors import (
    BAD_PLAN_VALUE,
    NO_PATH_MAP,
    NOT_A_FILE,
    OUTSIDE_ROOT,
    ROOT_MISSING,
    TRAVERSAL,
    PlanError,
    RowRefused,
)
from file_records.remediation.fs import within
from file_records.remediation.review import APPROVE, is_review_sheet, parse_decision
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
    error_reason: Optional[str] = None  # the kind of ``error`` (remediation.errors), for grouping
    source_system: Optional[str] = None
    file_id: Optional[str] = None
    policy: Optional[str] = None
    action: Optional[str] = None
    suppressed_by: Optional[str] = None
    datasource_name: Optional[str] = None
    mapped_root: Optional[str] = None
    size: Optional[int] = None
    # From a review sheet (``reviewed``): approve / reject / defer / None, who decided and why.
    reviewed: bool = False
    decision: Optional[str] = None
    reviewer: Optional[str] = None
    comment: Optional[str] = None

    @property
    def approved(self) -> bool:
        """Every row of a plain plan; only ``approve`` rows of a review sheet."""
        return not self.reviewed or self.decision == APPROVE


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
        raise RowRefused(f"path {path!r} contains '..' (traversal)", reason=TRAVERSAL)
    if any("\x00" in c for c in parts):
        raise RowRefused("path contains a NUL character", reason=TRAVERSAL)
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
        raise RowRefused(f"path {path!r} is under no --path-map prefix", reason=NO_PATH_MAP)
    _, pparts, local = best
    rest = parts[len(pparts):]
    if not rest:
        raise RowRefused(f"path {path!r} is a mapped root itself, not a file", reason=NOT_A_FILE)
    root = os.path.realpath(os.path.expanduser(local))
    if not os.path.isdir(root):
        raise RowRefused(f"mapped root {local!r} does not exist or is not a directory", reason=ROOT_MISSING)
    candidate = os.path.join(root, *rest)
    if os.path.islink(candidate):
        raise RowRefused(f"{candidate} is a symbolic link; only regular files are archived", reason=NOT_A_FILE)
    real = os.path.realpath(candidate)
    if not within(real, root):
        raise RowRefused(f"{candidate} resolves to {real}, outside the mapped root {root}", reason=OUTSIDE_ROOT)
    return real, root


def _clean(v: Optional[str]) -> Optional[str]:
    if v is None:
        return None
    v = v.strip()
    return v or None


def _json_rows(path: Union[str, Path]) -> tuple[list[str], list[dict[str, str]]]:
    """A ``--format json`` export: an array of objects; values become strings like CSV cells."""
    try:
        data = orjson.loads(Path(path).read_bytes())
    except orjson.JSONDecodeError as exc:
        raise PlanError(f"plan {path} is not valid JSON: {exc}") from None
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise PlanError(f"plan {path} is not a JSON array of objects (an export with --format json)")
    header: list[str] = []
    rows = []
    for r in data:
        for key in r:
            if key not in header:
                header.append(key)
        rows.append({k: "" if v is None else (v if isinstance(v, str) else orjson.dumps(v).decode().strip('"'))
                     for k, v in r.items()})
    return header, rows


def _size(value: Optional[str]) -> Optional[int]:
    try:
        return int(float(value)) if value else None
    except ValueError:
        return None


def plan_from_csv(path: Union[str, Path], path_map: Union[Mapping[str, str], Iterable[str]]) -> list[PlanRow]:
    """Read an export (CSV with at least ``path``; ``content_sha256``, ``action``, ``suppressed_by``,
    ``policy``, ``file_id``, ``datasource_name``, ``size`` used when present; JSON when the name ends
    in ``.json``) and translate every path.

    Rows that cannot be mapped safely keep ``error`` set and are refused by
    :func:`~file_records.remediation.remediate`.
    Neutralised cells (``'=...``) are un-neutralised first. A ``decision`` column makes it a review
    sheet: a decision other than approve / reject / defer / empty is a :class:`PlanError` naming
    the row (nothing is done).
    """
    pm = parse_path_map(path_map)
    try:
        if str(path).lower().endswith(".json"):
            header, rows = _json_rows(path)
        else:
            header, rows = read_csv_rows(path)
    except FileNotFoundError:
        raise PlanError(f"plan {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"cannot read plan {path}: {exc}") from None
    if "path" not in header:
        raise PlanError(f"plan {path} has no 'path' column (columns: {', '.join(header) or 'none'})")
    review = is_review_sheet(header)
    plan: list[PlanRow] = []
    for i, r in enumerate(rows, start=1):
        sha = _clean(r.get("content_sha256"))
        decision = parse_decision(r.get("decision"), i, (r.get("path") or "").strip()) if review else None
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
            size=_size(_clean(r.get("size"))),
            reviewed=review,
            decision=decision,
            reviewer=_clean(r.get("reviewer")) if review else None,
            comment=_clean(r.get("comment")) if review else None,
        )
        if not row.path.strip():
            row.error, row.error_reason = "empty path", BAD_PLAN_VALUE
        elif row.content_sha256 and not _SHA_RE.match(row.content_sha256):
            row.error = f"content_sha256 {row.content_sha256!r} is not 64 hexadecimal characters"
            row.error_reason = BAD_PLAN_VALUE
        else:
            try:
                row.local_path, row.mapped_root = translate_path(row.path, pm, row.datasource_name)
            except RowRefused as exc:
                row.error, row.error_reason = str(exc), exc.reason
        plan.append(row)
    return plan


def expects_refusal(row: PlanRow) -> bool:
    """The plan itself says not to touch this file: it is suppressed (a legal hold, a keep policy)
    or its action is ``hold``/``keep``. Refusing such a row is the expected outcome."""
    return bool(row.suppressed_by) or row.action in REFUSED_ACTIONS


def unmapped_prefixes(plan: Iterable[PlanRow], depth: int = 2) -> list[tuple[str, Optional[str], int]]:
    """``(prefix, datasource, rows)`` for the plan rows no ``--path-map`` covers (held and not-approved rows left
    out: they are refused anyway): the first ``depth`` directory components of their paths, most
    rows first, so the report can say which ``--path-map PREFIX=LOCAL`` is missing."""
    counts: dict[tuple[str, Optional[str]], int] = {}
    for row in plan:
        if row.error_reason != NO_PATH_MAP or expects_refusal(row) or not row.approved:
            continue
        parts = [c for c in row.path.split("/") if c not in ("", ".")]
        dirs = parts[: min(depth, max(len(parts) - 1, 1))]
        prefix = ("/" if row.path.startswith("/") else "") + "/".join(dirs)
        key = (prefix, row.datasource_name)
        counts[key] = counts.get(key, 0) + 1
    return [(p, ds, n) for (p, ds), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1] or ""))]
