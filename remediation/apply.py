"""Archiving a plan: :func:`remediate` (a dry run unless ``apply=True``).

For each row:

0. Rows of a review sheet not decided ``approve`` are reported ``not_approved`` and never looked at.
1. Refused before anything is read: rows whose path could not be mapped (see :mod:`.plan`), a file
   inside the archive root, rows whose ``action`` is ``hold``/``keep`` or that carry
   ``suppressed_by``, files on legal hold now (``holds``, :mod:`.holds`; approval never overrides a
   hold), and rows without a hash unless ``allow_unhashed=True``.
2. The file must exist, be a regular file and hash (SHA-256) to the row's ``content_sha256``. The
   archive folder is always the hash *computed* from the file, so an unvalidated CSV value never
   becomes a folder name.
3. Copy to a private temporary file in ``archive_root/<sha256>/`` (``O_EXCL``), fsync, then link it
   to its final name without ever replacing anything: if ``<name>`` exists the copy becomes
   ``<stem> (2)<ext>``, ``(3)``... Same content already archived under that name is *kept as a
   second copy*: every archived file belongs to exactly one journal entry, so undoing one row never
   depends on another (the price is archive space; dedupe the archive separately if needed).
4. Verify the archived file's hash, re-check the source is unchanged, and only then remove the
   source (if it changed in between, the archive copy is rolled back and the source left alone).
5. Write the stub ``<original name>.archived.txt`` next to where the file was (a new name, so the
   original extension never holds text and nothing is overwritten; ``.archived (2).txt`` on a clash).

Each step is journalled (:mod:`.journal`) before and after it happens, so a crash loses nothing: at
every instant the content exists at the source or at a verified archive path, and a rerun with the
same journal finishes the row.

With a ``proof`` log, every row archived (or failing while being archived) also gets one
proof-of-disposition record (:mod:`.proof`); the journal notes ``proof_logged`` after it, so a row
whose record was lost to a crash gets it from the rerun.
"""

from __future__ import annotations

import hashlib
import os
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Union

from file_records.remediation.errors import (
    HASH_MISMATCH,
    HELD_NOW,
    IN_ARCHIVE,
    NO_HASH,
    NOT_A_FILE,
    ON_HOLD,
    RowFailed,
    RowRefused,
    describe,
)
from file_records.remediation.fs import (
    MAX_SUFFIX,
    copy_exclusive,
    free_name,
    fsync_dir,
    hash_or_none,
    numbered,
    place_no_clobber,
    read_small,
    rmdir_quiet,
    sha256_file,
    signature,
    unlink_quiet,
    within,
    write_new_text,
)
from file_records.remediation.holds import Holds
from file_records.remediation.journal import (
    JOURNAL_NAME,
    Hook,
    Journal,
    Recorder,
    RowState,
    read_journal,
    replay,
    row_key,
    utc_now,
)
from file_records.remediation.plan import REFUSED_ACTIONS, PlanRow, expects_refusal
from file_records.remediation.proof import (
    ARCHIVE,
    OUTCOME_DONE,
    OUTCOME_FAILED,
    ProofContext,
    ProofLog,
    make_record,
)
from file_records.remediation.results import (
    ALREADY_DONE,
    BAD_STATUSES,
    DONE,
    FAILED,
    NOT_APPROVED,
    REFUSED,
    SKIPPED,
    WOULD,
    Report,
    RowResult,
)
from file_records.remediation.review import not_approved_message

DEFAULT_STUB_MESSAGE = (
    "This file has been archived under the records and retention policy. "
    "Contact your records manager if you need it back."
)


@dataclass
class _Ctx(Recorder):
    archive_root: str
    stub_message: str
    allow_unhashed: bool
    verify_in_dry_run: bool
    holds: Optional[Holds] = None


def _stub_text(ctx: _Ctx, row: PlanRow, st: RowState, dest: str) -> str:
    lines = [
        ctx.stub_message.rstrip(),
        "",
        f"Original file: {os.path.basename(st.src)}",
        f"Original path: {row.path or st.path}",
        f"Archived to: {dest}",
        f"SHA-256: {st.sha}",
        f"Archived at: {utc_now()}",
    ]
    if row.policy:
        lines.append(f"Policy: {row.policy}")
    if row.file_id:
        lines.append(f"File id: {row.file_id}")
    return "\n".join(lines) + "\n"


def _check_row(row: PlanRow, ctx: _Ctx) -> None:
    # A hold or keep first: the plan asked for this refusal, whatever else is wrong with the row.
    if row.suppressed_by:
        raise RowRefused(f"suppressed by {row.suppressed_by}: not archiving a file on hold/keep",
                         reason=ON_HOLD, expected=True)
    if row.action in REFUSED_ACTIONS:
        raise RowRefused(f"action {row.action!r} is never remediated", reason=ON_HOLD, expected=True)
    held = ctx.holds.held(row.path, row.file_id) if ctx.holds is not None else None
    if held:
        raise RowRefused(f"on legal hold: {held}; not archiving it, whatever the plan says",
                         reason=HELD_NOW, expected=True)
    if row.error:
        raise RowRefused(row.error, reason=row.error_reason)
    if not row.content_sha256 and not ctx.allow_unhashed:
        raise RowRefused("no content_sha256 in the plan (use --allow-unhashed to archive by the computed hash)",
                         reason=NO_HASH)
    assert row.local_path is not None
    if within(row.local_path, ctx.archive_root):
        raise RowRefused(f"{row.local_path} is inside the archive root", reason=IN_ARCHIVE)


def _source_hash(row: PlanRow) -> tuple[str, tuple]:
    src = row.local_path
    assert src is not None
    try:
        st = os.lstat(src)
    except FileNotFoundError:
        raise RowFailed(f"missing: {src} no longer exists") from None
    if stat.S_ISLNK(st.st_mode):
        raise RowRefused(f"{src} is a symbolic link", reason=NOT_A_FILE)
    if not stat.S_ISREG(st.st_mode):
        raise RowRefused(f"{src} is not a regular file", reason=NOT_A_FILE)
    sig = signature(src)
    actual = sha256_file(src)
    if row.content_sha256 and actual != row.content_sha256:
        raise RowRefused(f"hash mismatch: plan has {row.content_sha256}, file now hashes to {actual}",
                         reason=HASH_MISMATCH)
    return actual, sig


def _dry_run_row(row: PlanRow, ctx: _Ctx) -> RowResult:
    _check_row(row, ctx)
    src = row.local_path
    assert src is not None
    st = ctx.states.get(row_key(src, row.content_sha256))
    if st is not None and st.done:
        return RowResult(row.row, row.path, ALREADY_DONE, f"already archived to {st.dest}", src, st.dest, st.stub)
    if st is not None and st.dest:
        return RowResult(row.row, row.path, WOULD, f"would finish a half-done row (archived at {st.dest})", src, st.dest)
    if not os.path.lexists(src):
        raise RowFailed(f"missing: {src} no longer exists")
    if ctx.verify_in_dry_run or not row.content_sha256:
        sha, _ = _source_hash(row)
    else:
        sha = row.content_sha256
    name = os.path.basename(src)
    dest_dir = os.path.join(ctx.archive_root, sha)
    dest, n = free_name(dest_dir, name)
    stub, sn = free_name(os.path.dirname(src), name, stub=True)
    notes = []
    if n > 1:
        notes.append(f"{name} already archived there, keeping both")
    if sn > 1:
        notes.append("stub name taken, numbering it")
    msg = f"would move {src} -> {dest}, then write stub {os.path.basename(stub)}"
    if notes:
        msg += " (" + "; ".join(notes) + ")"
    return RowResult(row.row, row.path, WOULD, msg, src, dest, stub)



def _roll_back(ctx: _Ctx, st: RowState, why: str) -> Optional[str]:
    """Abandon a partial archive whose source was never removed. Returns the path of an archive copy
    that had to be kept (the source changed meanwhile, so the copy holds the only previous version),
    else None. Never deletes an archive copy unless the source still holds the same content; if the
    source has vanished the state is kept so a rerun finishes the row from the archive copy."""
    unlink_quiet(st.tmp)
    kept = None
    if st.dest and not st.source_removed:
        if not os.path.lexists(st.src):
            return st.dest
        if hash_or_none(st.src) == st.sha:
            unlink_quiet(st.dest)
            rmdir_quiet(os.path.dirname(st.dest))
        else:
            kept = st.dest
    ctx.log("rolled_back", st, reason=why, kept_archive_copy=kept)
    ctx.states.pop(st.key, None)
    return kept



def _recover_placement(ctx: _Ctx, st: RowState) -> None:
    """After a crash between place_intent and placed: decide whether the link happened."""
    cand, tmp = st.place_candidate, st.tmp
    placed = False
    if cand and os.path.lexists(cand):
        if tmp and os.path.lexists(tmp):
            placed = os.path.samefile(tmp, cand)
        else:
            # tmp is only removed after a successful placement, so cand is ours if the content matches.
            placed = sha256_file(cand) == st.sha
    if placed:
        unlink_quiet(tmp)
        st.dest, st.tmp, st.place_candidate = cand, None, None
        ctx.log("placed", st, dest=cand, recovered=True)
    else:
        unlink_quiet(tmp)
        ctx.log("rolled_back", st, reason="incomplete copy from an interrupted run removed")
        ctx.states.pop(st.key, None)


def _apply_row(row: PlanRow, ctx: _Ctx) -> RowResult:
    _check_row(row, ctx)
    src = row.local_path
    assert src is not None
    key = row_key(src, row.content_sha256)
    st = ctx.states.get(key)
    if st is not None and st.done:
        return RowResult(row.row, row.path, ALREADY_DONE, f"already archived to {st.dest}", src, st.dest, st.stub)
    resumed = st is not None
    if st is not None and not st.dest:
        _recover_placement(ctx, st)
        st = ctx.states.get(key)
    if st is None:
        sha, sig = _source_hash(row)
        st = RowState(key=key, src=src, sha=sha, expected_sha=row.content_sha256, path=row.path, row=row.row,
                    file_id=row.file_id, policy=row.policy, root=row.mapped_root,
                source_system=row.source_system, datasource_name=row.datasource_name)
        ctx.states[key] = st
        ctx.log("start", st, src=src, sha256=sha, expected_sha256=row.content_sha256, path=row.path, row=row.row,
                file_id=row.file_id, policy=row.policy, source_system=row.source_system, root=row.mapped_root,
                datasource_name=row.datasource_name, reviewer=row.reviewer, decision=row.decision)
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
            if kept and not isinstance(exc, RowRefused):
                raise RowFailed(f"{describe(exc)} (archive copy kept at {kept})") from None
        raise


def _archive_copy(row: PlanRow, ctx: _Ctx, st: RowState, sig: tuple) -> None:
    src = st.src
    name = os.path.basename(src)
    dest_dir = os.path.join(ctx.archive_root, st.sha)
    os.makedirs(dest_dir, exist_ok=True)
    tmp = os.path.join(dest_dir, f".file-records-{uuid.uuid4().hex}.partial")
    ctx.fire("before_copy", row)
    st.tmp = tmp
    ctx.log("copy_intent", st, tmp=tmp)
    copied = copy_exclusive(src, tmp)
    if copied != st.sha:
        raise RowFailed(f"{src} changed while being copied (hash {copied}); source left in place")
    ctx.log("copied", st, tmp=tmp, sha256=copied)
    ctx.fire("after_copy", row)
    for n in range(1, MAX_SUFFIX):
        cand = os.path.join(dest_dir, numbered(name, n))
        if os.path.lexists(cand):
            continue
        st.place_candidate = cand
        ctx.log("place_intent", st, tmp=tmp, dest=cand)
        try:
            place_no_clobber(tmp, cand)
        except FileExistsError:
            ctx.log("place_collision", st, dest=cand)
            continue
        st.dest, st.tmp, st.place_candidate = cand, None, None
        ctx.log("placed", st, dest=cand)
        break
    else:
        raise RowFailed(f"no free archive name for {name} in {dest_dir}")
    ctx.fire("after_place", row)
    if signature(src) != sig:
        raise RowFailed(f"{src} changed while being archived; source left in place")


def _finish(row: PlanRow, ctx: _Ctx, st: RowState, resumed: bool) -> RowResult:
    """From "archive copy placed" to done; idempotent, so it also finishes half-done rows."""
    src, dest = st.src, st.dest
    assert dest is not None
    notes = ["resumed an interrupted row"] if resumed else []
    if not st.source_removed:
        # Always (re)verify the archived copy before the source may go.
        if not (os.path.lexists(dest) and hash_or_none(dest) == st.sha):
            if os.path.lexists(src):
                raise RowFailed(f"archived copy {dest} missing or different after the move; source left in place")
            raise RowFailed(f"archived copy {dest} missing or different and the source is gone: check by hand")
        if not st.verified:
            st.verified = True
            ctx.log("verified", st, dest=dest, sha256=st.sha)
        ctx.fire("after_verify", row)
        if os.path.lexists(src):
            if hash_or_none(src) != st.sha:
                raise RowFailed(f"{src} changed after it was copied; source left in place")
            ctx.log("remove_source_intent", st, src=src)
            os.unlink(src)
            st.source_removed = True
            fsync_dir(os.path.dirname(src))
            ctx.log("source_removed", st, src=src)
        else:
            st.source_removed = True
            ctx.log("source_removed", st, src=src, note="already gone")
            notes.append("source was already gone")
        ctx.fire("after_move", row)
    if not st.stub:
        stub_dir = os.path.dirname(src)
        name = os.path.basename(src)
        if st.stub_candidate and st.stub_text is not None and read_small(st.stub_candidate) == st.stub_text.encode():
            st.stub = st.stub_candidate  # written just before an interruption
            st.stub_sha = hashlib.sha256(st.stub_text.encode()).hexdigest()
        else:
            text = _stub_text(ctx, row, st, dest)
            for n in range(1, MAX_SUFFIX):
                cand = os.path.join(stub_dir, numbered(name, n, stub=True))
                if os.path.lexists(cand):
                    continue
                ctx.log("stub_intent", st, stub=cand, text=text)
                st.stub_candidate, st.stub_text = cand, text
                try:
                    st.stub_sha = write_new_text(cand, text)
                except FileExistsError:
                    continue
                st.stub = cand
                break
            else:
                raise RowFailed(f"no free stub name next to {src}")
        ctx.log("stub_written", st, stub=st.stub, stub_sha256=st.stub_sha)
        ctx.fire("after_stub", row)
    st.done = True
    ctx.log("done", st, dest=dest, stub=st.stub)
    msg = f"archived to {dest}; stub {os.path.basename(st.stub or '')}"
    if notes:
        msg += " (" + "; ".join(notes) + ")"
    return RowResult(row.row, row.path, DONE, msg, src, dest, st.stub)


def _prove(row: PlanRow, result: RowResult, ctx: _Ctx, proof: ProofLog, pctx: ProofContext,
           jpath: str) -> RowResult:
    """Write the row's proof record (once per archived row; every failed attempt) and journal it.
    A record that cannot be written turns the row into a failure (a rerun writes it)."""
    key = row_key(row.local_path, row.content_sha256) if row.local_path else None
    st = ctx.states.get(key) if key else None
    if result.status != FAILED and (st is None or st.proof_logged):
        return result
    done = result.status != FAILED
    archive_location = st.dest if st is not None else result.archived_to
    size = row.size
    for candidate in (archive_location if done else None, row.local_path):
        if candidate and os.path.isfile(candidate) and not os.path.islink(candidate):
            size = os.path.getsize(candidate)
            break
    record = make_record(
        pctx, run_id=ctx.journal.run_id if ctx.journal is not None else None, action=ARCHIVE,
        outcome=OUTCOME_DONE if done else OUTCOME_FAILED, reason=None if done else result.message,
        reviewer=row.reviewer, decision=row.decision, review_comment=row.comment, policy=row.policy,
        source_system=row.source_system, datasource_name=row.datasource_name, file_id=row.file_id,
        path=row.path, local_path=row.local_path,
        content_sha256=st.sha if st is not None else row.content_sha256, size=size,
        archive_location=archive_location if done else None, stub_path=(st.stub if st is not None else result.stub),
        journal=jpath, plan_row=row.row,
    )
    try:
        result.proof = proof.append(record)
    except OSError as exc:
        if not done:
            return result
        result.status = FAILED
        result.message += f"; but its proof record could not be written ({describe(exc)}): rerun to write it"
        return result
    if done and st is not None:
        st.proof_logged = True
        ctx.log("proof_logged", st, record_id=record["record_id"], proof=result.proof)
    return result


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
    holds: Optional[Holds] = None,
    proof: Optional[ProofLog] = None,
    proof_context: Optional[ProofContext] = None,
) -> Report:
    """Archive the plan's files (``apply=True``) or report what would happen (default).

    ``journal_path`` defaults to ``<archive_root>/remediation-journal.jsonl``; reuse it to resume.
    ``hook(step, row)`` is called at ``before_copy``, ``after_copy``, ``after_place``,
    ``after_verify``, ``after_move`` (source removed, stub not yet written) and ``after_stub`` (tests
    use it to simulate crashes). A dry run writes nothing, not even the archive root or journal.

    Rows with ``approved`` False (a review sheet's reject / defer / empty) are ``not_approved``.
    ``holds``: the files on legal hold now, refused whatever the plan says (None: not checked).
    ``proof`` (with ``apply``): the proof-of-disposition log, one record per row archived or failed,
    with ``proof_context`` (who, catalogue version...) in each; its folder must be writable
    (checked before anything is touched: an ``OSError`` otherwise).
    """
    root = os.path.realpath(os.path.expanduser(str(archive_root)))
    jpath = str(journal_path) if journal_path is not None else os.path.join(root, JOURNAL_NAME)
    report = Report(mode="apply" if apply else "dry-run", journal=jpath)
    if apply:
        os.makedirs(root, exist_ok=True)
        if proof is not None:
            proof.log_dir.mkdir(parents=True, exist_ok=True)
            if not os.access(proof.log_dir, os.W_OK | os.X_OK):
                raise PermissionError(13, "not writable", str(proof.log_dir))
    journal = Journal(jpath, uuid.uuid4().hex) if apply else None
    try:
        ctx = _Ctx(
            apply=apply, journal=journal, states=replay(read_journal(jpath)), hook=hook, archive_root=root,
            stub_message=stub_message, allow_unhashed=allow_unhashed, verify_in_dry_run=verify_in_dry_run,
            holds=holds,
        )
        seen: dict[str, int] = {}
        for row in plan:
            if not row.approved:
                report.results.append(RowResult(row.row, row.path, NOT_APPROVED,
                                                not_approved_message(row.decision, row.reviewer), row.local_path))
                continue
            if row.local_path and row.local_path in seen:
                report.results.append(RowResult(row.row, row.path, SKIPPED,
                                                f"same file as plan row {seen[row.local_path]}", row.local_path))
                continue
            if row.local_path:
                seen[row.local_path] = row.row
            try:
                result = _apply_row(row, ctx) if apply else _dry_run_row(row, ctx)
            except RowRefused as exc:
                result = RowResult(row.row, row.path, REFUSED, str(exc), row.local_path, reason=exc.reason,
                                   expected=exc.expected or expects_refusal(row))
            except (RowFailed, OSError) as exc:
                result = RowResult(row.row, row.path, FAILED, describe(exc), row.local_path)
            except Exception as exc:  # noqa: BLE001 - one bad row never stops the others
                result = RowResult(row.row, row.path, FAILED, f"{type(exc).__name__}: {exc}", row.local_path)
            if journal is not None and result.status in BAD_STATUSES and row.local_path:
                journal.append("failed" if result.status == FAILED else "refused",
                               key=row_key(row.local_path, row.content_sha256), row=row.row, path=row.path,
                               message=result.message)
            if apply and proof is not None and result.status in (DONE, ALREADY_DONE, FAILED):
                result = _prove(row, result, ctx, proof, proof_context or ProofContext(), jpath)
            report.results.append(result)
    finally:
        if journal is not None:
            journal.close()
    return report
