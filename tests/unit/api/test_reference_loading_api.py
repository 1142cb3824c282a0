"""While a worker's reference replica is still reading, the pages of reference data answer
503 with Retry-After (not a partial list); the pages of the worker's own state answer, and
once the replica has caught up every page answers."""

from __future__ import annotations

from typing import Any

import pytest

from streams.api.reference_loading import REFERENCE_PAGES
from streams.health import Health
from tests.unit.api.authz_matrix import Api
from tests.unit.test_match_queue import M1, M2, fed


def replica(loaded: bool) -> Health:
    progress: dict[str, Any] = {"loaded": loaded, "lag_records": 0 if loaded else 12}
    return Health(None, reference=lambda: progress)


@pytest.mark.parametrize("path", sorted(REFERENCE_PAGES))
def test_a_reference_page_is_a_retry_while_the_replica_reads(path: str) -> None:
    api = Api(fed(M1, M2), health=replica(loaded=False))
    try:
        status, _, headers, body = api.exchange("GET", path, "admin")
        assert status == 503 and headers["Retry-After"] == "5", body
        assert body["error"]["code"] == "service_unavailable"
        assert "still loading" in body["error"]["message"]
    finally:
        api.close()


def test_the_worker_s_own_pages_answer_while_the_replica_reads() -> None:
    api = Api(fed(M1, M2), health=replica(loaded=False))
    try:
        assert api.call("GET", "/api/resellers/aliases", "admin")[0] == 200
        assert api.call("GET", "/api/inventory", "admin")[0] == 200
    finally:
        api.close()


def test_every_page_answers_once_the_replica_has_read() -> None:
    api = Api(fed(M1, M2), health=replica(loaded=True))
    try:
        masters = api.call("GET", "/api/resellers/masters", "admin")
        assert masters[0] == 200
        assert {row["master_id"] for row in masters[2]["rows"]} == {"M1", "M2"}
        assert api.call("GET", "/api/snapshot", "admin")[0] == 200
    finally:
        api.close()
