"""The dataset registry: the one declaration of what the pipeline's sources and guarded datasets are.

Per source (:class:`Source`): its bronze table, the column naming the run a row came from (a DXR
snapshot, a workspace scan), the record type of its item rows and the silver dataset it feeds. Per
guarded silver dataset (:class:`Dataset`): the table name, the key column(s) that identify one row,
a human label, the columns the expectation rules see and the silver table keeps, and the name of its
quarantine table. Table and column names here are the published ones: renaming one is a breaking
change for every reader of the tables.

Layer rule: a foundation module. Connectors, expectations, policies, pipelines, the report and the
CLI may import it; it imports nothing of the project but :mod:`file_records.errors`, and no Spark.
``tests/test_datasets.py`` checks it against the rules files and against what the pipeline logic
produces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from file_records.errors import ConfigError

__all__ = [
    "DATASETS",
    "DXR",
    "KEPT_FACTS",
    "QUARANTINE_COLUMNS",
    "SILVER_FILE_RECORDS",
    "SILVER_WORKSPACE_FILES",
    "SOURCES",
    "WORKSPACE",
    "Dataset",
    "Source",
    "UnknownDatasetError",
    "dataset",
    "key_columns",
    "kept_facts_table",
    "kept_facts_tables",
    "newest_facts_table",
    "newest_facts_tables",
    "working_tables",
]

#: Columns a quarantine table adds after the candidate columns (see ``expectations.engine.quarantine``).
QUARANTINE_COLUMNS: tuple[str, ...] = ("failed_rules", "quarantined_at")


class UnknownDatasetError(ConfigError, KeyError):
    """A dataset name that is not in the registry."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Source:
    """One source system and its bronze table."""

    name: str  #: ``dxr`` | ``workspace``: the pipeline configuration key ``file_records.<name>.*``
    label: str  #: for people, e.g. in the report
    bronze: str  #: the append-only bronze table
    run_column: str  #: bronze column naming the snapshot / scan a row belongs to (newest = max)
    run_unit: str  #: what one run is called
    item_record_type: str  #: ``record_type`` of the bronze rows that are items (the others are ledger rows)
    silver: str  #: the guarded silver dataset the source feeds


@dataclass(frozen=True)
class Dataset:
    """A silver dataset guarded by expectation rules, with its quarantine twin."""

    name: str  #: table name; also the name of its rules file ``expectations/rules/<name>.yml``
    label: str  #: for people, e.g. ``Data X-Ray files``
    source: str  #: name of the :class:`Source` that feeds it
    key: tuple[str, ...]  #: columns that identify one row of the silver table
    #: columns of the rows the rules see (the quarantine's input), in table order
    candidate_columns: tuple[str, ...]
    quarantine: str  #: the quarantine table: candidate rows that broke a drop or fail rule
    #: candidate columns the silver table leaves out (kept in the quarantine to show the row)
    not_in_silver: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """The silver table's columns, in order."""
        return tuple(c for c in self.candidate_columns if c not in self.not_in_silver)

    @property
    def candidates(self) -> str:
        """The table of the newest run's candidate rows (typed, deduplicated, before any rule):
        computed once, read by the silver table, its quarantine and the expectation metrics."""
        return f"{self.name}_candidates"

    @property
    def quarantine_columns(self) -> tuple[str, ...]:
        """The quarantine table's columns, in order."""
        return self.candidate_columns + QUARANTINE_COLUMNS

    @property
    def title(self) -> str:
        """``label (name)``, how a page names the dataset."""
        return f"{self.label} ({self.name})"


DXR = Source(
    name="dxr",
    label="Data X-Ray",
    bronze="bronze_dxr_files",
    run_column="snapshot_id",
    run_unit="snapshot",
    item_record_type="file",
    silver="silver_file_records",
)
WORKSPACE = Source(
    name="workspace",
    label="Databricks workspace",
    bronze="bronze_workspace_objects",
    run_column="scan_id",
    run_unit="scan",
    item_record_type="object",
    silver="silver_workspace_files",
)

SILVER_FILE_RECORDS = Dataset(
    name="silver_file_records",
    label="Data X-Ray files",
    source="dxr",
    # The newest snapshot deduplicated on the Data X-Ray document id (pipelines/logic/dxr.py,
    # dedupe_files); rows without an id are left to the file_id_present rule, so silver has one row
    # per file_id.
    key=("file_id",),
    candidate_columns=(
        "source_system", "file_id", "file_name", "path", "size", "mime_type", "created_at",
        "last_modified_at", "content_sha256", "scan_depth", "metadata_extraction_status", "datasource_id",
        "datasource_name", "connector_type", "labels", "label_ids", "dlp_labels", "annotator_names",
        "entitlements", "owner_name", "owner_email", "created_by_email", "modified_by_email", "raw_json",
        "parse_error", "source_query", "snapshot_id", "ingestion_date", "ingested_at",
    ),
    quarantine="silver_file_records_quarantine",
    not_in_silver=("raw_json",),
)

SILVER_WORKSPACE_FILES = Dataset(
    name="silver_workspace_files",
    label="Workspace files",
    source="workspace",
    # (source, path), not path and not object_id. pipelines/logic/workspace.py keeps one row per
    # (scan, source, path) of the newest scan, so within silver the pair is unique. path alone is
    # not: a user's Workspace and DBFS homes are both /Users/<user>, and the same relative file can
    # exist in both. object_id is not a key either: DBFS and volume rows have none (NULL), and a
    # Workspace object deleted and re-created under the same path gets a new id. The pair is also
    # what silver_all_files builds its file_id from ('<source>:<path>', policies/unified.py).
    key=("source", "path"),
    candidate_columns=(
        "username", "active", "source", "path", "object_type", "language", "size", "size_is_exact",
        "size_estimated", "modified_at", "object_id", "scan_id", "ingestion_date", "ingested_at",
    ),
    quarantine="silver_workspace_files_quarantine",
)

#: Every source, by name.
SOURCES: dict[str, Source] = {s.name: s for s in (DXR, WORKSPACE)}
#: Every guarded dataset, by name (the datasets that may have an expectation rules file).
DATASETS: dict[str, Dataset] = {d.name: d for d in (SILVER_FILE_RECORDS, SILVER_WORKSPACE_FILES)}


#: Tables folded from per-run facts computed once and kept (see pipelines/kept_facts.py), with the
#: parts their facts come in (one per source where sources take their snapshots independently: a
#: run that takes a snapshot of one source then does not append the other's again). With kept facts
#: (OSS) each part has ``<name>[_<part>]_newest`` (the newest run's facts) and
#: ``<name>[_<part>]_kept`` (every computation, appended: like bronze, it holds what cannot be
#: computed again as it was).
KEPT_FACTS: dict[str, tuple[str, ...]] = {
    "gold_expectation_metrics": (),
    "gold_policy_summary": (),
    "silver_file_history": ("dxr", "workspace"),
    "gold_user_inventory": (),
}


def newest_facts_table(name: str, part: Optional[str] = None) -> str:
    return f"{name}_{part}_newest" if part else f"{name}_newest"


def kept_facts_table(name: str, part: Optional[str] = None) -> str:
    return f"{name}_{part}_kept" if part else f"{name}_kept"


def newest_facts_tables(name: str) -> tuple[str, ...]:
    """Every ``_newest`` table of the kept-facts table ``name``."""
    return tuple(newest_facts_table(name, part) for part in KEPT_FACTS[name] or (None,))


def kept_facts_tables() -> tuple[str, ...]:
    """Every ``_kept`` table of every kept-facts table."""
    return tuple(kept_facts_table(name, part) for name, parts in KEPT_FACTS.items() for part in parts or (None,))

def dataset(name: str) -> Dataset:
    """The registered dataset ``name``; :class:`UnknownDatasetError` (a ConfigError) names the known ones."""
    found: Optional[Dataset] = DATASETS.get(name)
    if found is None:
        raise UnknownDatasetError(f"unknown dataset {name!r}; known datasets: {', '.join(sorted(DATASETS))}")
    return found


def key_columns(name: str) -> tuple[str, ...]:
    """The key column(s) of dataset ``name``; an empty tuple for a name that is not registered."""
    found = DATASETS.get(name)
    return found.key if found is not None else ()


def working_tables() -> frozenset[str]:
    """The tables the published ones are made from (candidates, newest and kept facts): readable,
    but not part of the stable contract."""
    facts = [table for name in KEPT_FACTS for table in newest_facts_tables(name)] + list(kept_facts_tables())
    return frozenset([d.candidates for d in DATASETS.values()] + facts)
