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

WORKSPACE_KEYS: dict[str, str] = {
    "file_records.workspace.enabled": "false",
    "file_records.workspace.host": "",  # empty: databricks-sdk unified auth (env, profile, runtime)
    "file_records.workspace.profile": "",
    "file_records.workspace.users": "",  # JSON list; empty: every SCIM user
    "file_records.workspace.users_file": "",
    "file_records.workspace.max_users": "",
    "file_records.workspace.partitions": "4",
    "file_records.workspace.threads_per_partition": "16",
    "file_records.workspace.max_requests_per_second": "20",
    "file_records.workspace.max_attempts": "6",
    "file_records.workspace.backoff_base_seconds": "0.5",
    "file_records.workspace.extra_roots": "",  # JSON list
    "file_records.workspace.max_depth": "",
    "file_records.workspace.snapshot_interval_seconds": "86400",
    "file_records.workspace.force_snapshot_after": "",
}

POLICY_KEYS: dict[str, str] = {
    "file_records.policies.enabled": "true",
    "file_records.policies.catalogue": "",  # a catalogue YAML path; empty: the packaged policies/catalogue.yml
    "file_records.policies.holds_table": "",  # a table the records team edits (Databricks)
    "file_records.policies.holds_file": "",  # or a CSV file (local runs); neither: no hold list
    "file_records.policies.history_days": "90",  # days of runs gold_policy_summary compares
}

ALL_KEYS: dict[str, str] = {**DXR_KEYS, **WORKSPACE_KEYS, **POLICY_KEYS}
_KEYS_BY_SOURCE = {"dxr": DXR_KEYS, "workspace": WORKSPACE_KEYS, "policies": POLICY_KEYS}

ConfGetter = Callable[[str, Optional[str]], Optional[str]]


def read(conf_get: ConfGetter, key: str) -> str:
    """Read one key with its declared default (`spark.conf.get` signature)."""
    if key not in ALL_KEYS:
        raise KeyError(f"{key} is not a file-records pipeline configuration key")
    value = conf_get(key, ALL_KEYS[key])
    return "" if value is None else str(value)


def enabled(conf_get: ConfGetter, source: str) -> bool:
    return read(conf_get, f"{PREFIX}.{source}.enabled").strip().lower() == "true"


def source_options(conf_get: ConfGetter, source: str) -> dict[str, str]:
    """Data source options for `spark.readStream.format(source)`, from the pipeline configuration."""
    options: dict[str, str] = {}
    for key in _KEYS_BY_SOURCE[source]:
        name = key.rsplit(".", 1)[1]
        if name == "enabled":
            continue
        value = read(conf_get, key)
        if value != "":
            options[name] = value
    return options


def dxr_source_options(conf_get: ConfGetter) -> dict[str, str]:
    options = source_options(conf_get, "dxr")
    if "base_url" not in options:
        raise ValueError(
            "file_records.dxr.base_url is not set: set DXR_BASE_URL locally or the bundle variable dxr_base_url"
        )
    return options


def workspace_source_options(conf_get: ConfGetter) -> dict[str, str]:
    return source_options(conf_get, "workspace")


def policy_options(conf_get: ConfGetter) -> dict[str, str]:
    return source_options(conf_get, "policies")


def policy_history_days(conf_get: ConfGetter) -> int:
    """``file_records.policies.history_days`` as a whole number of days (at least 1)."""
    key = "file_records.policies.history_days"
    value = read(conf_get, key).strip()
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{key} must be a whole number of days, at least 1 (got {value!r}); set it in the "
                         "pipeline configuration or FILE_RECORDS_POLICIES_HISTORY_DAYS")
    return int(value)


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


def workspace_conf_from_settings(settings, force_snapshot_after: str = "") -> dict[str, str]:
    """The pipeline configuration for the workspace source, from typed settings (local runner)."""
    return {
        "file_records.workspace.enabled": "true",
        "file_records.workspace.host": settings.host or "",
        "file_records.workspace.profile": settings.profile or "",
        "file_records.workspace.users": orjson.dumps(settings.users).decode() if settings.users else "",
        "file_records.workspace.users_file": str(settings.users_file or ""),
        "file_records.workspace.max_users": str(settings.max_users or ""),
        "file_records.workspace.partitions": str(settings.partitions),
        "file_records.workspace.threads_per_partition": str(settings.threads_per_partition),
        "file_records.workspace.max_requests_per_second": str(settings.max_requests_per_second),
        "file_records.workspace.max_attempts": str(settings.max_attempts),
        "file_records.workspace.extra_roots": orjson.dumps(settings.extra_roots).decode() if settings.extra_roots else "",
        "file_records.workspace.max_depth": "" if settings.max_depth is None else str(settings.max_depth),
        "file_records.workspace.snapshot_interval_seconds": str(int(settings.snapshot_interval.total_seconds())),
        "file_records.workspace.force_snapshot_after": force_snapshot_after,
    }


def policy_conf_from_settings(settings) -> dict[str, str]:
    return {
        "file_records.policies.enabled": "true",
        "file_records.policies.catalogue": str(settings.catalogue or ""),
        "file_records.policies.holds_file": str(settings.holds_file.resolve() if settings.holds_file else ""),
        "file_records.policies.history_days": str(settings.history_days),
    }


def as_conf_items(conf: Mapping[str, str]) -> list[tuple[str, str]]:
    unknown = sorted(set(conf) - set(ALL_KEYS))
    if unknown:
        raise KeyError(f"unknown pipeline configuration keys: {unknown}")
    return sorted(conf.items())
