"""Seeded synthetic Databricks workspace served by :mod:`connectors.emulator.workspace_server`.

It holds three trees, each a flat ``path -> entry`` map plus ``directory -> children`` lists:

* ``workspace`` — Workspace objects (``/Users/<user>/...``): ``DIRECTORY``, ``NOTEBOOK`` (with a
  ``language``), ``FILE`` (with a ``size``), ``REPO`` (a Git folder, listable, with content),
  ``LIBRARY`` and ``DASHBOARD``;
* ``dbfs`` — DBFS files and directories (``/Users/<user>/...``), files with ``file_size``;
* ``volume`` — Unity Catalog volume files (``/Volumes/<catalog>/<schema>/<volume>/<user>/...``),
  served by the Files API; only used when a scan is given extra roots.

plus faults on single directories: ``forbidden`` (every call on it answers 403) and ``error``
(its listing always answers 500). A user without a home directory gets 404 on it.

The emulator's own answer to "what should a correct scan find" is :meth:`SyntheticWorkspace.truth`,
computed by walking these trees (not by bookkeeping during generation): files, exact bytes (of the
objects whose size the API reports), notebooks (whose size the API does not report), directories
that have to be listed, and the expected status (``success`` / ``empty`` / ``partial`` / ``error``).

Determinism: ``SyntheticWorkspace.generate(...)`` gives the same workspace for the same arguments;
every user is generated from its own ``Random(f"{seed}/{index}")`` so one user's tree does not
depend on how many users come before it.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Optional, Union

__all__ = [
    "DEFAULT_VOLUME_ROOT",
    "FsEntry",
    "SourceTruth",
    "SyntheticUser",
    "SyntheticWorkspace",
    "WsObject",
]

SOURCES = ("workspace", "dbfs", "volume")
DEFAULT_VOLUME_ROOT = "/Volumes/main/default/home"
BASE_TIME_MS = 1_700_000_000_000  # 2023-11-14T22:13:20Z
_YEAR_MS = 365 * 24 * 3600 * 1000

LISTABLE_TYPES = frozenset({"DIRECTORY", "REPO"})

_FIRST = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
          "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "zoe", "amara", "bjorn",
          "chen", "dara", "emeka", "farah", "goran", "hana", "ines", "jonas"]
_LAST = ["smith", "jones", "garcia", "muller", "rossi", "kim", "nguyen", "dubois", "silva", "khan",
         "novak", "tanaka", "olsen", "moreau", "fischer", "costa", "ivanova", "okafor", "larsen", "berg"]
_DIR_WORDS = ["projects", "scratch", "etl", "ml", "reports", "shared", "archive", "tmp", "exploration",
              "pipelines", "dashboards", "notebooks", "data", "models", "sandbox"]
_FILE_EXTS = ["py", "sql", "csv", "json", "txt", "yml", "md", "parquet"]
_LANGUAGES = ["PYTHON", "PYTHON", "PYTHON", "SQL", "SQL", "SCALA", "R"]


@dataclass(slots=True)
class WsObject:
    """One Workspace object, as ``/api/2.0/workspace/list`` describes it."""

    path: str
    object_type: str
    object_id: int
    language: Optional[str] = None
    size: Optional[int] = None
    created_at: Optional[int] = None
    modified_at: Optional[int] = None

    @property
    def is_dir(self) -> bool:
        return self.object_type in LISTABLE_TYPES

    def to_json(self) -> dict:
        out: dict = {"path": self.path, "object_type": self.object_type, "object_id": self.object_id}
        if self.language is not None:
            out["language"] = self.language
        if self.size is not None and self.object_type == "FILE":
            out["size"] = self.size
        if self.created_at is not None:
            out["created_at"] = self.created_at
        if self.modified_at is not None:
            out["modified_at"] = self.modified_at
        if self.object_type == "REPO":
            out["resource_id"] = str(self.object_id)
        return out


@dataclass(slots=True)
class FsEntry:
    """One DBFS or volume entry."""

    path: str
    is_dir: bool
    file_size: int = 0
    modification_time: Optional[int] = None

    def to_dbfs_json(self) -> dict:
        return {
            "path": self.path,
            "is_dir": self.is_dir,
            "file_size": 0 if self.is_dir else self.file_size,
            "modification_time": self.modification_time or BASE_TIME_MS,
        }

    def to_files_api_json(self) -> dict:
        out: dict = {
            "path": self.path + ("/" if self.is_dir else ""),
            "is_directory": self.is_dir,
            "name": self.path.rsplit("/", 1)[-1],
        }
        if not self.is_dir:
            out["file_size"] = self.file_size
            out["last_modified"] = self.modification_time or BASE_TIME_MS
        return out


Entry = Union[WsObject, FsEntry]


class _Tree:
    """Flat tree: entries by path and the children of every directory, in insertion order."""

    def __init__(self, source: str):
        self.source = source
        self.entries: dict[str, Entry] = {}
        self.children: dict[str, list[str]] = {}
        self._next_id = 1
        self._add_dir("/")

    def _new_dir(self, path: str) -> Entry:
        if self.source == "workspace":
            self._next_id += 1
            return WsObject(path=path, object_type="DIRECTORY", object_id=self._next_id)
        return FsEntry(path=path, is_dir=True)

    def _add_dir(self, path: str, entry: Optional[Entry] = None) -> Entry:
        existing = self.entries.get(path)
        if existing is not None:
            if entry is not None and entry is not existing:
                # upgrade an implicit DIRECTORY to e.g. REPO
                existing_children = self.children.get(path, [])
                self.entries[path] = entry
                self.children[path] = existing_children
                return entry
            return existing
        if path != "/":
            self._ensure_parent(path)
        entry = entry or self._new_dir(path)
        self.entries[path] = entry
        self.children[path] = []
        if path != "/":
            self.children[_parent(path)].append(path)
        return entry

    def _ensure_parent(self, path: str) -> None:
        parent = _parent(path)
        if parent not in self.children:
            self._add_dir(parent)

    def add(self, entry: Entry) -> Entry:
        path = entry.path
        if not path.startswith("/") or (path != "/" and path.endswith("/")):
            raise ValueError(f"paths are absolute without a trailing slash: {path!r}")
        if entry.is_dir:
            return self._add_dir(path, entry)
        if path in self.entries:
            raise ValueError(f"{self.source}: {path} already exists")
        self._ensure_parent(path)
        self.entries[path] = entry
        self.children[_parent(path)].append(path)
        return entry

    def get(self, path: str) -> Optional[Entry]:
        return self.entries.get(path)

    def list(self, path: str) -> Optional[list[Entry]]:
        """Children of a directory; None if ``path`` is not a directory."""
        kids = self.children.get(path)
        if kids is None:
            return None
        return [self.entries[p] for p in kids]

    def next_object_id(self) -> int:
        self._next_id += 1
        return self._next_id


def _parent(path: str) -> str:
    head = path.rsplit("/", 1)[0]
    return head or "/"


@dataclass
class SyntheticUser:
    username: str
    display_name: str
    active: bool = True
    user_id: str = ""
    kinds: frozenset = frozenset()

    def to_scim(self) -> dict:
        return {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": self.user_id,
            "userName": self.username,
            "displayName": self.display_name,
            "active": self.active,
            "emails": [{"value": self.username, "type": "work", "primary": True}],
            "name": {"givenName": self.display_name.split(" ")[0]},
        }


@dataclass(frozen=True)
class SourceTruth:
    """What a correct, complete scan of one user's source must report."""

    username: str
    source: str
    status: str  # success | empty | partial | error
    files: int = 0  # non-directory objects reachable (notebooks, files, libraries, dashboards, ...)
    bytes: int = 0  # exact bytes: sum of the sizes the API reports (Workspace FILE size, DBFS/volume file size)
    notebooks: int = 0  # NOTEBOOK objects (no size in the API: a scanner estimates them)
    unsized: int = 0  # other objects without a reported size (LIBRARY, DASHBOARD)
    directories: int = 0  # directories (incl. the home and repos) a scan lists successfully
    max_depth: int = 0  # depth of the deepest listed directory (home = 0)
    hidden_files: int = 0  # files below a failing directory (a correct scan cannot see them)
    error_kind: Optional[str] = None  # missing | forbidden | failing (home) / subdir_failing / None
    exists: bool = True

    def estimated_bytes(self, notebook_estimate: int) -> int:
        return self.notebooks * notebook_estimate


@dataclass
class SyntheticWorkspace:
    """Users plus their Workspace, DBFS and volume trees, with faults. See the module docstring."""

    volume_root: str = DEFAULT_VOLUME_ROOT
    users: list[SyntheticUser] = field(default_factory=list)
    workspace: _Tree = field(default_factory=lambda: _Tree("workspace"))
    dbfs: _Tree = field(default_factory=lambda: _Tree("dbfs"))
    volume: _Tree = field(default_factory=lambda: _Tree("volume"))
    faults: dict[tuple[str, str], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.volume_root = self.volume_root.rstrip("/")
        self._by_name: dict[str, SyntheticUser] = {u.username: u for u in self.users}
        self._truth_cache: dict[tuple[str, str], SourceTruth] = {}
        self.workspace._add_dir("/Users")
        self.dbfs._add_dir("/Users")

    # ------------------------------------------------------------------ building
    def tree(self, source: str) -> _Tree:
        if source not in SOURCES:
            raise ValueError(f"unknown source {source!r}")
        return getattr(self, source)

    def home(self, source: str, username: str) -> str:
        if source == "volume":
            return f"{self.volume_root}/{username}"
        return f"/Users/{username}"

    def add_user(self, username: str, display_name: Optional[str] = None, *, active: bool = True,
                 workspace_home: bool = True, dbfs_home: bool = True, volume_home: bool = False,
                 kinds: Iterable[str] = ()) -> SyntheticUser:
        if username in self._by_name:
            raise ValueError(f"user {username} already exists")
        user = SyntheticUser(
            username=username,
            display_name=display_name or username.split("@")[0].replace(".", " ").title(),
            active=active,
            user_id=str(7_000_000 + len(self.users) + 1),
            kinds=frozenset(kinds),
        )
        self.users.append(user)
        self._by_name[username] = user
        if workspace_home:
            self.add_ws_dir(self.home("workspace", username))
        if dbfs_home:
            self.add_dbfs_dir(self.home("dbfs", username))
        if volume_home:
            self.add_volume_dir(self.home("volume", username))
        self._truth_cache.clear()
        return user

    def user(self, username: str) -> SyntheticUser:
        return self._by_name[username]

    def add_ws_dir(self, path: str, *, object_type: str = "DIRECTORY") -> WsObject:
        self._truth_cache.clear()
        obj = WsObject(path=path, object_type=object_type, object_id=self.workspace.next_object_id())
        return self.workspace.add(obj)  # type: ignore[return-value]

    def add_repo(self, path: str) -> WsObject:
        return self.add_ws_dir(path, object_type="REPO")

    def add_ws_object(self, path: str, object_type: str, *, language: Optional[str] = None,
                      size: Optional[int] = None, modified_at: Optional[int] = None) -> WsObject:
        if object_type in LISTABLE_TYPES:
            raise ValueError("use add_ws_dir / add_repo for directories")
        self._truth_cache.clear()
        modified_at = modified_at or BASE_TIME_MS
        obj = WsObject(path=path, object_type=object_type, object_id=self.workspace.next_object_id(),
                       language=language, size=size if object_type == "FILE" else None,
                       created_at=modified_at - 86_400_000, modified_at=modified_at)
        return self.workspace.add(obj)  # type: ignore[return-value]

    def add_notebook(self, path: str, language: str = "PYTHON", **kw) -> WsObject:
        return self.add_ws_object(path, "NOTEBOOK", language=language, **kw)

    def add_ws_file(self, path: str, size: int, **kw) -> WsObject:
        return self.add_ws_object(path, "FILE", size=size, **kw)

    def add_dbfs_dir(self, path: str) -> FsEntry:
        self._truth_cache.clear()
        return self.dbfs.add(FsEntry(path=path, is_dir=True))  # type: ignore[return-value]

    def add_dbfs_file(self, path: str, size: int, modified_at: Optional[int] = None) -> FsEntry:
        self._truth_cache.clear()
        return self.dbfs.add(FsEntry(path=path, is_dir=False, file_size=size,  # type: ignore[return-value]
                                     modification_time=modified_at or BASE_TIME_MS))

    def add_volume_dir(self, path: str) -> FsEntry:
        self._truth_cache.clear()
        return self.volume.add(FsEntry(path=path, is_dir=True))  # type: ignore[return-value]

    def add_volume_file(self, path: str, size: int, modified_at: Optional[int] = None) -> FsEntry:
        self._truth_cache.clear()
        return self.volume.add(FsEntry(path=path, is_dir=False, file_size=size,  # type: ignore[return-value]
                                       modification_time=modified_at or BASE_TIME_MS))

    def forbid(self, source: str, path: str) -> None:
        """Every call on this directory answers 403 PERMISSION_DENIED."""
        self._truth_cache.clear()
        self.faults[(source, path)] = "forbidden"

    def break_dir(self, source: str, path: str) -> None:
        """Listing this directory always answers 500 (a sub-directory that fails for good)."""
        self._truth_cache.clear()
        self.faults[(source, path)] = "error"

    def fault(self, source: str, path: str) -> Optional[str]:
        return self.faults.get((source, path)) if self.faults else None

    # ------------------------------------------------------------------ ground truth
    def truth(self, username: str, source: str) -> SourceTruth:
        key = (username, source)
        cached = self._truth_cache.get(key)
        if cached is None:
            cached = self._truth_cache[key] = self._compute_truth(username, source)
        return cached

    def truths(self, sources: Iterable[str] = ("workspace", "dbfs")) -> dict[tuple[str, str], SourceTruth]:
        return {(u.username, s): self.truth(u.username, s) for u in self.users for s in sources}

    def expected_listings(self, sources: Iterable[str] = ("workspace", "dbfs")) -> int:
        """Listing requests a fault-free scan needs: one per listed directory, plus one per failed home."""
        total = 0
        for t in self.truths(sources).values():
            total += t.directories if t.directories else 1
        return total

    def _compute_truth(self, username: str, source: str) -> SourceTruth:
        tree = self.tree(source)
        home = self.home(source, username)
        fault = self.fault(source, home)
        if fault:
            return SourceTruth(username, source, "error", error_kind="forbidden" if fault == "forbidden" else "failing")
        if home not in tree.children:
            if source == "volume":  # an optional extra root: absent means nothing there
                return SourceTruth(username, source, "empty", exists=False)
            return SourceTruth(username, source, "error", error_kind="missing", exists=False)
        files = nbytes = notebooks = unsized = dirs = max_depth = hidden = 0
        failing = False
        queue = deque([(home, 0)])
        while queue:
            path, depth = queue.popleft()
            dirs += 1
            max_depth = max(max_depth, depth)
            for entry in tree.list(path) or []:
                if entry.is_dir:
                    if self.fault(source, entry.path):
                        failing = True
                        hidden += self._count_files(tree, entry.path)
                    else:
                        queue.append((entry.path, depth + 1))
                    continue
                files += 1
                if isinstance(entry, WsObject):
                    if entry.object_type == "FILE" and entry.size is not None:
                        nbytes += entry.size
                    elif entry.object_type == "NOTEBOOK":
                        notebooks += 1
                    else:
                        unsized += 1
                else:
                    nbytes += entry.file_size
        if failing:
            status = "partial"
        else:
            status = "success" if files else "empty"
        return SourceTruth(username, source, status, files=files, bytes=nbytes, notebooks=notebooks,
                           unsized=unsized, directories=dirs, max_depth=max_depth, hidden_files=hidden,
                           error_kind="subdir_failing" if failing else None)

    @staticmethod
    def _count_files(tree: _Tree, top: str) -> int:
        count, stack = 0, [top]
        while stack:
            for entry in tree.list(stack.pop()) or []:
                if entry.is_dir:
                    stack.append(entry.path)
                else:
                    count += 1
        return count

    # ------------------------------------------------------------------ SCIM
    def scim_users(self) -> list[SyntheticUser]:
        return list(self.users)

    # ------------------------------------------------------------------ generators
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
        for kind, ratio in (("missing", missing_ratio), ("forbidden", forbidden_ratio),
                            ("empty", empty_ratio), ("failing", failing_ratio)):
            chosen = pick(ratio, free)
            exclusive[kind] = chosen
            free = [i for i in free if i not in chosen]
        deep = pick(deep_ratio, [i for i in indices if i not in exclusive["missing"] | exclusive["empty"]])
        repo = pick(repo_ratio, [i for i in indices if i not in exclusive["missing"] | exclusive["empty"]])
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
        self.add_user(username, f"{first.title()} {last.title()}", active="deactivated" not in kinds,
                      workspace_home=not missing, dbfs_home=not missing, volume_home="volume" in kinds,
                      kinds=kinds)
        if missing or "empty" in kinds:
            return
        if "forbidden" in kinds:
            self.forbid("workspace", self.home("workspace", username))
        self._populate(username, "workspace", rng, n_dirs, n_objects, kinds, deep_levels)
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
        frank@example.com          no homes at all (404 / 404)
        grace@example.com          Workspace home 403; DBFS normal
        heidi@example.com          a Workspace sub-directory that always answers 500 -> partial
        ivan@example.com           two repos, one nested in a directory, repo with sub-directories
        judy@example.com           LIBRARY, DASHBOARD and FILE objects; DBFS home 403
        mallory@example.com        DBFS only (Workspace home empty), a volume directory
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
        ws.add_user("mallory@example.com", "Mallory Example", volume_home=True, kinds={"volume"})
        for k in range(25):
            ws.add_dbfs_file(f"/Users/mallory@example.com/logs/day{k:02d}.log", 1_000 * (k + 1), t)
        ws.add_volume_file(f"{ws.volume_root}/mallory@example.com/upload.csv", 321, t)
        ws.add_volume_file(f"{ws.volume_root}/mallory@example.com/sub/more.csv", 654, t)
        # oscar: Workspace only, no DBFS home
        ws.add_user("oscar@example.com", "Oscar Example", dbfs_home=False)
        ws.add_notebook("/Users/oscar@example.com/Untitled Notebook 2024-01-01", "PYTHON", modified_at=t)
        ws.add_ws_file("/Users/oscar@example.com/käse & ünïcode.txt", 42, modified_at=t)
        # zoe: '+' in the user name
        ws.add_user("zoe+ops@example.com", "Zoe Ops", volume_home=True, kinds={"volume"})
        ws.add_notebook("/Users/zoe+ops@example.com/runbook", "PYTHON", modified_at=t)
        ws.add_dbfs_file("/Users/zoe+ops@example.com/a b.txt", 7, t)
        ws.add_volume_file(f"{ws.volume_root}/zoe+ops@example.com/x.json", 99, t)
        return ws

    def summary(self) -> dict:
        truths = self.truths()
        return {
            "users": len(self.users),
            "workspace_objects": len(self.workspace.entries),
            "dbfs_entries": len(self.dbfs.entries),
            "files": sum(t.files for t in truths.values()),
            "listings": self.expected_listings(),
        }


def _file_size(rng: random.Random) -> int:
    # log-normal around a few KB, long tail into hundreds of MB
    return int(min(2**33, math.exp(rng.gauss(8.5, 2.5))))


def iter_usernames(ws: SyntheticWorkspace) -> Iterator[str]:
    return (u.username for u in ws.users)
