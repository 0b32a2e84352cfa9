"""Secrets never reach the report page: anything that looks like a credential is replaced."""

from __future__ import annotations

import os
import re
from typing import Any

_SECRET_KEY = r"(?:[a-z0-9_-]*(?:token|secret|password|passwd|api[_-]?key|apikey|authorization|credentials?|cookie))"
_SECRET_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?i)\b(bearer|basic)\s+[a-z0-9._~+/=-]{8,}"), r"\1 [redacted]"),
    # "token": "abc" / token=abc / 'api_key': 'abc'
    (re.compile(r'(?i)(["\']?' + _SECRET_KEY + r'["\']?\s*[:=]\s*)("[^"]*"|\'[^\']*\'|[^\s,;&}\]"\']+)'), r"\1[redacted]"),
    (re.compile(r"\bdapi[0-9a-f]{16,}(?:-\d+)?\b"), "[redacted]"),  # Databricks personal access tokens
    (re.compile(r"(?i)([?&](?:token|access_token|sig|signature|key|code)=)[^&\s\"']+"), r"\1[redacted]"),
]
_SECRET_ENV = ("DXR_BEARER_TOKEN", "DATABRICKS_TOKEN", "DATABRICKS_CLIENT_SECRET")


def redact(text: Any) -> Any:
    """`text` with anything that looks like a credential replaced by ``[redacted]``.

    Catches key/value pairs named like a secret, bearer/basic credentials, Databricks tokens,
    signed-URL parameters, and the literal values of the token environment variables.
    Non-strings are returned unchanged.
    """
    if not isinstance(text, str):
        return text
    for name in _SECRET_ENV:
        secret = os.environ.get(name, "")
        if len(secret) >= 8 and secret in text:
            text = text.replace(secret, "[redacted]")
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text
