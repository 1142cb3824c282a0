"""Reseller-scoped prices and authorizations compared by identity (docs/IDENTITY.md,
"Prices and authorizations by identity"): a price or an authorization naming a master
covers the sales to every alias mapped to it when the sale is judged; unmapping an alias
is refused while a valid authorization names its master for the alias's distributor.

X is listed at a floor of 20.00; D01's R5 and R6 are aliases of master M1."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.claim_rules import AuthorizationTerms
from projections.channel import apply_event
from projections.outcome import Outcome
from projections.positions import Position
from projections.price_book import price_in_effect
from projections.price_rules import ViolationDetected
from projections.stores import ChannelStores
from schemas.claims import SpecialPriceExpired
from schemas.events import Envelope
from streams.audit.lineage import lineage
from streams.runners.embedded import EmbeddedChannel
from tests.unit.catalog import product
from tests.unit.channel_cases import replayed_file, uid
from tests.unit.party_events import mapped, registered, unmapped
from tests.unit.price_events import T0, history_of, price
from tests.unit.test_aging_wiring import priced_stores, sold
from tests.unit.test_authorization_wiring import deal, sale_at
from tests.unit.test_price_properties import BOUNDED, HOURS, build

JULY_1 = datetime(2026, 7, 1, tzinfo=UTC)
JULY_20 = datetime(2026, 7, 20, 9, tzinfo=UTC)


# --- pure --------------------------------------------------------------------------------


def floor_of(master: str | None, reseller: str = "R5") -> str | None:
    history = history_of(
        price(1, floor="20.00"),
        price(2, floor="15.00", distributor_id="D01", reseller_id="M1"),
        price(3, floor="12.00", distributor_id="D01", reseller_id="R6"),
        price(4, floor="11.00", distributor_id="D02", reseller_id="M1"),
    )
    entry = price_in_effect(history, T0, "D01", reseller, master)
    return None if entry is None else str(entry.floor_price)


def test_a_price_for_a_master_covers_its_alias() -> None:
    assert floor_of("M1") == "15.00"
    assert floor_of(None) == "20.00"  # unmapped: the list
    assert floor_of("M2") == "20.00"  # another master: the list


def test_a_price_for_the_alias_itself_is_more_specific_than_its_masters() -> None:
    assert floor_of("M1", reseller="R6") == "12.00"


#: the list, D1, D1 for master M1, D1 for another master, D2 for M1
MASTER_SCOPES = st.sampled_from(
    [(None, None), ("D1", None), ("D1", "M1"), ("D1", "M2"), ("D2", "M1")]
)


@BOUNDED
@given(st.lists(st.tuples(HOURS, MASTER_SCOPES), min_size=1, max_size=10), HOURS)
def test_a_price_for_the_master_applies_as_if_it_named_the_alias(
    drawn: list[tuple[int, tuple[Any, Any]]], hour: int
) -> None:
    """D1's alias R5 means M1: what is in effect for it is what would be, had every price
    for M1 named R5; unmapped, no price for a master applies to it."""
    specs = [(n + 1, at, scope) for n, (at, scope) in enumerate(drawn)]
    history = build(specs, None)
    renamed = replace(
        history,
        entries=tuple(
            replace(entry, reseller_id="R5") if entry.reseller_id == "M1" else entry
            for entry in history.entries
        ),
    )
    at = T0 + timedelta(hours=hour)
    by_master = price_in_effect(history, at, "D1", "R5", "M1")
    as_alias = price_in_effect(renamed, at, "D1", "R5")
    assert (by_master and by_master.event_id) == (as_alias and as_alias.event_id)
    unmapped = price_in_effect(history, at, "D1", "R5")
    assert unmapped is None or unmapped.reseller_id is None


def terms(reseller: str | None) -> AuthorizationTerms:
    return AuthorizationTerms(
        "SPA-1", frozenset({"D01"}), frozenset({"X"}), reseller, None, Decimal("9.00"),
        Decimal("15.00"), date(2026, 7, 1), date(2026, 7, 31), None, "USD", uid(1),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("named", "master", "covered"),
    [("M1", "M1", True), ("M1", None, False), ("M1", "M2", False), ("R5", "M1", True)],
)
def test_an_authorization_for_a_master_covers_its_aliases_sales(
    named: str, master: str | None, covered: bool
) -> None:
    sale = ("D01", "X", "R5", None, JULY_20, "USD")
    assert terms(named).covers(*sale, master) is covered


# --- through the projection --------------------------------------------------------------


def run(stores: ChannelStores, event: Envelope, offset: int) -> Outcome:
    return apply_event(stores, event, Position("identity:0", offset))


def scope_of(outcome: Outcome) -> str | None:
    facts = [fact for fact in outcome.facts if isinstance(fact, ViolationDetected)]
    return str(facts[0].scope) if facts else None


def through(outcome: Outcome) -> UUID | None:
    """The mapping step the violation names (the price or deal named the master)."""
    [fact] = [fact for fact in outcome.facts if isinstance(fact, ViolationDetected)]
    return fact.alias_event_id


def listed() -> ChannelStores:
    """X listed at 20.00; M1 registered."""
    stores = priced_stores()
    run(stores, registered("M1", "Acme Tools Inc."), 0)
    return stores


@pytest.fixture
def stores() -> ChannelStores:
    """`listed`, and SPA-1 lets D01 sell X to M1 down to 15.00 in July."""
    stores = listed()
    apply_event(stores, deal(reseller_id="M1"), Position("authorizations:0", 0))
    return stores


def test_a_sale_to_an_alias_is_judged_under_its_masters_authorization(
    stores: ChannelStores,
) -> None:
    assert scope_of(sale_at(stores, 1, "16.00", 10, reseller="R5")) == "list"  # not mapped yet
    run(stores, mapped("D01", "R5", "M1"), 1)
    assert scope_of(sale_at(stores, 2, "16.00", 10, reseller="R5")) is None  # within the deal
    under = sale_at(stores, 3, "14.00", 10, reseller="R5")
    assert scope_of(under) == "authorization"
    assert through(under) == mapped("D01", "R5", "M1").event_id
    assert scope_of(sale_at(stores, 4, "16.00", 10, reseller="R6")) == "list"  # not mapped
    # the mapping did not judge the sale made before it again
    assert stores.violations.get("D01|T1") is not None


def test_a_price_for_a_master_applies_to_its_alias() -> None:
    stores = listed()
    special = price(9, "9.00", "14.00", JULY_1, "D01", "M1", sku="X")
    apply_event(stores, special, Position("prices:0", 5))
    run(stores, mapped("D01", "R6", "M1"), 1)
    assert scope_of(sale_at(stores, 1, "14.50", 10, reseller="R6")) is None
    below = sale_at(stores, 2, "13.00", 10, reseller="R6")
    assert scope_of(below) == "reseller"
    assert through(below) == mapped("D01", "R6", "M1").event_id
    assert through(sale_at(stores, 4, "13.00", 10, reseller="R7")) is None  # the list
    assert scope_of(sale_at(stores, 3, "14.50", 10, reseller="R7")) == "list"


def test_unmapping_is_refused_while_an_authorization_names_the_master(
    stores: ChannelStores,
) -> None:
    run(stores, mapped("D01", "R5", "M1"), 1)
    refused = run(stores, unmapped("D01", "R5", "M1", changed_at=JULY_20), 2)
    assert refused.dead_letter_reason == "master_referenced"
    assert refused.detail is not None and "authorization 'SPA-1'" in refused.detail
    assert stores.party_aliases.get("id|D01|R5").master_id == "M1"  # type: ignore[union-attr]
    expiry = SpecialPriceExpired(
        event_id=uid(900), occurred_at=JULY_1, recorded_at=JULY_1, source="erp",
        authorization_id="SPA-1", last_valid_date=date(2026, 7, 15), reason="deal moved",
    )  # fmt: skip
    apply_event(stores, expiry, Position("authorizations:0", 1))
    assert run(stores, unmapped("D01", "R5", "M1", n=201, changed_at=JULY_20), 3).verdict
    assert stores.party_aliases.get("id|D01|R5").master_id is None  # type: ignore[union-attr]


def test_an_authorization_of_another_distributor_does_not_hold_the_alias(
    stores: ChannelStores,
) -> None:
    run(stores, mapped("D02", "R5", "M1"), 1)
    assert run(stores, unmapped("D02", "R5", "M1", changed_at=JULY_20), 2).verdict


def test_a_replay_of_the_same_lines_equals_live(tmp_path: Path) -> None:
    """Deal, mappings, sales judged under the deal and a refused unmapping: live, in runs,
    and replayed from one file, the same snapshot (violations and dead letters included)."""
    listed_x = price(1, "12.50", "20.00", datetime(2026, 1, 1, tzinfo=UTC), sku="X")
    runs: list[list[Envelope]] = [
        [product("X"), listed_x, registered("M1", "Acme Tools Inc.")],
        [deal(reseller_id="M1", distributor_ids=["D01", "D02"])],
        [mapped("D01", "R5", "M1"), mapped("D02", "X9", "M1", n=101)],
        [sold(n, 1, date(2026, 7, 10), unit_price=Decimal(p), reseller_id=r, distributor_id=d)
         for n, (d, r, p) in enumerate([("D01", "R5", "14.00"), ("D02", "X9", "16.00"),
                                        ("D02", "R6", "16.00")], start=1)],
        [unmapped("D02", "X9", "M1", changed_at=JULY_20)],
    ]  # fmt: skip
    live = EmbeddedChannel()
    for run in runs:
        live.feed_events(run)
    replay = replayed_file(tmp_path, [e for run in runs for e in run])
    snapshot = live.snapshot()
    assert replay.snapshot() == snapshot
    assert {(v["distributor_id"], v["floor_price"]) for v in snapshot["violations"]} == {
        ("D01", "15.00"), ("D02", "20.00"),
    }  # fmt: skip
    assert [letter.reason for letter in live.dead_letters] == ["master_referenced"]
    document = lineage(live.audit, live.stores, "violation", "D01/T1")
    assert [(s["role"], s["event_id"]) for s in document["sources"]][1:] == [
        ("floor_price", str(runs[1][0].event_id)),
        ("alias_mapping", str(runs[2][0].event_id)),
    ]


def test_an_alias_by_name_is_not_held_by_the_authorization(stores: ChannelStores) -> None:
    place: dict[str, Any] = {"name": "ACME TOOLS LLC", "postal_code": "94105", "country": "US"}
    run(stores, mapped("D01", None, "M1", **place), 1)
    assert run(stores, unmapped("D01", None, "M1", changed_at=JULY_20, **place), 2).verdict
