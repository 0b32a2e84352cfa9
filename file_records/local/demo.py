"""The embedded default: emulators of the Data X-Ray and Databricks APIs on 127.0.0.1, so the
whole pipeline runs on a laptop with no account anywhere."""

from __future__ import annotations

import os
import secrets
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Iterator

DEMO_MARKER = "demo"
# Two queries that split the demo tenant, so the demo also shows parallel partitions.
DEMO_DXR_QUERIES = ["size < 1000000", "size >= 1000000"]


@dataclass
class DemoEndpoints:
    dxr_base_url: str
    dxr_queries: list[str] = field(default_factory=lambda: list(DEMO_DXR_QUERIES))


@contextmanager
def demo_services(seed: int = 7) -> Iterator[DemoEndpoints]:
    """Start the emulators with the demo corpora; tokens are random and exported for the run."""
    from connectors.emulator.dxr_corpus import demo_records
    from connectors.emulator.dxr_server import DxrEmulator, FaultConfig

    dxr_token = secrets.token_urlsafe(24)
    # A little weather: one 429 with Retry-After, and malformed lines the rules must quarantine.
    faults = FaultConfig(rate_limit_first_n=1, retry_after_seconds=1, malformed_every=150)
    with ExitStack() as stack:
        dxr = stack.enter_context(DxrEmulator(demo_records(seed=seed), token=dxr_token, faults=faults))
        previous = os.environ.get("DXR_BEARER_TOKEN")
        os.environ["DXR_BEARER_TOKEN"] = dxr_token
        try:
            yield DemoEndpoints(dxr_base_url=dxr.url)
        finally:
            if previous is None:
                os.environ.pop("DXR_BEARER_TOKEN", None)
            else:
                os.environ["DXR_BEARER_TOKEN"] = previous
