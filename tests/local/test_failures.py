"""The failure summary: the table and the connector's own sentence out of the engine's noise."""

from __future__ import annotations

from file_records.local import failures

CAUSE = ("could not connect to Data X-Ray at https://127.0.0.1:9 after 3 attempts (ConnectionError): "
         "check DXR_BASE_URL and the network")

ENGINE_TEXT = f"""Flow 'spark_catalog.default.bronze_dxr_files' has FAILED.
Error: [STREAM_FAILED] Query  terminated with exception: [PYTHON_EXCEPTION] An exception was thrown from the Python worker: Traceback (most recent call last):
  File "/work/main/connectors/dxr/source.py", line 93, in read
    yield from read_query(self.settings, self._token, partition)
  File "/work/main/connectors/dxr/client.py", line 276, in _stream_once
    raise DxrUnavailableError(
file_records.connectors.dxr.client.DxrUnavailableError: {CAUSE}
 SQLSTATE: 38000
\tat org.apache.spark.api.python.BasePythonRunner$ReaderIterator.handlePythonException(PythonRunner.scala:1097)
\tat org.apache.spark.sql.execution.python.PythonArrowOutput$$anon$1.read(PythonArrowOutput.scala:145)
=== Streaming Query ===
Identifier: spark_catalog.default.bronze_dxr_files [id = 2e32, runId = 0051]
Current State: ACTIVE
Logical Plan:
~WriteToMicroBatchDataSourceV1 `spark_catalog`.`default`.`bronze_dxr_files`, FileSink[file:/tmp/x]
"""


def test_connector_message_and_table_out_of_the_engine_text():
    summary = failures.summarise(["Flow spark_catalog.default.bronze_dxr_files is RUNNING.", ENGINE_TEXT])
    assert summary.table == "bronze_dxr_files"
    assert summary.cause == CAUSE
    assert summary.error_class == "DxrUnavailableError"
    assert summary.retryable


def test_from_the_exception_text_when_the_events_say_nothing():
    summary = failures.summarise(["Run is FAILED."], "StreamingQueryException: " + ENGINE_TEXT)
    assert summary.cause == CAUSE and summary.table == "bronze_dxr_files"


def test_auth_and_query_errors_are_not_retryable():
    text = ("Flow `spark_catalog`.`default`.`bronze_dxr_files` failed\nTraceback ...\n"
            "file_records.connectors.dxr.client.DxrAuthError: Data X-Ray rejected the token (HTTP 401): check "
            "DXR_BEARER_TOKEN SQLSTATE: 38000\n\tat org.apache.Foo(Foo.java:1)")
    summary = failures.summarise([text])
    assert summary.error_class == "DxrAuthError" and not summary.retryable
    assert summary.cause == "Data X-Ray rejected the token (HTTP 401): check DXR_BEARER_TOKEN"
    assert summary.table == "bronze_dxr_files"
    assert not failures.summarise(["file_records.connectors.dxr.client.DxrQueryError: bad query"]).retryable


def test_workspace_api_error_is_found():
    summary = failures.summarise(["file_records.connectors.workspace.client.ApiError: 403 for /api/2.0/x"])
    assert summary.error_class == "ApiError" and summary.cause == "403 for /api/2.0/x"


def test_without_a_connector_error_the_first_exception_line():
    summary = failures.summarise(["Flow 'spark_catalog.default.gold_x' has FAILED.\n"
                                  "pyspark.errors.exceptions.AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] y"])
    assert summary.table == "gold_x"
    assert summary.cause.startswith("AnalysisException: [TABLE_OR_VIEW_NOT_FOUND]")
    assert failures.summarise([], "").cause


def test_lines_are_few_and_name_the_log(tmp_path):
    lines = failures.summarise([ENGINE_TEXT]).lines(tmp_path / "run.log")
    assert lines == [f"bronze_dxr_files: {CAUSE}", f"Engine output and the full error: {tmp_path / 'run.log'}"]
