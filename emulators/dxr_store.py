"""The emulator's rendered corpus: one buffer of newline-terminated JSON lines plus an offsets array.

No per-line objects are kept, so a million records cost little more than their bytes. This module
builds the buffer (:func:`build_corpus`), evaluates a parsed query over it (:func:`evaluate`, with a
byte-level prefilter for orjson-rendered lines), finds the labels it uses (:func:`corpus_labels`) and
writes slices of it as HTTP chunks (:func:`write_rows`). The match-all query streams ~1 MiB slices of
the buffer zero-copy without parsing; the HTTP side is :mod:`file_records.emulators.dxr_server`.
"""

from __future__ import annotations

import bisect
import time
from array import array
from collections.abc import Iterable

import orjson

from file_records.emulators.dxr_corpus import collect_labels, generate_records

__all__ = [
    "Corpus",
    "build_corpus",
    "corpus_labels",
    "evaluate",
    "prefilter_literals",
    "write_chunk",
    "write_rows",
]


class Corpus:
    """Immutable rendered corpus: blob of newline-terminated lines + offsets (len n+1)."""

    __slots__ = ("blob", "offs", "n", "labels", "trusted")

    def __init__(self, blob: bytearray, offs: array, labels: dict[str, str] | None, trusted: bool):
        self.blob = blob
        self.offs = offs
        self.n = len(offs) - 1
        self.labels = labels  # name -> id, or None if unknown yet (lines given)
        self.trusted = trusted  # lines rendered by orjson here (allows the byte-level prefilter)

    def line(self, i: int) -> bytes:
        return bytes(self.blob[self.offs[i] : self.offs[i + 1]])


def build_corpus(records: Iterable[dict] | None, lines: Iterable[bytes] | None) -> Corpus:
    """Render once into one buffer (each line + ``\\n``) and an offsets array; no per-line objects kept."""
    if records is not None and lines is not None:
        raise ValueError("pass either records or lines, not both")
    buf = bytearray()
    offs = array("q", [0])
    add_off = offs.append
    labels: dict[str, str] | None
    if lines is None:
        if records is None:
            records = generate_records(1000)  # default corpus: 1000 records, seed 7
        dumps = orjson.dumps
        labels = {}
        for r in records:
            buf += dumps(r)
            buf += b"\n"
            add_off(len(buf))
            collect_labels(r, labels)
        trusted = True
    else:
        trusted = bool(getattr(lines, "orjson_rendered", False))
        for ln in lines:
            if isinstance(ln, str):
                ln = ln.encode("utf-8")
            if ln.endswith(b"\n"):
                ln = ln.rstrip(b"\r\n")
            if b"\n" in ln:
                raise ValueError("a line must not contain a newline")
            buf += ln
            buf += b"\n"
            add_off(len(buf))
        labels = getattr(lines, "labels", None)  # RenderedLines / LineStream know their labels
        labels = dict(labels) if labels is not None else None
    return Corpus(buf, offs, labels, trusted)


def prefilter_literals(pred) -> list[str]:
    """Lower-cased ASCII literals that every matching line must contain (after lower-casing the line).

    Sound for orjson-rendered lines only: a matching value ``v`` satisfies ``lower(v) ⊇ lower(literal)``,
    ``v`` appears verbatim in the line (orjson escapes only ``"``, ``\\`` and control characters, which the
    literals exclude), and ``str.lower`` works per character, so ``lower(line) ⊇ lower(literal)``.
    """
    out = set()
    for lit in pred.required_literals():
        if lit and lit.isascii() and lit.isprintable() and '"' not in lit and "\\" not in lit:
            out.add(lit.lower())
    # longest first: usually the most selective test
    return sorted(out, key=len, reverse=True)


def evaluate(corpus: Corpus, pred) -> array | None:
    """Indexes of the lines matching ``pred`` (``None`` = every line), in corpus order."""
    lits = prefilter_literals(pred) if corpus.trusted else []
    blits = [lit.encode("ascii") for lit in lits]
    blob, offs = corpus.blob, corpus.offs
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    out = array("q")
    append = out.append
    i = -1
    for a, b in zip(offs, offs[1:]):  # noqa: B905 - offs[1:] is one shorter
        i += 1
        line = blob[a:b]
        if lits:
            if line.isascii():  # bytearray methods, same semantics as bytes
                low = line.lower()
                if not all(lit in low for lit in blits):
                    continue
            else:
                try:
                    slow = line.decode("utf-8").lower()
                except UnicodeDecodeError:
                    continue
                if not all(lit in slow for lit in lits):
                    continue
        try:
            rec = loads(line)
        except decode_error:
            continue
        if isinstance(rec, dict) and pred(rec):
            append(i)
    if len(out) == corpus.n:
        return None
    return out


def corpus_labels(corpus: Corpus) -> dict[str, str]:
    """Label name -> id of every label in the corpus (decodes every line once, if not known yet)."""
    if corpus.labels is None:
        labels: dict[str, str] = {}
        for a, b in zip(corpus.offs, corpus.offs[1:]):  # noqa: B905
            try:
                rec = orjson.loads(corpus.blob[a:b])
            except orjson.JSONDecodeError:
                continue
            labs = rec.get("labels") if isinstance(rec, dict) else None
            if isinstance(labs, list):
                for lab in labs:
                    if isinstance(lab, dict) and isinstance(lab.get("name"), str):
                        labels.setdefault(lab["name"], lab.get("id"))
        corpus.labels = labels
    return corpus.labels


def write_rows(w, corpus: Corpus, order: array | None, a: int, b: int, chunk_bytes: int, latency: float):
    """Write lines ``a..b`` (of ``order``, or of the corpus) as HTTP chunks of about ``chunk_bytes``."""
    offs = corpus.offs
    blob = corpus.blob
    sleep = time.sleep
    if order is None:
        mv = memoryview(blob)
        while a < b:
            # smallest c > a with offs[c] - offs[a] >= chunk_bytes (or b)
            c = bisect.bisect_left(offs, offs[a] + chunk_bytes, a + 1, b)
            if latency:
                sleep(latency)
            write_chunk(w, mv[offs[a] : offs[c]])
            a = c
        return
    parts: list[bytes] = []
    size = 0
    for idx in order[a:b]:
        line = blob[offs[idx] : offs[idx + 1]]
        parts.append(line)
        size += len(line)
        if size >= chunk_bytes:
            if latency:
                sleep(latency)
            write_chunk(w, b"".join(parts))
            parts, size = [], 0
    if parts:
        if latency:
            sleep(latency)
        write_chunk(w, b"".join(parts))


def write_chunk(w, data) -> None:
    """One HTTP/1.1 chunk (size line, data, CRLF); empty data writes nothing."""
    n = len(data)
    if n == 0:
        return  # a zero-length chunk would be the terminator
    if n < 65536:
        w.write(b"%x\r\n" % n + bytes(data) + b"\r\n")
    else:
        w.write(b"%x\r\n" % n)
        w.write(data)
        w.write(b"\r\n")
