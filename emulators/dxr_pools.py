"""Seed-dependent pools of the synthetic Data X-Ray corpus, built once per seed and then read-only.

Per datasource: 60 folders, 40 user accounts, the groups and the ``Everyone`` group of its realm, and 512
pre-rendered entitlement lists; for all: phrase pools per detector, 4096 pre-rendered annotator lists and
weighted lookup tables. :func:`~file_records.emulators.dxr_generator.generate` draws records from them.
"""

from __future__ import annotations

import functools
import random

import orjson

from file_records.emulators.dxr_vocab import (
    ANNOTATOR_SPECS,
    ANNOTATOR_WEIGHTS,
    ASCII_STEMS,
    DATASOURCES,
    DS_SPECS,
    FILE_TYPES,
    FIRST_NAMES,
    FOLDER_PARTS,
    GROUP_NAMES,
    LABEL_WEIGHTS,
    LAST_NAMES,
    MES_VALUES,
    UNICODE_FIRST_NAMES,
    UNICODE_FOLDER_PARTS,
    UNICODE_LAST_NAMES,
    UNICODE_STEMS,
    stable_uuid,
)

__all__ = ["Pools", "pools"]

_ANNOTATOR_VARIANTS = 4096
_WHO_VARIANTS = 512


def _weighted_table(items, weights, size=1000) -> list:
    """Lookup table so that ``table[int(random() * len(table))]`` is a weighted draw (fast)."""
    total = float(sum(weights))
    table = []
    for item, w in zip(items, weights, strict=True):
        table.extend([item] * max(1, round(size * w / total)))
    return table


class Pools:
    """Seed-dependent pools (folders, accounts, phrases) built once per generator."""

    def __init__(self, seed: int):
        rng = random.Random(f"dxr-corpus-pools:{seed}")
        self.ds = []
        for ds_index, (name, conn, realm, root, _w) in enumerate(DS_SPECS):
            ds_id = DATASOURCES[ds_index]["id"]
            folders = set()
            while len(folders) < 60:
                depth = 1 + int(rng.random() * 4)
                parts = [
                    rng.choice(UNICODE_FOLDER_PARTS) if rng.random() < 0.05 else rng.choice(FOLDER_PARTS)
                    for _ in range(depth)
                ]
                folders.add(root + "/" + "/".join(parts))
            folders = sorted(folders)
            rng.shuffle(folders)
            # Accounts of the datasource's realm.
            users = []
            for u in range(40):
                first = rng.choice(UNICODE_FIRST_NAMES) if rng.random() < 0.08 else rng.choice(FIRST_NAMES)
                last = rng.choice(UNICODE_LAST_NAMES) if rng.random() < 0.08 else rng.choice(LAST_NAMES)
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
            for g, gname in enumerate(GROUP_NAMES):
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
        self.ds_table = _weighted_table(range(len(DS_SPECS)), [s[4] for s in DS_SPECS])
        self.type_table = _weighted_table(range(len(FILE_TYPES)), [t[2] for t in FILE_TYPES])
        self.label_table = _weighted_table(list(LABEL_WEIGHTS), list(LABEL_WEIGHTS.values()))
        self.annotator_table = _weighted_table(range(len(ANNOTATOR_SPECS)), ANNOTATOR_WEIGHTS)
        self.mes_table = _weighted_table([v for v, _ in MES_VALUES], [w for _, w in MES_VALUES])

        people = [
            f"{first} {last}"
            for first in FIRST_NAMES + UNICODE_FIRST_NAMES[:2]
            for last in LAST_NAMES + UNICODE_LAST_NAMES[:2]
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
                "id": stable_uuid("annotator", name),
                "name": name,
                "domain": {"id": stable_uuid("domain", domain), "name": domain},
                "pool": self.phrases[key],
            }
            for name, domain, key in ANNOTATOR_SPECS
        ]
        self.stems = ASCII_STEMS
        self.ustems = UNICODE_STEMS
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


@functools.lru_cache(maxsize=4)
def pools(seed: int) -> Pools:
    """Pools are read-only once built; cache them per seed."""
    return Pools(seed)
