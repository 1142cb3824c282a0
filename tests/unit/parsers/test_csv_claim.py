"""The CSV claim template: good claims, bad lines refusing their claim, header, round trip."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from streams.ingest.parsers.csv_claim import (
    COLUMNS,
    ParsedClaims,
    parse_claims_csv,
    write_claims_csv,
)
from streams.ingest.parsers.csv_report import CsvFormatError, CsvHeaderError
from streams.ingest.parsers.edi844 import parse_844
from tests.unit.parsers.conftest import RECEIVED_AT, SAMPLES


def sample(name: str, distributor_id: str | None = "DIST-001") -> ParsedClaims:
    with (SAMPLES / name).open("rb") as stream:
        return parse_claims_csv(stream, received_at=RECEIVED_AT, distributor_id=distributor_id)


def parse(text: str, distributor_id: str | None = "DIST-001") -> ParsedClaims:
    data = io.BytesIO(text.encode())
    return parse_claims_csv(data, received_at=RECEIVED_AT, distributor_id=distributor_id)


def test_the_good_sample_is_the_844_sample_and_one_more_claim() -> None:
    parsed = sample("claims_good.csv")
    assert not parsed.line_errors and not parsed.refused
    assert [(c.claim_id, len(c.lines)) for c in parsed.claims] == [
        ("DB-2026-0420", 3),
        ("DB-2026-0427", 1),
    ]
    with (SAMPLES / "844_claim.edi").open("rb") as stream:
        edi = parse_844(stream, received_at=RECEIVED_AT, distributor_id="DIST-001").claim
    assert edi is not None and parsed.claims[0].lines == edi.lines
    assert parsed.claims[0].source == "csv" and parsed.claims[0].recorded_at == RECEIVED_AT


def test_bad_lines_refuse_their_claims_and_only_theirs() -> None:
    parsed = sample("claims_bad_lines.csv")
    assert [c.claim_id for c in parsed.claims] == ["DB-2026-0434"]
    assert parsed.refused == ["DB-2026-0430", "DB-2026-0431", "DB-2026-0432", "DB-2026-0433"]
    assert [(e.line, e.field, e.reason) for e in parsed.line_errors] == [
        (3, "quantity", "bad_quantity"),
        (4, "amount_claimed", "bad_amount"),
        (5, "distributor_id", "distributor_mismatch"),
        (6, "cost_paid", "bad_price"),
    ]
    assert parsed.line_errors[3].original_line.count('"1,140.00"') == 1


def test_a_spreadsheets_unnamed_trailing_columns_are_no_columns() -> None:
    """As in a sell-through report: `...,currency,,` and lines ending `,,` are read as
    without them."""
    text = (SAMPLES / "claims_good.csv").read_text()
    excel = "".join(line + ",,\r\n" for line in text.splitlines())
    assert parse(excel).claims == sample("claims_good.csv").claims
    assert not parse(excel).line_errors


def test_a_repeated_line_number_is_a_line_error() -> None:
    parsed = sample("claims_good.csv")
    text = write_claims_csv(parsed.claims[:1])
    repeated = text + text.splitlines()[1] + "\n"
    again = parse(repeated)
    assert [(e.line, e.reason) for e in again.line_errors] == [(5, "duplicate_line")]
    assert again.claims == [] and again.refused == ["DB-2026-0420"]


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        ({"claim_id": "C|1"}, "invalid_field"),
        ({"line_no": "0"}, "bad_line_number"),
        ({"quantity": "1.5"}, "bad_quantity"),
        ({"currency": "US"}, "bad_currency"),
        ({"currency": "abc"}, "bad_currency"),  # three letters, no ISO 4217 code
        ({"transaction_id": ""}, "missing_field"),
        ({"cost_paid": "-1"}, "bad_price"),
    ],
)
def test_field_errors(cells: dict[str, str], reason: str) -> None:
    row = dict(
        zip(
            COLUMNS,
            ["C-1", "DIST-001", "1", "T1", "X", "1", "A1", "10.00", "7.00", "3.00", "USD"],
            strict=True,
        )
    )
    row.update(cells)
    parsed = parse(",".join(COLUMNS) + "\n" + ",".join(row.values()) + "\n")
    assert [e.reason for e in parsed.line_errors] == [reason] and parsed.claims == []


def test_header_and_format_errors() -> None:
    with pytest.raises(CsvHeaderError, match="missing"):
        parse("claim_id,distributor_id\nC-1,DIST-001\n")
    with pytest.raises(CsvHeaderError, match="empty"):
        parse("")
    with pytest.raises(CsvFormatError, match="not UTF-8"):
        parse_claims_csv(io.BytesIO(b"\xff\xfe"), received_at=RECEIVED_AT)
    short = parse(",".join(COLUMNS) + "\nC-1,DIST-001\n")
    assert [e.reason for e in short.line_errors] == ["wrong_column_count"]
    with pytest.raises(CsvFormatError, match="line 3: not a CSV line: field larger than"):
        parse(",".join(COLUMNS) + "\nC-1,DIST-001\n" + "A" * 200_000 + "\n")  # was a 500


def test_written_claims_read_back_the_same() -> None:
    claims = sample("claims_good.csv").claims
    again = parse(write_claims_csv(claims))
    assert again.claims == claims
    assert again.claims[0].lines[2].amount_claimed == Decimal("107.50")
