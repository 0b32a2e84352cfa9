"""Seeded synthetic Databricks workspace served by :mod:`file_records.emulators.workspace_server`.

:class:`SyntheticWorkspace` is the model of :mod:`~file_records.emulators.workspace_model` (users,
Workspace / DBFS / volume trees, faults, ground truth) plus its two sources of content:
:meth:`SyntheticWorkspace.generate` (any number of users, with the special cases picked by ratio) and
:meth:`SyntheticWorkspace.demo` (a small hand-made workspace with one user per case). The model's
names are re-exported here.

Determinism: ``SyntheticWorkspace.generate(...)`` gives the same workspace for the same arguments;
every user is generated from its own ``Random(f"{seed}/{index}")`` so one user's tree does not
depend on how many users come before it.
"""

from __future__ import annotations

import math
import random
from typing import Iterator

from file_records.emulators.workspace_model import (
    BASE_TIME_MS,
    DEFAULT_VOLUME_ROOT,
    FsEntry,
    SourceTruth,
    SyntheticUser,
    WorkspaceModel,
    WsObject,
)

__all__ = [
    "DEFAULT_VOLUME_ROOT",
    "FsEntry",
    "SourceTruth",
    "SyntheticUser",
    "SyntheticWorkspace",
    "WsObject",
]

_YEAR_MS = 365 * 24 * 3600 * 1000

_FIRST = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
          "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "zoe", "amara", "bjorn",
          "chen", "dara", "emeka", "farah", "goran", "hana", "ines", "jonas"]
_LAST = ["smith", "jones", "garcia", "muller", "rossi", "kim", "nguyen", "dubois", "silva", "khan",
         "novak", "tanaka", "olsen", "moreau", "fischer", "costa", "ivanova", "okafor", "larsen", "berg"]
_DIR_WORDS = ["projects", "scratch", "etl", "ml", "reports", "shared", "archive", "tmp", "exploration",
              "pipelines", "dashboards", "notebooks", "data", "models", "sandbox"]
_FILE_EXTS = ["py", "sql", "csv", "json", "txt", "yml", "md", "parquet"]
_LANGUAGES = ["PYTHON", "PYTHON", "PYTHON", "SQL", "SQL", "SCALA", "R"]


class SyntheticWorkspace(WorkspaceModel):
    """A :class:`~file_records.emulators.workspace_model.WorkspaceModel` with generators."""

    @classmethod
    def generate(
        cls,
        users: int,
        dirs_per_user: int = 20,
        objects_per_user: int = 200,
        seed: int = 11,
        *,
        deactivated_ratio: float = 0.1,
        deep_ratio: float = 0.1,
        deep_levels: int = 13,
        repo_ratio: float = 0.4,
        empty_ratio: float = 0.03,
        missing_ratio: float = 0.03,
        missing_dbfs_ratio: float = 0.0,
        missing_workspace_ratio: float = 0.0,
        empty_workspace_ratio: float = 0.0,
        forbidden_ratio: float = 0.03,
        failing_ratio: float = 0.0,
        volume_ratio: float = 0.0,
        volume_root: str = DEFAULT_VOLUME_ROOT,
        domain: str = "example.com",
    ) -> "SyntheticWorkspace":
        """``users`` users; every one with a home in the Workspace and in DBFS holding
        ``dirs_per_user`` directories (besides the home) and ``objects_per_user`` objects *in each
        of the two sources* (so a fault-free scan lists ``2 × (dirs_per_user + 1)`` directories per
        user), unless the user is one of the special kinds picked (deterministically) by ratio:

        * ``deep``: a chain ``deep/l1/…`` of ``deep_levels`` directories in both sources, with
          files at the bottom (part of the directory budget when it fits);
        * ``repo``: a Git folder (``REPO``) ``/Users/<u>/<name>-repo`` with a ``src`` directory
          and content (two directories of the budget);
        * ``empty``: both homes exist and are empty;
        * ``missing``: neither home exists (404);
        * ``missing_dbfs``: no DBFS home (404; the normal case on a real workspace), Workspace normal;
        * ``missing_workspace``: no Workspace home (404), DBFS normal;
        * ``empty_workspace``: an empty Workspace home and no DBFS home (a user who never wrote
          anything: on a real workspace the most common user of all);
        * ``forbidden``: the Workspace home answers 403 (DBFS is normal);
        * ``failing``: one Workspace sub-directory and one DBFS sub-directory always answer 500;
        * ``deactivated``: ``active: false`` in SCIM (independent of the other kinds; files kept);
        * ``volume``: also a directory ``<volume_root>/<u>`` with a few files (Files API).
        """
        ws = cls(volume_root=volume_root)
        picker = random.Random(f"{seed}/kinds")
        indices = list(range(users))

        def pick(ratio: float, pool: list[int]) -> set[int]:
            if ratio <= 0 or not pool:
                return set()
            count = int(round(users * ratio))
            if count == 0 and users >= 10:
                count = 1
            return set(picker.sample(pool, min(count, len(pool))))

        exclusive: dict[str, set[int]] = {}
        free = list(indices)
        for kind, ratio in (("missing", missing_ratio), ("missing_dbfs", missing_dbfs_ratio),
                            ("missing_workspace", missing_workspace_ratio),
                            ("empty_workspace", empty_workspace_ratio), ("forbidden", forbidden_ratio),
                            ("empty", empty_ratio), ("failing", failing_ratio)):
            chosen = pick(ratio, free)
            exclusive[kind] = chosen
            free = [i for i in free if i not in chosen]
        contentless = exclusive["missing"] | exclusive["empty"] | exclusive["empty_workspace"]
        deep = pick(deep_ratio, [i for i in indices if i not in contentless])
        repo = pick(repo_ratio, [i for i in indices if i not in contentless])
        deactivated = pick(deactivated_ratio, indices)
        volume = pick(volume_ratio, indices)

        for i in indices:
            kinds = {k for k, chosen in exclusive.items() if i in chosen}
            if i in deep:
                kinds.add("deep")
            if i in repo:
                kinds.add("repo")
            if i in deactivated:
                kinds.add("deactivated")
            if i in volume:
                kinds.add("volume")
            ws._generate_user(i, kinds, seed, dirs_per_user, objects_per_user, deep_levels, domain)
        return ws

    def _generate_user(self, i: int, kinds: set[str], seed: int, n_dirs: int, n_objects: int,
                       deep_levels: int, domain: str) -> None:
        rng = random.Random(f"{seed}/{i}")
        first = _FIRST[i % len(_FIRST)]
        last = _LAST[(i // len(_FIRST)) % len(_LAST)]
        username = f"{first}.{last}{i}@{domain}"
        missing = "missing" in kinds
        has_ws = not (missing or "missing_workspace" in kinds)
        has_dbfs = not (missing or "missing_dbfs" in kinds or "empty_workspace" in kinds)
        self.add_user(username, f"{first.title()} {last.title()}", active="deactivated" not in kinds,
                      workspace_home=has_ws, dbfs_home=has_dbfs, volume_home="volume" in kinds,
                      kinds=kinds)
        if missing or "empty" in kinds or "empty_workspace" in kinds:
            return
        if "forbidden" in kinds:
            self.forbid("workspace", self.home("workspace", username))
        if has_ws:
            self._populate(username, "workspace", rng, n_dirs, n_objects, kinds, deep_levels)
        if has_dbfs:
            self._populate(username, "dbfs", rng, n_dirs, n_objects, kinds, deep_levels)
        if "volume" in kinds:
            self._populate(username, "volume", rng, max(1, n_dirs // 4), max(1, n_objects // 4),
                           kinds - {"deep", "repo", "failing"}, deep_levels)

    def _populate(self, username: str, source: str, rng: random.Random, n_dirs: int, n_objects: int,
                  kinds: set[str], deep_levels: int) -> None:
        home = self.home(source, username)
        add_dir = {"workspace": self.add_ws_dir, "dbfs": self.add_dbfs_dir, "volume": self.add_volume_dir}[source]
        listable = [home]
        budget = n_dirs
        pinned: list[str] = []  # directories that must get at least one object
        if "repo" in kinds and source == "workspace":
            repo = f"{home}/{rng.choice(_DIR_WORDS)}-repo"
            self.add_repo(repo)
            add_dir(f"{repo}/src")
            listable += [repo, f"{repo}/src"]
            pinned += [repo, f"{repo}/src"]
            budget -= 2
        if "deep" in kinds:
            chain = f"{home}/deep"
            add_dir(chain)
            listable.append(chain)
            for level in range(1, deep_levels):
                chain = f"{chain}/l{level}"
                add_dir(chain)
                listable.append(chain)
            pinned += listable[-3:]
            budget -= deep_levels
        free_dirs: list[str] = []
        for k in range(max(0, budget)):
            parent = rng.choice([home] + free_dirs)
            path = f"{parent}/{rng.choice(_DIR_WORDS)}_{k}"
            add_dir(path)
            free_dirs.append(path)
        listable += free_dirs
        if "failing" in kinds and free_dirs and source != "volume":
            self.break_dir(source, rng.choice(free_dirs))
        targets = pinned + [rng.choice(listable) for _ in range(max(0, n_objects - len(pinned)))]
        for k, parent in enumerate(targets):
            modified = BASE_TIME_MS + rng.randrange(_YEAR_MS)
            if source == "workspace":
                roll = rng.random()
                if roll < 0.45:
                    self.add_notebook(f"{parent}/notebook_{k}", rng.choice(_LANGUAGES), modified_at=modified)
                elif roll < 0.88:
                    self.add_ws_file(f"{parent}/file_{k}.{rng.choice(_FILE_EXTS)}", _file_size(rng),
                                     modified_at=modified)
                elif roll < 0.94:
                    self.add_ws_object(f"{parent}/library_{k}", "LIBRARY", modified_at=modified)
                else:
                    self.add_ws_object(f"{parent}/dashboard_{k}.lvdash.json", "DASHBOARD", modified_at=modified)
            elif source == "dbfs":
                self.add_dbfs_file(f"{parent}/part-{k:05d}.{rng.choice(_FILE_EXTS)}", _file_size(rng), modified)
            else:
                self.add_volume_file(f"{parent}/upload_{k}.{rng.choice(_FILE_EXTS)}", _file_size(rng), modified)

    @classmethod
    def demo(cls) -> "SyntheticWorkspace":
        """A small hand-made workspace (13 users) with one user per case:

        ========================== =============================================================
        alice@example.com          notebooks, files, a repo with content, DBFS tree 12 levels deep
        bob@example.com            one 3,344,682,261-byte DBFS file; Workspace empty
        carol@example.com          both homes empty -> empty / empty
        dave@example.com           Workspace and DBFS chains 15 levels deep
        erin@example.com           deactivated, with notebooks and files
        frank@example.com          no homes at all (404 / 404): empty, home_missing
        grace@example.com          Workspace home 403; DBFS normal
        heidi@example.com          a Workspace sub-directory that always answers 500 -> partial
        ivan@example.com           two repos, one nested in a directory, repo with sub-directories
        judy@example.com           LIBRARY, DASHBOARD and FILE objects; DBFS home 403
        mallory@example.com        DBFS only (no Workspace home: 404), a volume directory
        oscar@example.com          Workspace only; DBFS home missing (404)
        zoe+ops@example.com        a '+' in the user name (query-string encoding), a volume dir
        ========================== =============================================================
        """
        ws = cls()
        t = BASE_TIME_MS
        # alice: the predecessor's sample user
        ws.add_user("alice@example.com", "Alice Example", kinds={"repo", "deep"})
        ws.add_notebook("/Users/alice@example.com/nb1", "PYTHON", modified_at=t)
        ws.add_notebook("/Users/alice@example.com/proj/etl", "SQL", modified_at=t + 1000)
        ws.add_ws_file("/Users/alice@example.com/proj/helper.py", 55_555, modified_at=t + 2000)
        ws.add_repo("/Users/alice@example.com/analytics-repo")
        ws.add_ws_file("/Users/alice@example.com/analytics-repo/README.md", 1_234, modified_at=t)
        ws.add_notebook("/Users/alice@example.com/analytics-repo/src/train", "PYTHON", modified_at=t)
        for k in range(4):
            ws.add_dbfs_file(f"/Users/alice@example.com/data_{k}.csv", 1_000 + k, t)
        deep = "/Users/alice@example.com/deep"
        for level in range(1, 13):
            deep = f"{deep}/l{level}"
            ws.add_dbfs_file(f"{deep}/f.txt", 10 * level, t)
        # bob: one very large DBFS file
        ws.add_user("bob@example.com", "Bob Example")
        ws.add_dbfs_file("/Users/bob@example.com/big/dump.bin", 3_344_682_261, t)
        # carol: empty homes
        ws.add_user("carol@example.com", "Carol Example", kinds={"empty"})
        # dave: very deep chains in both sources
        ws.add_user("dave@example.com", "Dave Example", kinds={"deep"})
        ws_deep, dbfs_deep = "/Users/dave@example.com/a", "/Users/dave@example.com/a"
        for level in range(1, 16):
            ws_deep, dbfs_deep = f"{ws_deep}/l{level}", f"{dbfs_deep}/l{level}"
            ws.add_notebook(f"{ws_deep}/nb", "SCALA", modified_at=t)
            ws.add_dbfs_file(f"{dbfs_deep}/x.bin", level, t)
        ws.add_ws_file(f"{ws_deep}/bottom.txt", 999, modified_at=t)
        # erin: deactivated, with content
        ws.add_user("erin@example.com", "Erin Example", active=False, kinds={"deactivated"})
        ws.add_notebook("/Users/erin@example.com/old/report", "R", modified_at=t)
        ws.add_ws_file("/Users/erin@example.com/old/data.csv", 4_096, modified_at=t)
        ws.add_dbfs_file("/Users/erin@example.com/exports/2023.parquet", 77_777, t)
        # frank: no homes
        ws.add_user("frank@example.com", "Frank Example", workspace_home=False, dbfs_home=False,
                    kinds={"missing"})
        # grace: Workspace home forbidden
        ws.add_user("grace@example.com", "Grace Example", kinds={"forbidden"})
        ws.add_notebook("/Users/grace@example.com/secret", "PYTHON", modified_at=t)
        ws.forbid("workspace", "/Users/grace@example.com")
        ws.add_dbfs_file("/Users/grace@example.com/ok.txt", 12, t)
        # heidi: one sub-directory always fails
        ws.add_user("heidi@example.com", "Heidi Example", kinds={"failing"})
        ws.add_notebook("/Users/heidi@example.com/good/nb", "PYTHON", modified_at=t)
        ws.add_ws_file("/Users/heidi@example.com/good/a.py", 100, modified_at=t)
        ws.add_ws_file("/Users/heidi@example.com/broken/hidden.py", 200, modified_at=t)
        ws.add_ws_file("/Users/heidi@example.com/broken/deeper/hidden2.py", 300, modified_at=t)
        ws.break_dir("workspace", "/Users/heidi@example.com/broken")
        ws.add_dbfs_file("/Users/heidi@example.com/d.txt", 5, t)
        # ivan: repos
        ws.add_user("ivan@example.com", "Ivan Example", kinds={"repo"})
        ws.add_repo("/Users/ivan@example.com/service")
        ws.add_ws_file("/Users/ivan@example.com/service/setup.py", 2_048, modified_at=t)
        ws.add_ws_file("/Users/ivan@example.com/service/pkg/mod/core.py", 8_192, modified_at=t)
        ws.add_notebook("/Users/ivan@example.com/service/notebooks/explore", "PYTHON", modified_at=t)
        ws.add_ws_dir("/Users/ivan@example.com/work")
        ws.add_repo("/Users/ivan@example.com/work/infra")
        ws.add_ws_file("/Users/ivan@example.com/work/infra/main.tf", 512, modified_at=t)
        ws.add_dbfs_dir("/Users/ivan@example.com/emptydir")
        # judy: every Workspace object type; DBFS home forbidden
        ws.add_user("judy@example.com", "Judy Example")
        ws.add_ws_object("/Users/judy@example.com/lib/spark-utils", "LIBRARY", modified_at=t)
        ws.add_ws_object("/Users/judy@example.com/sales.lvdash.json", "DASHBOARD", modified_at=t)
        ws.add_ws_file("/Users/judy@example.com/notes.md", 0, modified_at=t)
        ws.add_notebook("/Users/judy@example.com/query", "SQL", modified_at=t)
        ws.forbid("dbfs", "/Users/judy@example.com")
        # mallory: DBFS only
        ws.add_user("mallory@example.com", "Mallory Example", workspace_home=False, volume_home=True,
                    kinds={"volume", "missing_workspace"})
        for k in range(25):
            ws.add_dbfs_file(f"/Users/mallory@example.com/logs/day{k:02d}.log", 1_000 * (k + 1), t)
        ws.add_volume_file(f"{ws.volume_root}/mallory@example.com/upload.csv", 321, t)
        ws.add_volume_file(f"{ws.volume_root}/mallory@example.com/sub/more.csv", 654, t)
        # oscar: Workspace only, no DBFS home
        ws.add_user("oscar@example.com", "Oscar Example", dbfs_home=False, kinds={"missing_dbfs"})
        ws.add_notebook("/Users/oscar@example.com/Untitled Notebook 2024-01-01", "PYTHON", modified_at=t)
        ws.add_ws_file("/Users/oscar@example.com/käse & ünïcode.txt", 42, modified_at=t)
        # zoe: '+' in the user name
        ws.add_user("zoe+ops@example.com", "Zoe Ops", volume_home=True, kinds={"volume"})
        ws.add_notebook("/Users/zoe+ops@example.com/runbook", "PYTHON", modified_at=t)
        ws.add_dbfs_file("/Users/zoe+ops@example.com/a b.txt", 7, t)
        ws.add_volume_file(f"{ws.volume_root}/zoe+ops@example.com/x.json", 99, t)
        return ws


def _file_size(rng: random.Random) -> int:
    # log-normal around a few KB, long tail into hundreds of MB
    return int(min(2**33, math.exp(rng.gauss(8.5, 2.5))))


def iter_usernames(ws: SyntheticWorkspace) -> Iterator[str]:
    return (u.username for u in ws.users)
