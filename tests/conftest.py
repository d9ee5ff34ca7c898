"""Shared fixtures: where the read-only reference captures live.

The repository is cloned beside a copy of ``shared/`` (``<repo>/../shared``); tests that need
those files skip with a clear reason when it is absent. ``CEXFEED_SHARED`` overrides the path.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    return Path(os.environ.get("CEXFEED_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def captures_dir() -> Path:
    path = shared_dir() / "captures"
    if not path.is_dir():
        pytest.skip(f"reference captures not found at {path} (set CEXFEED_SHARED to the shared/ folder)")
    return path
