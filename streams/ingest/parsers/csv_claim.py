"""The CSV claim template → `DebitClaimSubmitted`, one claim per claim_id, pure.

Columns (docs/CLAIMS.md): claim_id, distributor_id, line_no, transaction_id, sku,
quantity, authorization_id, cost_paid, authorized_cost, amount_claimed, currency; a
header line first, UTF-8 (a BOM is allowed). A file may carry several claims; a claim's
lines need not be adjacent. Each bad line gets a `CsvLineError` (line number, column,
reason); a claim with any bad line yields no event (nothing of it is half-applied), and
its lines read fine are withheld with it (`Withheld`). The event id is a uuid5 over the
claim's lines: the same file again is a redelivery.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Final

from pydantic import TypeAdapter, ValidationError

from domain.timeutil import utc
from schemas.claims import ClaimLine, DebitClaimSubmitted
from schemas.types import Id
from streams.ingest.parsers.common import event_uuid, validation_summary
from streams.ingest.parsers.csv_fields import (
    FieldInvalid,
    currency_field,
    price_field,
    quantity_field,
    required_text,
)
from streams.ingest.parsers.csv_report import CsvFormatError, CsvHeaderError, CsvLineError
from streams.ingest.parsers.csv_source import has_content
from streams.ingest.parsers.csv_template import header_names, within

COLUMNS: Final = (
    "claim_id",
    "distributor_id",
    "line_no",
    "transaction_id",
    "sku",
    "quantity",
    "authorization_id",
    "cost_paid",
    "authorized_cost",
    "amount_claimed",
    "currency",
)
SOURCE: Final = "csv"
_ID: Final = TypeAdapter(Id)


@dataclass(frozen=True, slots=True)
class Withheld:
    """A line read fine whose claim is refused for another of its lines."""

    line: int
    distributor_id: str
    claim_id: str
    original_line: str


@dataclass(slots=True)
class ParsedClaims:
    """The claims a file holds, and every line that was wrong (with its claim refused)."""

    claims: list[DebitClaimSubmitted] = field(default_factory=list)
    line_errors: list[CsvLineError] = field(default_factory=list)
    #: claim ids refused because a line of theirs is wrong
    refused: list[str] = field(default_factory=list)
    #: the refused claims' lines that were not wrong themselves, by line number
    withheld: list[Withheld] = field(default_factory=list)
    #: each claim's first line in the file, by (distributor_id, claim_id)
    first_line: dict[tuple[str, str], int] = field(default_factory=dict)
    #: the (distributor_id, claim_id) each line names, as sent, by line number
    claim_of: dict[int, tuple[str, str]] = field(default_factory=dict)


def parse_claims_csv(
    stream: IO[bytes], *, received_at: datetime, distributor_id: str | None = None
) -> ParsedClaims:
    """Every claim of the CSV in `stream`; `distributor_id` (the uploader) must be each
    line's distributor. A header other than the template's raises `CsvHeaderError`."""
    received = utc(received_at, "received_at")
    try:
        text = stream.read().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CsvFormatError(1, f"not UTF-8 ({error.reason} at byte {error.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = list(reader)
    except csv.Error as error:  # a field past csv's limit (128 KiB), a NUL ...
        raise CsvFormatError(reader.line_num, f"not a CSV line: {error}") from None
    if not rows:
        raise CsvHeaderError(f"the file is empty: the first line names the columns {COLUMNS}")
    header = _header(rows[0])
    result = ParsedClaims()
    by_claim: dict[tuple[str, str], list[tuple[int, ClaimLine, str]]] = {}
    bad: set[tuple[str, str]] = set()
    for number, row in enumerate(rows[1:], 2):
        if not has_content(row):
            continue
        row = within(row, len(header))
        values = dict(zip(header, (cell.strip() for cell in row), strict=False))
        key = (values.get("distributor_id", ""), values.get("claim_id", ""))
        result.first_line.setdefault(key, number)
        result.claim_of[number] = key
        outcome = _line(number, row, values, header, distributor_id)
        if isinstance(outcome, CsvLineError):
            result.line_errors.append(outcome)
            bad.add(key)
            continue
        taken = {line.line_no: at for at, line, _ in by_claim.get(key, [])}
        if outcome.line_no in taken:
            message = (
                f"line_no {outcome.line_no} of claim {key[1]!r} is on line {taken[outcome.line_no]}"
            )
            duplicate = CsvLineError(number, "line_no", "duplicate_line", message, _text(row))
            result.line_errors.append(duplicate)
            bad.add(key)
            continue
        by_claim.setdefault(key, []).append((number, outcome, _text(row)))
    for (distributor, claim_id), lines in by_claim.items():
        if (distributor, claim_id) in bad:
            for number, _, text in lines:
                result.withheld.append(Withheld(number, distributor, claim_id, text))
        else:
            claim_lines = [line for _, line, _ in lines]
            result.claims.append(_claim(distributor, claim_id, claim_lines, received))
    result.withheld.sort(key=lambda line: line.line)
    result.refused = sorted({claim_id for _, claim_id in bad})
    return result


def _header(row: list[str]) -> list[str]:
    names = header_names(row)
    missing = [name for name in COLUMNS if name not in names]
    unknown = [name for name in names if name not in COLUMNS]
    if missing or unknown or len(set(names)) != len(names):
        raise CsvHeaderError(
            f"CSV header does not match the claim template (missing: {missing}, unknown: "
            f"{unknown}); columns are {', '.join(COLUMNS)}",
            unknown=unknown,
            missing=missing,
        )
    return names


def _line(
    number: int, row: list[str], values: dict[str, str], header: list[str], uploader: str | None
) -> ClaimLine | CsvLineError:
    if len(row) != len(header):
        message = f"{len(row)} values for {len(header)} columns"
        return CsvLineError(number, None, "wrong_column_count", message, _text(row))
    try:
        distributor = _id(values["distributor_id"], "distributor_id")
        if uploader is not None and distributor != uploader:
            message = f"distributor_id {distributor!r} is not the uploader's ({uploader!r})"
            raise FieldInvalid("distributor_id", "distributor_mismatch", message)
        _id(values["claim_id"], "claim_id")
        fields = _fields(values)
    except FieldInvalid as invalid:
        return CsvLineError(number, invalid.field, invalid.reason, invalid.message, _text(row))
    try:
        return ClaimLine.model_validate(fields)
    except ValidationError as error:
        name, message = validation_summary(error)
        return CsvLineError(number, name, "invalid_field", message, _text(row))


def _id(value: str, name: str) -> str:
    try:
        return _ID.validate_python(required_text(value, name))
    except ValidationError as error:
        raise FieldInvalid(
            name, "invalid_field", f"{name}: {validation_summary(error)[1]}"
        ) from None


def _fields(values: dict[str, str]) -> dict[str, object]:
    line_no = quantity_field(values["line_no"], "line_no")
    if line_no <= 0:
        raise FieldInvalid("line_no", "bad_line_number", f"line_no {line_no} is not above zero")
    quantity = quantity_field(values["quantity"], "quantity")
    if quantity <= 0:
        raise FieldInvalid("quantity", "bad_quantity", f"quantity {quantity} is not above zero")
    amount = price_field(values["amount_claimed"], "amount_claimed")
    if amount <= 0:
        raise FieldInvalid("amount_claimed", "bad_amount", "amount_claimed is not above zero")
    return {
        "line_no": line_no,
        "transaction_id": required_text(values["transaction_id"], "transaction_id"),
        "sku": required_text(values["sku"], "sku"),
        "quantity": quantity,
        "authorization_id": required_text(values["authorization_id"], "authorization_id"),
        "cost_paid": price_field(values["cost_paid"], "cost_paid"),
        "authorized_cost": price_field(values["authorized_cost"], "authorized_cost"),
        "amount_claimed": amount,
        "currency": currency_field(values["currency"], "currency"),
    }


def _claim(
    distributor: str, claim_id: str, lines: list[ClaimLine], received: datetime
) -> DebitClaimSubmitted:
    digest = hashlib.sha256()
    for line in sorted(lines, key=lambda line: line.line_no):
        digest.update(line.model_dump_json().encode())
    return DebitClaimSubmitted(
        event_id=event_uuid("csv-claim", distributor, claim_id, digest.hexdigest()),
        occurred_at=received,
        recorded_at=received,
        source=SOURCE,
        claim_id=claim_id,
        distributor_id=distributor,
        lines=lines,
        submitted_at=received,
    )


def write_claims_csv(claims: Sequence[DebitClaimSubmitted]) -> str:
    """The claims in the template (a header, then one row per line)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(_rows(claims))
    return out.getvalue()


def _rows(claims: Iterable[DebitClaimSubmitted]) -> Iterable[list[str]]:
    for claim in claims:
        for line in sorted(claim.lines, key=lambda line: line.line_no):
            values = {**line.model_dump(mode="json"), "claim_id": claim.claim_id}
            values["distributor_id"] = claim.distributor_id
            yield [str(values[name]) for name in COLUMNS]


def _text(row: list[str]) -> str:
    """The record as a CSV line (quoted where it needs to be)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(row)
    return out.getvalue()
