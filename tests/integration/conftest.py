from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.fakebybit import FakeBybit, serve


@pytest.fixture
async def fake() -> AsyncIterator[FakeBybit]:
    async with serve(FakeBybit()) as server:
        yield server
