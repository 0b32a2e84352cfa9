"""Where the DXR bearer token comes from. It is resolved on the driver when the reader is
built and never travels as a data source option, so it is not in query plans or logs."""

from __future__ import annotations

import base64
import os
from typing import Mapping

from file_records.connectors.dxr.client import DxrAuthError


def _secret_from_databricks(scope: str, key: str) -> str:
    try:
        from databricks.sdk.runtime import dbutils  # type: ignore[attr-defined]

        return dbutils.secrets.get(scope=scope, key=key)
    except Exception:  # noqa: BLE001 - fall back to the REST API with the runtime's own credentials
        pass
    try:
        from databricks.sdk import WorkspaceClient

        secret = WorkspaceClient().secrets.get_secret(scope=scope, key=key)
        return base64.b64decode(secret.value or "").decode("utf-8")
    except Exception as exc:  # noqa: BLE001
        raise DxrAuthError(
            f"could not read the Data X-Ray token from secret scope {scope!r}, key {key!r} "
            f"({type(exc).__name__}); check the scope exists and the pipeline's identity has READ on it"
        ) from None


def resolve_token(options: Mapping[str, str], environ: Mapping[str, str] = os.environ) -> str:
    scope = options.get("token_scope") or ""
    key = options.get("token_key") or ""
    if scope and key:
        token = _secret_from_databricks(scope, key)
    else:
        env_name = options.get("token_env") or "DXR_BEARER_TOKEN"
        token = environ.get(env_name, "")
        if not token:
            raise DxrAuthError(
                f"no Data X-Ray token: set {env_name} in the environment or .env (local runs), or "
                "DXR_TOKEN_SCOPE and DXR_TOKEN_KEY naming a Databricks secret (on Databricks)"
            )
    token = token.strip()
    if not token:
        raise DxrAuthError("the Data X-Ray token is empty")
    return token
