"""Agreements, exchange rates and inventory aging through Kafka and a worker on PostgreSQL:
applied, refused with their reasons, kept across a restart, and the replay equal to live;
a named price list an agreement binds setting its distributor's floor; an agreement
recorded after a price-protection claim withdrawing it; a rebate program an agreement
binds, then binds from a later day."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.price_protection import PriceProtection
from infra.eventstore import open_audit_log
from projections.aging_reads import aging_page
from projections.agreement_reads import agreement_rows, rate_rows
from schemas.events import (
    Envelope,
    PriceChanged,
    RebateProgramDefined,
    SaleReported,
    ShipmentRecorded,
    Tier,
)
from streams.audit.trail import history
from streams.timeparse import parse_as_of
from tests.integration.conftest import wait_until
from tests.integration.helpers import (
    catalog,
    letter_counts,
    matches_replay,
    publish,
    publish_reference_first,
    replayed_channel,
    stored_events,
    verify,
)
from tests.unit.agreement_events import amended, rate, signed, terminated

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SKU = "SKU-AG"
AS_OF = "2026-05-15"
AGE_60: dict[str, Any] = {"inventory": {"max_age_days": 60}}


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def of(distributor: str, event: Envelope) -> Envelope:
    return event.model_copy(update={"distributor_id": distributor})


def listed_price() -> PriceChanged:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return PriceChanged(
        event_id=uuid.uuid4(), occurred_at=at, source="erp", sku=SKU,
        distributor_cost=Decimal("12.50"), floor_price=Decimal("10.00"), currency="USD",
        effective_from=at, published_at=at,
    )  # fmt: skip


def movements(distributor: str) -> list[Envelope]:
    """100 received March 1, 50 April 10, 120 sold April 20: FIFO holds 30 of April 10."""

    def shipment(n: int, units: int, day: date) -> ShipmentRecorded:
        return ShipmentRecorded(
            event_id=uuid.uuid4(), occurred_at=noon(day), source="erp", shipment_id=f"S-{n}",
            distributor_id=distributor, sku=SKU, quantity=units, unit_price=Decimal("12.50"),
            currency="USD", shipped_at=noon(day),
        )  # fmt: skip

    sold = noon(date(2026, 4, 20))
    sale = SaleReported(
        event_id=uuid.uuid4(), occurred_at=sold, source="api", distributor_id=distributor,
        transaction_id="T-1", reseller_id="R-1", sku=SKU, quantity=120,
        unit_price=Decimal("15.00"), currency="USD", sold_at=sold,
    )  # fmt: skip
    return [shipment(1, 100, date(2026, 3, 1)), shipment(2, 50, date(2026, 4, 10)), sale]


def test_agreements_rates_and_aging_live_across_a_restart_equal_the_replay(
    settings, worker_factory, pg_dsn
):
    distributor = f"D-{uuid.uuid4().hex[:8]}"
    first = worker_factory(eventstore_url=pg_dsn).start()
    publish_reference_first(settings, first, [*catalog(SKU), listed_price()])
    publish(
        settings,
        [
            rate("EUR", "USD", "1.0842", date(2026, 5, 4)),
            of(distributor, signed()),
            of(distributor, amended("M1", date(2026, 5, 15), **AGE_60)),
            of(distributor, signed("AG-2", n=2)),  # overlaps AG-1
            of(distributor, amended("M9", date(2026, 3, 1), agreement_id="AG-9", **AGE_60)),
            *movements(distributor),
        ],
    )
    path = f"/api/agreements?as_of={AS_OF}"
    rows = wait_until(lambda: len(first.get(path)["rows"]) == 2 and first.get(path)["rows"], 60,
                      "the agreement's two versions")  # fmt: skip
    assert [(r["version_id"], r["in_effect"]) for r in rows] == [("AG-1", False), ("M1", True)]
    # the four versions travel in one message (a bundle): applied and refused together
    assert letter_counts(first) == {"overlapping_agreement": 1, "unknown_agreement": 1}
    # the shipments and sales topics are read side by side: the aging row appears with
    # either; read it once the inventory holds all three movements (150 in, 120 out)
    stocked = f"/api/inventory?distributor_id={distributor}"
    wait_until(lambda: [r["expected_on_hand"] for r in first.get(stocked)["rows"]] == [30], 60,
               "every movement applied")  # fmt: skip
    aged = first.get(f"/api/inventory/aging?as_of={AS_OF}")["rows"]
    assert [(r["units"]["31-60"], r["value"], r["oldest_receipt"]) for r in aged] == [
        (30, "375.00", "2026-04-10")
    ]

    first.kill()  # the timeline, the aging state and the rates come back from the changelog
    second = worker_factory(eventstore_url=pg_dsn).start()
    publish(
        settings,
        [
            of(distributor, terminated(date(2026, 11, 30))),
            of(distributor, signed(n=3)),  # AG-1 again under a new envelope: a duplicate
            rate("GBP", "USD", "1.2650", date(2026, 5, 7)),
        ],
    )
    wait_until(lambda: len(second.get("/api/exchange-rates")["rows"]) == 2, 60, "both rates")
    wait_until(
        lambda: {r["last_day"] for r in second.get(path)["rows"]} == {"2026-11-30"},
        60,
        "the termination",
    )
    assert len(second.get(path)["rows"]) == 2

    live = matches_replay(settings, second)  # every section, dead-letter counts included
    assert live["dead_letters"]
    replay = replayed_channel(settings)
    now = parse_as_of(AS_OF)
    assert second.get(path)["rows"] == agreement_rows(replay.stores, now.date(), None)
    assert second.get("/api/exchange-rates")["rows"] == rate_rows(replay.stores)
    aging_live = second.get(f"/api/inventory/aging?as_of={AS_OF}")["rows"]
    assert aging_live == aging_page(replay.stores, now, None, None, 0, 1000)[0]


def test_a_bound_price_list_sets_the_floor_live_and_in_the_replay(settings, worker_factory, pg_dsn):
    """SKU at 20.00 / floor 25.00 on the standard list and 18.00 / 22.00 on a named list
    the distributor's agreement binds: its sale at 23.00 is within its floor, the same sale
    by a distributor without the agreement is a violation under 25.00."""
    tag = uuid.uuid4().hex[:8]
    sku, name = f"SKU-PL-{tag}", f"LIST-{tag}"
    bound, other = f"D-{tag}", f"D-{tag}-X"
    at = datetime(2026, 1, 1, tzinfo=UTC)

    def priced(cost: str, floor: str, price_list: str | None) -> PriceChanged:
        return PriceChanged(
            event_id=uuid.uuid4(), occurred_at=at, source="erp", sku=sku,
            distributor_cost=Decimal(cost), floor_price=Decimal(floor), currency="USD",
            effective_from=at, published_at=at, price_list=price_list,
        )  # fmt: skip

    def sold(distributor: str) -> SaleReported:
        when = noon(date(2026, 5, 15))
        return SaleReported(
            event_id=uuid.uuid4(), occurred_at=when, source="api", distributor_id=distributor,
            transaction_id=f"T-{distributor}", reseller_id="R-1", sku=sku, quantity=2,
            unit_price=Decimal("23.00"), currency="USD", sold_at=when,
        )  # fmt: skip

    worker = worker_factory(eventstore_url=pg_dsn).start()
    reference = [*catalog(sku), priced("20.00", "25.00", None), priced("18.00", "22.00", name)]
    publish_reference_first(settings, worker, reference)
    publish(settings, [of(bound, signed(price_lists=[name]))])
    wait_until(lambda: worker.get(f"/api/agreements?distributor_id={bound}")["rows"], 60,
               "the agreement")  # fmt: skip
    publish(settings, [sold(bound), sold(other)])
    wait_until(
        lambda: (
            worker.get(f"/api/quality?distributor_id={bound}")["rows"]
            and worker.get(f"/api/violations?distributor_id={other}")["rows"]
        ),
        60,
        "both sales judged",
    )
    [violation] = worker.get(f"/api/violations?distributor_id={other}")["rows"]
    assert violation["floor_price"] == "25.00"
    assert worker.get(f"/api/violations?distributor_id={bound}")["rows"] == []
    prices = {row["price_list"]: row["floor_price"] for row in worker.get(f"/api/prices?sku={sku}")
              ["rows"]}  # fmt: skip
    assert prices == {None: "25.00", name: "22.00"}
    matches_replay(settings, worker)


def test_an_agreement_recorded_after_a_claim_withdraws_it_and_verify_agrees(
    settings, worker_factory, database
):
    """The standard list drops 20.00 -> 19.00 on February 1 while the distributor holds 10
    units and has no agreement: a claim of 10.00 is recorded. AG-1, recorded after it,
    binds the distributor to a named list (18.00, unchanged) for 2026: the claim is
    withdrawn, AG-1 named in the event. The replay (the agreement read with the movements)
    records none; the snapshot equals it and `verify` finds the event store (a database of
    the test's own: verify compares all of it) consistent."""
    tag = uuid.uuid4().hex[:8]
    sku, name, distributor = f"SKU-PP-{tag}", f"LIST-{tag}", f"D-{tag}"
    january, drop_at = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)

    def priced(cost: str, at: datetime, price_list: str | None = None) -> PriceChanged:
        return PriceChanged(
            event_id=uuid.uuid4(), occurred_at=at, source="erp", sku=sku,
            distributor_cost=Decimal(cost), floor_price=Decimal("25.00"), currency="USD",
            effective_from=at, published_at=january, price_list=price_list,
        )  # fmt: skip

    shipped = noon(date(2026, 1, 10))
    shipment = ShipmentRecorded(
        event_id=uuid.uuid4(), occurred_at=shipped, source="erp", shipment_id="S-1",
        distributor_id=distributor, sku=sku, quantity=10, unit_price=Decimal("20.00"),
        currency="USD", shipped_at=shipped,
    )  # fmt: skip
    worker = worker_factory(eventstore_url=database).start()
    reference = [
        *catalog(sku), priced("20.00", january), priced("18.00", january, name),
        priced("19.00", drop_at),
    ]  # fmt: skip
    publish_reference_first(settings, worker, reference)
    publish(settings, [shipment])
    claim_id = PriceProtection.create_id(distributor, sku, drop_at)
    wait_until(lambda: stored_events(database, claim_id) == 1, 60, "the claim recorded")
    signing = of(distributor, signed(price_lists=[name]))
    publish(settings, [signing])
    wait_until(lambda: stored_events(database, claim_id) == 2, 60, "the claim withdrawn")
    reference_key = f"{distributor}/{sku}/2026-02-01T00:00:00Z"
    events = history(open_audit_log(database), "claim", reference_key)["events"]
    assert [e["what"] for e in events] == ["Created", "Withdrawn"]
    assert events[0]["data"]["amount"] == "10.00"
    assert (events[1]["data"]["agreement_version"], events[1]["data"]["agreement_event_id"]) == (
        "AG-1", str(signing.event_id),
    )  # fmt: skip
    assert worker.get(f"/api/price-protection?distributor_id={distributor}")["rows"] == []
    matches_replay(settings, worker)
    result = verify(worker, database)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_program_counts_the_lines_its_agreement_binds_live_and_in_the_replay(
    settings, worker_factory, pg_dsn
):
    """Program VPA (10 % of revenue, yearly, this year: still open) lists two distributors.
    Each sells 1,000.00 on January 1 and 500.00 just now. `bound`'s agreement binds VPA:
    1,500.00, rebate 150.00, under AG-1. `other`'s binds another program: nothing. Then an
    amendment of `other`'s agreement, arriving after its lines, binds VPA from today: its
    500.00 of today only, rebate 50.00, under AG-1/M1."""
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    if now.date() == date(now.year, 1, 1):
        pytest.skip("needs a day of this year before today")  # January 1 only
    tag = uuid.uuid4().hex[:8]
    sku, program_id = f"SKU-RB-{tag}", f"VPA-{tag}"
    bound, other = f"D-{tag}-A", f"D-{tag}-B"
    year_start = datetime(now.year, 1, 1, 12, tzinfo=UTC)
    term: dict[str, Any] = {"term_start": year_start.date(), "term_end": date(now.year, 12, 31)}
    program = RebateProgramDefined(
        event_id=uuid.uuid4(), occurred_at=year_start, source="erp", program_id=program_id,
        distributor_ids=[bound, other], basis="sell_through", measure="revenue", period="year",
        tier_mode="retroactive", currency="USD", tiers=[Tier(threshold=Decimal(0),
        rate=Decimal("0.10"))],
    )  # fmt: skip

    def sold(distributor: str, n: int, units: int, when: datetime) -> SaleReported:
        return SaleReported(
            event_id=uuid.uuid4(), occurred_at=when, source="api", distributor_id=distributor,
            transaction_id=f"T-{n}", reseller_id="R-1", sku=sku, quantity=units,
            unit_price=Decimal("100.00"), currency="USD", sold_at=when,
        )  # fmt: skip

    def rows() -> dict[str, tuple[str, str, list[str]]]:
        found = worker.get(f"/api/rebates?program_id={program_id}")["rows"]
        return {r["distributor_id"]: (r["revenue"], r["rebate"], r["bound_by"]) for r in found}

    worker = worker_factory(eventstore_url=pg_dsn).start()
    publish_reference_first(settings, worker, [*catalog(sku), program])
    lines = [sold(d, n, units, at) for d in (bound, other)
             for n, units, at in ((1, 10, year_start), (2, 5, now))]  # fmt: skip
    # the agreements first, known before the lines: the two topics are read side by side,
    # and a distributor's lines without its agreement yet count for every program listing
    # it (the first read below would see them so); the amendment below comes after them
    publish(
        settings,
        [
            of(bound, signed(program_ids=[program_id], **term)),
            of(other, signed(program_ids=["VPA-OTHER"], **term)),
        ],
    )
    wait_until(
        lambda: all(
            worker.get(f"/api/agreements?distributor_id={d}")["rows"] for d in (bound, other)
        ),
        60,
        "both agreements",
    )
    publish(settings, lines)
    first = wait_until(lambda: (found := rows()) and found, 60, "the bound distributor's row")
    assert first == {bound: ("1500.00", "150.00", ["AG-1"])}

    amendment = amended("M1", now.date(), program_ids=[program_id])
    publish(settings, [of(other, amendment.model_copy(update={"amended_at": now}))])
    both = wait_until(lambda: len(found := rows()) == 2 and found, 60, "the amended binding")
    assert both == {
        bound: ("1500.00", "150.00", ["AG-1"]),
        other: ("500.00", "50.00", ["AG-1/M1"]),
    }
    live = matches_replay(settings, worker)  # the Kafka replay binds the same lines
    assert {r["distributor_id"] for r in live["rebates"] if r["program_id"] == program_id} == {
        bound,
        other,
    }
