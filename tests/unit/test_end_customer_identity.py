"""End-customer identity wired in (docs/IDENTITY.md, "End customers"): masters and alias
changes kept in their own stores beside the resellers', the unmapping refused while an
authorization naming the master for that end customer covers the distributor, each step on
the alias's audit record, and a file replay equal to live."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from projections.alias_facts import AliasStepTaken
from projections.alias_index import aliases_of
from projections.channel import apply_event
from projections.outcome import Outcome
from projections.party_reads import alias_rows, master_rows
from projections.positions import Position
from projections.stores import ChannelStores
from schemas.claims import SpecialPriceExpired
from schemas.events import Envelope
from schemas.topics import KEY_FIELD, TOPIC_OF
from streams.ingest.personal import DoorProtection
from streams.runners.embedded import EmbeddedChannel
from tests.unit.channel_cases import replayed_file, uid
from tests.unit.party_events import (
    customer_mapped,
    customer_registered,
    customer_unmapped,
    mapped,
    registered,
)
from tests.unit.test_authorization_wiring import deal
from tests.unit.test_personal_data import MemoryKeys

JULY_1 = datetime(2026, 7, 1, tzinfo=UTC)
JULY_20 = datetime(2026, 7, 20, 9, tzinfo=UTC)
PLACE: dict[str, Any] = {"name": "Jane Doe", "postal_code": "94105", "country": "US"}


def run(stores: ChannelStores, event: Envelope, offset: int) -> Outcome:
    return apply_event(stores, event, Position("identity:0", offset))


@pytest.fixture
def stores() -> ChannelStores:
    """End customer EC-M1 registered (sealed), and reseller M1 under the same kind of id."""
    stores = ChannelStores()
    door = DoorProtection(MemoryKeys())
    run(stores, door.sealed(customer_registered("EC-M1", "Jane Doe", address="1 Elm St")), 0)
    run(stores, registered("M1", "Acme Tools Inc."), 1)
    return stores


def test_the_events_travel_where_the_resellers_do() -> None:
    assert TOPIC_OF["EndCustomerRegistered"] == "masters"
    assert KEY_FIELD["EndCustomerRegistered"] == "master_id"
    for kind in ("EndCustomerAliasMapped", "EndCustomerAliasUnmapped"):
        assert (TOPIC_OF[kind], KEY_FIELD[kind]) == ("identity", "distributor_id")


def test_an_end_customers_aliases_are_kept_apart_from_the_resellers(
    stores: ChannelStores,
) -> None:
    first = run(stores, customer_mapped("D01", "EC-7", "EC-M1"), 2)
    run(stores, customer_mapped("D02", "EC-9", "EC-M1", n=101), 3)
    sealed = DoorProtection(MemoryKeys()).sealed(customer_mapped("D01", None, "EC-M1", **PLACE))
    run(stores, sealed.model_copy(update={"event_id": uid(102)}), 4)
    assert [fact.alias_key for fact in first.facts if isinstance(fact, AliasStepTaken)] == [
        "ci|D01|EC-7"
    ]
    assert stores.party_aliases.get("id|D01|EC-7") is None  # not a reseller's alias
    assert [row["alias_key"][:8] for row in alias_rows(stores, "D01", "end_customer")] == [
        "ci|D01|E",
        "cn|D01|" + sealed.name_key[:1],  # type: ignore[index]
    ]
    assert aliases_of(stores.customer_master_aliases, "EC-M1")[:2] == ["D01|EC-7", "D02|EC-9"]
    [row] = master_rows(stores, "end_customer")
    assert row["master_id"] == "EC-M1" and "legal_name" not in row and "address" not in row
    assert [r["master_id"] for r in master_rows(stores)] == ["M1"]


def test_a_mapping_to_a_reseller_master_is_refused_unknown(stores: ChannelStores) -> None:
    refused = run(stores, customer_mapped("D01", "EC-7", "M1"), 2)
    assert refused.dead_letter_reason == "unknown_master"
    assert run(stores, mapped("D01", "R5", "EC-M1"), 3).dead_letter_reason == "unknown_master"


def test_unmapping_is_refused_while_an_authorization_names_the_end_customer_master(
    stores: ChannelStores,
) -> None:
    grant = deal(reseller_id=None, end_customer="EC-M1", distributor_ids=["D01"])
    apply_event(stores, grant, Position("authorizations:0", 0))
    run(stores, customer_mapped("D01", "EC-7", "EC-M1"), 2)
    run(stores, customer_mapped("D02", "EC-9", "EC-M1", n=101), 3)
    refused = run(stores, customer_unmapped("D01", "EC-7", "EC-M1", changed_at=JULY_20), 4)
    assert refused.dead_letter_reason == "master_referenced"
    assert refused.detail is not None and "authorization 'SPA-1'" in refused.detail
    # another distributor's alias is not covered by it
    assert run(stores, customer_unmapped("D02", "EC-9", "EC-M1", changed_at=JULY_20), 5).verdict
    expiry = SpecialPriceExpired(
        event_id=uid(900), occurred_at=JULY_1, recorded_at=JULY_1, source="erp",
        authorization_id="SPA-1", last_valid_date=date(2026, 7, 15), reason="deal moved",
    )  # fmt: skip
    apply_event(stores, expiry, Position("authorizations:0", 1))
    after = run(stores, customer_unmapped("D01", "EC-7", "EC-M1", n=201, changed_at=JULY_20), 6)
    assert after.verdict
    assert stores.customer_aliases.get("ci|D01|EC-7").master_id is None  # type: ignore[union-attr]


def test_a_resellers_authorization_does_not_hold_an_end_customers_alias(
    stores: ChannelStores,
) -> None:
    apply_event(stores, deal(reseller_id="EC-M1"), Position("authorizations:0", 0))
    run(stores, customer_mapped("D01", "EC-7", "EC-M1"), 2)
    assert run(stores, customer_unmapped("D01", "EC-7", "EC-M1", changed_at=JULY_20), 3).verdict


def test_a_replay_equals_live_and_names_stay_sealed(tmp_path: Path) -> None:
    door = DoorProtection(MemoryKeys())
    runs: list[list[Envelope]] = [
        [door.sealed(customer_registered("EC-M1", "Jane Doe", address="1 Elm St"))],
        [customer_mapped("D01", "EC-7", "EC-M1"), customer_mapped("D02", "EC-9", "EC-M1", n=101)],
        [door.sealed(customer_mapped("D01", None, "EC-M1", n=102, **PLACE))],
        [customer_unmapped("D02", "EC-9", "EC-M1", changed_at=JULY_20)],
        [customer_unmapped("D02", "EC-9", "EC-M1", n=202, changed_at=JULY_20)],  # refused
    ]
    live = EmbeddedChannel()
    for events in runs:
        live.feed_events(events)
    replay = replayed_file(tmp_path, [e for events in runs for e in events])
    assert b"Jane" not in (tmp_path / "history.jsonl").read_bytes()
    snapshot = live.snapshot()
    assert replay.snapshot() == snapshot
    assert {(row["alias_key"][:7], row["master_id"]) for row in snapshot["customer_aliases"]} == {
        ("ci|D01|", "EC-M1"),
        ("ci|D02|", None),
        ("cn|D01|", "EC-M1"),
    }
    assert [row["master_id"] for row in snapshot["customer_masters"]] == ["EC-M1"]
    assert snapshot["masters"] == [] and snapshot["party_aliases"] == []
    assert [letter.reason for letter in live.dead_letters] == ["alias_not_mapped"]
    assert b"Jane" not in repr(snapshot).encode()
