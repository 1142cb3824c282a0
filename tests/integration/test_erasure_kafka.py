"""Issue 19's erasure case on the real Kafka and PostgreSQL: sale lines published with an
end customer's name, the name erased, and then the live figures, the replay, `verify`
(exit 0), the audit pack and the dead letters: every figure equal, no trace of the name."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from infra.personal_cipher import Sealer
from infra.subject_keys import SubjectKeys
from schemas.events import Envelope, SaleReported
from streams.config import Settings
from tests.integration.conftest import REPO, wait_until
from tests.integration.helpers import (
    comparable,
    expected_snapshot,
    matches_replay,
    order_independent_channel,
    publish,
    publish_reference_first,
    verify,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

NAME = "Jane Doe-Erasable"


def named(events: list[Envelope], keys: SubjectKeys) -> tuple[list[Envelope], SaleReported]:
    """The channel with the lines of an end customer named and sealed (the door's work),
    one whose line is a violation's source (so the audit pack shows the name), and one of
    those lines."""
    judged = {(v["distributor_id"], v["transaction_id"])
              for v in expected_snapshot(events)["violations"]}  # fmt: skip
    distributor, customer = next(
        (e.distributor_id, e.end_customer)
        for e in events
        if isinstance(e, SaleReported)
        and e.end_customer
        and (e.distributor_id, e.transaction_id) in judged
    )
    sealer = Sealer(keys)
    out: list[Envelope] = []
    for event in events:
        if isinstance(event, SaleReported) and (event.distributor_id, event.end_customer) == (
            distributor,
            customer,
        ):
            update = {"end_customer_name": NAME, "end_customer_contact": "jane@example.com"}
            event = sealer.seal(event.model_copy(update=update))
        out.append(event)
    line = next(e for e in out if isinstance(e, SaleReported) and e.end_customer_name)
    return out, line


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", *args],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def pack(settings: Settings, database: str, period: str, out: Path) -> bytes:
    """The audit pack of `period`, every file's bytes."""
    kafka = ("--kafka", settings.kafka_bootstrap, "--prefix", settings.topic_prefix)
    result = cli("audit", "export", "--period", period, "--out", str(out), "--eventstore",
                 database, *kafka)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return b"".join(path.read_bytes() for path in sorted(out.iterdir()))


def test_an_erased_name_leaves_no_trace_and_every_figure_stands(
    settings, worker_factory, database, tmp_path
):
    keys = SubjectKeys(database)
    events, line = named(order_independent_channel(seed=23), keys)
    keys.close()
    worker = worker_factory(eventstore_url=database).start()
    publish_reference_first(settings, worker, events)
    # a resend of a named line with another quantity: a dead letter carrying its token
    publish(settings, [line.model_copy(update={"event_id": uuid.uuid4(), "quantity": 99})])
    before = matches_replay(settings, worker)

    def letters() -> list[dict[str, Any]]:
        rows = worker.get("/api/dead-letters/lines?reason=conflicting_duplicate")["rows"]
        return [row for row in rows if row["personal"]]

    (letter,) = wait_until(letters, 60, "the conflicting resend dead-lettered")
    assert set(letter["personal"].values()) == {NAME, "jane@example.com"}
    period = f"{line.sold_at.year}-Q{(line.sold_at.month - 1) // 3 + 1}"
    assert NAME.encode() in pack(settings, database, period, tmp_path / "before")

    erased = cli("erase", "end-customer", str(line.end_customer), "--distributor",
                 line.distributor_id, "--actor", "dpo", "--eventstore", database)  # fmt: skip
    assert erased.returncode == 0, erased.stderr
    assert '"keys_deleted": 1' in erased.stdout

    assert comparable(worker.get("/api/snapshot")) == before
    assert matches_replay(settings, worker) == before
    result = verify(worker, database)
    assert result.returncode == 0, result.stdout + result.stderr
    chain = cli("verify", "--audit", "--chain-only", "--eventstore", database)
    assert chain.returncode == 0, chain.stdout + chain.stderr
    after = pack(settings, database, period, tmp_path / "after")
    assert b"Jane" not in after and b"jane@" not in after
    assert b'"end_customer_name": "erased"' in after
    (letter,) = letters()
    assert set(letter["personal"].values()) == {"erased"}
    assert "Jane" not in str(worker.get("/api/dead-letters/lines"))
