"""benchmarks/bronze_cost.py: a bronze load's CPU split into its parts, from samples given here."""

from __future__ import annotations

import pytest

from benchmarks.bronze_cost import Cpu, Sample, breakdown, ceiling, per_record


def _samples(*cpus: tuple[float, float, float]) -> list[Sample]:
    return [Sample(10.0, Cpu(*cpu)) for cpu in cpus]


def test_the_parquet_write_is_what_the_bronze_sink_costs_the_jvm_beyond_the_read():
    read = per_record(_samples((4.0, 10.0, 1.0), (5.0, 11.0, 1.0), (6.0, 9.0, 1.0)), 100_000)
    bronze = per_record(_samples((18.0, 10.0, 1.0), (20.0, 12.0, 1.0), (19.0, 10.0, 1.0)), 100_000)
    assert read == pytest.approx({"jvm": 50.0, "python_workers": 100.0, "emulator": 10.0})  # medians, us/record
    parts = breakdown(read, bronze)
    assert parts == pytest.approx({"Python workers (download, parse to Arrow)": 100.0,
                                   "JVM: Arrow batches to rows": 50.0, "JVM: parquet write": 140.0})
    # 290 us of CPU per record: two cores sustain at most 2 / 290 us
    assert ceiling(parts) == pytest.approx(2 / 290e-6)


def test_cpu_differences_are_taken_group_by_group():
    assert Cpu(5.0, 7.0, 2.0) - Cpu(1.0, 2.0, 0.5) == Cpu(4.0, 5.0, 1.5)
