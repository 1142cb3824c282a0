"""The apps the authorization matrix is checked on (tests/unit/api/authz_matrix.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api_channel import populated_channel
from tests.unit.api.authz_matrix import PERIOD, PROGRAM, Api, generated, with_claims
from tests.unit.api.ingest_api import Api as IngestApi


@pytest.fixture(scope="package")
def api() -> Iterator[Api]:
    """Read-only use: rows for every list route and filter; a closed period gives D01 and
    D02 a statement; each has a debit claim DB-1."""
    client = Api(with_claims(populated_channel()))
    yield client
    client.close()


@pytest.fixture
def fresh() -> Iterator[Api]:
    """For writes: a (smaller) channel of its own, with a closed period and a claim each."""
    client = Api(with_claims(generated(weeks=3)))
    assert client.call("POST", f"/api/rebates/{PROGRAM}/{PERIOD}/close", "admin")[0] == 202
    yield client
    client.close()


@pytest.fixture
def ingest() -> Iterator[IngestApi]:
    client = IngestApi()
    yield client
    client.close()
