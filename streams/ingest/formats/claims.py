"""Debit claims as upload lines: a CSV claim file or an X12 844 interchange.

A claim is one event (`DebitClaimSubmitted`), answered on the line where it starts. A claim
with any problem is refused whole: each problem is a rejected line of its own (line or
segment, field, reason, the line as sent) and each of its lines that was read fine is
rejected `claim_refused`, so every line of it reaches the dead letters with its bytes and
nothing of it is published. The file's other claims stand.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from streams.ingest.formats.upload import Item, Parsed, Stored, Upload
from streams.ingest.parsers.csv_claim import parse_claims_csv
from streams.ingest.parsers.edi844 import ParsedClaim, parse_844_all
from streams.ingest.parsers.x12 import x12_source_ref

#: the reason of a line read fine whose claim is refused for another problem
CLAIM_REFUSED: Final = "claim_refused"
_REFUSED_NOTE: Final = "; its claim is refused whole (nothing of it is published)"


def read_claim_csv(upload: Upload, file: Stored) -> Iterator[Item]:
    """The claims of a CSV claim file (docs/CLAIMS.md), in the order of their lines."""
    with file.open() as stream:
        parsed = parse_claims_csv(
            stream, received_at=upload.received_at, distributor_id=upload.uploader
        )
    items: list[Parsed] = []
    for error in parsed.line_errors:
        distributor, claim_id = parsed.claim_of.get(error.line, ("", ""))
        items.append(
            Parsed(
                error.line,
                f"{upload.name}:{error.line}",
                None,
                error.reason,
                error.field,
                f"claim {claim_id!r}: {error.message}{_REFUSED_NOTE}",
                error.original_line.encode(),
                # the uploader's; an admin's upload: whose the line says it is
                distributor_id=upload.uploader or distributor or None,
            )
        )
    for line in parsed.withheld:
        detail = f"claim {line.claim_id!r} is refused for its other lines: send it again whole"
        items.append(
            Parsed(
                line.line,
                f"{upload.name}:{line.line}",
                None,
                CLAIM_REFUSED,
                None,
                detail,
                line.original_line.encode(),
                distributor_id=line.distributor_id,
            )
        )
    for claim in parsed.claims:
        first = parsed.first_line[(claim.distributor_id, claim.claim_id)]
        ref = f"{upload.name}:{first}"
        event = claim.model_copy(update={"source_ref": ref})
        items.append(Parsed(first, ref, event))
    yield from sorted(items, key=lambda item: item.line)


def read_844(upload: Upload, file: Stored) -> Iterator[Item]:
    """The claims of an X12 844 interchange, each answered at its segments."""
    with file.open() as stream:
        claims = parse_844_all(
            stream,
            received_at=upload.received_at,
            distributor_id=upload.uploader,
            source_name=upload.name,
        )
    for claim in claims:
        yield from _844_claim(upload, claim)


def _844_claim(upload: Upload, claim: ParsedClaim) -> Iterator[Parsed]:
    def ref(segment: int) -> str:
        return x12_source_ref(upload.name, f"844 {claim.claim_id}".rstrip(), segment)

    if claim.claim is not None:
        yield Parsed(claim.segment, claim.claim.source_ref or ref(claim.segment), claim.claim)
        return
    items: list[Parsed] = []
    for error in (*claim.claim_errors, *claim.line_errors):
        items.append(
            Parsed(
                error.segment_index,
                ref(error.segment_index),
                None,
                error.reason,
                error.element,
                error.message + _REFUSED_NOTE,
                error.original_segment_text.encode(),
                distributor_id=claim.distributor_id,
                segment=error.segment_index,
                missing=error.missing,
                also=error.also,
            )
        )
    for segment, text in claim.withheld:
        detail = f"claim {claim.claim_id!r} is refused for its other problems: send it again whole"
        items.append(
            Parsed(
                segment,
                ref(segment),
                None,
                CLAIM_REFUSED,
                None,
                detail,
                text.encode(),
                distributor_id=claim.distributor_id,
            )
        )
    yield from sorted(items, key=lambda item: item.line)
