from __future__ import annotations

from pathlib import Path

import pytest

from tests.remediation.helpers import make_env


@pytest.fixture
def env(tmp_path: Path) -> dict:
    return make_env(tmp_path)
