"""File-system primitives of remediation: hashing, copies and moves that never overwrite, stubs.

Every write here creates a new name (``O_EXCL``, ``link()``), so no function can replace a file that
somebody else put in the way; every file and directory written is fsynced before the caller journals
that it exists. Files are opened with ``O_NOFOLLOW`` so a symlink swapped in is never followed.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
from typing import Optional

from file_records.remediation.errors import RowFailed, RowRefused

STUB_SUFFIX = ".archived.txt"
CHUNK = 1024 * 1024
MAX_SUFFIX = 10_000
NAME_MAX = 255
O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
O_BINARY = getattr(os, "O_BINARY", 0)


def sha256_file(path: str) -> str:
    fd = os.open(path, os.O_RDONLY | O_NOFOLLOW | O_BINARY)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise RowRefused(f"{path} is not a regular file")
        h = hashlib.sha256()
        while True:
            chunk = os.read(fd, CHUNK)
            if not chunk:
                break
            h.update(chunk)
        return h.hexdigest()
    finally:
        os.close(fd)


def signature(path: str) -> tuple[int, int, int, int]:
    st = os.lstat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def copy_exclusive(src: str, tmp: str) -> str:
    """Copy ``src`` to a new file ``tmp`` (never replacing one), fsync, keep mtime/mode; return its hash."""
    h = hashlib.sha256()
    sfd = os.open(src, os.O_RDONLY | O_NOFOLLOW | O_BINARY)
    try:
        if not stat.S_ISREG(os.fstat(sfd).st_mode):
            raise RowRefused(f"{src} is not a regular file")
        dfd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW | O_BINARY, 0o600)
        try:
            while True:
                chunk = os.read(sfd, CHUNK)
                if not chunk:
                    break
                h.update(chunk)
                view = memoryview(chunk)
                while view:
                    n = os.write(dfd, view)
                    view = view[n:]
            os.fsync(dfd)
        finally:
            os.close(dfd)
    finally:
        os.close(sfd)
    try:
        shutil.copystat(src, tmp, follow_symlinks=False)
    except OSError:
        pass
    return h.hexdigest()


def place_no_clobber(tmp: str, dest: str) -> None:
    """Give ``tmp`` the name ``dest`` without ever replacing an existing ``dest`` (FileExistsError).

    Uses link()+unlink(), which fails atomically if ``dest`` exists. Where hard links are not
    supported it falls back to an existence check + rename (a small race with concurrent writers).
    """
    try:
        os.link(tmp, dest, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK,
                             errno.ENOSYS, errno.EACCES):
            raise
        if os.path.lexists(dest):
            raise FileExistsError(errno.EEXIST, "exists", dest) from None
        os.rename(tmp, dest)
    else:
        os.unlink(tmp)
    fsync_dir(os.path.dirname(dest))


def _fit(stem: str, tail: str) -> str:
    """``stem + tail``, shortening ``stem`` (plus a short hash of it) to fit NAME_MAX bytes."""
    if len((stem + tail).encode("utf-8", "surrogateescape")) <= NAME_MAX:
        return stem + tail
    tag = "~" + hashlib.sha256(stem.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    budget = NAME_MAX - len((tag + tail).encode("utf-8", "surrogateescape"))
    cut = stem.encode("utf-8", "surrogateescape")[:budget].decode("utf-8", "ignore")
    return cut + tag + tail


def numbered(name: str, n: int, stub: bool = False) -> str:
    """Archive name ``name`` / ``stem (n).ext``, or stub name ``name.archived.txt`` /
    ``name.archived (n).txt``; shortened to fit the file-name limit when needed."""
    if stub:
        return _fit(name, STUB_SUFFIX if n == 1 else f".archived ({n}).txt")
    if n == 1:
        return name
    stem, ext = os.path.splitext(name)
    return _fit(stem, f" ({n}){ext}")


def write_new_text(path: str, text: str) -> str:
    data = text.encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW | O_BINARY, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_dir(os.path.dirname(path))
    return hashlib.sha256(data).hexdigest()


def read_small(path: str, limit: int = 1 << 20) -> Optional[bytes]:
    try:
        fd = os.open(path, os.O_RDONLY | O_NOFOLLOW | O_BINARY)
    except OSError:
        return None
    try:
        return os.read(fd, limit)
    finally:
        os.close(fd)


def unlink_quiet(path: Optional[str]) -> bool:
    if not path:
        return False
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False


def free_name(directory: str, name: str, stub: bool = False) -> tuple[str, int]:
    """The first name from :func:`numbered` not taken in ``directory`` (and its number); only a
    preview, since the name may be taken before it is used: :func:`place_no_clobber` decides."""
    for n in range(1, MAX_SUFFIX):
        candidate = os.path.join(directory, numbered(name, n, stub))
        if not os.path.lexists(candidate):
            return candidate, n
    raise RowFailed(f"no free name for {name} in {directory}")


def hash_or_none(path: str) -> Optional[str]:
    try:
        return sha256_file(path)
    except (OSError, RowRefused):
        return None


def rmdir_quiet(path: str) -> None:
    try:
        os.rmdir(path)
    except OSError:
        pass


def within(path: str, root: str) -> bool:
    """``path`` is ``root`` or below it (both absolute and already resolved)."""
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:
        return False
