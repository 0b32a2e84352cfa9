"""The configuration keys the pipeline code reads with `spark.conf.get`.

One list serves three places: the local runner sets them on the Spark session, the bundle's
pipeline resource sets them under `configuration:`, and the pipeline files read them here.
Secrets are never among them: the pipeline gets the *name* of an environment variable or a
secret scope/key, and the connector resolves the token itself.
"""

from __future__ import annotations

from typing import Callable, Mapping, Optional

import orjson

PREFIX = "file_records"

# key -> default ("" means unset)
DXR_KEYS: dict[str, str] = {
    "file_records.dxr.enabled": "false",
    "file_records.dxr.base_url": "",
    "file_records.dxr.queries": "",  # JSON list of query strings
    "file_records.dxr.token_env": "DXR_BEARER_TOKEN",
    "file_records.dxr.token_scope": "",
    "file_records.dxr.token_key": "",
    "file_records.dxr.http_timeout": "120",
    "file_records.dxr.verify_ssl": "true",
    "file_records.dxr.ca_bundle": "",
    "file_records.dxr.user_agent": "",
    "file_records.dxr.record_cap": "",
    "file_records.dxr.snapshot_interval_seconds": "86400",
    "file_records.dxr.force_snapshot_after": "",
    "file_records.dxr.max_attempts": "5",
    "file_records.dxr.backoff_seconds": "1.0",
}

ALL_KEYS: dict[str, str] = {**DXR_KEYS}

ConfGetter = Callable[[str, Optional[str]], Optional[str]]


def read(conf_get: ConfGetter, key: str) -> str:
    """Read one key with its declared default (`spark.conf.get` signature)."""
    if key not in ALL_KEYS:
        raise KeyError(f"{key} is not a file-records pipeline configuration key")
    value = conf_get(key, ALL_KEYS[key])
    return "" if value is None else str(value)


def enabled(conf_get: ConfGetter, source: str) -> bool:
    return read(conf_get, f"{PREFIX}.{source}.enabled").strip().lower() == "true"


def dxr_source_options(conf_get: ConfGetter) -> dict[str, str]:
    """Data source options for `spark.readStream.format("dxr")`, from the pipeline configuration."""
    options: dict[str, str] = {}
    for key in DXR_KEYS:
        name = key.rsplit(".", 1)[1]
        if name == "enabled":
            continue
        value = read(conf_get, key)
        if value != "":
            options[name] = value
    if "base_url" not in options:
        raise ValueError(
            "file_records.dxr.base_url is not set: set DXR_BASE_URL locally or the bundle variable dxr_base_url"
        )
    return options


def dxr_conf_from_settings(settings, force_snapshot_after: str = "") -> dict[str, str]:
    """The pipeline configuration for DXR, from typed settings (local runner)."""
    conf = {
        "file_records.dxr.enabled": "true",
        "file_records.dxr.base_url": settings.base_url or "",
        "file_records.dxr.queries": orjson.dumps(settings.effective_queries).decode(),
        "file_records.dxr.token_env": "DXR_BEARER_TOKEN",
        "file_records.dxr.token_scope": settings.token_scope or "",
        "file_records.dxr.token_key": settings.token_key or "",
        "file_records.dxr.http_timeout": str(settings.http_timeout),
        "file_records.dxr.verify_ssl": "true" if settings.verify_ssl else "false",
        "file_records.dxr.ca_bundle": str(settings.ca_bundle or ""),
        "file_records.dxr.user_agent": settings.user_agent,
        "file_records.dxr.record_cap": str(settings.record_cap or ""),
        "file_records.dxr.snapshot_interval_seconds": str(int(settings.snapshot_interval.total_seconds())),
        "file_records.dxr.force_snapshot_after": force_snapshot_after,
        "file_records.dxr.max_attempts": str(settings.max_attempts),
    }
    return conf


def as_conf_items(conf: Mapping[str, str]) -> list[tuple[str, str]]:
    unknown = sorted(set(conf) - set(ALL_KEYS))
    if unknown:
        raise KeyError(f"unknown pipeline configuration keys: {unknown}")
    return sorted(conf.items())
