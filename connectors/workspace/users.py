"""Which users to inventory: SCIM (all users, deactivated ones included and marked) or a file.

:func:`list_users` pages ``GET /api/2.0/preview/scim/v2/Users`` itself (``startIndex`` 1-based,
``count`` per page) through :class:`~file_records.connectors.workspace.http.WorkspaceHttp`, so SCIM calls get the
same shared rate limiter and the same retries (429 with ``Retry-After``, 5xx, resets) as listings;
the predecessor had no retry at all and returned a partial list with exit code 0 on any error —
here a failure raises :class:`~file_records.connectors.workspace.http.ApiError`. Paging stops at an empty
page, when ``totalResults`` users have been seen, or at ``max_users``. Users are de-duplicated by
``id`` (a user added while paging can shift pages).

Files: :func:`load_users_file` reads the predecessor's format (one user name per line; blank lines
and ``#`` comments skipped; duplicates dropped, first occurrence kept) and CSV files with a
``username`` (or ``userName``) header column and optional ``active`` / ``display_name`` columns.
:func:`write_users_csv` writes ``username,display_name,active`` with a header (or, with
``header=False``, the predecessor's bare one-name-per-line list).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Iterable, Optional, Union

from file_records.connectors.workspace.auth import AuthLike
from file_records.connectors.workspace.http import WorkspaceHttp
from file_records.connectors.workspace.model import ScanConfig, UserRef
from file_records.spreadsheet import neutralise_cell, unneutralise_cell

__all__ = ["SCIM_USERS", "UserRef", "list_users", "load_users_file", "write_users_csv"]

SCIM_USERS = "/api/2.0/preview/scim/v2/Users"
_USERNAME_COLUMNS = ("username", "user_name")


def list_users(auth: AuthLike, max_users: Optional[int] = None, *, page_size: int = 100,
               config: Optional[ScanConfig] = None, http: Optional[WorkspaceHttp] = None) -> list[UserRef]:
    """Every workspace user (active and deactivated), in SCIM order, at most ``max_users``."""
    if max_users is not None and max_users <= 0:
        return []
    own = http is None
    http = http or WorkspaceHttp(auth, config or ScanConfig(), pool_size=1)
    users: list[UserRef] = []
    seen: set[str] = set()
    start = 1
    try:
        while True:
            count = page_size if max_users is None else min(page_size, max_users - len(users))
            res = http.get(SCIM_USERS, {"startIndex": start, "count": count},
                           what=f"SCIM users page startIndex={start}")
            resources = res.data.get("Resources") or []
            if not resources:
                break
            for item in resources:
                if not isinstance(item, dict):
                    continue
                name = item.get("userName")
                key = str(item.get("id") or name)
                if not name or key in seen:
                    continue
                seen.add(key)
                active = item.get("active")
                users.append(UserRef(username=str(name), active=bool(active) if active is not None else True,
                                     display_name=item.get("displayName")))
                if max_users is not None and len(users) >= max_users:
                    return users
            start += len(resources)
            total = res.data.get("totalResults")
            if isinstance(total, int) and start > total:
                break
        return users
    finally:
        if own:
            http.close()


def _truthy(value: str) -> Optional[bool]:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes", "y", "active"):
        return True
    if lowered in ("false", "0", "no", "n", "inactive", "deactivated"):
        return False
    return None


def parse_users_text(text: str) -> list[UserRef]:
    """Users from the text of a users file (see :func:`load_users_file`)."""
    lines = [line.strip() for line in text.splitlines()]
    content = [line for line in lines if line and not line.startswith("#")]
    if not content:
        return []
    header = [h.strip().lower() for h in next(csv.reader([content[0]]))]
    out: list[UserRef] = []
    seen: set[str] = set()

    def add(ref: UserRef) -> None:
        if ref.username and ref.username not in seen:
            seen.add(ref.username)
            out.append(ref)

    name_col = next((i for i, h in enumerate(header) if h in _USERNAME_COLUMNS), None)
    if name_col is None:
        for line in content:
            add(UserRef(line))
        return out
    active_col = next((i for i, h in enumerate(header) if h == "active"), None)
    display_col = next((i for i, h in enumerate(header) if h in ("display_name", "displayname")), None)
    for row in csv.reader(io.StringIO("\n".join(content[1:]))):
        if len(row) <= name_col:
            continue
        name = unneutralise_cell(row[name_col].strip())
        active = _truthy(row[active_col]) if active_col is not None and len(row) > active_col else None
        display = (unneutralise_cell(row[display_col].strip()) or None
                   if display_col is not None and len(row) > display_col else None)
        add(UserRef(name, active, display))
    return out


def load_users_file(path: Union[str, Path]) -> list[UserRef]:
    """Users from a file: one user name per line (``#`` comments and blank lines skipped) or a
    CSV with a ``username`` header; duplicates dropped, order kept."""
    return parse_users_text(Path(path).read_text(encoding="utf-8-sig"))


def write_users_csv(users: Iterable[Union[UserRef, str]], path: Union[str, Path], *, header: bool = True) -> int:
    """Write users as CSV ``username,display_name,active`` (``header=False``: bare names, one a
    line, the predecessor's format). Returns the number of users written."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        if header:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(["username", "display_name", "active"])
        for user in users:
            ref = user if isinstance(user, UserRef) else UserRef(str(user))
            if header:
                active = "" if ref.active is None else ("true" if ref.active else "false")
                # A display name is whatever the identity provider's admins typed (`=HYPERLINK(...)`).
                writer.writerow([neutralise_cell(ref.username), neutralise_cell(ref.display_name or ""), active])
            else:
                fh.write(ref.username + "\n")
            n += 1
    return n
