"""The seeded generator of synthetic Data X-Ray file records (the mix is described in
:mod:`~file_records.emulators.dxr_corpus`, the public entry point).

Seed-dependent pools (folders, accounts, phrases, pre-rendered annotator and entitlement variants) are
built once per seed (:mod:`~file_records.emulators.dxr_pools`); :func:`generate` then draws every record
from them and from :mod:`~file_records.emulators.dxr_vocab`, optimised for speed (lookup tables, cached
timestamp parts, optional pre-rendered ``orjson.Fragment`` sub-objects).
"""

from __future__ import annotations

import binascii
import math
import random
import time
from collections.abc import Iterator
from datetime import datetime, timezone

import orjson

from file_records.emulators.dxr_pools import pools as seed_pools
from file_records.emulators.dxr_vocab import (
    DEFAULT_NOW,
    DLP_IDS,
    DLP_NAMES,
    EXTRACTORS,
    FILE_TYPES,
    LABEL_IDS,
    LABEL_NAMES,
    NAME_WORDS,
    stable_uuid,
)

__all__ = ["FRAGMENTS_SUPPORTED", "format_ts", "generate", "generate_records"]


_SECONDS_PER_DAY = 86400.0
_MAX_AGE = 12 * 365.25 * _SECONDS_PER_DAY
_NEW_WINDOW = 30 * _SECONDS_PER_DAY


def format_ts(ts: float) -> str:
    """Seconds since the epoch -> ``YYYY-MM-DDTHH:MM:SSZ``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(ts)))


_B64_URLSAFE = bytes.maketrans(b"+/", b"-_")
_Fragment = getattr(orjson, "Fragment", None)
#: ``orjson.Fragment`` exists (orjson >= 3.9): :func:`generate` can pre-render repeated sub-objects.
FRAGMENTS_SUPPORTED = _Fragment is not None
_HMS: list[str] = []


def _hms_table() -> list[str]:
    if not _HMS:
        _HMS.extend(f"{h:02d}:{m:02d}:{s:02d}Z" for h in range(24) for m in range(60) for s in range(60))
    return _HMS


class _TsFormatter:
    """Fast ``YYYY-MM-DDTHH:MM:SSZ`` formatting (per-day cache of the date part + table of times of day)."""

    def __init__(self):
        self._days: dict[int, str] = {}
        self._hms = _hms_table()

    def __call__(self, ts: int) -> str:
        day, sec = divmod(int(ts), 86400)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = time.strftime("%Y-%m-%dT", time.gmtime(day * 86400))
            self._days[day] = prefix
        return prefix + self._hms[sec]


def _identity(x):
    return x


def generate(
    count: int, seed: int, now: datetime | None, fragments: bool, label_sink: set | None = None
) -> Iterator[dict]:
    """The generator behind :func:`generate_records` and the line renderers of ``dxr_corpus``.

    With ``fragments=True`` repeated sub-objects (datasource, accounts, labels, annotators, entitlements) are
    pre-rendered ``orjson.Fragment`` objects: ``orjson.dumps`` of such a record gives exactly the bytes of the
    plain-dict record, but faster. Both modes draw the same random numbers in the same order.
    """
    if count < 0:
        raise ValueError("count must be >= 0")
    if now is None:
        now = DEFAULT_NOW
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    now_ts = float(int(now.timestamp()))
    pools = seed_pools(seed)
    rng = random.Random(f"dxr-corpus:{seed}")
    rnd = rng.random
    getrandbits = rng.getrandbits
    b2a = binascii.b2a_base64
    b64tr = _B64_URLSAFE
    log = math.log
    exp = math.exp
    fmt = _TsFormatter()
    day_prefix = fmt._days
    hms = fmt._hms

    def day_of(ts: int) -> str:
        fmt(ts)
        return day_prefix[ts // 86400]

    dumps = orjson.dumps
    if fragments:
        frag = _Fragment

        def render(obj):
            return frag(dumps(obj))

        account = _identity
    else:
        render = None
        account = dict.copy

    # Per-datasource output objects (dicts to copy, or fragments).
    ds_out = []
    for ds in pools.ds:
        ds_dict = {"id": ds["id"], "name": ds["name"], "connector": ds["connector"]}
        users = ds["users"]
        if fragments:
            users = [render(u) for u in users]
            ds_obj = render(ds_dict)
        else:
            ds_obj = ds_dict
        ds_out.append((ds_obj, ds["folders"], len(ds["folders"]), users, len(users)))

    ann_json = pools.annotator_variants
    n_ann_variants = len(ann_json)
    who_json = [ds["entitlement_variants"] for ds in pools.ds]
    n_who_variants = len(who_json[0])
    loads = orjson.loads
    if fragments:
        ann_frags = [frag(b) for b in ann_json]
        who_frags = [[frag(b) for b in variants] for variants in who_json]

        def annotators_of(k):
            return ann_frags[k]

        def entitlements_of(d, k):
            return who_frags[d][k]

    else:

        def annotators_of(k):
            return loads(ann_json[k])

        def entitlements_of(d, k):
            return loads(who_json[d][k])

    label_objs = {}
    for name in LABEL_NAMES:
        lab = {"id": LABEL_IDS[name], "name": name}
        label_objs[name] = render(lab) if fragments else lab

    ds_table = pools.ds_table
    n_ds_table = len(ds_table)
    type_table = pools.type_table
    n_type_table = len(type_table)
    label_table = pools.label_table
    n_label_table = len(label_table)
    mes_table = pools.mes_table
    n_mes = len(mes_table)
    stems = pools.stems
    n_stems = len(stems)
    ustems = pools.ustems
    n_ustems = len(ustems)
    words = NAME_WORDS
    n_words = len(words)
    ftypes = [(ext, mime, log(max(lo, 1)), log(hi)) for ext, mime, _w, lo, hi in FILE_TYPES]
    dlp_ids = DLP_IDS
    n_dlp = len(DLP_NAMES)
    extractor_ids = {name: stable_uuid("extractor", name) for name, _t, _v in EXTRACTORS}
    rot_cutoff = now_ts - 7 * 365 * _SECONDS_PER_DAY

    # Duplicate groups: index -> list of templates scheduled to be emitted as copies at that index.
    pending: dict[int, list[tuple]] = {}
    dup_window = 2000

    for i in range(count):
        copies = pending.pop(i, None)
        template = None
        if copies:
            template = copies[0]
            if len(copies) > 1:
                pending.setdefault(i + 1, []).extend(copies[1:])

        if template is not None and rnd() < 0.7:
            ds_index = template[6]
        else:
            ds_index = ds_table[int(rnd() * n_ds_table)]
        ds_obj, folders, n_folders, users, n_users = ds_out[ds_index]
        folder = folders[int(rnd() * n_folders)]

        rot_name = False
        if template is not None:
            t_name, stem, ext, mime, size, sha, _ds, t_created = template
            v = rnd()
            if v < 0.5:
                file_name = t_name
            elif v < 0.75:
                file_name = f"{stem} (1).{ext}"
            elif v < 0.9:
                file_name = f"Copy of {t_name}"
            else:
                file_name = f"{stem} - Copy.{ext}"
            created_ts = t_created + rnd() * (now_ts - t_created)
            scan_depth = "DISCOVERY_AND_CLASSIFICATION"
        else:
            ext, mime, llo, lhi = ftypes[type_table[int(rnd() * n_type_table)]]
            if rnd() < 0.07:
                stem = ustems[int(rnd() * n_ustems)]
            else:
                stem = stems[int(rnd() * n_stems)]
            v = rnd()
            if v < 0.3:
                base = f"{stem}-{2014 + int(rnd() * 13)}"
            elif v < 0.5:
                base = f"{stem}_{words[int(rnd() * n_words)]}"
            elif v < 0.6:
                base = f"{stem} v{1 + int(rnd() * 9)}"
            elif v < 0.7:
                base = f"{stem}-{2018 + int(rnd() * 9)}-Q{1 + int(rnd() * 4)}"
            else:
                base = f"{stem}-{int(rnd() * 1000):03d}"
            # Size: ~0.5 % empty files, otherwise log-uniform within the type's range.
            if rnd() < 0.005:
                size = 0
            else:
                size = int(exp(llo + rnd() * (lhi - llo)))
            if rnd() < 0.04:
                # Temp / backup files (ROT candidates).
                rot_name = True
                w = rnd()
                if w < 0.35:
                    base, ext = "~$" + base, "docx"
                    mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                    size = 162
                elif w < 0.6:
                    ext, mime = "tmp", "application/octet-stream"
                elif w < 0.85:
                    base, ext, mime = f"{base}.{ext}", "bak", "application/octet-stream"
                else:
                    base, ext, mime = f"~WRL{int(rnd() * 10000):04d}", "tmp", "application/octet-stream"
            stem = base
            file_name = f"{base}.{ext}"
            # Timestamps: ~10 % new (last 30 days), rest up to 12 years old (skewed towards recent).
            if rnd() < 0.1:
                created_ts = now_ts - rnd() * _NEW_WINDOW
            else:
                created_ts = now_ts - _NEW_WINDOW - (rnd() ** 1.3) * (_MAX_AGE - _NEW_WINDOW)
            scan_depth = "DISCOVERY" if rnd() < 0.05 else "DISCOVERY_AND_CLASSIFICATION"
            if scan_depth == "DISCOVERY" or rnd() < 0.06:
                sha = None
            else:
                sha = f"{getrandbits(256):064x}"

        created_ts = int(created_ts)
        if rnd() < 0.35:
            modified_ts = created_ts
        else:
            modified_ts = int(created_ts + (rnd() ** 2) * (now_ts - created_ts))

        rec = {
            "datasource": ds_obj
            if fragments
            else {"id": ds_obj["id"], "name": ds_obj["name"], "connector": ds_obj["connector"].copy()},
            "fileName": file_name,
            # 120 random bits -> 20 URL-safe chars (collision probability for 10^6 ids ~ 1e-24).
            "fileId": b2a(getrandbits(120).to_bytes(15, "big"), newline=False).translate(b64tr).decode(),
            "path": f"{folder}/{file_name}",
            "size": size,
            "mimeType": mime,
            "createdAt": (day_prefix.get(created_ts // 86400) or day_of(created_ts))
            + hms[created_ts % 86400],
            "lastModifiedAt": (day_prefix.get(modified_ts // 86400) or day_of(modified_ts))
            + hms[modified_ts % 86400],
        }
        if sha is not None:
            rec["contentSha256"] = sha
        rec["scanDepth"] = scan_depth

        classified = scan_depth == "DISCOVERY_AND_CLASSIFICATION"
        if classified:
            mes = mes_table[int(rnd() * n_mes)]
        else:
            mes = "UNSUPPORTED_MIME_TYPE" if rnd() < 0.5 else None
        if mes is not None:
            rec["metadataExtractionStatus"] = mes

        # Labels.
        if rot_name:
            names = ["ROT"] if rnd() < 0.7 else []
        else:
            names = []
            v = rnd()
            n_labels = 0 if v < 0.55 else (1 if v < 0.9 else 2)
            if n_labels and created_ts < rot_cutoff and rnd() < 0.1:
                names.append("ROT")
                n_labels -= 1
            for _ in range(n_labels):
                name = label_table[int(rnd() * n_label_table)]
                if name not in names:
                    names.append(name)
        if label_sink is not None and names:
            label_sink.update(names)
        if fragments:
            rec["labels"] = [label_objs[n] for n in names]
        else:
            rec["labels"] = [label_objs[n].copy() for n in names]

        # DLP labels (~20 %).
        if rnd() < 0.2:
            dname = DLP_NAMES[int(rnd() * n_dlp)]
            dlp = {"id": dlp_ids[dname], "dlpSystem": "PURVIEW"}
            if rnd() < 0.9:
                dlp["name"] = dname
            dlp["type"] = "APPLIED" if rnd() < 0.7 else "ASSIGNED"
            rec["dlpLabels"] = [dlp]

        # Extracted metadata (~8 % of classified documents).
        if classified and (ext == "pdf" or ext == "docx" or ext == "doc") and rnd() < 0.3:
            em = []
            for name, typ, values in EXTRACTORS:
                if rnd() < 0.6:
                    em.append(
                        {
                            "id": extractor_ids[name],
                            "name": name,
                            "value": values[int(rnd() * len(values))],
                            "type": typ,
                        }
                    )
            if em:
                rec["extractedMetadata"] = em

        # Annotators: classified rows only; non-empty ~55 %, [] ~10 %, absent ~35 %.
        if classified:
            v = rnd()
            if v < 0.55:
                rec["annotators"] = annotators_of(int(rnd() * n_ann_variants))
            elif v < 0.65:
                rec["annotators"] = []

        # Entitlements: 1-4 accounts, ~12 % include the GROUP Everyone.
        rec["entitlements"] = entitlements_of(ds_index, int(rnd() * n_who_variants))

        # Owner (~40 %), createdBy (~35 %), modifiedBy (~40 %).
        owner = None
        if rnd() < 0.4:
            owner = users[int(rnd() * n_users)]
            rec["owner"] = account(owner)
        if rnd() < 0.35:
            rec["createdBy"] = account(
                owner if owner is not None and rnd() < 0.8 else users[int(rnd() * n_users)]
            )
        if rnd() < 0.4:
            rec["modifiedBy"] = account(
                owner if owner is not None and rnd() < 0.6 else users[int(rnd() * n_users)]
            )

        # Coordinates (~30 % of JPEGs).
        if ext == "jpg" and rnd() < 0.3:
            coords = {
                "lat": round(-60 + rnd() * 130, 4),
                "lon": round(-180 + rnd() * 360, 4),
                "mapDatum": "WGS84",
            }
            if rnd() < 0.6:
                coords["alt"] = int(rnd() * 2500)
            rec["coordinates"] = coords

        # Maybe start a duplicate group from this (hashed, original) record.
        if template is None and sha is not None and rnd() < 0.054:
            remaining = count - i - 1
            if remaining > 0:
                window = dup_window if dup_window < remaining else remaining
                n_copies = 1 + int(rnd() * 4)
                tpl = (file_name, stem, ext, mime, size, sha, ds_index, float(created_ts))
                for _ in range(n_copies):
                    pending.setdefault(i + 1 + int(rnd() * window), []).append(tpl)

        yield rec


def generate_records(count: int, seed: int = 7, now: datetime | None = None) -> Iterator[dict]:
    """Yield ``count`` synthetic file records (fresh plain dicts); deterministic for (count, seed, now)."""
    return generate(count, seed, now, fragments=False)
