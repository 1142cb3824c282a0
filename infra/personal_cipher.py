"""Sealing personal fields at the door and opening them for a reader (docs/PRIVACY.md).

AES-256-GCM from the `cryptography` library: a fresh 96-bit nonce per value, the token's
scheme, key id and field name as associated data. The token format and what an erased
field shows are pure (domain/personal_data.py); this module holds the cipher calls.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.personal_data import (
    NONCE_BYTES,
    E,
    Sealed,
    Subject,
    associated_data,
    clear_values,
    parse_sealed,
    subject_of_event,
)
from infra.subject_keys import KEY_BYTES
from schemas.envelope import Envelope


class KeyStore(Protocol):
    """What sealing and opening need of the key table (infra/subject_keys.py)."""

    def key_for(self, subject: Subject) -> tuple[str, bytes]: ...

    def keys(self, key_ids: Iterable[str]) -> dict[str, tuple[str, bytes]]: ...


def seal(key_id: str, key: bytes, field: str, text: str) -> str:
    """The token of `text` in `field` under the key."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, text.encode(), associated_data(key_id, field))
    return Sealed(key_id, nonce + sealed).text()


def open_token(token: Sealed, key: bytes, field: str) -> str | None:
    """The clear text, or None when the token does not open with this key and field."""
    nonce, sealed = token.payload[:NONCE_BYTES], token.payload[NONCE_BYTES:]
    try:
        return AESGCM(key).decrypt(nonce, sealed, associated_data(token.key_id, field)).decode()
    except (InvalidTag, UnicodeDecodeError):
        return None


class ThrowawayKeys:
    """A key per data subject made for one upload and never stored: a test interchange's
    personal fields are sealed as its production copy's would be (the same checks, the
    same answer), and nothing of its subjects is left in the key table. What it seals can
    never be opened, which is all a test needs."""

    def __init__(self) -> None:
        self._made: dict[Subject, tuple[str, bytes]] = {}

    def key_for(self, subject: Subject) -> tuple[str, bytes]:
        if subject not in self._made:
            self._made[subject] = (uuid.uuid4().hex, os.urandom(KEY_BYTES))
        return self._made[subject]

    def keys(self, key_ids: Iterable[str]) -> dict[str, tuple[str, bytes]]:
        return {}


class Sealer:
    """Seals the personal fields of the events of one upload (keys held for its length)."""

    def __init__(self, keys: KeyStore) -> None:
        self._keys = keys
        self._held: dict[Subject, tuple[str, bytes]] = {}

    def holds_key(self, event: Envelope) -> bool:
        """Whether sealing the event needs no call to the key table."""
        subject = subject_of_event(event)
        return subject is None or subject in self._held

    def seal(self, event: E) -> E:
        """The event with every clear personal field sealed (tokens are left as they are)."""
        subject = subject_of_event(event)
        if subject is None:
            return event
        if subject not in self._held:
            self._held[subject] = self._keys.key_for(subject)
        key_id, key = self._held[subject]
        clear = clear_values(event)
        return event.model_copy(
            update={name: seal(key_id, key, name, text) for name, text in clear.items()}
        )


def clear_texts(
    keys: KeyStore, values: Iterable[tuple[str, str]], distributor_id: str | None = None
) -> dict[str, str]:
    """token → clear text of the (field, token) pairs whose key still exists (and, with
    `distributor_id`, belongs to that distributor: what a distributor may see)."""
    tokens = [(f, value, found) for f, value in values if (found := parse_sealed(value))]
    held = keys.keys(token.key_id for _, _, token in tokens)
    clear: dict[str, str] = {}
    for field, value, token in tokens:
        owner, key = held.get(token.key_id, (None, b""))
        if owner is None or distributor_id not in (None, owner):
            continue
        text = open_token(token, key, field)
        if text is not None:
            clear[value] = text
    return clear
