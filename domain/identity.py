"""Business keys, content fingerprints and deterministic ids.

These make every store idempotent: the same business fact always maps to the same key,
and the same content always has the same fingerprint, whatever envelope it arrived in.
"""

from __future__ import annotations

import hashlib
import uuid
from decimal import Decimal
from functools import lru_cache
from typing import Final

import orjson

from domain.personal_data import PERSONAL_FIELDS
from schemas.events import Envelope, InventoryCounted, SaleReported, ShipmentRecorded

#: Fixed namespace so ids derived from business keys are stable across machines and releases.
CHANNELFLOW_NAMESPACE: Final = uuid.UUID("6f1c7a52-3b1e-5d8e-9a43-2f0c9c1d7e10")

_ENVELOPE_ONLY: Final = {
    "event_id",
    "recorded_at",
    "source",
    "source_ref",
    "schema_version",
    "occurred_at",
    # personal data is no business content: sealed afresh on every resend (a new nonce),
    # and gone once erased, it must never turn a resend into a conflict
    *PERSONAL_FIELDS,
}


def _canonical(value: object) -> str:
    """Equal amounts hash equally however they were written ("12.5", "12.50", "1.25E1")."""
    if isinstance(value, Decimal):
        return _amount_text(value) if value else format(value.normalize(), "f")
    raise TypeError(f"cannot fingerprint {type(value).__name__}")


@lru_cache(maxsize=4096)
def _amount_text(amount: Decimal) -> str:
    """A non-zero amount's canonical text, kept for the prices a channel's lines repeat:
    equal non-zero amounts (the cache's keys) have one text (zero has two: "0", "-0")."""
    return format(amount.normalize(), "f")


#: the content fields of the movement types, which are all flat (str, int, Decimal, datetime):
#: for them `model_dump` gives the attribute values themselves, so they are read directly
_FLAT_CONTENT: Final[dict[type[Envelope], tuple[str, ...]]] = {
    cls: tuple(sorted(name for name in cls.model_fields if name not in _ENVELOPE_ONLY))
    for cls in (SaleReported, ShipmentRecorded, InventoryCounted)
}


def content_fingerprint(event: Envelope) -> str:
    """Digest of the business content: a resent line with a new envelope has the same one."""
    names = _FLAT_CONTENT.get(type(event))
    if names is None:
        body = event.model_dump(exclude=_ENVELOPE_ONLY, exclude_none=True)
    else:  # the same dict as model_dump(exclude=..., exclude_none=True), built faster,
        # its amounts in the text `_canonical` gives them (the same bytes, no callback)
        fields = event.__dict__  # a model's field values, by name
        body = {}
        for name in names:
            value = fields[name]
            if value is not None:
                body[name] = _canonical(value) if type(value) is Decimal else value
    encoded = orjson.dumps(body, default=_canonical, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(encoded, digest_size=16).hexdigest()


def uuid_text(value: uuid.UUID) -> str:
    """`str(value)`, the hex with hyphens, as orjson writes a UUID (in C: about a third of
    the time of `UUID.__str__`, which is Python; every movement line's event id comes
    this way)."""
    return orjson.dumps(value)[1:-1].decode()


def idempotency_key(event: Envelope) -> str | None:
    """The business key under which a resend is a duplicate, or None if the type has none."""
    if isinstance(event, SaleReported):
        return sale_key(event.distributor_id, event.transaction_id)
    if isinstance(event, ShipmentRecorded):
        return f"shipment|{event.distributor_id}|{event.shipment_id}|{event.sku}"
    if isinstance(event, InventoryCounted):
        return f"count|{event.distributor_id}|{event.sku}|{event.counted_at.isoformat()}"
    return None


def sale_key(distributor_id: str, transaction_id: str) -> str:
    """The idempotency key of a sale line."""
    return f"sale|{distributor_id}|{transaction_id}"


def derived_id(kind: str, *parts: str) -> uuid.UUID:
    """A UUID derived from a business key: recording the same fact twice hits the same id."""
    return uuid.uuid5(CHANNELFLOW_NAMESPACE, "|".join((kind, *parts)))
