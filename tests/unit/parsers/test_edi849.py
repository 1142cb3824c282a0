"""844 in → decisions → 849 out: the sample answered line by line, and 849 round trips."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.claim_rules import ADJUSTMENTS, REJECTIONS, LineDecision
from streams.ingest.parsers.edi844 import parse_844
from streams.ingest.parsers.edi844_codes import RESPONSE_CODES
from streams.ingest.parsers.edi849 import read_849, response_line, write_849
from streams.ingest.parsers.x12 import X12Error
from streams.ingest.parsers.x12_writer import Parties
from tests.unit.claim_events import Channel, authorization, book_price, sale
from tests.unit.parsers.conftest import RECEIVED_AT, SAMPLES

D = Decimal
ANSWERED = datetime(2026, 4, 21, 8, 0, tzinfo=UTC)
PARTIES = Parties("VENDORCO", "ACMEDIST", "CF", 9001, ANSWERED)


def sample_channel() -> Channel:
    """The vendor's side of the 844 sample: two authorizations, the book, the POS lines."""
    widget = authorization(
        "SPA-2026-0117",
        distributor_ids=["DIST-001"],
        skus=["WIDGET-100"],
        reseller_id="RES-100",
        authorized_cost=D("8.90"),
        valid_from=date(2026, 3, 1),
        quantity_cap=25,
    )
    gadget = authorization(
        "SPA-2026-0142",
        n=2,
        distributor_ids=["DIST-001"],
        skus=["GADGET-200"],
        reseller_id=None,
        end_customer="EC-0042",
        authorized_cost=D("118.50"),
        valid_from=date(2026, 3, 1),
        quantity_cap=None,
    )
    channel = Channel().authorize(widget, gadget)
    channel.price(book_price("11.40", sku="WIDGET-100"), book_price("140.00", sku="GADGET-200"))
    common: dict[str, Any] = {
        "distributor_id": "DIST-001",
        "sold_at": datetime(2026, 3, 31, tzinfo=UTC),
    }
    channel.sell(
        sale("INV1001-1", 10, "RES-100", sku="WIDGET-100", **common),
        sale("INV1003-1", 20, "RES-100", sku="WIDGET-100", **common),
        sale("INV1002-1", 5, "RES-200", sku="GADGET-200", end_customer="EC-0042", **common),
    )
    return channel


def answered_sample() -> tuple[list[LineDecision], bytes]:
    with (SAMPLES / "844_claim.edi").open("rb") as stream:
        claim = parse_844(stream, received_at=RECEIVED_AT, distributor_id="DIST-001").claim
    assert claim is not None
    decisions = sample_channel().claim(claim, at=RECEIVED_AT)
    return decisions, write_849(claim.claim_id, claim.distributor_id, decisions, PARTIES)


def test_the_sample_claim_is_answered_line_by_line() -> None:
    decisions, _ = answered_sample()
    assert [(d.status, d.reasons, d.quantity_accepted, d.amount_accepted) for d in decisions] == [
        ("accepted", (), 10, D("25.00")),
        ("adjusted", ("cap_partial",), 15, D("37.50")),
        ("accepted", (), 5, D("107.50")),
    ]


def test_the_849_is_the_sample_response() -> None:
    """tests/samples/849_response.edi is what the vendor sends back for 844_claim.edi."""
    _, written = answered_sample()
    assert written == (SAMPLES / "849_response.edi").read_bytes()


def test_the_849_reads_back_as_the_decisions() -> None:
    decisions, written = answered_sample()
    (response,) = read_849(io.BytesIO(written))
    assert (response.claim_id, response.distributor_id, response.currency) == (
        "DB-2026-0420",
        "DIST-001",
        "USD",
    )
    assert response.lines == [response_line(d) for d in decisions]


def test_every_status_and_reason_has_a_code() -> None:
    assert set(RESPONSE_CODES) == {"accepted", "pending_pos", *REJECTIONS, *ADJUSTMENTS}
    assert len(set(RESPONSE_CODES.values())) == len(RESPONSE_CODES)


STATUSES = [
    ("accepted", ()),
    ("pending_pos", ("pending_pos",)),
    *(("rejected", (reason,)) for reason in REJECTIONS),
    *(("adjusted", (reason,)) for reason in ADJUSTMENTS),
    ("adjusted", ("quantity_reduced", "cost_corrected")),
]


@st.composite
def decisions(draw: st.DrawFn) -> list[LineDecision]:
    numbers = draw(st.lists(st.integers(1, 500), min_size=1, max_size=8, unique=True))
    made = []
    for number in sorted(numbers):
        status, reasons = draw(st.sampled_from(STATUSES))
        takes = status in ("accepted", "adjusted")
        known = draw(st.booleans())
        made.append(
            LineDecision(
                distributor_id="DIST-001",
                claim_id="C-9",
                line_no=number,
                transaction_id=f"INV-{number}",
                sku=draw(st.sampled_from(["WIDGET-100", "GADGET-200"])),
                authorization_id=draw(st.sampled_from(["SPA-1", "SPA-2"])),
                status=status,  # type: ignore[arg-type]
                reasons=reasons,
                quantity_claimed=draw(st.integers(1, 999)),
                quantity_accepted=draw(st.integers(1, 999)) if takes else 0,
                amount_claimed=draw(st.decimals(D("0.01"), D("9999"), places=2)),
                amount_accepted=draw(st.decimals(D("0.01"), D("9999"), places=2))
                if takes
                else D("0.00"),
                currency="USD",
                book_cost=D("11.40") if known else None,
                authorized_cost=D("8.90") if known else None,
            )
        )
    return made


@settings(max_examples=80)
@given(decisions())
def test_any_answer_round_trips(made: list[LineDecision]) -> None:
    (response,) = read_849(io.BytesIO(write_849("C-9", "DIST-001", made, PARTIES)))
    assert response.lines == [response_line(d) for d in made]


def test_an_849_amount_that_is_no_number_is_an_x12_error() -> None:
    written = (SAMPLES / "849_response.edi").read_bytes().replace(b"AMT*AA*25.00", b"AMT*AA*2X.00")
    with pytest.raises(X12Error, match="849 line is incomplete or unreadable"):
        read_849(io.BytesIO(written))
