"""X12 844 → DebitClaimSubmitted: the sample, every line and claim error, round trips."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.claim_rules import claim_fingerprint
from schemas.claims import ClaimLine, DebitClaimSubmitted
from streams.ingest.parsers.edi844 import ParsedClaim, parse_844, parse_844_all
from streams.ingest.parsers.edi844_codes import REASONS
from streams.ingest.parsers.edi844_writer import write_844
from streams.ingest.parsers.x12 import X12Error
from streams.ingest.parsers.x12_writer import Parties, X12WriteError
from tests.unit.parsers.conftest import RECEIVED_AT, SAMPLES
from tests.unit.parsers.edi_builder import interchange

D = Decimal
HEADER = ["BAA*00*C-1*20260420", "CUR*SE*USD", "N1*DS*ACME*91*DIST-001", "CON*CT*SPA-1"]
LINE = [
    "LIN*1*VP*WIDGET-100",
    "REF*TN*INV1-1",
    "QTY*39*10*EA",
    "UIT*EA*11.40",
    "CTP**CON*8.90",
    "AMT*DB*25.00",
]
PARTIES = Parties("ACMEDIST", "VENDORCO", "CF", 7, datetime(2026, 4, 20, 9, 15, tzinfo=UTC))


def parse(body: list[str], distributor_id: str | None = "DIST-001") -> ParsedClaim:
    data = interchange(body, functional_id="CF", set_id="844")
    return parse_844(io.BytesIO(data), received_at=RECEIVED_AT, distributor_id=distributor_id)


def sample(name: str) -> ParsedClaim:
    with (SAMPLES / name).open("rb") as stream:
        return parse_844(stream, received_at=RECEIVED_AT, distributor_id="DIST-001")


def reasons(parsed: ParsedClaim) -> list[tuple[int | None, str | None, str]]:
    return [(e.line, e.element, e.reason) for e in (*parsed.claim_errors, *parsed.line_errors)]


def test_the_sample_claim() -> None:
    parsed = sample("844_claim.edi")
    assert parsed.accepted and parsed.line_count == 3 and not reasons(parsed)
    claim = parsed.claim
    assert claim is not None
    assert (claim.claim_id, claim.distributor_id, claim.source) == (
        "DB-2026-0420",
        "DIST-001",
        "edi844",
    )
    assert claim.recorded_at == claim.submitted_at == RECEIVED_AT
    assert [
        (x.line_no, x.transaction_id, x.sku, x.quantity, x.authorization_id) for x in claim.lines
    ] == [
        (1, "INV1001-1", "WIDGET-100", 10, "SPA-2026-0117"),
        (2, "INV1003-1", "WIDGET-100", 20, "SPA-2026-0117"),
        (3, "INV1002-1", "GADGET-200", 5, "SPA-2026-0142"),
    ]
    third = claim.lines[2]
    assert (third.cost_paid, third.authorized_cost, third.amount_claimed) == (
        D("140.00"),
        D("118.50"),
        D("107.50"),
    )
    assert claim.source_ref == "844 DB-2026-0420 segment 4"


def test_the_same_file_gives_the_same_event_id_and_fingerprint() -> None:
    first = sample("844_claim.edi").claim
    with (SAMPLES / "844_claim.edi").open("rb") as stream:
        later = parse_844(stream, received_at=RECEIVED_AT + timedelta(days=3)).claim
    assert first is not None and later is not None
    assert first.event_id == later.event_id and first.submitted_at != later.submitted_at
    assert claim_fingerprint(first) == claim_fingerprint(later)


def test_line_errors_name_the_segment_and_element_and_refuse_the_claim() -> None:
    parsed = sample("844_line_errors.edi")
    assert parsed.claim is None and parsed.line_count == 7
    assert reasons(parsed) == [
        (1, None, "orphan_line"),
        (2, None, "missing_transaction"),
        (3, "QTY02", "bad_quantity"),
        (4, "AMT02", "bad_amount"),
        (5, "UIT02", "bad_cost"),
        (6, "LIN01", "duplicate_line"),
        (7, "QTY02", "bad_quantity"),
    ]
    by_line = {error.line: error for error in parsed.line_errors}
    assert by_line[4].message == "AMT02 -10.00 is not a positive amount"
    assert by_line[4].segment_index == 30 and "AMT*DB*-10.00~" in by_line[4].original_segment_text
    assert "CTP*CON (authorized cost) is missing" in by_line[7].message
    assert {error.reason for error in parsed.line_errors} <= set(REASONS)


def test_a_line_number_of_non_ascii_digits_is_a_line_error() -> None:
    # "²" passes str.isdigit, but int() refuses it: a line error, not a traceback
    line = ["LIN*\u00b2*VP*WIDGET-100", *LINE[1:]]
    parsed = parse([*HEADER, *line, "CTT*1*10", "AMT*TT*25.00"])
    assert parsed.claim is None
    assert reasons(parsed) == [(1, "LIN01", "bad_line_number")]


def test_a_claim_for_another_distributor() -> None:
    parsed = parse([*HEADER, *LINE], distributor_id="DIST-002")
    assert parsed.claim is None and reasons(parsed) == [(None, "N104", "distributor_mismatch")]
    assert parsed.distributor_id == "DIST-002"


def test_an_admin_upload_takes_the_distributor_from_n1() -> None:
    parsed = parse([*HEADER, *LINE], distributor_id=None)
    assert parsed.claim is not None and parsed.claim.distributor_id == "DIST-001"
    parsed = parse([h for h in HEADER if not h.startswith("N1")] + LINE, distributor_id=None)
    assert reasons(parsed) == [(None, None, "missing_distributor")]
    # an N1*DS without the distributor's id is noted at its N104
    named = ["N1*DS*ACME" if h.startswith("N1") else h for h in HEADER]
    (error,) = parse([*named, *LINE], distributor_id=None).claim_errors
    assert (error.segment_index, error.element, error.reason) == (6, "N104", "missing_distributor")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["BAA*00**20260420"], "missing_claim_number"),
        (["BAA*05*C-1*20260420"], "unsupported_purpose"),
        (["BAA*00*C-1", "CUR*SE*usd"], "bad_currency"),
        (["BAA*00*C-1", "CUR*SE*ABC"], "bad_currency"),  # three capitals, no ISO 4217 code
        (["BAA*00*C|1"], "invalid_field"),
    ],
)
def test_claim_errors(header: list[str], expected: str) -> None:
    parsed = parse([*header, "N1*DS*ACME*91*DIST-001", "CON*CT*SPA-1", *LINE])
    assert parsed.claim is None and [e.reason for e in parsed.claim_errors] == [expected]


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        (["CTT*2*10"], [(None, "CTT01", "ctt_mismatch")]),
        (["CTT*1*11"], [(None, "CTT02", "ctt_mismatch")]),
        (["CTT*1*10", "AMT*DB*25.01"], [(None, "AMT02", "total_mismatch")]),
        (["CTT*1*10", "AMT*DB*25.00"], []),
    ],
)
def test_totals(summary: list[str], expected: list[tuple[None, str, str]]) -> None:
    assert reasons(parse([*HEADER, *LINE, *summary])) == expected


def test_no_lines() -> None:
    assert reasons(parse(HEADER)) == [(None, None, "no_lines")]


def test_not_an_844_and_broken_envelopes() -> None:
    with pytest.raises(X12Error, match="expected an 844 transaction set"):
        parse_844(io.BytesIO(interchange([*HEADER, *LINE], set_id="867")), received_at=RECEIVED_AT)
    whole = interchange([*HEADER, *LINE], set_id="844")
    broken = whole.replace(b"SE*12*", b"SE*13*")
    assert broken != whole
    with pytest.raises(X12Error):
        parse_844(io.BytesIO(broken), received_at=RECEIVED_AT)
    two = interchange([*HEADER, *LINE], [*HEADER, *LINE], set_id="844")
    assert len(parse_844_all(io.BytesIO(two), received_at=RECEIVED_AT)) == 2
    with pytest.raises(X12Error, match="exactly one"):
        parse_844(io.BytesIO(two), received_at=RECEIVED_AT)


ids = st.from_regex(r"[A-Z][A-Z0-9-]{0,11}", fullmatch=True)
money = st.decimals(min_value=D("0.01"), max_value=D("99999"), places=2)


@st.composite
def claims(draw: st.DrawFn) -> DebitClaimSubmitted:
    numbers = draw(st.lists(st.integers(1, 999), min_size=1, max_size=6, unique=True))
    lines = [
        ClaimLine(
            line_no=number,
            transaction_id=draw(ids),
            sku=draw(ids),
            quantity=draw(st.integers(1, 10**6)),
            authorization_id=draw(st.sampled_from(["SPA-1", "SPA-2"])),
            cost_paid=draw(money),
            authorized_cost=draw(money),
            amount_claimed=draw(money),
            currency="EUR",
        )
        for number in numbers
    ]
    return DebitClaimSubmitted(
        event_id=UUID("0b7d6a0e-1c7c-4e6b-9f0a-3d1f2c9a8e11"),
        occurred_at=RECEIVED_AT,
        source="api",
        claim_id=draw(ids),
        distributor_id="DIST-001",
        lines=lines,
        submitted_at=RECEIVED_AT,
    )


@settings(max_examples=60)
@given(st.lists(claims(), min_size=1, max_size=3))
def test_written_844_reads_back_the_same_claims(written: list[DebitClaimSubmitted]) -> None:
    data = write_844(written, PARTIES)
    parsed = parse_844_all(io.BytesIO(data), received_at=RECEIVED_AT, distributor_id="DIST-001")
    assert [reasons(p) for p in parsed] == [[] for _ in written]
    for claim, read in zip(written, parsed, strict=True):
        assert read.claim is not None and read.claim.claim_id == claim.claim_id
        assert read.claim.lines == sorted(claim.lines, key=lambda line: line.line_no)


def test_a_value_holding_a_delimiter_cannot_be_written() -> None:
    claim = parse([*HEADER, *LINE]).claim
    assert claim is not None
    bad = claim.model_copy(update={"claim_id": "C*1"})
    with pytest.raises(X12WriteError, match="X12 cannot carry it"):
        write_844([bad], PARTIES)
