"""The deterministic channel generator: reproducible, valid, and realistically messy."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

import pytest

from domain.identity import content_fingerprint, idempotency_key
from projections.channel import apply_event, apply_message
from projections.dedup import Verdict
from projections.inventory import Reconciliation
from projections.snapshot import build_snapshot
from projections.stores import ChannelStores
from schemas.codec import InvalidEvent, decode_event, encode_event
from schemas.events import (
    Envelope,
    InventoryCounted,
    PriceChanged,
    ProductDefined,
    ReportSubmitted,
    ResellerOnboarded,
    SaleReported,
    ShipmentRecorded,
)
from streams.generator import generate_channel, generate_sales, malformed_lines

T = TypeVar("T")


@pytest.fixture(scope="module")
def channel() -> list[Envelope]:
    return generate_channel()


def correction_lines(events: list[Envelope]) -> list[SaleReported]:
    """The lines of the corrected (replacement) report, published after its header."""
    corrections = {r.report_id for r in of_type(events, ReportSubmitted) if r.replaces_report_id}
    return [s for s in of_type(events, SaleReported) if s.report_id in corrections]


def encoded(events: list[Envelope]) -> bytes:
    return b"\n".join(encode_event(event) for event in events)


def of_type(events: list[Envelope], cls: type[T]) -> list[T]:
    return [event for event in events if isinstance(event, cls)]


def test_same_seed_gives_identical_bytes(channel: list[Envelope]) -> None:
    assert encoded(generate_channel()) == encoded(channel)
    assert encoded(generate_channel(seed=8)) != encoded(channel)

    def small() -> list[Envelope]:
        return generate_channel(
            seed=3, distributors=2, skus=5, resellers_per_distributor=3, weeks=2
        )

    assert encoded(small()) == encoded(small())
    reports = of_type(small(), ReportSubmitted)
    assert len(reports) == 2 * 2 + 1  # and the first distributor's corrected second week
    assert [r.replaces_report_id for r in reports if r.replaces_report_id] == ["D01-2026W29"]


def test_every_event_decodes_back_equal(channel: list[Envelope]) -> None:
    for event in channel:
        assert decode_event(encode_event(event)) == event


def test_size() -> None:
    assert 2_000 <= len(generate_channel()) <= 10_000


def test_master_data(channel: list[Envelope]) -> None:
    products = of_type(channel, ProductDefined)
    assert len(products) == 40
    assert all(p.base_unit == "EA" for p in products)
    assert any(p.unit_conversions == {"CA": 12} for p in products)
    upcs = [p.identifiers.upc for p in products]
    assert all(u is not None and len(u) == 12 and u.isdigit() for u in upcs)
    assert len(set(upcs)) == 40
    start = datetime(2026, 7, 6, tzinfo=UTC)
    prices = of_type(channel, PriceChanged)
    general = {p.sku for p in prices if p.distributor_id is None and p.effective_from < start}
    assert general == {p.sku for p in products}
    for price in prices:
        assert price.currency == "USD"
        assert price.floor_price > price.distributor_cost
        assert price.floor_price.as_tuple().exponent == -2
        assert price.distributor_cost.as_tuple().exponent == -2
    assert len(of_type(channel, ResellerOnboarded)) == 5 * 12


def test_time_order_and_utc(channel: list[Envelope]) -> None:
    corrected = correction_lines(channel)
    times = [event.business_time for event in channel if event not in corrected]
    assert times == sorted(times)
    for event in channel:
        assert event.occurred_at == event.business_time
        assert event.occurred_at.utcoffset() == timedelta(0)
        assert event.recorded_at is not None and event.recorded_at >= event.occurred_at


def test_sources(channel: list[Envelope]) -> None:
    for event in channel:
        if isinstance(event, ShipmentRecorded | PriceChanged | ProductDefined):
            assert event.source == "erp"
        elif isinstance(event, SaleReported | InventoryCounted | ReportSubmitted):
            assert event.source in {"api", "kafka"}


def test_event_ids_are_unique(channel: list[Envelope]) -> None:
    assert len({event.event_id for event in channel}) == len(channel)


def test_shipments(channel: list[Envelope]) -> None:
    shipments = of_type(channel, ShipmentRecorded)
    assert len({s.shipment_id for s in shipments}) == len(shipments)
    returns = [s for s in shipments if s.quantity < 0]
    assert 1 <= len(returns) <= 3 * 6
    weekly = Counter((s.distributor_id, s.sku) for s in shipments if s.quantity > 0)
    assert len(weekly) == 5 * 40


def test_sales_are_messy_in_the_right_proportions(channel: list[Envelope]) -> None:
    corrected = correction_lines(channel)
    sales = [s for s in of_type(channel, SaleReported) if s not in corrected]
    by_key: dict[str, list[SaleReported]] = defaultdict(list)
    for s in sales:
        by_key[idempotency_key(s) or ""].append(s)
    originals = [group[0] for group in by_key.values()]
    for s in originals:
        number = s.transaction_id.removeprefix(f"{s.distributor_id}-T")
        assert number.isdigit() and len(number) == 6
    returns = [s for s in originals if s.quantity < 0]
    assert 0.005 < len(returns) / len(originals) < 0.05
    resellers = Counter(s.reseller_id for s in originals if s.distributor_id == "D01")
    top, *_, bottom = [n for _, n in resellers.most_common()]
    assert top > 3 * bottom  # skewed
    repeated = [group for group in by_key.values() if len(group) > 1]
    assert all(len(group) == 2 for group in repeated)
    exact = [g for g in repeated if content_fingerprint(g[0]) == content_fingerprint(g[1])]
    conflicts = [g for g in repeated if g not in exact]
    assert round(len(originals) * 0.01) == len(exact)
    assert 2 <= len(conflicts) <= 3
    for first, second in exact:
        assert first.event_id != second.event_id
        assert first.recorded_at != second.recorded_at
    for first, second in conflicts:
        assert first.quantity != second.quantity
        assert first.model_dump(exclude={"event_id", "recorded_at", "quantity"}) == (
            second.model_dump(exclude={"event_id", "recorded_at", "quantity"})
        )


def test_some_sales_are_below_the_floor(channel: list[Envelope]) -> None:
    floors = {
        p.sku: p.floor_price for p in of_type(channel, PriceChanged) if p.distributor_id is None
    }
    sales = of_type(channel, SaleReported)
    below = [s for s in sales if s.unit_price < floors[s.sku] * Decimal("0.8")]
    assert below
    assert all(s.unit_price.as_tuple().exponent == -2 for s in sales)


def test_weekly_counts_and_reports(channel: list[Envelope]) -> None:
    counts = of_type(channel, InventoryCounted)
    assert len(counts) == 6 * 5 * 40
    for c in counts:
        assert c.counted_at.weekday() == 6
        assert (c.counted_at.hour, c.counted_at.minute) == (23, 0)
        assert c.on_hand >= 0
    reports = of_type(channel, ReportSubmitted)
    assert len(reports) == 6 * 5
    assert {r.period_start for r in reports} == {
        date(2026, 7, 6) + timedelta(weeks=w) for w in range(6)
    }
    assert all(r.period_end == r.period_start + timedelta(days=6) for r in reports)
    lines = Counter(s.report_id for s in of_type(channel, SaleReported))
    for report in reports:
        assert 0 < report.line_count <= lines[report.report_id]


def test_replay_through_the_projection(channel: list[Envelope]) -> None:
    stores = ChannelStores()
    verdicts: Counter[Verdict | None] = Counter()
    variances = []
    for event in channel:
        outcome = apply_event(stores, event, None)
        verdicts[outcome.verdict] += 1
        variances += [f.variance for f in outcome.facts if isinstance(f, Reconciliation)]
    corrected = correction_lines(channel)
    sales = [s for s in of_type(channel, SaleReported) if s not in corrected]
    n_repeats = len(sales) - len({s.transaction_id for s in sales})
    assert verdicts[Verdict.DUPLICATE] + verdicts[Verdict.CONFLICT] == n_repeats
    assert 2 <= verdicts[Verdict.CONFLICT] <= 3
    assert verdicts[Verdict.REDELIVERY] == 0
    # the counts are the simulated truth ± a small variance
    assert len(variances) == 6 * 5 * 40
    assert all(-2 <= v <= 1 for v in variances)
    assert Counter(variances)[0] > len(variances) / 2
    snapshot = build_snapshot(stores)
    assert all(row["expected_on_hand"] >= 0 for row in snapshot["inventory"])
    assert snapshot["dead_letters"] == [
        {"reason": "conflicting_duplicate", "count": verdicts[Verdict.CONFLICT]}
    ]


def test_generate_sales_distinct_and_valid() -> None:
    sales = list(generate_sales(5_000))
    assert len(sales) == 5_000
    assert len({(s.distributor_id, s.transaction_id) for s in sales}) == 5_000
    assert len({s.event_id for s in sales}) == 5_000
    assert {s.distributor_id for s in sales} == {f"D{n:02d}" for n in range(1, 9)}
    assert len({s.sku for s in sales}) > 40
    start = datetime(2026, 7, 6, tzinfo=UTC)
    assert min(s.sold_at for s in sales) >= start
    assert max(s.sold_at for s in sales) < start + timedelta(days=60)
    assert max(s.sold_at for s in sales) > start + timedelta(days=55)
    assert any(s.quantity < 0 for s in sales)
    assert all(s.quantity != 0 for s in sales)
    for s in sales:
        raw = encode_event(s)
        assert decode_event(raw) == s
        assert encode_event(decode_event(raw)) == raw


def test_generate_sales_is_deterministic() -> None:
    first = [encode_event(s) for s in generate_sales(1_000, seed=11)]
    assert first == [encode_event(s) for s in generate_sales(1_000, seed=11)]
    assert first != [encode_event(s) for s in generate_sales(1_000, seed=12)]
    assert sum(1 for _ in generate_sales(20_000)) == 20_000


def test_generate_sales_respects_parameters() -> None:
    start = datetime(2027, 1, 1, 9, tzinfo=UTC)
    sales = list(generate_sales(300, seed=1, distributors=2, skus=3, start=start))
    assert {s.distributor_id for s in sales} <= {"D01", "D02"}
    assert {s.sku for s in sales} <= {"SKU-0001", "SKU-0002", "SKU-0003"}
    assert min(s.sold_at for s in sales) == start


@pytest.mark.parametrize(("raw", "reason"), malformed_lines())
def test_malformed_lines_get_their_reason(raw: bytes, reason: str) -> None:
    (outcome,) = apply_message(ChannelStores(), raw, None, None)
    assert (outcome.verdict, outcome.dead_letter_reason) == (None, reason)


def test_malformed_lines_cover_the_usual_mistakes() -> None:
    lines = malformed_lines()
    reasons = Counter(reason for _, reason in lines)
    assert reasons["invalid_json"] >= 1
    assert reasons["schema_violation"] >= 7
    details = []
    for raw, _ in lines:
        with pytest.raises(InvalidEvent) as caught:
            decode_event(raw)
        details.append(caught.value.detail)
    text = "\n".join(details)
    for expected in (
        "not a float",
        "has no time zone",
        "Field required",
        "does not match any of the expected tags",
        "SaleReported.quantity",
        "Extra inputs are not permitted",
    ):
        assert expected in text


def test_the_demo_shows_compliance_the_reseller_network_and_a_correction(
    channel: list[Envelope],
) -> None:
    stores = ChannelStores()
    for event in channel:
        apply_event(stores, event, None)
    snapshot = build_snapshot(stores)
    quality = {row["distributor_id"]: row for row in snapshot["quality"]}
    assert quality["D05"]["weeks_missing"] == 1
    assert sum(row["reports_late"] for row in quality.values()) >= 1
    assert all(row["reports_on_time"] + row["reports_late"] >= 5 for row in quality.values())

    reports = {row["report_id"]: row for row in snapshot["reports"]}
    assert reports["D01-2026W29"]["replaced_by"] == "D01-2026W29-C1"
    original = [s for s in of_type(channel, SaleReported) if s.report_id == "D01-2026W29"]
    accepted_originals = {s.transaction_id: s for s in reversed(original)}  # first one wins
    assert reports["D01-2026W29-C1"]["lines_reversed"] == len(accepted_originals)
    # D01's sell-through counts the corrected week once: its corrected lines, not the first
    corrected = correction_lines(channel)
    first: dict[str, SaleReported] = {}
    for s in of_type(channel, SaleReported):
        if s.distributor_id == "D01" and s not in corrected:
            first.setdefault(s.transaction_id, s)
    expected = sum(s.quantity for s in first.values() if s.report_id != "D01-2026W29")
    expected += sum(s.quantity for s in corrected)
    d01 = sum(r["sell_through"] for r in snapshot["inventory"] if r["distributor_id"] == "D01")
    assert d01 == expected
    assert quality["D01"]["rejected"] == 0  # every corrected line was accepted

    network = {row["distributor_id"]: row for row in snapshot["resellers"]}
    assert {row["onboarded"] for row in network.values()} == {12}
    onboarded_during = [
        r
        for r in of_type(channel, ResellerOnboarded)
        if r.onboarded_at >= datetime(2026, 7, 6, tzinfo=UTC)
    ]
    assert len(onboarded_during) == 5 * 4  # a third of each network joins during the period
    for reseller in onboarded_during:
        sales = [
            s.sold_at
            for s in of_type(channel, SaleReported)
            if s.reseller_id == reseller.reseller_id
        ]
        assert all(sold_at.date() > reseller.onboarded_at.date() for sold_at in sales)
