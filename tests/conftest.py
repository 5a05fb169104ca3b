"""Shared fixtures: captured Bybit payloads."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def _load(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture
def payload() -> Callable[[str], Any]:
    """Load a captured response body from tests/fixtures by name."""
    return _load
