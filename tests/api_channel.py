"""A channel with rows for every list route of the API and for every filter the OpenAPI
document declares, for the contract test and the authorization matrix.

The generated channel (D01 to D05, eight weeks of Q3 2026) gives most routes their rows;
what it lacks is added here, for at least two distributors (one of them D01, whose token
the tests use) and with at least two values of every filter, so that a route that
stops scoping or filtering answers different rows:

- two rebate programs whose tiers are 8 % apart, so every one of their open rows is within
  10 % of its next tier (the watchlist), one quarterly for every distributor, one yearly
  for D01 to D03: the watchlist has two programs and two periods;
- VPA-2026-SI 2026-Q3 closed (at the recorded clock: a date that does not depend on the
  day the tests run), so the rebates have open and closed rows and D01, D02 a statement;
- two SKUs in the catalog without a price: D01 sells both, D02 and D03 one each
  (unpriced lines);
- a special price for D01 (the generated one is D02's);
- dead letters from a second source with a second reason, keyed D01 and D03 (the
  generated ones are conflicting duplicates of D02 and D05);
- a D01 violation acknowledged and a D02 violation disputed (three statuses);
- agreements of D01 (signed, then amended) and D02 (reporting monthly), binding every
  program, with commitments
  met, open and short, and exchange rates of three pairs (EUR>USD, GBP>USD, USD>JPY);
- two special price authorizations: one naming D01 and D02, in effect, and one of D01's
  that ended in July.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from projections.snapshot import now_of
from schemas.claims import ClaimLine, DebitClaimSubmitted, SpecialPriceAuthorized
from schemas.events import (
    DistributorAgreementAmended,
    DistributorAgreementSigned,
    Envelope,
    ExchangeRatePublished,
    PriceChanged,
    ProductDefined,
    RebatePeriodClosed,
    RebateProgramDefined,
    ResellerOnboarded,
    SaleReported,
    StockRotationRequested,
    Tier,
)
from streams.api.openapi import document
from streams.channel_draw import PROGRAM_IDS
from streams.generator import generate_channel
from streams.runners.embedded import EmbeddedChannel
from streams.runners.processing import Input
from tests.parallel_channel import reseller_identity
from tests.unit.party_events import customer_mapped, customer_registered, mapped, registered

#: the period the fixture closes (the statements the matrix reads)
PROGRAM, PERIOD = "VPA-2026-SI", "2026-Q3"
#: SKUs in the catalog that never get a price
UNPRICED_SKUS = ("SKU-0901", "SKU-0902")
AT = datetime(2026, 9, 1, 15, tzinfo=UTC)

# --- how the tests read each documented query parameter --------------------------------

#: paging, tested on its own (test_web_contract.py)
PAGING = frozenset({"limit", "offset"})
#: parameters that shape an answer rather than choose its rows
SHAPING = frozenset({"as_of", "n", "share", "granularity", "scope", "order"})
#: the row field a filter selects on, where it is not the filter's name
ROW_FIELD = {("/api/dead-letters/lines", "distributor_id"): "key"}
#: filters of aggregates whose rows do not carry the value: checked by adding up
#: (test_web_contract.py, test_aggregate_filters_*)
AGGREGATED = frozenset(
    {
        ("/api/sell-through", "sku"),
        ("/api/violations/summary", "distributor_id"),
        ("/api/violations/summary", "sku"),
        ("/api/resellers/growth", "distributor_id"),
        ("/api/resellers/top", "period"),
    }
)
#: parameters every read of a route is made with, so that its answer holds every row:
#: a ranking ranks them all
WHOLE = {"/api/resellers/top": {"n": "1000"}, "/api/scorecard": {"period": PERIOD}}


def list_routes() -> list[str]:
    """GET endpoints without path parameters whose answer is a page of rows."""
    found = []
    for path, item in document()["paths"].items():
        operation = item.get("get")
        if operation is None or "{" in path:
            continue
        names = {p["name"] for p in operation["parameters"]}
        if {"limit", "offset"} <= names:
            found.append(path)
    return found


def query_parameters(path: str) -> list[dict[str, Any]]:
    parameters = document()["paths"][path]["get"]["parameters"]
    return [p for p in parameters if p["in"] == "query"]


def row_filters(path: str) -> list[str]:
    """The documented filters of a route whose rows carry the value they select on."""
    return [
        p["name"]
        for p in query_parameters(path)
        if p["name"] not in PAGING | SHAPING
        and (path, p["name"]) not in AGGREGATED
        and not p.get("required")
    ]


def required(path: str) -> set[str]:
    """The parameters a route cannot answer without (`WHOLE` gives each a value)."""
    return {p["name"] for p in query_parameters(path) if p.get("required")}


def row_field(path: str, name: str) -> str:
    return ROW_FIELD.get((path, name), name)


def owner_field(path: str) -> str:
    """The field that says whose a row is."""
    return row_field(path, "distributor_id")


# --- the channel -----------------------------------------------------------------------


def _id(*parts: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, "api-channel:" + ":".join(parts))


def _near_tiers(first: Decimal, top: Decimal) -> list[Tier]:
    """Tiers from 0, then from `first` up past `top`, each 8 % above the one before."""
    tiers = [Tier(threshold=Decimal(0), rate=Decimal(0))]
    threshold = first
    while threshold <= top:
        tiers.append(Tier(threshold=threshold, rate=Decimal("0.01")))
        threshold = (threshold * Decimal("1.08")).quantize(Decimal("0.01"))
    return tiers


def _extra_events() -> Iterator[Envelope]:
    defined = datetime(2026, 6, 15, tzinfo=UTC)
    yield from _near_tier_programs(defined)
    for sku in UNPRICED_SKUS:
        yield ProductDefined(
            event_id=_id("product", sku),
            occurred_at=defined,
            recorded_at=defined,
            source="erp",
            sku=sku,
            base_unit="EA",
        )
    yield PriceChanged(
        event_id=_id("price", "D01"),
        occurred_at=AT - timedelta(days=2),
        recorded_at=AT - timedelta(days=2),
        source="erp",
        sku="SKU-0003",
        distributor_cost=Decimal("1.00"),
        floor_price=Decimal("1.50"),
        currency="USD",
        effective_from=AT - timedelta(days=2),
        published_at=AT - timedelta(days=2),
        distributor_id="D01",
    )
    yield from _unpriced_sales()
    yield from _agreements(defined)
    yield from _rates()
    yield from _authorizations(defined)
    yield from _rotations()
    yield from _claims(defined)
    yield from _identity()


def _identity() -> Iterator[Envelope]:
    """Three masters: D01-R001 means M-ACME (a conflicting mapping of it refused, D01-R002
    mapped and unmapped again), D02-R001 and D02-R002 mean M-ZETA (one identity of D02),
    M-OMEGA nothing. Each master's aliases are of one distributor: a distributor's rows
    stay its own."""
    yield from reseller_identity(("D01",))
    yield registered("M-OMEGA", "Omega Sound GmbH", n=9_000_001, country="DE", postal_code="10115")
    for n, alias in enumerate(("D02-R001", "D02-R002"), start=9_000_002):
        yield mapped("D02", alias, "M-ZETA", n=n)
    # end customers' masters (their names as a door without a key store leaves them):
    # D01's EC-1 and D02's EC-9 mean EC-M1, D01's EC-2 means EC-M2, EC-M3 nothing
    for n, master in enumerate(("EC-M1", "EC-M2", "EC-M3"), start=9_000_020):
        yield customer_registered(master, "erased", n=n)
    for n, (distributor, alias, master) in enumerate(
        (("D01", "EC-1", "EC-M1"), ("D02", "EC-9", "EC-M1"), ("D01", "EC-2", "EC-M2")),
        start=9_000_030,
    ):
        yield customer_mapped(distributor, alias, master, n=n)
    # proposals of D02's in the match queue beside D01's (typos of M-ACME's name)
    at = datetime(2026, 6, 20, 9, tzinfo=UTC)
    for n, (reseller, name) in enumerate((("D02-R901", "Acme Tols"), ("D02-R902", "Acme Toolz"))):
        yield ResellerOnboarded(
            event_id=uuid.UUID(int=9_000_010 + n, version=4), occurred_at=at, recorded_at=at,
            source="api", distributor_id="D02", reseller_id=reseller, name=name, country="US",
            postal_code="94107", onboarded_at=at,
        )  # fmt: skip


#: D02's stocking targets: SKU-0018 (held, not sold: unbounded) and a group of two fast
#: sellers held above 2 weeks of supply; its reports are due monthly (compliance periods
#: of both frequencies), and half its purchases may be rotated
D02_TERMS: dict[str, Any] = {
    "reporting": {"frequency": "monthly", "due_day": 5, "grace_days": 2},
    "commitments": [
        {"period": "month", "basis": "sell_in", "measure": "units", "minimum": 1000000},
        {"period": "quarter", "basis": "sell_through", "measure": "revenue", "minimum": "1.00"},
    ],
    "inventory": {
        "max_age_days": 90,
        "rotation_allowance": "0.50",
        "stocking_targets": [
            {"sku": "SKU-0018", "max_weeks_of_supply": "8"},
            {"group_id": "G-FAST", "max_weeks_of_supply": "2"},
        ],
    },
    "product_groups": [{"group_id": "G-FAST", "skus": ["SKU-0019", "SKU-0023"]}],
}


#: D01's: a maximum age, and a monthly sell-through commitment it meets
D01_TERMS: dict[str, Any] = {
    "inventory": {"max_age_days": 90},
    "commitments": [{"period": "month", "basis": "sell_through", "measure": "units", "minimum": 1}],
}


#: every program of the channel: the agreements bind them, so D01's and D02's rebates accrue
BOUND_PROGRAMS = [*PROGRAM_IDS, "NEAR-Q", "NEAR-Y"]


def _agreements(signed: datetime) -> Iterator[Envelope]:
    """D01's agreement and an amendment of it, and D02's agreement."""
    for distributor in ("D01", "D02"):
        terms = D02_TERMS if distributor == "D02" else D01_TERMS
        yield DistributorAgreementSigned.model_validate(
            {
                "event_id": _id("agreement", distributor),
                "occurred_at": signed,
                "recorded_at": signed,
                "source": "erp",
                "agreement_id": f"AG-{distributor}",
                "distributor_id": distributor,
                "signed_at": signed,
                "term_start": "2026-07-01",
                "term_end": "2027-06-30",
                "currency": "USD",
                "program_ids": BOUND_PROGRAMS,
                **terms,
            }
        )
    yield DistributorAgreementAmended.model_validate(
        {
            "event_id": _id("amendment", "D01"),
            "occurred_at": AT,
            "recorded_at": AT,
            "source": "erp",
            "agreement_id": "AG-D01",
            "distributor_id": "D01",
            "amendment_id": "M1",
            "amended_at": AT,
            "effective_from": "2026-08-15",
            "inventory": {"max_age_days": 60},
        }
    )


def _rotations() -> Iterator[StockRotationRequested]:
    """Two stock rotation requests of D01 and one of D02 (decided against their agreements)."""
    for distributor, request_id in (("D01", "ROT-1"), ("D01", "ROT-2"), ("D02", "ROT-1")):
        yield StockRotationRequested.model_validate(
            {
                "event_id": _id("rotation", distributor, request_id),
                "occurred_at": AT,
                "recorded_at": AT,
                "source": "api",
                "request_id": request_id,
                "distributor_id": distributor,
                "requested_at": AT,
                "returns": [{"sku": "SKU-0001", "quantity": 1}],
            }
        )


def _claims(submitted: datetime) -> Iterator[DebitClaimSubmitted]:
    """Claims DB-WAIT of D01 and of D02 under SPA-1 on a sale never reported (each line
    waits for it), and DB-DONE of D01 under an authorization there is not (rejected).

    Their ids are not DB-1: the authorization matrix records a decided DB-1 of its own
    (`with_claims`) on the same audit log."""
    line = ClaimLine(
        line_no=1, transaction_id="T-NEVER", sku="SKU-0001", quantity=2,
        authorization_id="SPA-1", cost_paid=Decimal("7.00"), authorized_cost=Decimal("5.00"),
        amount_claimed=Decimal("4.00"), currency="USD",
    )  # fmt: skip
    unknown = line.model_copy(update={"authorization_id": "SPA-NONE"})
    claims = (("D01", "DB-WAIT", line), ("D02", "DB-WAIT", line), ("D01", "DB-DONE", unknown))
    for distributor, claim_id, claimed in claims:
        yield DebitClaimSubmitted(
            event_id=_id("claim", distributor, claim_id), occurred_at=submitted,
            recorded_at=submitted, source="api", claim_id=claim_id, distributor_id=distributor,
            submitted_at=submitted, lines=[claimed],
        )  # fmt: skip


def _rates() -> Iterator[ExchangeRatePublished]:
    for source, target, rate in (("EUR", "USD", "1.0842"), ("GBP", "USD", "1.2650"),
                                 ("USD", "JPY", "147.25")):  # fmt: skip
        yield ExchangeRatePublished.model_validate(
            {
                "event_id": _id("rate", source, target),
                "occurred_at": AT,
                "recorded_at": AT,
                "source": "erp",
                "from_currency": source,
                "to_currency": target,
                "rate": rate,
                "effective_date": "2026-08-31",
                "rate_source": "ECB",
                "published_at": AT,
            }
        )


def _authorizations(defined: datetime) -> Iterator[SpecialPriceAuthorized]:
    """A deal for D01 and D02 and an ended one for D01, for a reseller no sale names (so no
    verdict changes)."""
    deals = (("SPA-1", ["D01", "D02"], date(2026, 12, 31)), ("SPA-2", ["D01"], date(2026, 7, 31)))
    for authorization_id, distributors, last in deals:
        yield SpecialPriceAuthorized(
            event_id=_id("authorization", authorization_id), occurred_at=defined,
            recorded_at=defined, source="erp", authorization_id=authorization_id,
            distributor_ids=distributors, skus=["SKU-0001"], reseller_id="R-DEAL",
            authorized_cost=Decimal("5.00"), floor_price=Decimal("6.00"),
            valid_from=date(2026, 7, 1), valid_to=last, currency="USD",
        )  # fmt: skip


def _near_tier_programs(defined: datetime) -> Iterator[RebateProgramDefined]:
    """Two programs with a tier every 8 %: every accrual is near its next tier."""
    terms: list[dict[str, Any]] = [
        {
            "program_id": "NEAR-Q",
            "period": "quarter",
            "basis": "sell_through",
            "measure": "revenue",
            "distributor_ids": "all",
            "tiers": _near_tiers(Decimal(1000), Decimal(10**7)),
        },
        {
            "program_id": "NEAR-Y",
            "period": "year",
            "basis": "sell_in",
            "measure": "units",
            "distributor_ids": ["D01", "D02", "D03"],
            "tiers": _near_tiers(Decimal(5), Decimal(10**6)),
        },
    ]
    for fields in terms:
        yield RebateProgramDefined.model_validate(
            {
                "event_id": _id("program", fields["program_id"]),
                "occurred_at": defined,
                "recorded_at": defined,
                "source": "erp",
                "tier_mode": "retroactive",
                "currency": "USD",
                **fields,
            }
        )


def _unpriced_sales() -> Iterator[SaleReported]:
    """Lines of the SKUs without a price, of three distributors."""
    first, second = UNPRICED_SKUS
    sold = [("D01", first), ("D01", second), ("D02", first), ("D03", second), ("D01", first)]
    for n, (distributor, sku) in enumerate(sold):
        sold_at = AT + timedelta(minutes=n)
        yield SaleReported(
            event_id=_id("sale", str(n)),
            occurred_at=sold_at,
            recorded_at=sold_at + timedelta(minutes=5),
            source="api",
            distributor_id=distributor,
            transaction_id=f"{distributor}-UNPRICED-{n}",
            reseller_id=f"{distributor}-R001",
            sku=sku,
            quantity=1 + n,
            unit_price=Decimal("10.00"),
            currency="USD",
            sold_at=sold_at,
        )


def populated_channel() -> EmbeddedChannel:
    channel = EmbeddedChannel()
    channel.feed_events(generate_channel(seed=41, weeks=8))
    channel.feed_events(_extra_events())
    # lines that cannot be read, from another source than the events above
    channel.feed(
        Input(raw, key, "fixture-upload")
        for raw, key in ((b"{not json", "D01"), (b'{"event_type": "Nope"}', "D03"))
    )
    by_distributor: dict[str, list[dict[str, Any]]] = {}
    for violation in channel.snapshot()["violations"]:
        by_distributor.setdefault(violation["distributor_id"], []).append(violation)
    for distributor, action in (("D01", "acknowledge"), ("D02", "dispute")):
        channel.audit.violation_step(
            uuid.UUID(by_distributor[distributor][0]["violation_id"]),
            action,
            actor_id=f"{distributor.lower()}-it",
            role="distributor",
            actor_distributor_id=distributor,
            at=AT,
            reason="seen",
        )
    clock = now_of(channel.stores)
    assert clock is not None
    channel.feed_events(
        [
            RebatePeriodClosed(
                event_id=_id("close", PROGRAM, PERIOD),
                occurred_at=clock,
                recorded_at=clock,
                source="erp",
                program_id=PROGRAM,
                period=PERIOD,
                closed_at=clock,
                closed_by="fixture-admin",
            )
        ]
    )
    return channel
