"""Packs: many state values in one changelog message.

Most of what a sale line writes is keyed by the line or by its day and written once, or a
few times within a day, then read by key or range (its dedup key, its movement, its
recorded movement, its report line, its violation or unpriced row, its day totals, rebate
and reseller day buckets). One changelog message per such value would cost the worker a
Kafka message per value, and every standby replica of the partition (which applies the
changelog message by message) as much again; a pack carries all of a batch's such values
of one partition (in chunks of at most `PACK_BYTES`) under a key of its own that nothing
else uses, so compaction never drops it. Deletes of those keys travel in packs too: a
tombstone outside them would be compacted away while the pack holding the older value
stays, and a restore would bring the value back. Values overwritten again and again
(inventory per SKU, counts, clocks, checkpoints) keep a message per key, so compaction
bounds them.

Restoring a database from the changelog unpacks each pack into its keys, in changelog
order: a later message for one of its keys (a pack or a single) wins, as it did live.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Iterable, Iterator

#: the changelog key of every pack starts so; no state key does (they start with a letter)
PACK_PREFIX = b"\x00pack|"
#: a pack's size limit, well under the broker's default 1 MiB message limit
PACK_BYTES = 512 * 1024

_SIZES = struct.Struct("!II")
#: the value size that marks a delete (no value follows)
_DELETED = 0xFFFFFFFF


def pack_key() -> bytes:
    return PACK_PREFIX + uuid.uuid4().hex.encode()


def is_pack(key: bytes | None) -> bool:
    return key is not None and key.startswith(PACK_PREFIX)


def packs(
    entries: Iterable[tuple[bytes, bytes | None]], limit: int = PACK_BYTES
) -> Iterator[bytes]:
    """The (key, value) entries (None: a delete) encoded as packs of at most `limit` bytes
    each (an entry larger than `limit` alone gets a pack of its own)."""
    parts: list[bytes] = []
    size = 0
    for key, value in entries:
        entry = len(key) + len(value or b"") + _SIZES.size
        if parts and size + entry > limit:
            yield b"".join(parts)
            parts, size = [], 0
        if value is None:
            parts += (_SIZES.pack(len(key), _DELETED), key)
        else:
            parts += (_SIZES.pack(len(key), len(value)), key, value)
        size += entry
    if parts:
        yield b"".join(parts)


def unpack(pack: bytes) -> Iterator[tuple[bytes, bytes | None]]:
    """The (key, value) entries of one pack (None: a delete), in the order they were
    packed."""
    view = memoryview(pack)
    at, end = 0, len(pack)
    while at < end:
        key_size, value_size = _SIZES.unpack_from(view, at)
        at += _SIZES.size
        key = bytes(view[at : at + key_size])
        at += key_size
        if value_size == _DELETED:
            yield key, None
            continue
        yield key, bytes(view[at : at + value_size])
        at += value_size
