"""The policy settings: which catalogue and hold list the pipeline evaluates, and how much history
`gold_policy_summary` compares. The one declaration; environment variables
(``FILE_RECORDS_POLICIES_*``) and pipeline keys (``file_records.policies.*``) are derived from it."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from pydantic import Field, field_validator

from file_records.options import ExistingFile, OptionsModel


class PolicyOptions(OptionsModel):
    COMPONENT = "policies"
    ENV_PREFIX = "FILE_RECORDS_POLICIES_"

    catalogue: Optional[ExistingFile] = Field(None, description="A catalogue YAML; unset: the packaged policies/catalogue.yml")
    holds_table: Optional[str] = Field(None, description="A table the records team edits (Databricks)")
    holds_file: Optional[ExistingFile] = Field(None, description="Or a hold-list CSV (columns of policies/legal_holds.csv)")
    history_days: int = Field(90, ge=1, le=3660, description="Days of past runs gold_policy_summary compares")
    disposition_log_dir: Optional[Path] = Field(
        None, description="Folder of the proof-of-disposition log (disposition-YYYYMMDD.jsonl) `remediate` "
        "appends to; unset: <archive-root>/disposition-log")

    @field_validator("catalogue", "holds_file")
    @classmethod
    def _absolute(cls, value: Optional[Path]) -> Optional[Path]:
        # The pipeline may run in another working directory than the command that configured it.
        return value.resolve() if value is not None else None
