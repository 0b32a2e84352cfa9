"""The command line's configuration: flags, then the environment, then `.env` (in that order).

Nothing is declared here that a component already declares: each source's settings come from its
options model (:mod:`file_records.options`), read from the environment under the names that model
gives. This module adds what only the command line has: secrets (never options, never flags) and
how local Spark starts. Secrets are `SecretStr`, so they never show up in a repr, a log line or an
error message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from dotenv import dotenv_values
from pydantic import SecretStr

from file_records.connectors.dxr.options import DxrSourceOptions
from file_records.connectors.workspace.options import WorkspaceSourceOptions
from file_records.local.spark import LocalSparkSettings
from file_records.options import Model
from file_records.policies.options import PolicyOptions

DOTENV_FILE = Path(".env")
WORKSPACE_TOKEN_ENV = "DATABRICKS_TOKEN"


def read_dotenv(path: Path = DOTENV_FILE) -> dict[str, Optional[str]]:
    return dict(dotenv_values(path)) if path.is_file() else {}


def load(model: type[Model], overrides: Optional[Mapping[str, Any]] = None,
         environ: Optional[Mapping[str, str]] = None, dotenv: Optional[Mapping[str, Optional[str]]] = None) -> Model:
    """``model`` from flags (``overrides``), the environment and ``.env``; a bad value is a
    :class:`~file_records.errors.ConfigError` naming the environment variable."""
    return model.from_env(environ, read_dotenv() if dotenv is None else dotenv, overrides)


def secret(name: str, environ: Optional[Mapping[str, str]] = None,
           dotenv: Optional[Mapping[str, Optional[str]]] = None) -> Optional[SecretStr]:
    """A secret from the environment or `.env` (never from a flag: flags end up in shell history)."""
    environ = os.environ if environ is None else environ
    dotenv = read_dotenv() if dotenv is None else dotenv
    value = environ.get(name) or dotenv.get(name)
    return SecretStr(value.strip()) if value and value.strip() else None


@dataclass(frozen=True)
class Settings:
    """Everything `file-records run` needs, validated before Spark starts."""

    dxr: DxrSourceOptions
    workspace: WorkspaceSourceOptions
    policies: PolicyOptions
    dxr_token: Optional[SecretStr]
    workspace_token: Optional[SecretStr]


def load_settings(dxr_overrides: Optional[Mapping[str, Any]] = None,
                  workspace_overrides: Optional[Mapping[str, Any]] = None,
                  policy_overrides: Optional[Mapping[str, Any]] = None,
                  environ: Optional[Mapping[str, str]] = None) -> Settings:
    dotenv = read_dotenv()
    dxr = load(DxrSourceOptions, dxr_overrides, environ, dotenv)
    return Settings(
        dxr=dxr,
        workspace=load(WorkspaceSourceOptions, workspace_overrides, environ, dotenv),
        policies=load(PolicyOptions, policy_overrides, environ, dotenv),
        dxr_token=secret(dxr.token_env, environ, dotenv),
        workspace_token=secret(WORKSPACE_TOKEN_ENV, environ, dotenv),
    )


__all__ = ["LocalSparkSettings", "Settings", "load", "load_settings", "read_dotenv", "secret"]
