"""The model of the synthetic Databricks workspace: users, three trees, faults and the ground truth.

It holds three trees, each a flat ``path -> entry`` map plus ``directory -> children`` lists:

* ``workspace`` — Workspace objects (``/Users/<user>/...``): ``DIRECTORY``, ``NOTEBOOK`` (with a
  ``language``), ``FILE`` (with a ``size``), ``REPO`` (a Git folder, listable, with content),
  ``LIBRARY`` and ``DASHBOARD``;
* ``dbfs`` — DBFS files and directories (``/Users/<user>/...``), files with ``file_size``;
* ``volume`` — Unity Catalog volume files (``/Volumes/<catalog>/<schema>/<volume>/<user>/...``),
  served by the Files API; only used when a scan is given extra roots.

plus faults on single directories: ``forbidden`` (every call on it answers 403) and ``error``
(its listing always answers 500). A user without a home directory gets 404 on it: on a real
workspace that is normal (``dbfs:/Users/<name>`` exists only for users who wrote there), so the
truth for a missing home is ``empty`` with ``home_missing``, not an error. Entries render
themselves in the shapes of ``docs/workspace-api.md``.

The emulator's own answer to "what should a correct scan find" is :meth:`WorkspaceModel.truth`,
computed by walking these trees (not by bookkeeping during generation): files, exact bytes (of the
objects whose size the API reports), notebooks (whose size the API does not report), directories
that have to be listed, and the expected status (``success`` / ``empty`` / ``partial`` / ``error``).

The synthetic content (``generate`` and ``demo``) is added by
:class:`~file_records.emulators.workspace_tree.SyntheticWorkspace`, the class to use.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Iterable, Optional, Union

__all__ = [
    "BASE_TIME_MS",
    "DEFAULT_VOLUME_ROOT",
    "LISTABLE_TYPES",
    "SOURCES",
    "FsEntry",
    "SourceTruth",
    "SyntheticUser",
    "WorkspaceModel",
    "WsObject",
]

SOURCES = ("workspace", "dbfs", "volume")
DEFAULT_VOLUME_ROOT = "/Volumes/main/default/home"
BASE_TIME_MS = 1_700_000_000_000  # 2023-11-14T22:13:20Z

LISTABLE_TYPES = frozenset({"DIRECTORY", "REPO"})


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
    error_kind: Optional[str] = None  # forbidden | failing (home) / subdir_failing / None
    exists: bool = True
    home_missing: bool = False  # the home folder does not exist: nothing to list, not a failure

    def estimated_bytes(self, notebook_estimate: int) -> int:
        return self.notebooks * notebook_estimate


@dataclass
class WorkspaceModel:
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
            # an optional extra root absent, or a home that does not exist: nothing there, no failure
            return SourceTruth(username, source, "empty", exists=False, home_missing=source != "volume")
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

    def summary(self) -> dict:
        truths = self.truths()
        return {
            "users": len(self.users),
            "workspace_objects": len(self.workspace.entries),
            "dbfs_entries": len(self.dbfs.entries),
            "files": sum(t.files for t in truths.values()),
            "listings": self.expected_listings(),
        }

