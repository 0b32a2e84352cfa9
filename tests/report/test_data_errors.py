"""The report reads "no tables" only from a catalog without the database; anything else is an
error with its reason (a locked metastore used to show up as an empty report)."""

from __future__ import annotations

import pytest

from file_records.errors import FileRecordsError
from file_records.report import data


class _Spark:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def sql(self, text: str):
        raise self.error


def test_missing_database_is_no_tables():
    error = RuntimeError("[SCHEMA_NOT_FOUND] The schema `default` cannot be found. SQLSTATE: 42704")
    assert data._present_tables(_Spark(error)) == set()


def test_a_catalog_that_cannot_be_read_fails_with_the_first_line():
    error = RuntimeError("Failed to start database 'metastore_db' with class loader jdk.internal..., see the next "
                         "exception for details.\n\tat org.apache.derby.impl.jdbc.SQLExceptionFactory.wrapArgs")
    with pytest.raises(FileRecordsError) as raised:
        data.collect_report_data(_Spark(error))
    message = str(raised.value)
    assert message.startswith("the tables could not be read: RuntimeError: Failed to start database 'metastore_db'")
    assert "\n" not in message and "derby.impl" not in message
