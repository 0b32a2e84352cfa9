"""Local OSS Spark sessions over one state directory: a persistent Hive catalog (embedded
Derby), the warehouse and the pipeline's checkpoints all live under it, so a second run
continues where the first stopped."""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Mapping, Optional, Sequence

from pydantic import Field

from file_records.errors import StateError, UsageError
from file_records.local.class_archive import ClassArchive, default_cache_dir
from file_records.options import OptionsModel

LOG4J_CONFIG = Path(__file__).resolve().parent / "log4j2.properties"



class LocalSparkSettings(OptionsModel):
    """How the local runner starts OSS Spark (FILE_RECORDS_SPARK_MASTER, ...)."""

    COMPONENT = "local"
    ENV_PREFIX = "FILE_RECORDS_"

    spark_master: str = "local[2]"
    driver_memory: str = "2g"
    shuffle_partitions: int = Field(2, ge=1)
    #: Spark compiles each query's code before running it ("on", its default) or interprets it ("off").
    #: On a small run compiling costs more than it saves: "auto" interprets when the previous run's
    #: newest snapshots were small (file_records.local.runner decides).
    codegen: Literal["auto", "on", "off"] = "auto"
    #: How the JVM compiles Spark's own code: "quick" (C1 only) or "full" (C1, then C2 for hot code).
    #: A cold JVM spends more CPU in C2 than a run of up to about 185,000 files gains from it: "auto"
    #: is quick when the previous run was smaller (file_records.local.runner decides).
    jit: Literal["auto", "quick", "full"] = "auto"
    #: "auto" lets later JVMs map an archive of the classes the first run loaded: they start faster
    #: (file_records.local.class_archive); "off" never builds or uses one.
    class_archive: Literal["auto", "off"] = "auto"
    #: Where the class archive lives (default: $XDG_CACHE_HOME/file-records or ~/.cache/file-records).
    cache_dir: Optional[Path] = None
    #: A folder for Spark's event log of each run (uncompressed JSON lines), for profiling: what each
    #: table's queries cost in CPU (benchmarks/table_cpu.py reads it). Unset: no event log.
    event_log_dir: Optional[Path] = None


class LocalSparkError(UsageError):
    pass


@dataclass(frozen=True)
class StatePaths:
    root: Path

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse"

    @property
    def metastore(self) -> Path:
        return self.root / "metastore"

    @property
    def storage(self) -> Path:
        return self.root / "pipeline-storage"

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    @property
    def location_file(self) -> Path:
        return self.root / ".location"

    def create(self) -> "StatePaths":
        for path in (self.root, self.warehouse, self.metastore, self.storage):
            path.mkdir(parents=True, exist_ok=True)
        self.check_location()
        return self

    def check_location(self) -> None:
        """The embedded metastore records tables by absolute path: a copied or moved state directory
        would have Spark read (and a run change) the original's tables. Refuse that; the first use
        records where the directory lives."""
        here = str(self.root.resolve())
        if not self.location_file.is_file():
            if self.root.is_dir():
                self.location_file.write_text(here + "\n", encoding="utf-8")
            return
        recorded = self.location_file.read_text(encoding="utf-8").strip()
        if recorded and recorded != here:
            raise StateError(
                f"{here} is a copy or a move of the state directory {recorded}: its catalog still points at the "
                "tables there, so Spark would read or change those. Use the original, or a new --state-dir "
                "(query, export and report read a copy's own files with the default engine)."
            )

    def exists(self) -> bool:
        return (self.metastore / "metastore_db").is_dir()


def check_java() -> str:
    """Which Java local Spark will use (its path and `java -version` text); an error if there is none
    or it is too old."""
    java = shutil.which("java", path=os.path.join(os.environ.get("JAVA_HOME", ""), "bin") + os.pathsep + os.environ.get("PATH", ""))
    if java is None:
        raise LocalSparkError(
            "Java was not found. Local Spark needs Java 17 or 21: install it (Debian/Ubuntu: "
            "`sudo apt-get install openjdk-17-jre-headless`, macOS: `brew install openjdk@17`) or set JAVA_HOME."
        )
    version = _java_version(java)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version)
    if match:
        major = int(match.group(2)) if match.group(1) == "1" else int(match.group(1))
        if major < 17:
            raise LocalSparkError(f"Java {major} found at {java}; Spark 4 needs Java 17 or newer (set JAVA_HOME)")
    return version


@functools.cache
def _java_version(java: str) -> str:
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LocalSparkError(f"could not run {java} -version: {exc}") from None
    return f"{os.path.realpath(java)}\n{out.stderr}{out.stdout}"


def class_archive(settings: LocalSparkSettings) -> Optional[ClassArchive]:
    """The class archive this Java and Spark use (file_records.local.class_archive), or None when it is off."""
    if settings.class_archive == "off":
        return None
    return ClassArchive.for_pyspark(settings.cache_dir or default_cache_dir(), check_java())


def driver_java_options(paths: StatePaths, extra: Sequence[str] = ()) -> str:
    """The Derby home, our quiet log4j configuration, the throughput collector, then ``extra`` (the
    JIT's and the class archive's options). The throughput collector because on two cores
    G1's concurrent threads cost a run more than the parallel collector's pauses (20,000 files:
    56 s instead of 61 s; 200,000 files: a little faster too)."""
    return (f"-Dderby.system.home={paths.metastore} -Dlog4j2.configurationFile={LOG4J_CONFIG.as_uri()} "
            "-XX:+UseParallelGC" + "".join(f" {option}" for option in extra))


# Measured with the demo (500 files): a run 74 s compiled, 58 s interpreted; 20,000 files: the same;
# 400,000 files: 116 s compiled, 132 s interpreted.
INTERPRETED_QUERIES = {"spark.sql.codegen.wholeStage": "false", "spark.sql.codegen.factoryMode": "NO_CODEGEN"}


# C1 only, measured on two cores: the demo's first day 59 -> 44 s and a 20,000-file run 56 -> 45 s
# (interleaved); JIT compilation had taken 67 s of CPU during a 62 s demo run. Large runs gain from C2
# (file_records.local.runner.LARGE_RUN_ROWS). C1's code needs more room than its default 48 MB code
# cache: once full, the JVM stops compiling and a run crawls in the interpreter.
QUICK_JIT = ("-XX:TieredStopAtLevel=1", "-XX:ReservedCodeCacheSize=256m")


# C1 and C2, with every compile threshold ten times Java's default: C2 compiled about 30 s of CPU
# into a 65 s run of 400,000 files (two cores), much of it Spark's planning code, run a few
# thousand times; code that stays hot (the tasks' loops) still reaches C2, a little later. Measured with
# pipeline_runs-style first runs, interleaved, two rounds each: 50,000 files 40.6 s against 41.4 s
# and 400,000 files 65.3 s against 68.2 s (medians), with 10% less CPU (58.6 s against 64.9 s and
# 102.9 s against 115.1 s); at 5 a little less gain, at 20 slower (43.0 s and 70.3 s).
FULL_JIT = ("-XX:CompileThresholdScaling=10",)


def jit_options(settings: LocalSparkSettings) -> tuple[str, ...]:
    return FULL_JIT if settings.jit == "full" else QUICK_JIT


def spark_conf(paths: StatePaths, settings: LocalSparkSettings, java_options: Sequence[str] = ()) -> dict[str, str]:
    metastore_url = f"jdbc:derby:;databaseName={paths.metastore / 'metastore_db'};create=true"
    return {
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.warehouse.dir": str(paths.warehouse),
        "spark.hadoop.javax.jdo.option.ConnectionURL": metastore_url,
        "spark.driver.extraJavaOptions": driver_java_options(paths, java_options),
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.memory": settings.driver_memory,
        "spark.sql.shuffle.partitions": str(settings.shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.sql.connect.serverStacktrace.enabled": "false",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        # Parquet's dictionary encoding hashes every value of every column until a column's dictionary
        # outgrows a page; most of these tables' columns are file ids, paths, names and hashes, one
        # value per row, so the work is thrown away (12% of the JVM's samples at 400,000 files).
        # Without it the tables' files are 3 to 30% larger and the writes 15 to 60% faster.
        "spark.hadoop.parquet.enable.dictionary": "false",
        **(INTERPRETED_QUERIES if settings.codegen == "off" else {}),
        **(event_log_conf(settings.event_log_dir) if settings.event_log_dir is not None else {}),
    }


def event_log_conf(directory: Path) -> dict[str, str]:
    directory.mkdir(parents=True, exist_ok=True)
    return {"spark.eventLog.enabled": "true", "spark.eventLog.dir": directory.resolve().as_uri(),
            "spark.eventLog.compress": "false"}


def _prepare_environment(paths: StatePaths, java_options: Sequence[str]) -> None:
    # The JVM is launched before any SparkConf is read, so driver JVM options go on the
    # spark-submit command line.
    os.environ["PYSPARK_SUBMIT_ARGS"] = f'--driver-java-options "{driver_java_options(paths, java_options)}" pyspark-shell'
    for name in ("py4j", "pyspark"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    # pyspark logs query errors through this logger with extra keyword arguments: it must be
    # created as a PySparkLogger (a plain logging.Logger breaks pyspark's exception conversion).
    from pyspark.logger import PySparkLogger

    PySparkLogger.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    # Python data sources and UDFs run in workers the JVM starts: make them use this venv.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def connect_session(
    paths: StatePaths, settings: LocalSparkSettings, extra_conf: Optional[Mapping[str, str]] = None,
    archive: Optional[ClassArchive] = None,
):
    """A local Spark Connect server on a free loopback port, and a session on it. With ``archive``
    its JVM maps the class archive, or lists the classes it loads for building one.

    pyspark's `remote("local")` always binds port 15002, so two runs on one machine (two state
    directories, or tests next to a demo) would collide; here every run gets its own port.
    """
    check_java()
    java_options = _java_options(settings, archive, record=True)
    _prepare_environment(paths, java_options)
    # Static settings are applied when the local server starts; pyspark then warns that it
    # cannot set them again at runtime. That is expected here.
    warnings.filterwarnings("ignore", message="Failed to set .* due to .*CANNOT_MODIFY_(STATIC_)?CONFIG")
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    port = _free_port()
    opts: dict = {
        **spark_conf(paths, settings, java_options),
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
        # The engine's scheduler thread starts ready flows, then sleeps this many whole seconds. At 0
        # it never sleeps: a Java flight recording of a 400,000-file run found it on a core for 13% of
        # the JVM's samples, taken from the two cores the tasks need. At 1 (Spark's default) a flow
        # may wait up to a second for its start; one 400,000-file run took 105 s against 106 and 116 s
        # at 0, and the demo took as long either way.
        "spark.sql.pipelines.execution.streamstate.pollingInterval": "1",
    }
    os.environ["SPARK_LOCAL_REMOTE"] = "1"
    ConnectSession._start_connect_server(settings.spark_master, opts)
    if archive is not None and archive.recording_option() in java_options:
        _remember_launch(archive)
    os.environ["SPARK_CONNECT_MODE_ENABLED"] = "1"
    spark = ConnectSession.builder.remote(f"sc://localhost:{port}").config(map=opts).getOrCreate()
    # Custom keys are not Spark SQL settings and are dropped on the way to the server session;
    # set them explicitly so the pipeline files can read them with spark.conf.get.
    for key, value in (extra_conf or {}).items():
        spark.conf.set(key, value)
    return spark


def _java_options(settings: LocalSparkSettings, archive: Optional[ClassArchive], record: bool) -> list[str]:
    """The JVM options a session adds: its JIT, and the class archive's (``record``: a pipeline run
    may list its classes for building one)."""
    return [*jit_options(settings), *(archive.java_options(record) if archive is not None else [])]


def _remember_launch(archive: ClassArchive) -> None:
    from pyspark import SparkContext

    system = SparkContext._jvm.java.lang.System
    arguments = SparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()
    archive.remember_launch(system.getProperty("java.home"), system.getProperty("java.class.path"),
                            [str(argument) for argument in arguments])


def classic_session(paths: StatePaths, settings: LocalSparkSettings):
    """A classic local session on the same catalog, for queries and exports."""
    check_java()
    java_options = _java_options(settings, class_archive(settings), record=False)
    _prepare_environment(paths, java_options)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(settings.spark_master).appName("file-records")
    for key, value in spark_conf(paths, settings, java_options).items():
        builder = builder.config(key, value)
    spark = builder.enableHiveSupport().getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
