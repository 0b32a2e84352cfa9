"""A run that cannot reach its source fails fast, in a few lines, and leaves the details in the log."""

from __future__ import annotations

import time

from tests.e2e.conftest import _cli


def test_unreachable_dxr_fails_in_a_few_lines(tmp_path):
    state_dir = tmp_path / "state"
    started = time.monotonic()
    result = _cli(["run", "--sources", "dxr", "--state-dir", str(state_dir),
                   "--dxr-base-url", "https://127.0.0.1:9"], state_dir, check=False)
    seconds = time.monotonic() - started
    output = result.stdout + result.stderr
    lines = [line for line in output.splitlines() if line.strip()]
    assert result.returncode == 1, output
    assert len(lines) <= 20, output
    tail = " ".join(" ".join(lines[-4:]).split())
    assert "bronze_dxr_files" in tail and "could not connect to Data X-Ray at https://127.0.0.1:9" in tail, output
    assert "Traceback" not in output and "\tat org.apache" not in output and "Logical Plan" not in output
    logs = sorted((state_dir / "logs").glob("run-*.log"))
    assert len(logs) == 1 and str(logs[0]) in output, output
    details = logs[0].read_text()
    assert "DxrUnavailableError" in details and "org.apache.spark" in details
    assert seconds < 120, f"took {seconds:.0f} s"
