"""`run --continuous` keeps the pipeline running and stops cleanly on SIGTERM with whole snapshots."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from tests.e2e.conftest import CLI, TOKEN, _query


def test_continuous_mode_runs_then_stops_cleanly_on_sigterm(tmp_path, emulator, corpus):
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    log = tmp_path / "continuous.log"
    env = {**os.environ, "DXR_BEARER_TOKEN": TOKEN}
    env.pop("DXR_BASE_URL", None)
    with open(log, "w") as out:
        process = subprocess.Popen(
            [*CLI, "run", "--continuous", "--poll-seconds", "1", "--sources", "dxr", "--state-dir", str(state_dir),
             "--dxr-base-url", emulator.url],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 480
            while "Run is COMPLETED" not in log.read_text() and process.poll() is None:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(1)
            time.sleep(3)  # idle polls: nothing is due, nothing runs
            assert process.poll() is None, log.read_text()
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0, log.read_text()
        finally:
            if process.poll() is None:
                process.kill()
    output = log.read_text()
    assert "Stopped." in output and "Traceback" not in output, output
    assert output.count("Running the pipeline") == 1, output  # the idle polls started no engine
    rows = _query(state_dir, "SELECT count(DISTINCT snapshot_id) AS snapshots, "
                             "count_if(record_type = 'query_summary') AS summaries FROM bronze_dxr_files")
    assert rows == [{"snapshots": 1, "summaries": 1}]
