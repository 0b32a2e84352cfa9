"""The embedded default: emulators of the Data X-Ray and Databricks APIs on 127.0.0.1, so the
whole pipeline runs on a laptop with no account anywhere."""

from __future__ import annotations

import os
import secrets
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from file_records import policies

DEMO_MARKER = "demo"
# The example hold list shipped with the policies: the demo shows legal holds suppressing actions.
DEMO_HOLDS_FILE = Path(policies.__file__).resolve().parent / "legal_holds.csv"
# Two queries that split the demo tenant, so the demo also shows parallel partitions.
DEMO_DXR_QUERIES = ["size < 1000000", "size >= 1000000"]


@dataclass
class DemoEndpoints:
    dxr_base_url: str
    workspace_host: str
    dxr_queries: list[str] = field(default_factory=lambda: list(DEMO_DXR_QUERIES))


@contextmanager
def _exported(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the run (the Spark workers inherit them), then restore."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@lru_cache(maxsize=1)
def _process_tokens() -> tuple[str, str]:
    # One pair per process: the demo's days share one local Spark, whose Python workers keep the
    # environment (so the tokens) the JVM started with.
    return secrets.token_urlsafe(24), "dapi-demo-" + secrets.token_hex(8)


@contextmanager
def demo_services(seed: int = 7, day: int = 1) -> Iterator[DemoEndpoints]:
    """Start the emulators with the demo corpora; tokens are random (one pair per process) and
    exported for the run. ``day=2`` serves the same tenant a day later: some files removed, changed
    and added."""
    from file_records.emulators.dxr_corpus import demo_records
    from file_records.emulators.dxr_server import DxrEmulator, FaultConfig
    from file_records.emulators.workspace_server import WorkspaceEmulator
    from file_records.emulators.workspace_tree import SyntheticWorkspace

    dxr_token, workspace_token = _process_tokens()
    # A little weather: one 429 with Retry-After and malformed lines the rules must quarantine
    # from DXR; a request-rate limit answered with 429 from the workspace.
    faults = FaultConfig(rate_limit_first_n=1, retry_after_seconds=1, malformed_every=150)
    with ExitStack() as stack:
        dxr = stack.enter_context(DxrEmulator(demo_records(seed=seed, day=day), token=dxr_token, faults=faults))
        workspace = stack.enter_context(
            WorkspaceEmulator(SyntheticWorkspace.demo(), token=workspace_token, rate_limit_per_second=200.0)
        )
        stack.enter_context(
            _exported(
                {
                    "DXR_BEARER_TOKEN": dxr_token,
                    "DATABRICKS_HOST": workspace.url,
                    "DATABRICKS_TOKEN": workspace_token,
                    # heidi's broken folder answers 500 every time: the demo shows the partial status
                    # it leads to, not six attempts of exponential backoff (15 s of a run).
                    "FILE_RECORDS_WORKSPACE_MAX_ATTEMPTS": "3",
                    "FILE_RECORDS_WORKSPACE_BACKOFF_BASE_SECONDS": "0.2",
                }
            )
        )
        yield DemoEndpoints(dxr_base_url=dxr.url, workspace_host=workspace.url)
