"""How the runner reads the engine's event stream, without Spark: a fake start_run."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from file_records.errors import PipelineRunError
from file_records.local import runner
from file_records.local.progress import Progress
from file_records.local.runlog import RunLog


def _item(message: str) -> dict:
    from google.protobuf.timestamp_pb2 import Timestamp

    return {"pipeline_event_result": SimpleNamespace(event=SimpleNamespace(message=message, timestamp=Timestamp()))}


def _run(monkeypatch, tmp_path, messages, error=None):
    import pyspark.pipelines.spark_connect_pipeline as scp

    seen: list[str] = []

    def fake_start_run(*args, **kwargs):
        for message in messages:
            seen.append(message)
            yield _item(message)
        if error is not None:
            raise error

    monkeypatch.setattr(scp, "start_run", fake_start_run)
    log = RunLog.create(tmp_path)
    shown: list[str] = []
    result = runner.RunResult(completed=False)
    try:
        runner._run_layer(None, "g", SimpleNamespace(storage="s"), ["bronze_dxr_files"], [], False,
                          lambda m: None, result, Progress(total=1, show=shown.append), log)
    finally:
        log.close()
    return seen, log


AUTH_FAILURE = ("Flow 'spark_catalog.default.bronze_dxr_files' has FAILED.\nError: [STREAM_FAILED] ...\n"
                "file_records.connectors.dxr.client.DxrAuthError: Data X-Ray rejected the token (HTTP 401): check "
                "DXR_BEARER_TOKEN\n SQLSTATE: 38000\n\tat org.apache.spark.Foo(Foo.scala:1)")


def test_a_non_retryable_connector_error_stops_the_run_at_once(monkeypatch, tmp_path):
    messages = ["Flow spark_catalog.default.bronze_dxr_files is RUNNING.", AUTH_FAILURE,
                "Flow spark_catalog.default.bronze_dxr_files is STARTING.", "never read"]
    with pytest.raises(PipelineRunError) as raised:
        _run(monkeypatch, tmp_path, messages)
    text = str(raised.value)
    assert text.splitlines()[0] == ("bronze_dxr_files: Data X-Ray rejected the token (HTTP 401): "
                                    "check DXR_BEARER_TOKEN")
    assert "logs/run-" in text and len(text.splitlines()) == 2
    log_text = next((tmp_path / "logs").glob("run-*.log")).read_text()
    assert "SQLSTATE" in log_text and "not retryable" in log_text


def test_a_retryable_error_is_left_to_the_engine_and_summarised(monkeypatch, tmp_path):
    failure = AUTH_FAILURE.replace("DxrAuthError", "DxrUnavailableError")
    seen_messages = [failure, "Flow spark_catalog.default.bronze_dxr_files is STARTING.",
                     failure.replace("has FAILED.", "has FAILED more than 1 times and will not be restarted."),
                     "Run is FAILED."]
    with pytest.raises(PipelineRunError) as raised:
        seen, _ = _run(monkeypatch, tmp_path, seen_messages)
    assert "Data X-Ray rejected the token" in str(raised.value)


def test_the_accumulator_error_after_completion_is_accepted(monkeypatch, tmp_path):
    error = RuntimeError("UNKNOWN_RESPONSE blah __python_accumulator__")
    seen, _ = _run(monkeypatch, tmp_path, ["Run is COMPLETED."], error=error)
    assert seen == ["Run is COMPLETED."]


def test_an_engine_exception_becomes_a_short_message(monkeypatch, tmp_path):
    error = RuntimeError("StreamingQueryException: boom\n" + AUTH_FAILURE.replace("DxrAuthError", "DxrTruncatedError"))
    with pytest.raises(PipelineRunError) as raised:
        _run(monkeypatch, tmp_path, ["Flow spark_catalog.default.bronze_dxr_files is RUNNING."], error=error)
    assert len(str(raised.value).splitlines()) == 2
    assert "Foo.scala" not in str(raised.value)


def test_a_jvm_that_died_ends_the_run_at_once_and_says_so(monkeypatch, tmp_path):
    """The Connect client retries a dead server for minutes: the runner must not call it again."""
    from file_records.local.spark import LocalSparkSettings, StatePaths

    class DeadServer:
        def __getattr__(self, name):
            raise AssertionError(f"spark.{name} called on a dead server")

    def run_graph(*args, **kwargs):
        log = args[7]
        log.write("java.lang.OutOfMemoryError: Java heap space")
        raise PipelineRunError("bronze_dxr_files: UNAVAILABLE")

    from file_records.local import engine

    monkeypatch.setattr(engine, "connect_session", lambda *a, **k: DeadServer())
    monkeypatch.setattr(engine, "class_archive", lambda settings: None)
    monkeypatch.setattr(runner, "_run_graph", run_graph)
    for module in (runner, engine):
        monkeypatch.setattr(module, "jvm_alive", lambda: False)
    monkeypatch.setattr(engine, "stop_jvm", lambda: None)
    log = RunLog.create(tmp_path)
    try:
        with pytest.raises(PipelineRunError) as raised:
            runner._run_with_log(StatePaths(tmp_path), {}, LocalSparkSettings(), (), False, lambda m: None,
                                 lambda line: None, log, None, {}, engine.LocalSpark())
    finally:
        log.close()
    assert str(raised.value).startswith(
        "local Spark's JVM exited during the run: java.lang.OutOfMemoryError: Java heap space; details in ")
