"""Service URLs a source may be pointed at, checked before anything connects.

A typo here used to surface minutes later as a connection error buried in engine output; a URL
with credentials or an `http://` origin on the network would send the token where it should not
go. Both are refused when the settings are read.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def service_origin(value: str, strip_paths: tuple[str, ...] = (), allow_http: bool = False) -> str:
    """``value`` as ``scheme://host[:port]``, or a ValueError saying what to fix.

    ``strip_paths`` are path suffixes users commonly paste and that mean the same origin (``/api``);
    ``http://`` is accepted for loopback hosts (the emulators) or when ``allow_http`` is set."""
    text = value.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an origin like https://host.example.com")
    if "@" in parts.netloc:
        raise ValueError("must not contain a user name or password: credentials belong in the token setting")
    if not parts.hostname:
        raise ValueError("has no host name")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("has a port that is not a number from 1 to 65535") from None
    if parts.netloc.endswith(":") or (port is not None and not 1 <= port <= 65535):
        raise ValueError("has a port that is not a number from 1 to 65535")
    path = parts.path.rstrip("/")
    for suffix in strip_paths:
        if path == suffix:
            path = ""
    if path or parts.query or parts.fragment:
        raise ValueError(f"must be the origin only (scheme, host and port), without the path {parts.path!r}")
    if parts.scheme == "http" and not (allow_http or is_loopback(parts.hostname)):
        raise ValueError(
            "uses http:// to a host on the network, which would send the token unencrypted; use https://"
        )
    return f"{parts.scheme}://{parts.netloc}"
