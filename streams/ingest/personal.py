"""Personal fields at the ingest doors (docs/PRIVACY.md): a sale line's clear end-customer
name and contact, an end customer's master's name and address and its alias's name, are
sealed with the subject's key before the event is spooled, answered or published, or dropped
when there is no key store. A line that carried them is never
dead-lettered as the bytes sent (they hold the clear text): as its sealed event instead.
And what a dead letter's sealed fields show whoever reads it."""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import replace
from typing import Any, Final, TypeGuard

import psycopg

from domain.personal_data import E, clear_values, shown, tokens_in, without_clear
from infra.personal_cipher import KeyStore, Sealer, ThrowawayKeys, clear_texts
from infra.subject_keys import SubjectKeys
from projections.party_aliases import with_name_key
from streams.config import Settings
from streams.ingest.formats.upload import Item, Parsed

log: Final = logging.getLogger(__name__)


class DoorProtection:
    """What one upload does with clear personal fields: seal them (with a key store), or
    drop them. Key lookups run in a thread, once per subject and upload."""

    def __init__(self, keys: KeyStore | None) -> None:
        self._sealer = None if keys is None else Sealer(keys)

    @staticmethod
    def needed(item: Item) -> TypeGuard[Parsed]:
        """Whether the item is an event with clear personal fields."""
        return (
            isinstance(item, Parsed) and item.event is not None and bool(clear_values(item.event))
        )

    def sealed(self, event: E) -> E:
        """The event with its clear personal fields sealed (or stripped), an alias by name
        keyed by its name first; may call the key table (blocking)."""
        keyed = with_name_key(event)
        return without_clear(keyed) if self._sealer is None else self._sealer.seal(keyed)

    @property
    def seals(self) -> bool:
        """Whether fields are sealed with a key store (else dropped, with no lookup)."""
        return self._sealer is not None

    def protected(self, item: Parsed) -> Parsed:
        """The item with its event sealed (or stripped), and no original bytes; may call
        the key table (blocking)."""
        assert item.event is not None
        return replace(item, event=self.sealed(item.event), original=None)

    async def protect(self, item: Parsed) -> Parsed:
        """`protected`, a key table lookup in a thread."""
        event = item.event
        assert event is not None
        if self._sealer is None or self._sealer.holds_key(event):
            return self.protected(item)
        return await asyncio.to_thread(self.protected, item)


def door_protection(settings: Settings, test: bool = False) -> DoorProtection:
    """The protection of an upload under `settings`: one key-table connection per process;
    a `test` upload's (nothing of it is posted) with keys of its own, never stored."""
    dsn = settings.subject_keys_dsn()
    if dsn is None:
        return DoorProtection(None)
    return DoorProtection(ThrowawayKeys() if test else _keys(dsn))


@functools.cache
def _keys(dsn: str) -> SubjectKeys:
    return SubjectKeys(dsn)


def reveal_letters(
    settings: Settings, documents: list[dict[str, Any]], distributor_id: str | None
) -> None:
    """Add to each dead letter's answer what its sealed personal fields show the caller
    (`personal`: token → clear text, or `erased`): a distributor its own subjects', the
    vendor's roles everyone's. Blocking: call it in a thread."""
    found = [tokens_in(document.get("original") or "") for document in documents]
    dsn = settings.subject_keys_dsn()
    values = [pair for pairs in found for pair in pairs]
    clear: dict[str, str] = {}
    if dsn and values:
        try:
            clear = clear_texts(_keys(dsn), values, distributor_id)
        except psycopg.OperationalError as exc:  # the letters still answer, names unopened
            log.warning("subject keys unreachable, personal fields shown erased: %s", exc)
    for document, pairs in zip(documents, found, strict=True):
        document["personal"] = {token: shown(token, clear) for _, token in pairs}
