"""The app over an embedded channel, fresh for each test (tests/unit/api/ingest_api.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.unit.api.ingest_api import Api


@pytest.fixture
def api() -> Iterator[Api]:
    client = Api()
    yield client
    client.close()
