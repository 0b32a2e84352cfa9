"""Shared pytest fixtures."""

from __future__ import annotations

import os

import pytest

# Every pipeline the tests run is small: Spark's code compiles faster with C1 only (what --demo picks
# too), where a production first run, of unknown size, also uses C2 (LocalSparkSettings.jit). The
# variable reaches the CLI subprocesses; tests of the choice itself set or clear it.
os.environ.setdefault("FILE_RECORDS_JIT", "quick")


@pytest.fixture(scope="session")
def spark():
    """A classic local SparkSession shared by the whole test session."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    yield session
    session.stop()
