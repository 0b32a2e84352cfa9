"""The class archive (file_records.local.class_archive): which JVM options a run gets in each state,
that a run's class list is kept only when the run succeeded, and a real dump with the real Java of a
tiny class list (a few classes: well under a second), which a JVM then maps."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from file_records.local import class_archive as module
from file_records.local.class_archive import ClassArchive, install_key
from file_records.local.spark import LocalSparkSettings, StatePaths, class_archive, spark_conf

JAVA = shutil.which("java")
needs_java = pytest.mark.skipif(JAVA is None, reason="needs a Java runtime")


def java_home() -> str:
    return str(Path(os.path.realpath(JAVA)).parent.parent)


def fake_spark_home(root: Path, jars: list[str]) -> Path:
    (root / "jars").mkdir(parents=True)
    for name in jars:
        (root / "jars" / name).write_bytes(b"")
    return root


def test_the_key_changes_with_the_java_build_and_the_spark_jars(tmp_path):
    spark = fake_spark_home(tmp_path / "spark", ["a-1.0.jar", "b-2.0.jar"])
    key = install_key('openjdk version "17.0.15"', spark, "4.3.0")
    assert key == install_key('openjdk version "17.0.15"', spark, "4.3.0")
    assert key != install_key('openjdk version "17.0.16"', spark, "4.3.0")
    assert key != install_key('openjdk version "17.0.15"', spark, "4.3.1")
    (spark / "jars" / "b-2.1.jar").write_bytes(b"")
    assert key != install_key('openjdk version "17.0.15"', spark, "4.3.0")


def test_options_in_each_state(tmp_path):
    archive = ClassArchive(tmp_path / "cache", "k1")
    assert archive.status() == "missing"
    # Only a pipeline run records its classes; a query's JVM runs as it always did.
    assert archive.java_options(record=False) == []
    recording = archive.java_options(record=True)
    assert recording == [f"-XX:DumpLoadedClassList={archive.recording}"]
    assert archive.directory.is_dir()
    archive.class_list.write_text("java/lang/Object\n")
    assert archive.status() == "building"
    assert archive.java_options(record=True) == []  # a list is already waiting for its build
    archive.archive.write_bytes(b"")
    assert archive.status() == "ready"
    assert archive.java_options(record=False) == [f"-XX:SharedArchiveFile={archive.archive}", "-Xshare:auto",
                                                  "-Xlog:cds=off"]


def test_a_failed_build_is_not_retried(tmp_path):
    archive = ClassArchive(tmp_path, "k1")
    archive.class_list.write_text("java/lang/Object\n")
    archive.failed.write_text("the dump exited with 1\n")
    assert archive.status() == "failed"
    assert archive.java_options(record=True) == []
    assert archive.finish(succeeded=True) is None


def test_the_options_reach_the_jvm_and_off_means_none(tmp_path):
    settings = LocalSparkSettings(cache_dir=tmp_path)
    archive = class_archive(settings)
    archive.archive.write_bytes(b"")
    options = spark_conf(StatePaths(tmp_path / "state"), settings, archive.java_options(record=True))
    assert f"-XX:SharedArchiveFile={archive.archive}" in options["spark.driver.extraJavaOptions"]
    assert class_archive(LocalSparkSettings(class_archive="off")) is None
    assert LocalSparkSettings.from_env({"FILE_RECORDS_CLASS_ARCHIVE": "off"}, {}).class_archive == "off"


class Spawned:
    def __init__(self):
        self.commands = []

    def __call__(self, command, **kwargs):
        assert kwargs["start_new_session"]  # the build outlives the run
        self.commands.append(command)


def test_a_failed_run_drops_its_class_list(tmp_path, monkeypatch):
    spawned = Spawned()
    monkeypatch.setattr(module.subprocess, "Popen", spawned)
    archive = ClassArchive(tmp_path, "k1")
    archive.java_options(record=True)
    archive.remember_launch("/java", "/jars/a.jar", [])
    archive.recording.write_text("java/lang/Object\n")
    assert archive.finish(succeeded=False) is None
    assert not archive.recording.exists() and archive.status() == "missing"
    assert spawned.commands == []


def test_a_successful_run_keeps_its_class_list_and_starts_the_build(tmp_path, monkeypatch):
    spawned = Spawned()
    monkeypatch.setattr(module.subprocess, "Popen", spawned)
    archive = ClassArchive(tmp_path, "k1")
    archive.java_options(record=True)
    archive.remember_launch("/java", "/jars/a.jar:/jars/b.jar",
                            ["-Xmx2g", "--add-modules=jdk.incubator.vector", "-Dx=y"])
    archive.recording.write_text("java/lang/Object\n")
    line = archive.finish(succeeded=True)
    assert "in the background" in line and "FILE_RECORDS_CLASS_ARCHIVE=off" in line
    assert archive.class_list.read_text() == "java/lang/Object\n" and archive.status() == "building"
    assert spawned.commands[0][1:] == ["-m", "file_records.local.class_archive", str(tmp_path), "k1"]
    command = archive.dump_command(tmp_path / "out.jsa")
    assert command[0] == "/java/bin/java" and "-Xshare:dump" in command
    assert command[command.index("-cp") + 1] == "/jars/a.jar:/jars/b.jar"
    assert "--add-modules=jdk.incubator.vector" in command and "-Xmx2g" not in command


@needs_java
def test_a_real_dump_makes_an_archive_a_jvm_maps(tmp_path):
    archive = ClassArchive(tmp_path / "cache", "k1")
    archive.directory.mkdir()
    archive.class_list.write_text("java/lang/Object\njava/lang/String\njava/util/HashMap\n")
    archive.launch.write_text(json.dumps({"java_home": java_home(), "class_path": str(tmp_path), "modules": []}))
    assert archive.build() == "ready"
    mapped = subprocess.run([JAVA, f"-XX:SharedArchiveFile={archive.archive}", "-Xshare:on", "-cp", str(tmp_path),
                             "-version"], capture_output=True, text=True)
    assert mapped.returncode == 0, mapped.stderr
    assert "sharing" in mapped.stderr
    assert not list(archive.directory.glob("*.partial"))


@needs_java
def test_a_dump_that_fails_leaves_a_note_and_no_archive(tmp_path):
    archive = ClassArchive(tmp_path, "k1")
    archive.class_list.write_text("java/lang/Object\n")
    archive.launch.write_text(json.dumps({"java_home": java_home(), "class_path": str(tmp_path),
                                          "modules": ["--add-modules=no.such.module"]}))
    assert archive.build() == "failed"
    assert not archive.archive.exists() and not list(tmp_path.glob("*.partial"))
    assert str(archive.build_log) in archive.failed.read_text()


@needs_java
def test_only_one_build_at_a_time(tmp_path):
    import fcntl

    archive = ClassArchive(tmp_path, "k1")
    archive.class_list.write_text("java/lang/Object\n")
    with open(tmp_path / "spark-classes-k1.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert archive.build() == "building"
    assert not archive.archive.exists()


def test_a_build_prunes_archives_no_run_used_for_two_weeks(tmp_path):
    current, recent, stale = (ClassArchive(tmp_path, key) for key in ("k1", "k2", "k3"))
    for archive in (current, recent, stale):
        archive.archive.write_bytes(b"")
        archive.class_list.write_text("java/lang/Object\n")
    two_weeks_ago = time.time() - 15 * 86400
    os.utime(stale.archive, (two_weeks_ago, two_weeks_ago))
    os.utime(current.archive, (two_weeks_ago, two_weeks_ago))  # its own archive is never pruned
    assert current.prune_unused() == ["k3"]
    assert not stale.archive.exists() and not stale.class_list.exists()
    assert recent.archive.exists() and current.archive.exists()
    # Mapping an archive counts as using it.
    os.utime(recent.archive, (two_weeks_ago, two_weeks_ago))
    assert recent.java_options(record=False)
    assert recent.archive.stat().st_mtime > time.time() - 60


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="Linux scheduling classes")
def test_the_build_runs_in_the_idle_scheduling_class():
    code = ("import os; from file_records.local.class_archive import lowest_priority; lowest_priority(); "
            "print(os.sched_getscheduler(0) == os.SCHED_IDLE)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "True"


def test_a_cache_folder_that_cannot_be_made_never_fails_a_run(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    archive = ClassArchive(blocker / "cache", "k1")
    assert archive.java_options(record=True) == []
    archive.remember_launch("/java", "/jars/a.jar", [])
    assert archive.finish(succeeded=True) is None
