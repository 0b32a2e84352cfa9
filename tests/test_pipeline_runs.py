"""benchmarks/pipeline_runs.py: the marginal figures it prints, from timings given here."""

from __future__ import annotations

import math

from benchmarks.pipeline_runs import Size, Timing, bronze_only_report, marginal, marginal_rate


def _size(records: int, first_walls: list[float], bronze_only: list) -> Size:
    return Size(records, [], emulator=None, firsts=[Timing(wall, 0.0) for wall in first_walls],
                bronze_only=bronze_only)


def test_marginal_rate_is_the_extra_records_over_the_extra_seconds():
    assert marginal_rate(50_000, 40.0, 400_000, 75.0) == 10_000
    assert marginal_rate(50_000, 40.0, 400_000, 39.0) == math.inf  # sizes too close for the noise


def test_the_connectors_bronze_only_load_is_printed_as_the_whole_pipelines_ceiling():
    small = _size(50_000, [40.0, 44.0, 42.0], bronze_only=[5.0, 4.0, 4.5])
    large = _size(400_000, [75.0, 79.0, 77.0], bronze_only=[22.5, 21.5, 24.5])
    rates = [marginal(small, large, number) for number in range(3)]
    line = bronze_only_report(small, large, rates)
    # rounds: 350,000 records in 17.5 s, 17.5 s and 20.0 s -> 20,000, 20,000, 17,500 records/s
    assert "20,000 records/s (rounds: 20,000, 20,000, 17,500; median)" in line
    # the whole pipeline: 10,000 records/s each round -> 50%, 50%, 57%
    assert "whole pipeline = 50% of it" in line


def test_no_ceiling_line_without_the_measurement_and_a_plain_one_when_a_round_failed():
    small, large = _size(50_000, [40.0], []), _size(400_000, [75.0], [])
    assert bronze_only_report(small, large, [10_000.0]) is None
    small.bronze_only, large.bronze_only = [5.0], [None]
    assert "failed in some round" in bronze_only_report(small, large, [10_000.0])
