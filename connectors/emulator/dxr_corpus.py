"""Seeded synthetic corpus of Data X-Ray file records (``GET /api/v1/files`` rows).

Every record has the JSON shape of the contract (``/work/shared/docs/dxr-api.md`` §3): camelCase keys,
ISO-8601 UTC timestamps with second precision and a trailing ``Z``, optional fields genuinely absent on some
rows.

Determinism: ``generate_records(count, seed, now)`` yields identical records for identical arguments. ``now``
defaults to the fixed instant :data:`DEFAULT_NOW` (2026-11-01T00:00:00Z) so tests are stable.

Stable identifiers (independent of the seed): datasource ids (:data:`DATASOURCES`), label ids
(:data:`LABEL_IDS`), annotator/domain ids and DLP label ids are UUIDv5 values derived from their names.

Mix (approximate shares of records):

* 6 datasources: SharePoint, SMB, Box, S3, OneDrive, Google Drive.
* ~15 % of files are in a duplicate group (same ``contentSha256``, size and mime type; 2-5 members; same file
  name in another folder, ``name (1).ext``, ``Copy of name`` or ``name - Copy.ext``).
* ~10 % without ``contentSha256`` (all ``DISCOVERY``-only rows, ~5 %, plus ~5 % classified rows).
* ~60 % without ``owner``; ~80 % without ``dlpLabels``; ``annotators`` absent or ``[]`` on many rows.
* ~12 % readable by the GROUP ``Everyone``; ~4 % temp/backup names (``~$x.docx``, ``.tmp``, ``.bak``), mostly
  labelled ``ROT``.
* created up to 12 years before ``now``; ~10 % created in the last 30 days.
* unicode folders and names (``Zürich``, ``日本語``, ``Ωmega``, emoji).
* sizes log-uniform per file type, 0 bytes to ~4.5 GB.

Records are fresh dicts (no sub-object is shared between two records), so callers may mutate them. For speed
the bulky nested parts (``annotators`` lists, ``entitlements``) are drawn from per-seed pools of 4096 / 512
(per datasource) pre-generated variants.

API: :func:`generate_records` (dicts), :func:`render_lines` (dicts -> orjson lines), :func:`generate_lines`
(same bytes as ``render_lines(generate_records(...))``, faster), :func:`iter_lines` (lazy version, for
``DxrEmulator(lines=iter_lines(1_000_000))``), :func:`demo_records` + :data:`DEMO_MALFORMED_LINES`
(data-quality demo), :func:`label_classifications` (``/api/v1/classifications`` payload).
"""

from __future__ import annotations

import binascii
import functools
import math
import random
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

__all__ = [
    "DEFAULT_NOW",
    "DATASOURCES",
    "LABEL_NAMES",
    "LABEL_IDS",
    "DEMO_BAD_RECORD_IDS",
    "DEMO_MALFORMED_LINES",
    "generate_records",
    "generate_lines",
    "iter_lines",
    "LineStream",
    "RenderedLines",
    "demo_records",
    "collect_labels",
    "render_lines",
    "label_classifications",
]

DEFAULT_NOW = datetime(2026, 11, 1, 0, 0, 0, tzinfo=timezone.utc)

_NS = uuid.UUID("6f1c4b0e-2d7a-4c55-9b1e-8d0f3a2c5e71")


def _stable_uuid(kind: str, name: str) -> str:
    return str(uuid.uuid5(_NS, f"{kind}:{name}"))


# ------------------------------------------------------------------------------------------------------------
# Datasources (stable ids)
# ------------------------------------------------------------------------------------------------------------

# (name, connector dict, realmKey, path root (with or without leading "/"), weight)
_DS_SPECS = [
    (
        "Legal SharePoint",
        {
            "type": "SHAREPOINT_ONLINE_GRAPH_API",
            "siteId": "site-4411",
            "siteUrl": "https://contoso.sharepoint.com/sites/legal",
        },
        "MS_SHAREPOINT_API_7297c643",
        "/Shared Documents",
        25,
    ),
    ("Finance NAS", {"type": "NETWORK_DRIVE_SMB"}, "SMB_FINNAS_01", "Finance", 25),
    ("Marketing Box", {"type": "BOX", "userId": "box-svc@example.com"}, "BOX_2209", "/Marketing", 12),
    ("Data Lake S3", {"type": "AMAZON_S3"}, "AWS_S3_042017", "exports", 13),
    (
        "Executive OneDrive",
        {
            "type": "ONEDRIVE_GRAPH_API",
            "siteId": "site-9020",
            "siteUrl": "https://contoso-my.sharepoint.com/personal/exec",
        },
        "MS_ONEDRIVE_API_51c0e2aa",
        "/Documents",
        12,
    ),
    (
        "Zürich Team Drive",
        {"type": "GOOGLE_DRIVE_GOOGLE_WORKSPACE", "userId": "gws-admin@example.com"},
        "GOOGLE_WS_88e1",
        "/My Drive",
        13,
    ),
]

#: The six datasources: list of ``{"id", "name", "connector": {...}}`` (ids stable across seeds and versions).
DATASOURCES: list[dict] = [
    {"id": _stable_uuid("datasource", name), "name": name, "connector": dict(conn)}
    for name, conn, _realm, _root, _w in _DS_SPECS
]

# ------------------------------------------------------------------------------------------------------------
# Labels and other classifications (stable ids)
# ------------------------------------------------------------------------------------------------------------

LABEL_NAMES = [
    "Confidential",
    "Public",
    "Records",
    "Legal hold",
    "ROT",
    "Contract",
    "PII",
    "Internal",
    "Financial",
]
#: label name -> stable UUID
LABEL_IDS: dict[str, str] = {name: _stable_uuid("label", name) for name in LABEL_NAMES}
# Weights for "ordinary" label assignment (ROT is mostly assigned by rule, see below).
_LABEL_WEIGHTS = {
    "Confidential": 18,
    "Public": 12,
    "Records": 14,
    "Legal hold": 4,
    "ROT": 5,
    "Contract": 9,
    "PII": 10,
    "Internal": 22,
    "Financial": 8,
}

_DLP_NAMES = ["Highly Confidential", "Confidential", "General", "Public"]
_DLP_IDS = {name: _stable_uuid("dlp", name) for name in _DLP_NAMES}

# (annotator name, domain name, phrase pool key)
_ANNOTATOR_SPECS = [
    ("Email address", "PII", "email"),
    ("Person name", "PII", "person"),
    ("Phone number", "PII", "phone"),
    ("National ID", "PII", "natid"),
    ("IBAN", "Financially Sensitive", "iban"),
    ("Credit card number", "Financially Sensitive", "card"),
    ("Health condition", "Health", "health"),
    ("Project codename", "Confidential IP", "codename"),
]
_ANNOTATOR_WEIGHTS = [25, 22, 12, 6, 9, 5, 4, 7]

_EXTRACTORS = [
    (
        "Contract Type",
        "TEXT",
        ["NDA", "Master Services Agreement", "Statement of Work", "Lease", "Employment"],
    ),
    ("Contract Value", "NUMBER", [12000, 250000, 1500000, 87500, 4300]),
    ("Signed", "BOOLEAN", [True, False]),
    (
        "Counterparty",
        "TEXT",
        ["Acme Corp", "Globex GmbH", "Initech", "Umbrella plc", "Société Générale Démo"],
    ),
]

_MES_VALUES = [
    ("SUCCESS", 55),
    ("SKIPPED", 25),
    ("UNSUPPORTED_MIME_TYPE", 4),
    ("TEXT_UNAVAILABLE", 3),
    ("DISABLED", 2),
    ("FILTERED", 1),
    ("UNKNOWN_ERROR", 1),
    ("DOCUMENT_BINARY_UNAVAILABLE", 1),
    (None, 8),  # absent
]

# ------------------------------------------------------------------------------------------------------------
# File types: (extension, mime type, weight, min bytes, max bytes)
# ------------------------------------------------------------------------------------------------------------

_FILE_TYPES = [
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        20,
        8_000,
        25_000_000,
    ),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 12, 6_000, 60_000_000),
    (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        6,
        30_000,
        250_000_000,
    ),
    ("pdf", "application/pdf", 20, 2_000, 120_000_000),
    ("txt", "text/plain", 4, 1, 5_000_000),
    ("csv", "text/csv", 5, 10, 900_000_000),
    ("jpg", "image/jpeg", 8, 5_000, 25_000_000),
    ("png", "image/png", 5, 200, 15_000_000),
    ("mp4", "video/mp4", 2, 500_000, 4_500_000_000),
    ("zip", "application/zip", 3, 100, 4_000_000_000),
    ("msg", "application/vnd.ms-outlook", 4, 3_000, 40_000_000),
    ("eml", "message/rfc822", 2, 1_000, 30_000_000),
    ("doc", "application/msword", 2, 10_000, 20_000_000),
    ("xls", "application/vnd.ms-excel", 1, 10_000, 30_000_000),
    ("json", "application/json", 2, 2, 200_000_000),
    ("log", "text/plain", 1, 0, 2_000_000_000),
    ("iso", "application/x-iso9660-image", 0.3, 50_000_000, 4_700_000_000),
]

_ASCII_STEMS = [
    "report",
    "budget",
    "board-minutes",
    "contract",
    "invoice",
    "payroll",
    "roadmap",
    "presentation",
    "plan",
    "policy",
    "meeting-notes",
    "scan",
    "draft",
    "summary",
    "agenda",
    "proposal",
    "forecast",
    "audit",
    "msa-acme",
    "nda-globex",
    "org-chart",
    "onboarding",
    "handbook",
    "expenses",
    "timesheet",
    "press-release",
    "brand-guide",
    "sales-pipeline",
    "customer-list",
    "vendor-master",
    "tax-return",
    "risk-register",
    "incident-log",
    "backup",
    "export",
    "datadump",
    "specification",
    "requirements",
    "design",
    "test-plan",
    "release-notes",
    "minutes",
    "quarterly-review",
    "annual-report",
    "due-diligence",
    "lease-agreement",
    "offer-letter",
    "performance-review",
    "benefits",
    "pension",
    "IMG",
    "DSC",
    "Screenshot",
    "Scan",
    "Untitled",
    "Document",
    "Book1",
    "Presentation1",
]
_UNICODE_STEMS = [
    "Prüfbericht",
    "Zürich Büro",
    "見積書",
    "日本語の資料",
    "Ωmega-spec",
    "résumé",
    "🎉 launch",
    "Привет-отчёт",
    "año-fiscal",
    "Straße-Plan",
    "Øresund-kort",
    "Ελληνικά",
    "naïve-café",
    "📊 KPIs",
    "データ",
]
_NAME_WORDS = [
    "final",
    "v2",
    "signed",
    "draft",
    "old",
    "copy",
    "FINAL",
    "approved",
    "review",
    "internal",
    "scan",
]

_FOLDER_PARTS = [
    "Board",
    "Contracts",
    "HR",
    "Personnel",
    "Payroll",
    "Archive",
    "Projects",
    "Clients",
    "Invoices",
    "Reports",
    "Compliance",
    "Audit",
    "Legal",
    "Policies",
    "Templates",
    "Marketing",
    "Campaigns",
    "Brand",
    "Sales",
    "Tax",
    "2014",
    "2016",
    "2018",
    "2019",
    "2020",
    "2021",
    "2022",
    "2023",
    "2024",
    "2025",
    "2026",
    "Q1",
    "Q2",
    "Q3",
    "Q4",
    "Old",
    "Backup",
    "Misc",
    "Shared",
    "Team",
    "Temp",
    "Exports",
    "Scans",
    "Photos",
    "Recordings",
    "Copies",
]
_UNICODE_FOLDER_PARTS = [
    "Zürich",
    "日本語",
    "Ωmega",
    "Café Noël",
    "📁 Archive",
    "Résumés",
    "Привет",
    "São Paulo",
    "Kraków",
    "🚀 Launch",
]

_FIRST = [
    "Dana",
    "Lee",
    "Alex",
    "Sam",
    "Maria",
    "John",
    "Priya",
    "Chen",
    "Fatima",
    "Olga",
    "Aiko",
    "Mateus",
    "Noor",
    "Ravi",
    "Emma",
    "Lukas",
]
_UNICODE_FIRST = ["Zoë", "José", "Søren", "Amélie", "Łukasz"]
_LAST = [
    "Ruiz",
    "Park",
    "Smith",
    "Kowalski",
    "Nguyen",
    "Okafor",
    "Tanaka",
    "Jensen",
    "O'Brien",
    "Rossi",
    "Kim",
    "Dubois",
    "Schmidt",
    "Patel",
    "Johansson",
    "Costa",
]
_UNICODE_LAST = ["Müller", "Álvarez", "Lévesque", "Ivanova-Šimek", "田中"]
_GROUP_NAMES = [
    "Legal Team",
    "Finance",
    "HR",
    "All Staff",
    "Contractors",
    "Executives",
    "Marketing",
    "IT Admins",
]

_ANNOTATOR_VARIANTS = 4096
_WHO_VARIANTS = 512
_SECONDS_PER_DAY = 86400.0
_MAX_AGE = 12 * 365.25 * _SECONDS_PER_DAY
_NEW_WINDOW = 30 * _SECONDS_PER_DAY


def _fmt_ts(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(ts)))


def _weighted_table(items, weights, size=1000) -> list:
    """Lookup table so that ``table[int(random() * len(table))]`` is a weighted draw (fast)."""
    total = float(sum(weights))
    table = []
    for item, w in zip(items, weights, strict=True):
        table.extend([item] * max(1, round(size * w / total)))
    return table


class _Pools:
    """Seed-dependent pools (folders, accounts, phrases) built once per generator."""

    def __init__(self, seed: int):
        rng = random.Random(f"dxr-corpus-pools:{seed}")
        self.ds = []
        for ds_index, (name, conn, realm, root, _w) in enumerate(_DS_SPECS):
            ds_id = DATASOURCES[ds_index]["id"]
            folders = set()
            while len(folders) < 60:
                depth = 1 + int(rng.random() * 4)
                parts = [
                    rng.choice(_UNICODE_FOLDER_PARTS) if rng.random() < 0.05 else rng.choice(_FOLDER_PARTS)
                    for _ in range(depth)
                ]
                folders.add(root + "/" + "/".join(parts))
            folders = sorted(folders)
            rng.shuffle(folders)
            # Accounts of the datasource's realm.
            users = []
            for u in range(40):
                first = rng.choice(_UNICODE_FIRST) if rng.random() < 0.08 else rng.choice(_FIRST)
                last = rng.choice(_UNICODE_LAST) if rng.random() < 0.08 else rng.choice(_LAST)
                acc = {
                    "id": f"acc-{ds_index + 1}{u:03d}",
                    "accountType": "USER",
                    "realmAccountId": f"usr-{rng.randrange(1000, 99999)}",
                    "realmKey": realm,
                    "accountSubType": "USER",
                    "name": f"{first} {last}",
                }
                if rng.random() < 0.9:
                    local = (first + "." + last).lower().replace("'", "").replace(" ", "")
                    acc["email"] = f"{local}@example.com"
                users.append(acc)
            groups = []
            for g, gname in enumerate(_GROUP_NAMES):
                groups.append(
                    {
                        "id": f"acc-{ds_index + 1}9{g:02d}",
                        "accountType": "GROUP",
                        "realmAccountId": f"grp-{gname.lower().replace(' ', '-')}",
                        "realmKey": realm,
                        "accountSubType": "GROUP",
                        "name": gname,
                    }
                )
            everyone = {
                "id": f"acc-{ds_index + 1}000",
                "accountType": "GROUP",
                "realmAccountId": "S-1-1-0" if conn["type"] == "NETWORK_DRIVE_SMB" else "everyone",
                "realmKey": realm,
                "accountSubType": "GROUP",
                "name": "Everyone",
            }
            self.ds.append(
                {
                    "id": ds_id,
                    "name": name,
                    "connector": conn,
                    "folders": folders,
                    "users": users,
                    "groups": groups,
                    "everyone": everyone,
                }
            )
        self.ds_table = _weighted_table(range(len(_DS_SPECS)), [s[4] for s in _DS_SPECS])
        self.type_table = _weighted_table(range(len(_FILE_TYPES)), [t[2] for t in _FILE_TYPES])
        self.label_table = _weighted_table(list(_LABEL_WEIGHTS), list(_LABEL_WEIGHTS.values()))
        self.annotator_table = _weighted_table(range(len(_ANNOTATOR_SPECS)), _ANNOTATOR_WEIGHTS)
        self.mes_table = _weighted_table([v for v, _ in _MES_VALUES], [w for _, w in _MES_VALUES])

        people = [
            f"{first} {last}" for first in _FIRST + _UNICODE_FIRST[:2] for last in _LAST + _UNICODE_LAST[:2]
        ]
        self.phrases = {
            "email": [
                f"{p.lower().replace(' ', '.').replace(chr(39), '')}@{d}"
                for p, d in zip(
                    rng.sample(people, 150),
                    (["acme.example", "example.com", "globex.example"] * 50),
                    strict=True,
                )
            ],
            "person": rng.sample(people, 150),
            "phone": [
                f"+{rng.choice([1, 41, 44, 49, 81])} {rng.randrange(100, 999)} "
                f"{rng.randrange(1000000, 9999999)}"
                for _ in range(150)
            ],
            "natid": [
                f"{rng.randrange(100, 999)}-{rng.randrange(10, 99)}-{rng.randrange(1000, 9999)}"
                for _ in range(150)
            ],
            "iban": [
                f"{rng.choice(['GB', 'DE', 'CH', 'FR'])}{rng.randrange(10, 99)}"
                f"BANK{rng.randrange(10**13, 10**14)}"
                for _ in range(150)
            ],
            "card": [f"4{rng.randrange(10**14, 10**15)}" for _ in range(150)],
            "health": [
                "diabetes",
                "asthma",
                "hypertension",
                "pregnancy",
                "depression",
                "allergy",
                "migraine",
            ],
            "codename": ["Project Falcon", "Ωmega", "Blue Harbor", "Nightjar", "Project Zürich", "北極星"],
        }
        self.annotators = [
            {
                "id": _stable_uuid("annotator", name),
                "name": name,
                "domain": {"id": _stable_uuid("domain", domain), "name": domain},
                "pool": self.phrases[key],
            }
            for name, domain, key in _ANNOTATOR_SPECS
        ]
        self.stems = _ASCII_STEMS
        self.ustems = _UNICODE_STEMS
        # Pre-rendered variants of the bulky nested parts (picked per record; keeps generation fast).
        self.annotator_variants: list[bytes] = [
            orjson.dumps(self._annotator_list(rng)) for _ in range(_ANNOTATOR_VARIANTS)
        ]
        for ds in self.ds:
            ds["entitlement_variants"] = [
                orjson.dumps({"whoCanAccess": self._who_can_access(rng, ds)}) for _ in range(_WHO_VARIANTS)
            ]

    def _annotator_list(self, rng: random.Random) -> list[dict]:
        rnd = rng.random
        anns = []
        n_ann = 1 + int(rnd() ** 2 * 3)
        seen = []
        for _ in range(n_ann):
            k = self.annotator_table[int(rnd() * len(self.annotator_table))]
            if k in seen:
                continue
            seen.append(k)
            a = self.annotators[k]
            pool = a["pool"]
            if rnd() < 0.02:
                unique, annotations = 0, []  # annotator listed without hit evidence
            else:
                unique = 1 + int(rnd() ** 3 * 60)
                annotations = []
                for _k in range(min(unique, 3)):
                    start = int(rnd() * 50000)
                    locs = [{"start": start, "end": start + 8 + int(rnd() * 20)}]
                    if rnd() < 0.3:
                        s2 = start + 100 + int(rnd() * 40000)
                        locs.append({"start": s2, "end": s2 + 8 + int(rnd() * 20)})
                    annotations.append({"phrase": pool[int(rnd() * len(pool))], "locations": locs})
            anns.append(
                {
                    "id": a["id"],
                    "name": a["name"],
                    "domain": a["domain"],
                    "uniquePhrases": unique,
                    "annotations": annotations,
                }
            )
        return anns

    @staticmethod
    def _who_can_access(rng: random.Random, ds: dict) -> list[dict]:
        rnd = rng.random
        users, groups = ds["users"], ds["groups"]
        who = []
        if rnd() < 0.12:
            who.append(ds["everyone"])
        n_who = 1 + int(rnd() ** 2 * 4)
        for _ in range(n_who):
            acc = groups[int(rnd() * len(groups))] if rnd() < 0.4 else users[int(rnd() * len(users))]
            if acc not in who:
                who.append(acc)
        return who


_B64_URLSAFE = bytes.maketrans(b"+/", b"-_")
_Fragment = getattr(orjson, "Fragment", None)
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


@functools.lru_cache(maxsize=4)
def _pools(seed: int) -> _Pools:
    """Pools are read-only once built; cache them per seed."""
    return _Pools(seed)


def _identity(x):
    return x


def _generate(
    count: int, seed: int, now: datetime | None, fragments: bool, label_sink: set | None = None
) -> Iterator[dict]:
    """The generator behind :func:`generate_records` / :func:`generate_lines`.

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
    pools = _pools(seed)
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
    words = _NAME_WORDS
    n_words = len(words)
    ftypes = [(ext, mime, log(max(lo, 1)), log(hi)) for ext, mime, _w, lo, hi in _FILE_TYPES]
    dlp_ids = _DLP_IDS
    n_dlp = len(_DLP_NAMES)
    extractor_ids = {name: _stable_uuid("extractor", name) for name, _t, _v in _EXTRACTORS}
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
            dname = _DLP_NAMES[int(rnd() * n_dlp)]
            dlp = {"id": dlp_ids[dname], "dlpSystem": "PURVIEW"}
            if rnd() < 0.9:
                dlp["name"] = dname
            dlp["type"] = "APPLIED" if rnd() < 0.7 else "ASSIGNED"
            rec["dlpLabels"] = [dlp]

        # Extracted metadata (~8 % of classified documents).
        if classified and (ext == "pdf" or ext == "docx" or ext == "doc") and rnd() < 0.3:
            em = []
            for name, typ, values in _EXTRACTORS:
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
    return _generate(count, seed, now, fragments=False)


def _compact(b: bytes) -> bytes:
    """Exact-size copy of an orjson output.

    orjson's result keeps its larger allocation (a 1.5 KB line held ~7 KB of RSS in tests), so keeping
    millions of them directly costs ~5x the memory and most of the time (page faults); the copy is cheap and
    the original's block is reused by the next ``dumps``.
    """
    return memoryview(b).tobytes()


class RenderedLines(list):
    """``list[bytes]`` of orjson-rendered records, without newlines.

    Marker type for the emulator: lines rendered by orjson allow its byte-level query prefilter, and
    ``labels`` (label name -> id of every label used) saves it a decoding pass for
    ``/api/v1/classifications``.
    """

    orjson_rendered = True
    labels: dict[str, str] | None = None


class LineStream:
    """Iterator over rendered lines (see :func:`iter_lines`); ``labels`` is filled in once it is exhausted."""

    orjson_rendered = True

    def __init__(self, count: int, seed: int, now: datetime | None):
        self.labels: dict[str, str] | None = None
        self._names: set[str] = set()
        self._it = self._run(count, seed, now)

    def _run(self, count, seed, now):
        dumps = orjson.dumps
        if _Fragment is None:
            for r in _generate(count, seed, now, fragments=False, label_sink=self._names):
                yield dumps(r)
        else:
            for r in _generate(count, seed, now, fragments=True, label_sink=self._names):
                yield dumps(r)
        self.labels = {name: LABEL_IDS[name] for name in sorted(self._names)}

    def __iter__(self):
        return self

    def __next__(self) -> bytes:
        return next(self._it)


def iter_lines(count: int, seed: int = 7, now: datetime | None = None) -> LineStream:
    """Lazily yield the lines of :func:`generate_lines` (nothing is kept; e.g.
    ``DxrEmulator(lines=iter_lines(n))``).
    """
    return LineStream(count, seed, now)


def generate_lines(count: int, seed: int = 7, now: datetime | None = None) -> RenderedLines:
    """Same bytes as ``render_lines(generate_records(count, seed, now))``, roughly 1.5-2x faster."""
    if _Fragment is None:  # old orjson without Fragment
        return render_lines(generate_records(count, seed, now))
    dumps = orjson.dumps
    names: set[str] = set()
    out = RenderedLines(
        _compact(dumps(r)) for r in _generate(count, seed, now, fragments=True, label_sink=names)
    )
    out.labels = {name: LABEL_IDS[name] for name in sorted(names)}
    return out


def render_lines(records: Iterable[dict]) -> RenderedLines:
    """orjson-dump each record; one ``bytes`` per record, without the trailing newline."""
    dumps = orjson.dumps
    out = RenderedLines()
    append = out.append
    labels: dict[str, str] = {}
    for r in records:
        append(_compact(dumps(r)))
        collect_labels(r, labels)
    out.labels = labels
    return out


def collect_labels(record: Any, labels: dict[str, str]) -> None:
    """Add the record's label names -> ids to ``labels`` (the first id seen for a name wins)."""
    labs = record.get("labels") if isinstance(record, dict) else None
    if labs:
        for lab in labs:
            if isinstance(lab, dict):
                name = lab.get("name")
                if isinstance(name, str) and name not in labels:
                    labels[name] = lab.get("id")


# ------------------------------------------------------------------------------------------------------------
# Demo corpus with deliberately bad records
# ------------------------------------------------------------------------------------------------------------

#: kind -> fileId of the deliberately bad record in :func:`demo_records`.
DEMO_BAD_RECORD_IDS: dict[str, str] = {
    "negative_size": "bad-negative-size-01",
    "bad_sha256": "bad-sha256-format-01",
    "modified_before_created": "bad-mod-before-crt-01",
    "modified_in_future": "bad-mod-in-future-01",
    "empty_path": "bad-empty-path-00001",
    "missing_datasource": "bad-no-datasource-01",
}

#: Lines that are not valid JSON. A server may interleave them (never as the last line of a response).
DEMO_MALFORMED_LINES: list[bytes] = [
    b'{"fileId": "broken-1", "fileName": ',
    b'{"fileId":"broken-2","fileName":"x.pdf","size":12,,"labels":[]}',
]

_DEMO_SIZE = 500


def demo_records(seed: int = 7, now: datetime | None = None) -> list[dict]:
    """About 500 realistic records plus six deliberately bad (but valid JSON) records.

    The bad records' fileIds are listed in :data:`DEMO_BAD_RECORD_IDS`. ``now`` as in :func:`generate_records`
    (default :data:`DEFAULT_NOW`); the "future" record is modified ~5 years after ``now``.
    """
    if now is None:
        now = DEFAULT_NOW
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    n_bad = len(DEMO_BAD_RECORD_IDS)
    records = list(generate_records(_DEMO_SIZE, seed=seed, now=now))
    # The bad records are the last generated records, modified (each keeps its other realistic fields).
    base = records[-n_bad:]
    del records[-n_bad:]
    bad: list[dict] = []

    r = base[0]
    r["fileId"] = DEMO_BAD_RECORD_IDS["negative_size"]
    r["size"] = -4096
    bad.append(r)

    r = base[1]
    r["fileId"] = DEMO_BAD_RECORD_IDS["bad_sha256"]
    r["contentSha256"] = "da39a3ee5e6b4b0d3255bfef95601890afd8070Z"  # 40 chars, not hex-only, not 64
    bad.append(r)

    r = base[2]
    r["fileId"] = DEMO_BAD_RECORD_IDS["modified_before_created"]
    r["createdAt"] = "2024-06-01T12:00:00Z"
    r["lastModifiedAt"] = "2023-01-15T08:30:00Z"
    bad.append(r)

    r = base[3]
    r["fileId"] = DEMO_BAD_RECORD_IDS["modified_in_future"]
    r["lastModifiedAt"] = _fmt_ts((now + timedelta(days=5 * 365)).timestamp())
    bad.append(r)

    r = base[4]
    r["fileId"] = DEMO_BAD_RECORD_IDS["empty_path"]
    r["path"] = ""
    bad.append(r)

    r = base[5]
    r["fileId"] = DEMO_BAD_RECORD_IDS["missing_datasource"]
    del r["datasource"]
    bad.append(r)

    # Spread them deterministically through the list.
    step = len(records) // (n_bad + 1)
    for k, rec in enumerate(bad):
        records.insert((k + 1) * step + k, rec)
    return records


def label_classifications(labels: Iterable) -> list[dict]:
    """``/api/v1/classifications`` entries (type LABEL), sorted by name.

    ``labels``: label names, or ``(name, id)`` pairs (e.g. ``dict.items()``); a missing id is the corpus'
    stable id.
    """
    by_name: dict[str, str] = {}
    for item in labels:
        if isinstance(item, str):
            name, lid = item, None
        else:
            name, lid = item
        by_name.setdefault(name, lid or LABEL_IDS.get(name) or _stable_uuid("label", name))
    out = []
    for name in sorted(by_name):
        lid = by_name[name]
        out.append(
            {
                "id": lid,
                "name": name,
                "type": "LABEL",
                "subtype": "STANDARD",
                "description": f"{name} label",
                "createdAt": "2024-01-15T09:00:00Z",
                "updatedAt": "2025-06-30T12:00:00Z",
                "link": f"/labels/{lid}",
                "searchLink": f'/search?q=labels.id:"{lid}"',
            }
        )
    return out
