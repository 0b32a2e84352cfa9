"""A class-data-sharing archive of the classes local Spark loads, so that its JVM starts faster.

Every local run starts a JVM that loads, parses and verifies about 25,000 classes (Spark, Hive,
Derby, the Connect server). With an archive of them (Java's class data sharing) the JVM maps them in
ready to use. Measured on the demo (500 files, 2 cores, three pairs interleaved): Spark's start
7.5 -> 4.5 s, graph registration 9.7 -> 7.7 s, the whole run 61.5 -> 53.5 s.

How the archive comes about, once per Java and Spark installation:
1. A pipeline run with no archive lists the classes its JVM loads (``-XX:DumpLoadedClassList``, no
   measurable cost) and records how that JVM was launched (its Java, class path and modules).
2. When that run has succeeded, a background process at the lowest CPU priority dumps those classes
   into an archive (``-Xshare:dump``: about 75 s of one core and about 280 MB, in the cache directory).
3. Later JVMs with the same Java and Spark map it (``-XX:SharedArchiveFile``). ``-Xshare:auto``
   makes a JVM that cannot use it (another Java build, another class path) run without it.

A failed build leaves a ``.failed`` note (and its log) and is not retried. A build also removes the
archives of other installations that no run has used for two weeks. ``FILE_RECORDS_CLASS_ARCHIVE=off``
turns all of this off; ``FILE_RECORDS_CACHE_DIR`` moves the cache.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

# Dumping 25,000 classes takes about 75 s on one core; a dump still running after this is stuck.
BUILD_TIMEOUT_SECONDS = 1800
# An archive (about 280 MB) no run has mapped for this long belongs to a Spark or Java that is gone
# (an old virtual environment, a clone deleted): a build removes it.
UNUSED_DAYS = 14


# Every file of one installation's archive is named PREFIX + its key + a suffix.
PREFIX = "spark-classes-"


def default_cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "file-records"


def install_key(java_version: str, spark_home: Path, spark_version: str) -> str:
    """What an archive is only valid for: this Java build and this Spark's jars."""
    jars = sorted(path.name for path in (spark_home / "jars").glob("*.jar"))
    identity = "\n".join([java_version.strip(), str(spark_home.resolve()), spark_version, *jars])
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ClassArchive:
    directory: Path
    key: str

    @classmethod
    def for_pyspark(cls, directory: Path, java_version: str) -> "ClassArchive":
        import pyspark

        return cls(directory, install_key(java_version, Path(pyspark.__file__).parent, pyspark.__version__))

    def _path(self, suffix: str) -> Path:
        return self.directory / f"{PREFIX}{self.key}{suffix}"

    @property
    def archive(self) -> Path:
        return self._path(".jsa")

    @property
    def class_list(self) -> Path:
        return self._path(".classlist")

    @property
    def launch(self) -> Path:
        return self._path(".launch.json")

    @property
    def failed(self) -> Path:
        return self._path(".failed")

    @property
    def build_log(self) -> Path:
        return self._path(".build.log")

    @property
    def recording(self) -> Path:
        """Where this process's JVM lists its classes: two first runs at once each write their own."""
        return self._path(f".classlist.{os.getpid()}.partial")

    def status(self) -> str:
        if self.archive.is_file():
            return "ready"
        if self.failed.is_file():
            return "failed"
        if self.class_list.is_file():
            return "building"
        return "missing"

    def java_options(self, record: bool) -> list[str]:
        """JVM options: map the archive when it exists; else, for a pipeline run (``record``), list
        the classes the JVM loads unless a list is already waiting for its build."""
        state = self.status()
        if state == "ready":
            with contextlib.suppress(OSError):
                os.utime(self.archive)  # last used: what pruning goes by
            return [f"-XX:SharedArchiveFile={self.archive}", "-Xshare:auto", "-Xlog:cds=off"]
        if record and state == "missing":
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
            except OSError:
                return []  # no cache folder (a read-only home, say): runs go on without an archive
            return [self.recording_option()]
        return []

    def recording_option(self) -> str:
        return f"-XX:DumpLoadedClassList={self.recording}"

    def remember_launch(self, java_home: str, class_path: str, jvm_arguments: list[str]) -> None:
        """How the recording JVM was launched: the dump must use the same Java, class path and modules."""
        modules = [arg for arg in jvm_arguments if arg.startswith("--add-modules")]
        with contextlib.suppress(OSError):  # without it the class list is dropped; the run is not affected
            self.launch.write_text(json.dumps({"java_home": java_home, "class_path": class_path,
                                               "modules": modules}), encoding="utf-8")

    def finish(self, succeeded: bool) -> Optional[str]:
        """After the JVM exited: keep its class list if the run succeeded, and start building the
        archive from it in the background. Returns a line for the run log when it starts one. The
        archive only ever speeds runs up: a file system error here never fails one."""
        try:
            return self._finish(succeeded)
        except OSError as exc:
            return f"class archive: not built ({type(exc).__name__}: {exc})"

    def _finish(self, succeeded: bool) -> Optional[str]:
        recorded = self.recording
        if recorded.is_file():
            if succeeded and self.launch.is_file() and self.status() == "missing":
                os.replace(recorded, self.class_list)
            else:
                recorded.unlink(missing_ok=True)
        if self.status() != "building":
            return None
        subprocess.Popen(
            [sys.executable, "-m", __name__, str(self.directory), self.key],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, close_fds=True,
        )
        return (f"class archive: building {self.archive} in the background at low priority (once per Java and "
                "Spark installation); later runs start faster. FILE_RECORDS_CLASS_ARCHIVE=off turns it off.")

    def dump_command(self, output: Path) -> list[str]:
        launch = json.loads(self.launch.read_text(encoding="utf-8"))
        return [str(Path(launch["java_home"]) / "bin" / "java"), "-Xshare:dump",
                f"-XX:SharedClassListFile={self.class_list}", f"-XX:SharedArchiveFile={output}",
                "-cp", launch["class_path"], *launch["modules"], "-Xlog:cds=error"]

    def build(self, timeout: float = BUILD_TIMEOUT_SECONDS) -> str:
        """Dump the listed classes into the archive (one build at a time; the archive appears whole
        or not at all). Returns the resulting status."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self._path(".lock"), "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return "building"  # another process is dumping it
            if self.status() != "building":
                return self.status()
            partial = self._path(".jsa.partial")
            partial.unlink(missing_ok=True)
            try:
                with open(self.build_log, "w") as log:
                    done = subprocess.run(self.dump_command(partial), stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT, timeout=timeout)
                ok = done.returncode == 0 and partial.is_file()
                why = f"the dump exited with {done.returncode}"
            except (OSError, ValueError, KeyError, subprocess.TimeoutExpired) as exc:
                ok, why = False, f"{type(exc).__name__}: {exc}"
            if ok:
                os.replace(partial, self.archive)
                self.prune_unused()
            else:
                partial.unlink(missing_ok=True)
                self.failed.write_text(f"{why}; details in {self.build_log}\n", encoding="utf-8")
            return self.status()

    def prune_unused(self, days: float = UNUSED_DAYS) -> list[str]:
        """Remove the other installations' archives (and their files) no run has used for ``days``."""
        cutoff = time.time() - days * 86400
        removed = []
        for other in self.directory.glob(f"{PREFIX}*.jsa"):
            key = other.name[len(PREFIX):-len(".jsa")]
            if key == self.key or other.stat().st_mtime >= cutoff:
                continue
            for path in self.directory.glob(f"{PREFIX}{key}.*"):
                path.unlink(missing_ok=True)
            removed.append(key)
        return removed


def lowest_priority() -> None:
    """A build must not slow the runs it is meant to speed up. Linux's idle class runs it only on
    CPU no one else wants (at nice 19 it still took a share: the demo's second day ran 76 s instead
    of about 50 s beside it); elsewhere nice 19. The dump's JVM inherits it."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        with contextlib.suppress(OSError):
            os.nice(19)


def main(argv: list[str]) -> int:
    lowest_priority()
    directory, key = argv
    return 0 if ClassArchive(Path(directory), key).build() == "ready" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
