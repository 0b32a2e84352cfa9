"""The daily job: it runs the pipeline incrementally, on a schedule paused except in prod, with
retries and failure notifications that resolve in every target."""

from __future__ import annotations

import pytest

from tests.bundle.document import TARGETS, resolve_target, root_document, the_job, the_pipeline


def test_job_runs_the_pipeline_incrementally():
    _, job = the_job()
    pipeline_key, _ = the_pipeline()
    (task,) = job["tasks"]
    assert task["pipeline_task"]["pipeline_id"] == f"${{resources.pipelines.{pipeline_key}.id}}"
    assert task["pipeline_task"]["full_refresh"] is False
    assert task["max_retries"] == "${var.job_max_retries}"
    assert job["max_concurrent_runs"] == 1
    assert job["email_notifications"]["on_failure"] == "${var.notification_emails}"
    assert job["schedule"]["quartz_cron_expression"] == "${var.schedule_cron}"
    assert job["schedule"]["timezone_id"] == "${var.schedule_timezone}"
    assert job["schedule"]["pause_status"] == "${var.schedule_pause_status}"


def test_schedule_default_is_daily_at_0200_utc():
    variables = root_document()["variables"]
    fields = variables["schedule_cron"]["default"].split()
    assert len(fields) in (6, 7), "a Quartz cron has 6 or 7 fields"
    seconds, minutes, hours, day_of_month, month, day_of_week = fields[:6]
    assert (seconds, minutes, hours) == ("0", "0", "2")
    assert month == "*" and {day_of_month, day_of_week} == {"*", "?"}
    assert variables["schedule_timezone"]["default"] == "UTC"


@pytest.mark.parametrize("target,expected", [("dev", "PAUSED"), ("prod", "UNPAUSED")])
def test_schedule_pause_status_per_target(target, expected):
    _, job = the_job(resolve_target(target)[0])
    assert job["schedule"]["pause_status"] == expected


@pytest.mark.parametrize("target", TARGETS)
def test_retries_and_notifications_resolve(target):
    resolved, _ = resolve_target(target)
    _, job = the_job(resolved)
    (task,) = job["tasks"]
    assert isinstance(task["max_retries"], int) and task["max_retries"] >= 1
    assert isinstance(task["min_retry_interval_millis"], int)
    recipients = job["email_notifications"]["on_failure"]
    assert isinstance(recipients, list) and all("@" in r for r in recipients)
