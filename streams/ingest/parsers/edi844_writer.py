"""Writing a claim as an X12 844, the segments `edi844` reads (for distributors' tools,
samples and the claim generator): the round trip gives the same claim lines."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from domain.timeutil import utc
from schemas.claims import DebitClaimSubmitted
from streams.ingest.parsers.edi844_codes import (
    AMOUNT_CLAIMED,
    CONTRACT_PRICE,
    DISTRIBUTOR_ENTITY,
    PURPOSE_ORIGINAL,
    TRANSACTION_QUALIFIER,
)
from streams.ingest.parsers.x12_writer import Parties, X12WriteError, interchange, segment


def write_844(claims: Sequence[DebitClaimSubmitted], parties: Parties) -> bytes:
    """One interchange holding each claim as an 844 transaction set."""
    return interchange(parties, [("844", _claim_segments(claim)) for claim in claims])


def _claim_segments(claim: DebitClaimSubmitted) -> list[str]:
    lines = sorted(claim.lines, key=lambda line: line.line_no)
    currencies = {line.currency for line in lines}
    if len(currencies) != 1:
        raise X12WriteError(f"claim {claim.claim_id!r} mixes currencies: an 844 has one CUR")
    body = [
        segment(
            "BAA", PURPOSE_ORIGINAL, claim.claim_id, utc(claim.submitted_at).strftime("%Y%m%d")
        ),
        segment("CUR", "SE", currencies.pop()),
        segment("N1", DISTRIBUTOR_ENTITY, "", "91", claim.distributor_id),
    ]
    authorization = None
    for line in lines:
        if line.authorization_id != authorization:
            authorization = line.authorization_id
            body.append(segment("CON", "CT", authorization))
        body += [
            segment("LIN", line.line_no, "VP", line.sku),
            segment("REF", TRANSACTION_QUALIFIER, line.transaction_id),
            segment("QTY", "39", line.quantity, "EA"),
            segment("UIT", "EA", line.cost_paid),
            segment("CTP", "", CONTRACT_PRICE, line.authorized_cost),
            segment("AMT", AMOUNT_CLAIMED, line.amount_claimed),
        ]
    body.append(segment("CTT", len(lines), sum(line.quantity for line in lines)))
    total = sum((line.amount_claimed for line in lines), Decimal(0))
    body.append(segment("AMT", AMOUNT_CLAIMED, total))
    return body
