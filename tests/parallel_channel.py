"""Histories for the parallel replay's tests: distributor ids whose orders disagree, and a
JSON Lines file with bundles, dead letters, a close with late lines after it, agreements
and exchange rates."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

from schemas.codec import encode_event
from schemas.events import (
    DebitClaimSubmitted,
    DistributorAgreementAmended,
    DistributorAgreementSigned,
    EndCustomerAliasMapped,
    EndCustomerRegistered,
    Envelope,
    ExchangeRatePublished,
    RebatePeriodClosed,
    ResellerAliasMapped,
    ResellerAliasUnmapped,
    ResellerMatchRejected,
    ResellerOnboarded,
    ResellerRegistered,
    SaleReported,
    SpecialPriceAuthorized,
    StockRotationRequested,
)
from streams.channel_draw import PROGRAM_IDS
from streams.generator import generate_channel, malformed_lines
from streams.kafka.messages import bundled, message_of

#: ids that sort before "D01" as ids but after it as store keys ("D01|" < "D0|"), and
#: after it as ids but before it as keys ("D01-B|" < "D01|")
LOOKALIKES = ("D0", "D01-B")


def with_lookalike_distributors(events: Sequence[Envelope]) -> list[Envelope]:
    """The events, and a copy of D01's movements for each of `LOOKALIKES`."""
    copies = [
        event.model_copy(
            update={
                "distributor_id": name,
                "event_id": uuid.uuid5(event.event_id, name),
            }
        )
        for name in LOOKALIKES
        for event in events
        if getattr(event, "distributor_id", None) == "D01"
    ]
    return [*events, *copies]


#: a monthly sell-in commitment (the snapshot's `commitments` section)
COMMITMENT = {"period": "month", "basis": "sell_in", "measure": "units", "minimum": 100}


def agreements_and_rates(distributors: Sequence[str]) -> list[Envelope]:
    """An agreement signed by each distributor with a commitment and the channel's programs
    (`PROGRAM_IDS`, so its rebates still accrue), amended; a second one
    overlapping it (an `overlapping_agreement` dead letter of the distributor's job); a stock
    rotation request of each; two rates (reference data every job reads)."""
    signed_at = datetime(2026, 6, 20, 9, tzinfo=UTC)
    events: list[Envelope] = []
    for distributor in distributors:
        for agreement in ("AG-1", "AG-2"):
            events.append(
                DistributorAgreementSigned.model_validate(
                    {"event_id": uuid.uuid5(uuid.NAMESPACE_URL, f"{distributor}:{agreement}"),
                     "occurred_at": signed_at, "recorded_at": signed_at, "source": "erp",
                     "agreement_id": agreement, "distributor_id": distributor,
                     "signed_at": signed_at, "term_start": "2026-07-01",
                     "term_end": "2027-06-30", "currency": "USD", "commitments": [COMMITMENT],
                     "program_ids": list(PROGRAM_IDS)}
                )
            )  # fmt: skip
        events.append(
            DistributorAgreementAmended.model_validate(
                {"event_id": uuid.uuid5(uuid.NAMESPACE_URL, f"{distributor}:M1"),
                 "occurred_at": signed_at, "recorded_at": signed_at, "source": "erp",
                 "agreement_id": "AG-1", "distributor_id": distributor, "amendment_id": "M1",
                 "amended_at": signed_at, "effective_from": "2026-08-01",
                 "inventory": {"max_age_days": 60}}
            )
        )  # fmt: skip
        requested = datetime(2026, 8, 20, 9, tzinfo=UTC)
        events.append(
            StockRotationRequested.model_validate(
                {"event_id": uuid.uuid5(uuid.NAMESPACE_URL, f"{distributor}:ROT-1"),
                 "occurred_at": requested, "recorded_at": requested, "source": "api",
                 "request_id": "ROT-1", "distributor_id": distributor,
                 "requested_at": requested, "returns": [{"sku": "SKU-0001", "quantity": 1}]}
            )
        )  # fmt: skip
    for source, rate in (("EUR", "1.0842"), ("GBP", "1.2650")):
        events.append(
            ExchangeRatePublished.model_validate(
                {"event_id": uuid.uuid5(uuid.NAMESPACE_URL, f"rate:{source}"),
                 "occurred_at": signed_at, "recorded_at": signed_at, "source": "erp",
                 "from_currency": source, "to_currency": "USD", "rate": rate,
                 "effective_date": "2026-06-19", "rate_source": "ECB", "published_at": signed_at}
            )
        )  # fmt: skip
    return events


def reseller_identity(distributors: Sequence[str]) -> list[Envelope]:
    """Two masters (reference data every job reads); each distributor's R001 and R002 mapped
    to the first (one identity in its rows), a mapping of R001 to the second refused
    (`conflicting_mapping`, a dead letter of the distributor's job) and R002 unmapped again;
    an end customer's master, which each distributor's EC1 means."""
    at = datetime(2026, 6, 20, 9, tzinfo=UTC)

    def event(kind: type[Envelope], label: str, **fields: object) -> Envelope:
        envelope = {"event_id": uuid.uuid5(uuid.NAMESPACE_URL, label), "occurred_at": at,
                    "recorded_at": at, "source": "erp"}  # fmt: skip
        return kind.model_validate({**envelope, **fields})

    events = [
        event(ResellerRegistered, f"master:{master}", master_id=master, legal_name=name,
              country="US", postal_code="94105", registered_at=at)
        for master, name in (("M-ACME", "Acme Tools Inc."), ("M-ZETA", "Zeta Audio LLC"))
    ]  # fmt: skip
    events.append(
        event(EndCustomerRegistered, "master:EC-M1", master_id="EC-M1", legal_name="erased",
              country="US", postal_code="94105", registered_at=at)
    )  # fmt: skip
    for d in distributors:
        why = {"changed_by": "ops-ana", "reason": "same tax id", "changed_at": at}
        events.append(
            event(EndCustomerAliasMapped, f"customer:{d}", distributor_id=d,
                  alias_id=f"{d}-EC1", master_id="EC-M1", **why)
        )  # fmt: skip
        steps: list[tuple[type[Envelope], str, str]] = [
            (ResellerAliasMapped, f"{d}-R001", "M-ACME"),
            (ResellerAliasMapped, f"{d}-R002", "M-ACME"),
            (ResellerAliasMapped, f"{d}-R001", "M-ZETA"),
            (ResellerAliasUnmapped, f"{d}-R002", "M-ACME"),
        ]
        events.extend(
            event(kind, f"alias:{d}:{n}", distributor_id=d, alias_id=alias, master_id=master, **why)
            for n, (kind, alias, master) in enumerate(steps)
        )
        # the match step: R900 mapped by the matcher, R901 and R902 proposed, R902 rejected
        for alias, name, postal in (
            ("R900", "ACME TOOLS", "94105"), ("R901", "Acme Tols", "94107"),
            ("R902", "Acme Toolls", "94108"),
        ):  # fmt: skip
            events.append(
                event(ResellerOnboarded, f"onboard:{d}:{alias}", distributor_id=d,
                      reseller_id=f"{d}-{alias}", name=name, country="US", postal_code=postal,
                      onboarded_at=at)
            )  # fmt: skip
        events.append(
            event(ResellerMatchRejected, f"reject:{d}", distributor_id=d, alias_id=f"{d}-R902",
                  changed_by="ops-ana", reason="another shop", changed_at=at)
        )  # fmt: skip
    return events


CLOSED_AT = datetime(2026, 10, 8, tzinfo=UTC)
LATE = datetime(2026, 10, 10, 9, tzinfo=UTC)  # before Q3's grace ends (10-15)


def debit_claims(events: Sequence[Envelope], distributors: Sequence[str]) -> list[Envelope]:
    """Per distributor, an authorization naming it alone for the sku of its first sale, and
    a claim on that sale (decided) and on a sale never reported (waiting for it)."""
    claims: list[Envelope] = []
    for d in distributors:
        sold = next(
            e for e in events if isinstance(e, SaleReported) and e.distributor_id == d
            and e.quantity > 0
        )  # fmt: skip
        at = sold.recorded_at or sold.sold_at
        envelope: dict[str, Any] = {"occurred_at": at, "recorded_at": at, "source": "erp"}
        claims.append(
            SpecialPriceAuthorized(
                **envelope,
                event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"spa:{d}"),
                authorization_id=f"SPA-{d}",
                distributor_ids=[d],
                skus=[sold.sku],
                authorized_cost=Decimal("0.01"),
                valid_from=sold.sold_at.date(),
                valid_to=sold.sold_at.date(),
                quantity_cap=1000,
                currency=sold.currency,
            )
        )
        lines = [
            {"line_no": n, "transaction_id": transaction, "sku": sold.sku,
             "quantity": sold.quantity, "authorization_id": f"SPA-{d}", "cost_paid": "1.00",
             "authorized_cost": "0.01", "amount_claimed": "1.00", "currency": sold.currency}
            for n, transaction in ((1, sold.transaction_id), (2, "NEVER-SOLD"))
        ]  # fmt: skip
        claims.append(
            DebitClaimSubmitted.model_validate(
                {
                    **envelope,
                    "event_id": uuid.uuid5(uuid.NAMESPACE_URL, f"claim:{d}"),
                    "claim_id": f"DB-{d}",
                    "distributor_id": d,
                    "submitted_at": at,
                    "lines": lines,
                }
            )
        )
    return claims


def late_sale(
    distributor: str, number: int, quantity: int, recorded: datetime = LATE
) -> SaleReported:
    """A Q3 sale recorded after the close of Q3 (a return when `quantity` < 0)."""
    sold = datetime(2026, 9, 20, 12, tzinfo=UTC)
    return SaleReported(
        event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"late:{distributor}:{number}"),
        occurred_at=sold, recorded_at=recorded, source="api", distributor_id=distributor,
        transaction_id=f"LATE-{number}", reseller_id=f"{distributor}-R001", sku="SKU-0001",
        quantity=quantity, unit_price=Decimal("5000.00"), currency="USD", sold_at=sold,
    )  # fmt: skip


def awkward_history(weeks: int = 13) -> list[bytes]:
    """JSON Lines of a generated channel (with lookalike distributors) that runs into Q4:
    movements in bundles (a run of one topic and key per line), every malformed line of the
    generator (some name a distributor, some cannot be read), an invalid program (a
    reference dead letter), agreements (of D01 and its lookalikes, and D02) and exchange
    rates, a close of Q3 by hand and late Q3 lines recorded after it. The
    last line, D02's, moves the clock past Q3's grace, so the other program's Q3 closes by
    itself, for D01 too: a job's own clock never gets there (D02 and D01 are in different
    jobs of 2 and of 3)."""
    generated = generate_channel(seed=5, weeks=weeks, distributors=4)
    identity = reseller_identity(("D01", "D02"))
    events = with_lookalike_distributors(
        [*generated, *agreements_and_rates(("D01", "D02")), *identity]
    )
    lines = [message.value for message in bundled(map(message_of, events))]
    for n, (raw, _) in enumerate(malformed_lines()):
        lines.insert(40 + 97 * n, raw)
    program = next(orjson.loads(line) for line in lines if b'"VPA-2026-ST"' in line)
    program.update(program_id="BROKEN", tiers=[{"threshold": "10", "rate": "0.5"}] * 2)
    lines.insert(3, orjson.dumps(program))
    close = RebatePeriodClosed(
        event_id=uuid.uuid5(uuid.NAMESPACE_URL, "close:VPA-2026-ST"),
        occurred_at=CLOSED_AT, recorded_at=CLOSED_AT, source="erp", program_id="VPA-2026-ST",
        period="2026-Q3", closed_at=CLOSED_AT, closed_by="finance-carol",
    )  # fmt: skip
    lines.append(encode_event(close))
    late = [late_sale(d, n, q) for n, (d, q) in enumerate([("D01", 90), ("D02", -40), ("D0", 75)])]
    last = late_sale("D02", 9, 5, recorded=datetime(2026, 11, 12, 8, tzinfo=UTC))
    lines += [encode_event(sale) for sale in [*late, last]]
    return lines
