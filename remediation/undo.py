"""Undoing a journal: :func:`undo` puts archived files back where they were."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import Optional, Union

from file_records.remediation.errors import PlanError, RowFailed, RowRefused, describe
from file_records.remediation.fs import (
    copy_exclusive,
    place_no_clobber,
    read_small,
    rmdir_quiet,
    sha256_file,
    unlink_quiet,
    within,
)
from file_records.remediation.journal import Hook, Journal, Recorder, RowState, read_journal, replay
from file_records.remediation.plan import PlanRow
from file_records.remediation.proof import (
    OUTCOME_DONE,
    OUTCOME_FAILED,
    UNDO,
    ProofContext,
    ProofLog,
    make_record,
)
from file_records.remediation.results import DONE, FAILED, REFUSED, WOULD, Report, RowResult


def undo(journal_path: Union[str, Path], *, apply: bool = True, hook: Optional[Hook] = None,
         proof: Optional[ProofLog] = None, proof_context: Optional[ProofContext] = None) -> Report:
    """Restore every archived (or half-archived) row of a journal, newest first.

    For each row: the archived copy must still hash to the journalled SHA-256; it is copied back under
    the original name without replacing anything (if something else now exists there the row is
    refused and left as is); then the stub is removed if it is still exactly the stub we wrote (a
    modified stub is left in place and reported) and the archive copy is deleted. Undo is itself
    journalled and idempotent: rerunning it after an interruption finishes the job.
    ``apply=False`` only reports.

    ``proof`` (with ``apply``): one proof-of-disposition record (action ``undo``) per archived row
    restored, or that could not be (outcome ``failed``); a copy that never reached the archive is
    cleaned up without a record (nothing was disposed of).
    """
    jpath = str(journal_path)
    if not os.path.exists(jpath):
        raise PlanError(f"journal {jpath} does not exist")
    report = Report(mode="undo" if apply else "undo-dry-run", journal=jpath)
    if apply and proof is not None:
        proof.log_dir.mkdir(parents=True, exist_ok=True)
        if not os.access(proof.log_dir, os.W_OK | os.X_OK):
            raise PermissionError(13, "not writable", str(proof.log_dir))
    journal = Journal(jpath, uuid.uuid4().hex) if apply else None
    try:
        states = replay(read_journal(jpath))
        ctx = Recorder(apply=apply, journal=journal, states=states, hook=hook)
        for st in sorted(states.values(), key=lambda s: s.order, reverse=True):
            row = PlanRow(row=st.row or 0, path=st.path, content_sha256=st.expected_sha, local_path=st.src,
                          file_id=st.file_id, policy=st.policy)
            try:
                result = _undo_row(row, st, ctx)
            except RowRefused as exc:
                result = RowResult(row.row, row.path, REFUSED, str(exc), st.src, st.dest, st.stub, reason=exc.reason)
            except (RowFailed, OSError) as exc:
                result = RowResult(row.row, row.path, FAILED, describe(exc), st.src, st.dest, st.stub)
            except Exception as exc:  # noqa: BLE001 - one bad row never stops the others
                result = RowResult(row.row, row.path, FAILED, f"{type(exc).__name__}: {exc}", st.src, st.dest, st.stub)
            if journal is not None and not result.ok:
                journal.append("undo_failed", key=st.key, message=result.message)
            if apply and proof is not None and st.dest is not None and result.status in (DONE, FAILED, REFUSED):
                _prove(st, result, proof, proof_context or ProofContext(), journal, jpath)
            report.results.append(result)
    finally:
        if journal is not None:
            journal.close()
    return report


def _undo_row(row: PlanRow, st: RowState, ctx: Recorder) -> RowResult:
    src = st.src
    dest = st.dest
    if dest is None:
        # Never placed: only leftovers of an interrupted copy.
        if not ctx.apply:
            return RowResult(row.row, row.path, WOULD, "would remove an incomplete archive copy", src)
        unlink_quiet(st.tmp)
        unlink_quiet(st.restore_tmp)
        ctx.log("undone", st, note="incomplete copy removed; source was never touched")
        return RowResult(row.row, row.path, DONE, "removed an incomplete archive copy; source untouched", src)

    dest_ok = os.path.lexists(dest) and sha256_file(dest) == st.sha
    if os.path.lexists(src):
        if not (os.path.isfile(src) and not os.path.islink(src) and sha256_file(src) == st.sha):
            raise RowRefused(f"{src} exists again with other content; not overwriting it (archive copy kept at {dest})")
        source_there = True
    else:
        source_there = False
        if not dest_ok:
            raise RowFailed(f"archived copy {dest} is missing or changed; nothing safe to restore")

    if not ctx.apply:
        what = "would remove the redundant archive copy" if source_there else f"would restore {src} from {dest}"
        return RowResult(row.row, row.path, WOULD, what, src, dest, st.stub)

    ctx.log("undo_start", st, src=src, dest=dest)
    if not source_there:
        unlink_quiet(st.restore_tmp)
        parent = os.path.dirname(src)
        if not os.path.isdir(parent):
            # The folder went away since: recreate it, but only inside the mapped root it came from.
            if not (st.root and within(os.path.abspath(parent), st.root)):
                raise RowFailed(f"folder {parent} no longer exists")
            os.makedirs(parent, exist_ok=True)
            if not within(os.path.realpath(parent), st.root):
                raise RowRefused(f"{parent} now resolves outside the mapped root {st.root}")
        tmp = os.path.join(os.path.dirname(src), f".file-records-{uuid.uuid4().hex}.restoring")
        ctx.log("restore_intent", st, tmp=tmp, src=src)
        copied = copy_exclusive(dest, tmp)
        if copied != st.sha:
            unlink_quiet(tmp)
            raise RowFailed(f"archived copy {dest} changed while being restored")
        try:
            place_no_clobber(tmp, src)
        except FileExistsError:
            unlink_quiet(tmp)
            raise RowRefused(f"{src} appeared while restoring; not overwriting it") from None
        if sha256_file(src) != st.sha:
            raise RowFailed(f"restored {src} does not match the journalled hash")
        ctx.log("restored", st, src=src)
        ctx.fire("after_restore", row)
    else:
        unlink_quiet(st.restore_tmp)
    notes = []
    if st.stub or st.stub_candidate:
        stub = st.stub or st.stub_candidate
        data = read_small(stub) if stub and os.path.lexists(stub) else None
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
        rmdir_quiet(os.path.dirname(dest))
        ctx.log("archive_removed", st, dest=dest)
    ctx.log("undone", st, src=src)
    msg = ("restored " if not source_there else "source was in place; removed archive copy for ") + src
    if notes:
        msg += " (" + "; ".join(notes) + ")"
    return RowResult(row.row, row.path, DONE, msg, src, dest, st.stub)


def _prove(st: RowState, result: RowResult, proof: ProofLog, pctx: ProofContext, journal: Optional[Journal],
           jpath: str) -> None:
    done = result.status == DONE
    size = None
    for candidate in (st.src, st.dest):
        if candidate and os.path.isfile(candidate) and not os.path.islink(candidate):
            size = os.path.getsize(candidate)
            break
    record = make_record(
        pctx, run_id=journal.run_id if journal is not None else None, action=UNDO,
        outcome=OUTCOME_DONE if done else OUTCOME_FAILED, reason=None if done else result.message,
        policy=st.policy, source_system=st.source_system, datasource_name=st.datasource_name,
        file_id=st.file_id, path=st.path, local_path=st.src, content_sha256=st.sha, size=size,
        archive_location=st.dest, stub_path=st.stub, journal=jpath, plan_row=st.row,
    )
    try:
        result.proof = proof.append(record)
    except OSError as exc:
        result.message += f"; its proof record could not be written ({describe(exc)})"
        if done:
            result.status = FAILED
