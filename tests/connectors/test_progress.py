"""Progress lines come from the partitions: throttled, and on stderr with a prefix where nobody
listens on the logger (a Spark Python worker), which the local runner shows."""

from __future__ import annotations

import logging

from file_records.connectors import progress


def test_throttled_says_at_most_once_per_interval():
    now = [0.0]
    said = []
    throttle = progress.Throttled(said.append, interval=5.0, clock=lambda: now[0])
    for moment in (1.0, 4.9, 5.1, 7.0, 10.2, 10.3):
        now[0] = moment
        throttle.maybe(lambda moment=moment: f"at {moment}")
    assert said == ["at 5.1", "at 10.2"]
    assert throttle.maybe(lambda: "forced", force=True) and said[-1] == "forced"


def test_emit_goes_to_stderr_with_the_prefix_when_nobody_listens(capsys):
    silent = logging.getLogger("file_records.progress.test_silent")
    silent.propagate = False
    progress.emit("dxr query 1 of 2: 10 records", logger=silent)
    assert capsys.readouterr().err == "file-records progress: dxr query 1 of 2: 10 records\n"


def test_emit_uses_the_logger_when_someone_listens(caplog, capsys):
    with caplog.at_level(logging.INFO, logger=progress.PROGRESS_LOGGER):
        progress.emit("workspace scan: 3/10 users")
    assert "workspace scan: 3/10 users" in caplog.text
    assert capsys.readouterr().err == ""


def test_records_line():
    line = progress.records_line("dxr query 1 of 1 (q)", 120_000, 180_300_000, 3.0, "received")
    assert line == "dxr query 1 of 1 (q): 120,000 records received, 180.3 MB, 40,000 records/s, 3 s"
