"""Personal data on the wire: which fields hold it (a sale line's end customer, an end
customer's master and its aliases by name), whose it is, its sealed wire form and what a
reader is shown (docs/PRIVACY.md).

A personal field travels as a self-describing token, `pii1.<key id>.<nonce + ciphertext>`
(base64url, no padding): the scheme version, the id of the data subject's key and the
AES-GCM output. The cipher itself runs in infra/personal_cipher.py; this module only
says what the token looks like and what it shows once its key is gone: `erased`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Final, TypeVar

from schemas.envelope import Envelope
from schemas.events import PERSONAL_FIELDS as PERSONAL_FIELDS
from schemas.events import PERSONAL_FIELDS_OF, SEALED_FIELDS, SaleReported
from schemas.parties import AliasChange, EndCustomerRegistered

#: what a personal field shows when its key was deleted (or the value was never sealed)
ERASED: Final = "erased"
#: the token's scheme: AES-256-GCM, a 96-bit nonce, the field name bound as associated data
SCHEME: Final = "pii1"
NONCE_BYTES: Final = 12
E = TypeVar("E", bound=Envelope)

#: the distributor of a subject that spans distributors: an end customer's master
CHANNEL: Final = "*"
#: the personal fields that an event of the type cannot go without: read `erased` when a door
#: with no key store cannot seal them
_REQUIRED: Final = {"legal_name", "name"}
_TOKEN: Final = re.compile(rf"^{SCHEME}\.([0-9a-f]{{32}})\.([A-Za-z0-9_-]+)$")


@dataclass(frozen=True, slots=True)
class Sealed:
    """A sealed personal value: the key it needs and the nonce + ciphertext."""

    key_id: str
    payload: bytes

    def text(self) -> str:
        """The wire form."""
        body = base64.urlsafe_b64encode(self.payload).rstrip(b"=").decode("ascii")
        return f"{SCHEME}.{self.key_id}.{body}"


def parse_sealed(value: str) -> Sealed | None:
    """The token in `value`, or None when it is not one (clear text, another scheme)."""
    found = _TOKEN.match(value)
    if found is None:
        return None
    body = found.group(2)
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(payload) <= NONCE_BYTES:
        return None
    return Sealed(found.group(1), payload)


def associated_data(key_id: str, field: str) -> bytes:
    """What the cipher authenticates beside the text: a token moved to another field or
    pasted under another key id does not open."""
    return f"{SCHEME}|{key_id}|{field}".encode()


@dataclass(frozen=True, slots=True)
class Subject:
    """A data subject: an end customer of one distributor, by its id, or by a digest of
    its name when the line has no id (the name itself is never a key); or an end
    customer's master, which spans distributors: its registration under `CHANNEL`, the
    aliases by name that distributor D maps to it (or unmaps) under D, one ref for all."""

    distributor_id: str
    ref: str


def id_ref(end_customer: str) -> str:
    """The subject of an end-customer id."""
    return f"id:{end_customer}"


def name_ref(name: str) -> str:
    """The subject of a name: the same however it was spaced or cased."""
    normal = " ".join(name.casefold().split())
    return f"name:{hashlib.sha256(normal.encode()).hexdigest()}"


def master_ref(master_id: str) -> str:
    """The subject of an end customer's master (its registration and its aliases by name)."""
    return f"master:{master_id}"


def subject_of(distributor_id: str, end_customer: str | None, name: str | None) -> Subject | None:
    """Whose personal data a line carries: by end-customer id, else by name; None: nobody's."""
    if end_customer is not None:
        return Subject(distributor_id, id_ref(end_customer))
    if name:
        return Subject(distributor_id, name_ref(name))
    return None


def shown(value: str | None, clear: dict[str, str]) -> str | None:
    """What a reader sees of a personal field: its clear text when `clear` (token → text, the
    tokens whose keys the reader holds and may use) has it, else `erased`."""
    if value is None:
        return None
    return clear.get(value, ERASED)


def personal_fields(event: Envelope) -> tuple[str, ...]:
    """The fields of `event` that hold personal data (none for most events)."""
    return PERSONAL_FIELDS_OF.get(event.event_type, ())


def clear_values(event: Envelope) -> dict[str, str]:
    """The event's personal fields that are clear text (not yet sealed), by name."""
    found = {}
    for name in personal_fields(event):
        value = getattr(event, name)
        if value is not None and value != ERASED and parse_sealed(value) is None:
            found[name] = value
    return found


def subject_of_event(event: Envelope) -> Subject | None:
    """Whose the event's clear personal values are (None: it has none)."""
    clear = clear_values(event)
    if not clear:
        return None
    if isinstance(event, SaleReported):
        named = clear.get("end_customer_name") or clear.get("end_customer_contact")
        return subject_of(event.distributor_id, event.end_customer, named)
    if isinstance(event, EndCustomerRegistered):
        return Subject(CHANNEL, master_ref(event.master_id))
    assert isinstance(event, AliasChange)
    return Subject(event.distributor_id, master_ref(event.master_id))


def without_clear(event: E) -> E:
    """The event without its clear personal fields (a door with no key store keeps none):
    an optional one dropped, one it cannot go without (a name) reading `erased`."""
    clear = clear_values(event)
    if not clear:
        return event
    return event.model_copy(update={k: ERASED if k in _REQUIRED else None for k in clear})


_FIELD_TOKEN: Final = re.compile(
    rf'"({"|".join(SEALED_FIELDS)})"\s*:\s*"({SCHEME}\.[0-9a-f]{{32}}\.[A-Za-z0-9_-]+)"'
)


def tokens_in(text: str) -> list[tuple[str, str]]:
    """The (field, token) pairs of the personal fields in a JSON text (a dead letter's
    original event or bundle), in order."""
    return [(found.group(1), found.group(2)) for found in _FIELD_TOKEN.finditer(text)]
