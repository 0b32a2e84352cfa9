"""Safe remediation of exported policy flags: archive files, leave stubs, journal everything, undo.

Pure Python, no Spark. Entry points: :func:`plan_from_csv`, :func:`remediate`, :func:`undo` and the
CLI adapter :func:`main` (``file-records remediate ...``).

For each plan row (``apply=True``; the default is a dry run that reads but never writes):

1. Translate the DXR datasource-relative ``path`` with the path map (longest matching prefix, whole
   path components; a key may be scoped to one datasource as ``DATASOURCE::PREFIX``). Refused: no
   matching prefix, ``..`` components, a mapped root that does not exist, a path that resolves
   (symlinks included) outside its mapped root, a file that is itself a symlink, a file inside the
   archive root, rows whose ``action`` is ``hold``/``keep`` or that carry ``suppressed_by``.
2. The file must exist, be a regular file and hash (SHA-256) to the row's ``content_sha256``. A row
   without a hash is refused unless ``allow_unhashed=True``; the archive folder is always the hash
   *computed* from the file, so an unvalidated CSV value never becomes a folder name.
3. Copy to a private temporary file in ``archive_root/<sha256>/`` (``O_EXCL``), fsync, then link it
   to its final name without ever replacing anything: if ``<name>`` exists the copy becomes
   ``<stem> (2)<ext>``, ``(3)``... Same content already archived under that name is *kept as a
   second copy*: every archived file belongs to exactly one journal entry, so undoing one row never
   depends on another (the price is archive space; dedupe the archive separately if needed).
4. Verify the archived file's hash, re-check the source is unchanged, and only then remove the
   source (if it changed in between, the archive copy is rolled back and the source left alone).
5. Write the stub ``<original name>.archived.txt`` next to where the file was (a new name, so the
   original extension never holds text and nothing is overwritten; ``.archived (2).txt`` on a clash).
6. Every step is appended to a JSON-lines journal and fsynced *before* and *after* it happens. A
   rerun of the same plan with the same journal skips finished rows and completes half-done ones; a
   crash loses nothing because at every instant the content exists at the source or at a verified
   archive path. :func:`undo` restores from the journal and refuses to overwrite anything that
   appeared at the original path since.

A failure on one row is reported and the others continue; :attr:`Report.exit_code` is 1 if any row
failed or was refused.
"""

from __future__ import annotations

import argparse
import datetime as dt
import errno
import fcntl
import hashlib
import os
import re
import shutil
import stat
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Optional, Sequence, Union

import orjson

from policies.export import read_csv_rows

__all__ = [
    "DEFAULT_STUB_MESSAGE",
    "JOURNAL_NAME",
    "STUB_SUFFIX",
    "PlanError",
    "PlanRow",
    "Report",
    "RowResult",
    "main",
    "parse_path_map",
    "plan_from_csv",
    "remediate",
    "translate_path",
    "undo",
]

DEFAULT_STUB_MESSAGE = (
    "This file has been archived under the records and retention policy. "
    "Contact your records manager if you need it back."
)
STUB_SUFFIX = ".archived.txt"
JOURNAL_NAME = "remediation-journal.jsonl"
SCOPE_SEP = "::"
CHUNK = 1024 * 1024
MAX_SUFFIX = 10_000
REFUSED_ACTIONS = frozenset({"hold", "keep"})
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)

Hook = Callable[[str, "PlanRow"], None]

# Result statuses. BAD ones make the exit code non-zero.
DONE, ALREADY_DONE, WOULD, SKIPPED, REFUSED, FAILED = (
    "done", "already_done", "would_do", "skipped", "refused", "failed",
)
BAD_STATUSES = frozenset({REFUSED, FAILED})


class PlanError(ValueError):
    """The plan or the arguments are unusable as a whole (bad CSV, bad path map, journal locked)."""


class _RowRefused(Exception):
    pass


class _RowFailed(Exception):
    pass


@dataclass
class PlanRow:
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


@dataclass
class RowResult:
    row: int
    path: str
    status: str
    message: str
    source: Optional[str] = None
    archived_to: Optional[str] = None
    stub: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.status not in BAD_STATUSES


@dataclass
class Report:
    mode: str  # "dry-run" | "apply" | "undo-dry-run" | "undo"
    results: list[RowResult] = field(default_factory=list)
    journal: Optional[str] = None

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_dict(self) -> dict:
        return {
            "mode": self.mode,
            "journal": self.journal,
            "counts": self.counts,
            "exit_code": self.exit_code,
            "results": [r.__dict__ for r in self.results],
        }


# --------------------------------------------------------------------------- path map


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
        raise _RowRefused(f"path {path!r} contains '..' (traversal)")
    if any("\x00" in c for c in parts):
        raise _RowRefused("path contains a NUL character")
    return parts


def _within(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:
        return False


def translate_path(path: str, path_map: Mapping[str, str], datasource: Optional[str] = None) -> tuple[str, str]:
    """Map a DXR datasource-relative path to a local path: ``(resolved local path, resolved root)``.

    Raises ``_RowRefused`` (an ``Exception``) with the reason when the path cannot be mapped safely.
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
        raise _RowRefused(f"path {path!r} is under no --path-map prefix")
    _, pparts, local = best
    rest = parts[len(pparts):]
    if not rest:
        raise _RowRefused(f"path {path!r} is a mapped root itself, not a file")
    root = os.path.realpath(os.path.expanduser(local))
    if not os.path.isdir(root):
        raise _RowRefused(f"mapped root {local!r} does not exist or is not a directory")
    candidate = os.path.join(root, *rest)
    if os.path.islink(candidate):
        raise _RowRefused(f"{candidate} is a symbolic link; only regular files are archived")
    real = os.path.realpath(candidate)
    if not _within(real, root):
        raise _RowRefused(f"{candidate} resolves to {real}, outside the mapped root {root}")
    return real, root


# --------------------------------------------------------------------------- plan


def _clean(v: Optional[str]) -> Optional[str]:
    if v is None:
        return None
    v = v.strip()
    return v or None


def plan_from_csv(path: Union[str, Path], path_map: Union[Mapping[str, str], Iterable[str]]) -> list[PlanRow]:
    """Read an export (CSV with at least ``path``; ``content_sha256``, ``action``, ``suppressed_by``,
    ``policy``, ``file_id``, ``datasource_name`` used when present) and translate every path.

    Rows that cannot be mapped safely keep ``error`` set and are refused by :func:`remediate`.
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
            except _RowRefused as exc:
                row.error = str(exc)
        plan.append(row)
    return plan


# --------------------------------------------------------------------------- file helpers


def _sha256_file(path: str) -> str:
    fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW | _O_BINARY)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _RowRefused(f"{path} is not a regular file")
        h = hashlib.sha256()
        while True:
            chunk = os.read(fd, CHUNK)
            if not chunk:
                break
            h.update(chunk)
        return h.hexdigest()
    finally:
        os.close(fd)


def _signature(path: str) -> tuple[int, int, int, int]:
    st = os.lstat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _copy_exclusive(src: str, tmp: str) -> str:
    """Copy ``src`` to a new file ``tmp`` (never replacing one), fsync, keep mtime/mode; return its hash."""
    h = hashlib.sha256()
    sfd = os.open(src, os.O_RDONLY | _O_NOFOLLOW | _O_BINARY)
    try:
        if not stat.S_ISREG(os.fstat(sfd).st_mode):
            raise _RowRefused(f"{src} is not a regular file")
        dfd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_BINARY, 0o600)
        try:
            while True:
                chunk = os.read(sfd, CHUNK)
                if not chunk:
                    break
                h.update(chunk)
                view = memoryview(chunk)
                while view:
                    n = os.write(dfd, view)
                    view = view[n:]
            os.fsync(dfd)
        finally:
            os.close(dfd)
    finally:
        os.close(sfd)
    try:
        shutil.copystat(src, tmp, follow_symlinks=False)
    except OSError:
        pass
    return h.hexdigest()


def _place_no_clobber(tmp: str, dest: str) -> None:
    """Give ``tmp`` the name ``dest`` without ever replacing an existing ``dest`` (FileExistsError).

    Uses link()+unlink(), which fails atomically if ``dest`` exists. Where hard links are not
    supported it falls back to an existence check + rename (a small race with concurrent writers).
    """
    try:
        os.link(tmp, dest, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK,
                             errno.ENOSYS, errno.EACCES):
            raise
        if os.path.lexists(dest):
            raise FileExistsError(errno.EEXIST, "exists", dest) from None
        os.rename(tmp, dest)
    else:
        os.unlink(tmp)
    _fsync_dir(os.path.dirname(dest))


NAME_MAX = 255


def _fit(stem: str, tail: str) -> str:
    """``stem + tail``, shortening ``stem`` (plus a short hash of it) to fit NAME_MAX bytes."""
    if len((stem + tail).encode("utf-8", "surrogateescape")) <= NAME_MAX:
        return stem + tail
    tag = "~" + hashlib.sha256(stem.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    budget = NAME_MAX - len((tag + tail).encode("utf-8", "surrogateescape"))
    cut = stem.encode("utf-8", "surrogateescape")[:budget].decode("utf-8", "ignore")
    return cut + tag + tail


def _numbered(name: str, n: int, stub: bool = False) -> str:
    """Archive name ``name`` / ``stem (n).ext``, or stub name ``name.archived.txt`` /
    ``name.archived (n).txt``; shortened to fit the file-name limit when needed."""
    if stub:
        return _fit(name, STUB_SUFFIX if n == 1 else f".archived ({n}).txt")
    if n == 1:
        return name
    stem, ext = os.path.splitext(name)
    return _fit(stem, f" ({n}){ext}")


def _write_new_text(path: str, text: str) -> str:
    data = text.encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_BINARY, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    _fsync_dir(os.path.dirname(path))
    return hashlib.sha256(data).hexdigest()


def _read_small(path: str, limit: int = 1 << 20) -> Optional[bytes]:
    try:
        fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW | _O_BINARY)
    except OSError:
        return None
    try:
        return os.read(fd, limit)
    finally:
        os.close(fd)


def _unlink_quiet(path: Optional[str]) -> bool:
    if not path:
        return False
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------- journal


class Journal:
    """Append-only JSON-lines journal; every record is fsynced before the call returns.

    The file is locked (``flock``) while a run uses it, so two runs cannot interleave.
    """

    def __init__(self, path: Union[str, Path], run_id: str):
        self.path = str(path)
        self.run_id = run_id
        parent = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(parent, exist_ok=True)
        existed = os.path.exists(self.path)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND | _O_NOFOLLOW, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            raise PlanError(f"journal {self.path} is in use by another remediation run") from None
        if not existed:
            _fsync_dir(parent)
        size = os.fstat(self._fd).st_size
        if size:
            # After a crash mid-write the last line may be torn: start on a fresh line.
            last = os.pread(self._fd, 1, size - 1)
            if last != b"\n":
                os.write(self._fd, b"\n")
                os.fsync(self._fd)

    def append(self, event: str, **data) -> None:
        record = {"ts": _now(), "run_id": self.run_id, "event": event, **data}
        os.write(self._fd, orjson.dumps(record) + b"\n")
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_journal(path: Union[str, Path]) -> list[dict]:
    """All parseable records (a torn line, e.g. from a crash mid-write, is skipped)."""
    records = []
    try:
        with open(path, "rb") as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                try:
                    rec = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(rec, dict) and "event" in rec:
                    records.append(rec)
    except FileNotFoundError:
        return []
    return records


@dataclass
class _State:
    key: str
    src: str
    sha: str
    expected_sha: Optional[str]
    path: str = ""
    row: Optional[int] = None
    file_id: Optional[str] = None
    policy: Optional[str] = None
    order: int = 0
    root: Optional[str] = None
    tmp: Optional[str] = None
    place_candidate: Optional[str] = None
    dest: Optional[str] = None
    verified: bool = False
    source_removed: bool = False
    stub_candidate: Optional[str] = None
    stub_text: Optional[str] = None
    stub: Optional[str] = None
    stub_sha: Optional[str] = None
    done: bool = False
    restore_tmp: Optional[str] = None


def _key(src: str, expected_sha: Optional[str]) -> str:
    return f"{src}\n{expected_sha or ''}"


def _replay(records: Iterable[dict]) -> dict[str, _State]:
    states: dict[str, _State] = {}
    order = 0
    for rec in records:
        key = rec.get("key")
        if not key:
            continue
        ev = rec["event"]
        if ev == "start":
            order += 1
            states[key] = _State(
                key=key, src=rec["src"], sha=rec["sha256"], expected_sha=rec.get("expected_sha256"),
                path=rec.get("path", ""), row=rec.get("row"), file_id=rec.get("file_id"),
                policy=rec.get("policy"), order=order, root=rec.get("root"),
            )
            continue
        st = states.get(key)
        if st is None:
            continue
        if ev == "copy_intent":
            st.tmp = rec["tmp"]
        elif ev == "place_intent":
            st.place_candidate = rec["dest"]
        elif ev == "placed":
            st.dest, st.tmp, st.place_candidate = rec["dest"], None, None
        elif ev == "verified":
            st.verified = True
        elif ev == "source_removed":
            st.source_removed = True
        elif ev == "stub_intent":
            st.stub_candidate, st.stub_text = rec["stub"], rec["text"]
        elif ev == "stub_written":
            st.stub, st.stub_sha = rec["stub"], rec["stub_sha256"]
        elif ev == "done":
            st.done = True
        elif ev == "restore_intent":
            st.restore_tmp = rec["tmp"]
        elif ev in ("rolled_back", "undone"):
            states.pop(key, None)
    return states


# --------------------------------------------------------------------------- remediate


@dataclass
class _Ctx:
    archive_root: str
    apply: bool
    journal: Optional[Journal]
    states: dict[str, _State]
    stub_message: str
    allow_unhashed: bool
    verify_in_dry_run: bool
    hook: Optional[Hook]

    def fire(self, step: str, row: PlanRow) -> None:
        if self.hook is not None:
            self.hook(step, row)

    def log(self, event: str, st: _State, **data) -> None:
        if self.journal is not None:
            self.journal.append(event, key=st.key, **data)


def _stub_text(ctx: _Ctx, row: PlanRow, st: _State, dest: str) -> str:
    lines = [
        ctx.stub_message.rstrip(),
        "",
        f"Original file: {os.path.basename(st.src)}",
        f"Original path: {row.path or st.path}",
        f"Archived to: {dest}",
        f"SHA-256: {st.sha}",
        f"Archived at: {_now()}",
    ]
    if row.policy:
        lines.append(f"Policy: {row.policy}")
    if row.file_id:
        lines.append(f"File id: {row.file_id}")
    return "\n".join(lines) + "\n"


def _free_name(directory: str, name: str, stub: bool = False) -> tuple[str, int]:
    for n in range(1, MAX_SUFFIX):
        candidate = os.path.join(directory, _numbered(name, n, stub))
        if not os.path.lexists(candidate):
            return candidate, n
    raise _RowFailed(f"no free name for {name} in {directory}")


def _check_row(row: PlanRow, ctx: _Ctx) -> None:
    if row.error:
        raise _RowRefused(row.error)
    if row.suppressed_by:
        raise _RowRefused(f"suppressed by {row.suppressed_by}: not archiving a file on hold/keep")
    if row.action in REFUSED_ACTIONS:
        raise _RowRefused(f"action {row.action!r} is never remediated")
    if not row.content_sha256 and not ctx.allow_unhashed:
        raise _RowRefused("no content_sha256 in the plan (use --allow-unhashed to archive by the computed hash)")
    assert row.local_path is not None
    if _within(row.local_path, ctx.archive_root):
        raise _RowRefused(f"{row.local_path} is inside the archive root")


def _source_hash(row: PlanRow) -> tuple[str, tuple]:
    src = row.local_path
    assert src is not None
    try:
        st = os.lstat(src)
    except FileNotFoundError:
        raise _RowFailed(f"missing: {src} no longer exists") from None
    if stat.S_ISLNK(st.st_mode):
        raise _RowRefused(f"{src} is a symbolic link")
    if not stat.S_ISREG(st.st_mode):
        raise _RowRefused(f"{src} is not a regular file")
    sig = _signature(src)
    actual = _sha256_file(src)
    if row.content_sha256 and actual != row.content_sha256:
        raise _RowRefused(f"hash mismatch: plan has {row.content_sha256}, file now hashes to {actual}")
    return actual, sig


def _dry_run_row(row: PlanRow, ctx: _Ctx) -> RowResult:
    _check_row(row, ctx)
    src = row.local_path
    assert src is not None
    st = ctx.states.get(_key(src, row.content_sha256))
    if st is not None and st.done:
        return RowResult(row.row, row.path, ALREADY_DONE, f"already archived to {st.dest}", src, st.dest, st.stub)
    if st is not None and st.dest:
        return RowResult(row.row, row.path, WOULD, f"would finish a half-done row (archived at {st.dest})", src, st.dest)
    if not os.path.lexists(src):
        raise _RowFailed(f"missing: {src} no longer exists")
    if ctx.verify_in_dry_run or not row.content_sha256:
        sha, _ = _source_hash(row)
    else:
        sha = row.content_sha256
    name = os.path.basename(src)
    dest_dir = os.path.join(ctx.archive_root, sha)
    dest, n = _free_name(dest_dir, name)
    stub, sn = _free_name(os.path.dirname(src), name, stub=True)
    notes = []
    if n > 1:
        notes.append(f"{name} already archived there, keeping both")
    if sn > 1:
        notes.append("stub name taken, numbering it")
    msg = f"would move {src} -> {dest}, then write stub {os.path.basename(stub)}"
    if notes:
        msg += " (" + "; ".join(notes) + ")"
    return RowResult(row.row, row.path, WOULD, msg, src, dest, stub)


def _hash_or_none(path: str) -> Optional[str]:
    try:
        return _sha256_file(path)
    except (OSError, _RowRefused):
        return None


def _roll_back(ctx: _Ctx, st: _State, why: str) -> Optional[str]:
    """Abandon a partial archive whose source was never removed. Returns the path of an archive copy
    that had to be kept (the source changed meanwhile, so the copy holds the only previous version),
    else None. Never deletes an archive copy unless the source still holds the same content; if the
    source has vanished the state is kept so a rerun finishes the row from the archive copy."""
    _unlink_quiet(st.tmp)
    kept = None
    if st.dest and not st.source_removed:
        if not os.path.lexists(st.src):
            return st.dest
        if _hash_or_none(st.src) == st.sha:
            _unlink_quiet(st.dest)
            _rmdir_quiet(os.path.dirname(st.dest))
        else:
            kept = st.dest
    ctx.log("rolled_back", st, reason=why, kept_archive_copy=kept)
    ctx.states.pop(st.key, None)
    return kept


def _rmdir_quiet(path: str) -> None:
    try:
        os.rmdir(path)
    except OSError:
        pass


def _recover_placement(ctx: _Ctx, st: _State) -> None:
    """After a crash between place_intent and placed: decide whether the link happened."""
    cand, tmp = st.place_candidate, st.tmp
    placed = False
    if cand and os.path.lexists(cand):
        if tmp and os.path.lexists(tmp):
            placed = os.path.samefile(tmp, cand)
        else:
            # tmp is only removed after a successful placement, so cand is ours if the content matches.
            placed = _sha256_file(cand) == st.sha
    if placed:
        _unlink_quiet(tmp)
        st.dest, st.tmp, st.place_candidate = cand, None, None
        ctx.log("placed", st, dest=cand, recovered=True)
    else:
        _unlink_quiet(tmp)
        ctx.log("rolled_back", st, reason="incomplete copy from an interrupted run removed")
        ctx.states.pop(st.key, None)


def _apply_row(row: PlanRow, ctx: _Ctx) -> RowResult:
    _check_row(row, ctx)
    src = row.local_path
    assert src is not None
    key = _key(src, row.content_sha256)
    st = ctx.states.get(key)
    if st is not None and st.done:
        return RowResult(row.row, row.path, ALREADY_DONE, f"already archived to {st.dest}", src, st.dest, st.stub)
    resumed = st is not None
    if st is not None and not st.dest:
        _recover_placement(ctx, st)
        st = ctx.states.get(key)
    if st is None:
        sha, sig = _source_hash(row)
        st = _State(key=key, src=src, sha=sha, expected_sha=row.content_sha256, path=row.path, row=row.row,
                    file_id=row.file_id, policy=row.policy, root=row.mapped_root)
        ctx.states[key] = st
        ctx.log("start", st, src=src, sha256=sha, expected_sha256=row.content_sha256, path=row.path, row=row.row,
                file_id=row.file_id, policy=row.policy, source_system=row.source_system, root=row.mapped_root)
    else:
        sig = None
    try:
        if not st.dest:
            _archive_copy(row, ctx, st, sig)
        return _finish(row, ctx, st, resumed)
    except Exception as exc:
        # A failure (not a crash): leave no half-done state behind if the source is still intact.
        if not st.source_removed and ctx.states.get(key) is st:
            kept = _roll_back(ctx, st, f"{type(exc).__name__}: {exc}")
            if kept and not isinstance(exc, _RowRefused):
                raise _RowFailed(f"{_describe(exc)} (archive copy kept at {kept})") from None
        raise


def _archive_copy(row: PlanRow, ctx: _Ctx, st: _State, sig: tuple) -> None:
    src = st.src
    name = os.path.basename(src)
    dest_dir = os.path.join(ctx.archive_root, st.sha)
    os.makedirs(dest_dir, exist_ok=True)
    tmp = os.path.join(dest_dir, f".file-records-{uuid.uuid4().hex}.partial")
    ctx.fire("before_copy", row)
    st.tmp = tmp
    ctx.log("copy_intent", st, tmp=tmp)
    copied = _copy_exclusive(src, tmp)
    if copied != st.sha:
        raise _RowFailed(f"{src} changed while being copied (hash {copied}); source left in place")
    ctx.log("copied", st, tmp=tmp, sha256=copied)
    ctx.fire("after_copy", row)
    for n in range(1, MAX_SUFFIX):
        cand = os.path.join(dest_dir, _numbered(name, n))
        if os.path.lexists(cand):
            continue
        st.place_candidate = cand
        ctx.log("place_intent", st, tmp=tmp, dest=cand)
        try:
            _place_no_clobber(tmp, cand)
        except FileExistsError:
            ctx.log("place_collision", st, dest=cand)
            continue
        st.dest, st.tmp, st.place_candidate = cand, None, None
        ctx.log("placed", st, dest=cand)
        break
    else:
        raise _RowFailed(f"no free archive name for {name} in {dest_dir}")
    ctx.fire("after_place", row)
    if _signature(src) != sig:
        raise _RowFailed(f"{src} changed while being archived; source left in place")


def _finish(row: PlanRow, ctx: _Ctx, st: _State, resumed: bool) -> RowResult:
    """From "archive copy placed" to done; idempotent, so it also finishes half-done rows."""
    src, dest = st.src, st.dest
    assert dest is not None
    notes = ["resumed an interrupted row"] if resumed else []
    if not st.source_removed:
        # Always (re)verify the archived copy before the source may go.
        if not (os.path.lexists(dest) and _hash_or_none(dest) == st.sha):
            if os.path.lexists(src):
                raise _RowFailed(f"archived copy {dest} missing or different after the move; source left in place")
            raise _RowFailed(f"archived copy {dest} missing or different and the source is gone: check by hand")
        if not st.verified:
            st.verified = True
            ctx.log("verified", st, dest=dest, sha256=st.sha)
        ctx.fire("after_verify", row)
        if os.path.lexists(src):
            if _hash_or_none(src) != st.sha:
                raise _RowFailed(f"{src} changed after it was copied; source left in place")
            ctx.log("remove_source_intent", st, src=src)
            os.unlink(src)
            st.source_removed = True
            _fsync_dir(os.path.dirname(src))
            ctx.log("source_removed", st, src=src)
        else:
            st.source_removed = True
            ctx.log("source_removed", st, src=src, note="already gone")
            notes.append("source was already gone")
        ctx.fire("after_move", row)
    if not st.stub:
        stub_dir = os.path.dirname(src)
        name = os.path.basename(src)
        if st.stub_candidate and st.stub_text is not None and _read_small(st.stub_candidate) == st.stub_text.encode():
            st.stub = st.stub_candidate  # written just before an interruption
            st.stub_sha = hashlib.sha256(st.stub_text.encode()).hexdigest()
        else:
            text = _stub_text(ctx, row, st, dest)
            for n in range(1, MAX_SUFFIX):
                cand = os.path.join(stub_dir, _numbered(name, n, stub=True))
                if os.path.lexists(cand):
                    continue
                ctx.log("stub_intent", st, stub=cand, text=text)
                st.stub_candidate, st.stub_text = cand, text
                try:
                    st.stub_sha = _write_new_text(cand, text)
                except FileExistsError:
                    continue
                st.stub = cand
                break
            else:
                raise _RowFailed(f"no free stub name next to {src}")
        ctx.log("stub_written", st, stub=st.stub, stub_sha256=st.stub_sha)
        ctx.fire("after_stub", row)
    st.done = True
    ctx.log("done", st, dest=dest, stub=st.stub)
    msg = f"archived to {dest}; stub {os.path.basename(st.stub or '')}"
    if notes:
        msg += " (" + "; ".join(notes) + ")"
    return RowResult(row.row, row.path, DONE, msg, src, dest, st.stub)


def remediate(
    plan: Sequence[PlanRow],
    archive_root: Union[str, Path],
    apply: bool = False,
    journal_path: Union[str, Path, None] = None,
    stub_message: str = DEFAULT_STUB_MESSAGE,
    *,
    allow_unhashed: bool = False,
    verify_in_dry_run: bool = True,
    hook: Optional[Hook] = None,
) -> Report:
    """Archive the plan's files (``apply=True``) or report what would happen (default).

    ``journal_path`` defaults to ``<archive_root>/remediation-journal.jsonl``; reuse it to resume.
    ``hook(step, row)`` is called at ``before_copy``, ``after_copy``, ``after_place``,
    ``after_verify``, ``after_move`` (source removed, stub not yet written) and ``after_stub`` (tests
    use it to simulate crashes). A dry run writes nothing, not even the archive root or journal.
    """
    root = os.path.realpath(os.path.expanduser(str(archive_root)))
    jpath = str(journal_path) if journal_path is not None else os.path.join(root, JOURNAL_NAME)
    report = Report(mode="apply" if apply else "dry-run", journal=jpath)
    if apply:
        os.makedirs(root, exist_ok=True)
    journal = Journal(jpath, uuid.uuid4().hex) if apply else None
    try:
        ctx = _Ctx(
            archive_root=root, apply=apply, journal=journal, states=_replay(read_journal(jpath)),
            stub_message=stub_message, allow_unhashed=allow_unhashed, verify_in_dry_run=verify_in_dry_run, hook=hook,
        )
        seen: dict[str, int] = {}
        for row in plan:
            if row.local_path and row.local_path in seen:
                report.results.append(RowResult(row.row, row.path, SKIPPED,
                                                f"same file as plan row {seen[row.local_path]}", row.local_path))
                continue
            if row.local_path:
                seen[row.local_path] = row.row
            try:
                result = _apply_row(row, ctx) if apply else _dry_run_row(row, ctx)
            except _RowRefused as exc:
                result = RowResult(row.row, row.path, REFUSED, str(exc), row.local_path)
            except (_RowFailed, OSError) as exc:
                result = RowResult(row.row, row.path, FAILED, _describe(exc), row.local_path)
            except Exception as exc:  # one bad row never stops the others
                result = RowResult(row.row, row.path, FAILED, f"{type(exc).__name__}: {exc}", row.local_path)
            if journal is not None and result.status in BAD_STATUSES and row.local_path:
                journal.append("failed" if result.status == FAILED else "refused",
                               key=_key(row.local_path, row.content_sha256), row=row.row, path=row.path,
                               message=result.message)
            report.results.append(result)
    finally:
        if journal is not None:
            journal.close()
    return report


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return str(exc)


# --------------------------------------------------------------------------- undo


def undo(journal_path: Union[str, Path], *, apply: bool = True, hook: Optional[Hook] = None) -> Report:
    """Restore every archived (or half-archived) row of a journal, newest first.

    For each row: the archived copy must still hash to the journalled SHA-256; it is copied back under
    the original name without replacing anything (if something else now exists there the row is
    refused and left as is); then the stub is removed if it is still exactly the stub we wrote (a
    modified stub is left in place and reported) and the archive copy is deleted. Undo is itself
    journalled and idempotent: rerunning it after an interruption finishes the job.
    ``apply=False`` only reports.
    """
    jpath = str(journal_path)
    if not os.path.exists(jpath):
        raise PlanError(f"journal {jpath} does not exist")
    report = Report(mode="undo" if apply else "undo-dry-run", journal=jpath)
    journal = Journal(jpath, uuid.uuid4().hex) if apply else None
    try:
        states = _replay(read_journal(jpath))
        ctx = _Ctx(archive_root="", apply=apply, journal=journal, states=states, stub_message="",
                   allow_unhashed=False, verify_in_dry_run=True, hook=hook)
        for st in sorted(states.values(), key=lambda s: s.order, reverse=True):
            row = PlanRow(row=st.row or 0, path=st.path, content_sha256=st.expected_sha, local_path=st.src,
                          file_id=st.file_id, policy=st.policy)
            try:
                result = _undo_row(row, st, ctx)
            except _RowRefused as exc:
                result = RowResult(row.row, row.path, REFUSED, str(exc), st.src, st.dest, st.stub)
            except (_RowFailed, OSError) as exc:
                result = RowResult(row.row, row.path, FAILED, _describe(exc), st.src, st.dest, st.stub)
            except Exception as exc:
                result = RowResult(row.row, row.path, FAILED, f"{type(exc).__name__}: {exc}", st.src, st.dest, st.stub)
            if journal is not None and not result.ok:
                journal.append("undo_failed", key=st.key, message=result.message)
            report.results.append(result)
    finally:
        if journal is not None:
            journal.close()
    return report


def _undo_row(row: PlanRow, st: _State, ctx: _Ctx) -> RowResult:
    src = st.src
    dest = st.dest
    if dest is None:
        # Never placed: only leftovers of an interrupted copy.
        if not ctx.apply:
            return RowResult(row.row, row.path, WOULD, "would remove an incomplete archive copy", src)
        _unlink_quiet(st.tmp)
        _unlink_quiet(st.restore_tmp)
        ctx.log("undone", st, note="incomplete copy removed; source was never touched")
        return RowResult(row.row, row.path, DONE, "removed an incomplete archive copy; source untouched", src)

    dest_ok = os.path.lexists(dest) and _sha256_file(dest) == st.sha
    if os.path.lexists(src):
        if not (os.path.isfile(src) and not os.path.islink(src) and _sha256_file(src) == st.sha):
            raise _RowRefused(f"{src} exists again with other content; not overwriting it (archive copy kept at {dest})")
        source_there = True
    else:
        source_there = False
        if not dest_ok:
            raise _RowFailed(f"archived copy {dest} is missing or changed; nothing safe to restore")

    if not ctx.apply:
        what = "would remove the redundant archive copy" if source_there else f"would restore {src} from {dest}"
        return RowResult(row.row, row.path, WOULD, what, src, dest, st.stub)

    ctx.log("undo_start", st, src=src, dest=dest)
    if not source_there:
        _unlink_quiet(st.restore_tmp)
        parent = os.path.dirname(src)
        if not os.path.isdir(parent):
            # The folder went away since: recreate it, but only inside the mapped root it came from.
            if not (st.root and _within(os.path.abspath(parent), st.root)):
                raise _RowFailed(f"folder {parent} no longer exists")
            os.makedirs(parent, exist_ok=True)
            if not _within(os.path.realpath(parent), st.root):
                raise _RowRefused(f"{parent} now resolves outside the mapped root {st.root}")
        tmp = os.path.join(os.path.dirname(src), f".file-records-{uuid.uuid4().hex}.restoring")
        ctx.log("restore_intent", st, tmp=tmp, src=src)
        copied = _copy_exclusive(dest, tmp)
        if copied != st.sha:
            _unlink_quiet(tmp)
            raise _RowFailed(f"archived copy {dest} changed while being restored")
        try:
            _place_no_clobber(tmp, src)
        except FileExistsError:
            _unlink_quiet(tmp)
            raise _RowRefused(f"{src} appeared while restoring; not overwriting it") from None
        if _sha256_file(src) != st.sha:
            raise _RowFailed(f"restored {src} does not match the journalled hash")
        ctx.log("restored", st, src=src)
        ctx.fire("after_restore", row)
    else:
        _unlink_quiet(st.restore_tmp)
    notes = []
    if st.stub or st.stub_candidate:
        stub = st.stub or st.stub_candidate
        data = _read_small(stub) if stub and os.path.lexists(stub) else None
        ours = data is not None and (
            (st.stub_sha and hashlib.sha256(data).hexdigest() == st.stub_sha)
            or (st.stub_text is not None and data == st.stub_text.encode())
        )
        if ours:
            os.unlink(stub)
            ctx.log("stub_removed", st, stub=stub)
        elif data is not None:
            notes.append(f"stub {stub} was modified since; left in place")
    if os.path.lexists(dest):
        os.unlink(dest)
        _rmdir_quiet(os.path.dirname(dest))
        ctx.log("archive_removed", st, dest=dest)
    ctx.log("undone", st, src=src)
    msg = ("restored " if not source_there else "source was in place; removed archive copy for ") + src
    if notes:
        msg += " (" + "; ".join(notes) + ")"
    return RowResult(row.row, row.path, DONE, msg, src, dest, st.stub)


# --------------------------------------------------------------------------- CLI


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="file-records remediate",
        description="Archive the files of a policy-flag export safely (dry run unless --apply).",
    )
    p.add_argument("--plan", help="CSV export of gold_policy_flags (needs path and content_sha256)")
    p.add_argument("--archive-root", help="directory receiving <sha256>/<name>")
    p.add_argument("--path-map", action="append", default=[], metavar="PREFIX=LOCAL",
                   help="map a DXR path prefix to a local directory; repeatable; "
                        "'DATASOURCE::PREFIX=LOCAL' limits it to one datasource")
    p.add_argument("--apply", action="store_true", help="act (default: dry run, nothing is touched)")
    p.add_argument("--undo", metavar="JOURNAL", help="restore what a journal archived (with --apply)")
    p.add_argument("--journal", help=f"journal file (default: <archive-root>/{JOURNAL_NAME})")
    p.add_argument("--allow-unhashed", action="store_true",
                   help="archive rows without content_sha256 (by the hash computed now)")
    p.add_argument("--stub-message", default=DEFAULT_STUB_MESSAGE, help="first line(s) of each stub file")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    return p


def _print_report(report: Report, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    try:
        from rich.console import Console
        from rich.markup import escape
    except ImportError:  # pragma: no cover
        for r in report.results:
            print(f"row {r.row} [{r.status}] {r.path}: {r.message}")
        print(f"{report.mode}: {report.counts}; journal {report.journal}")
        return
    console = Console(highlight=False, soft_wrap=True)
    colours = {DONE: "green", ALREADY_DONE: "green", WOULD: "cyan", SKIPPED: "yellow", REFUSED: "red", FAILED: "red"}
    for r in report.results:
        c = colours.get(r.status, "white")
        console.print(f"row {r.row} [{c}]{r.status}[/{c}] {escape(r.path)}: {escape(r.message)}")
    summary = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items())) or "no rows"
    console.print(f"[bold]{report.mode}[/bold]: {summary}")
    if report.mode in ("dry-run", "undo-dry-run"):
        console.print("Dry run: nothing was changed. Add --apply to act.")
    else:
        console.print(f"Journal: {escape(report.journal or '')}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``file-records remediate`` entry point: 0 all rows fine, 1 a row failed/refused, 2 usage error."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        if args.undo:
            report = undo(args.undo, apply=args.apply)
        else:
            missing = [f for f, v in (("--plan", args.plan), ("--archive-root", args.archive_root),
                                      ("--path-map", args.path_map)) if not v]
            if missing:
                parser.print_usage(sys.stderr)
                print(f"file-records remediate: missing {', '.join(missing)}", file=sys.stderr)
                return 2
            plan = plan_from_csv(args.plan, args.path_map)
            report = remediate(plan, args.archive_root, apply=args.apply, journal_path=args.journal,
                               stub_message=args.stub_message, allow_unhashed=args.allow_unhashed)
    except PlanError as exc:
        print(f"file-records remediate: {exc}", file=sys.stderr)
        return 2
    _print_report(report, args.json)
    return report.exit_code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
