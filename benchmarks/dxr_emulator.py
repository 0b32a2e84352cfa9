"""The DXR emulator in a process of its own, for the benchmarks that time runs against it
(dxr_ingest.py, pipeline_runs.py, history_days.py): its memory and CPU are not the measured run's."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOKEN = "bench-token"
MATCH_ALL = 'fileName:"*"'


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Emulator:
    """The DXR emulator in its own process (its memory and CPU are not the connector's)."""

    def __init__(self, records: int) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "file_records.emulators.dxr_server", "--records", str(records),
             "--port", str(self.port), "--token", TOKEN],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for line in self.process.stdout:
            if line.startswith("Listening on"):
                break
        else:
            raise RuntimeError(f"the emulator exited with code {self.process.wait()}")
        self.ready_seconds = time.perf_counter() - started
        threading.Thread(target=self.process.stdout.read, daemon=True).start()  # keep the pipe drained

    def warm(self, queries: list[str]) -> dict[str, float]:
        """One request per query: the emulator computes and caches the matching lines before it
        sends the headers, so closing after the headers is enough."""
        import requests

        spent = {}
        for query in queries:
            started = time.perf_counter()
            with requests.get(self.url + "/api/v1/files", params={"q": query},
                              headers={"Authorization": f"Bearer {TOKEN}"}, stream=True, timeout=600) as response:
                response.raise_for_status()
            spent[query] = time.perf_counter() - started
        return spent

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def split_boundary(records: int) -> int:
    """The median file size of the corpus the emulator serves (same generator, same seed)."""
    from file_records.emulators.dxr_corpus import generate_records

    sample = min(records, 200_000)
    sizes = sorted(r["size"] for r in generate_records(sample))
    return sizes[len(sizes) // 2]


def median_halves(records: int) -> list[str]:
    """Two DXR queries that split the corpus at its median file size (two Spark partitions)."""
    boundary = split_boundary(records)
    return [f"size < {boundary}", f"size >= {boundary}"]
