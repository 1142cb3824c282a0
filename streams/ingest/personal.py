"""Personal fields at the ingest doors (docs/PRIVACY.md): a sale line's clear end-customer
name and contact are sealed with the subject's key before the line is spooled, answered or
published, or dropped when there is no key store. A line that carried them is never
dead-lettered as the bytes sent (they hold the clear text): as its sealed event instead.
And what a dead letter's sealed fields show whoever reads it."""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import replace
from typing import Any, Final, TypeGuard

import psycopg

from domain.personal_data import clear_values, shown, tokens_in, without_clear
from infra.personal_cipher import KeyStore, Sealer, clear_texts
from infra.subject_keys import SubjectKeys
from schemas.events import SaleReported
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
        """Whether the item is a sale line with clear personal fields."""
        return (
            isinstance(item, Parsed)
            and isinstance(item.event, SaleReported)
            and bool(clear_values(item.event))
        )

    def sealed(self, sale: SaleReported) -> SaleReported:
        """The line with its clear personal fields sealed (or stripped); may call the key
        table (blocking)."""
        return without_clear(sale) if self._sealer is None else self._sealer.seal_sale(sale)

    async def protect(self, item: Parsed) -> Parsed:
        """The item with its sale line sealed (or stripped), and no original bytes."""
        sale = item.event
        assert isinstance(sale, SaleReported)
        if self._sealer is None or self._sealer.holds_key(sale):
            sealed = self.sealed(sale)
        else:
            sealed = await asyncio.to_thread(self.sealed, sale)
        return replace(item, event=sealed, original=None)


def door_protection(settings: Settings) -> DoorProtection:
    """The protection of an upload under `settings`: one key-table connection per process."""
    dsn = settings.subject_keys_dsn()
    return DoorProtection(None if dsn is None else _keys(dsn))


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
