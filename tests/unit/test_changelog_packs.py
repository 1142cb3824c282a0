"""Packs carry many state values in one changelog message and give them back in order."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from hypothesis import given
from hypothesis import strategies as st
from rocksdict import Options, Rdict

from streams.worker.changelog_packs import PACK_PREFIX, is_pack, pack_key, packs, unpack
from streams.worker.state import StateTable, Writes

entries = st.lists(
    st.tuples(st.binary(min_size=1, max_size=40), st.one_of(st.none(), st.binary(max_size=300)))
)


@given(entries, st.integers(min_value=1, max_value=2000))
def test_packs_give_back_every_entry_in_order_within_the_limit(
    written: list[tuple[bytes, bytes | None]], limit: int
) -> None:
    encoded = list(packs(written, limit))
    assert [entry for pack in encoded for entry in unpack(pack)] == written
    for pack in encoded:  # only an entry larger than the limit makes a larger pack
        assert len(pack) <= limit or len(list(unpack(pack))) == 1


def test_pack_keys_are_unique_and_no_state_key_looks_like_one() -> None:
    assert pack_key() != pack_key() and is_pack(pack_key())
    assert not is_pack(b"seen|sale|D1|T1") and not is_pack(None)
    assert PACK_PREFIX.startswith(b"\x00")


class Recovering:
    """What `StateTable.apply_changelog_batch` uses of a table: a database per partition,
    faust's store, which keeps the offset each database holds, and the views (whose caches
    follow the records applied)."""

    def __init__(self, root: Path) -> None:
        self.dbs = {p: Rdict(str(root / f"p{p}"), Options(raw_mode=True)) for p in (0, 1)}
        self.offsets: dict[Any, int] = {}
        self.rocks = SimpleNamespace(set_persisted_offset=self.offsets.__setitem__)
        self.followed: list[Writes] = []
        self.views = [SimpleNamespace(follow=self.followed.append)]

    def db(self, partition: int) -> Any:
        return self.dbs[partition]


def record(partition: int, offset: int, key: bytes, value: bytes | None) -> Any:
    tp = ("channelflow-state-changelog", partition)
    message = SimpleNamespace(tp=tp, partition=partition, offset=offset, key=key, value=value)
    return SimpleNamespace(message=message)


def test_recovery_unpacks_packs_and_later_records_win(tmp_path: Path) -> None:
    table = Recovering(tmp_path)
    (first,) = packs([(b"mv|a", b"1"), (b"mv|b", b"2"), (b"seen|x", b"3")])
    (second,) = packs([(b"mv|c", b"4")])
    changelog = [
        record(0, 10, pack_key(), first),
        record(0, 11, b"mv|b", None),  # deleted after it was packed
        record(0, 12, b"inv|D1|A", b"7"),
        record(1, 5, pack_key(), second),
        record(0, 13, b"inv|D1|A", b"8"),
    ]
    StateTable.apply_changelog_batch(cast(StateTable, table), changelog)
    assert dict(table.dbs[0].items()) == {b"mv|a": b"1", b"seen|x": b"3", b"inv|D1|A": b"8"}
    assert dict(table.dbs[1].items()) == {b"mv|c": b"4"}
    assert table.offsets == {
        ("channelflow-state-changelog", 0): 13,
        ("channelflow-state-changelog", 1): 5,
    }
    (followed,) = table.followed  # the records applied, as the views' caches see them
    assert followed[0][b"inv|D1|A"] == b"8" and followed[0][b"mv|b"] is None
    for db in table.dbs.values():
        db.close()


def test_a_delete_in_a_later_pack_removes_what_an_earlier_pack_wrote(tmp_path: Path) -> None:
    """A delete travels in a pack: a plain tombstone would be compacted away while the
    older pack stays, and a restore would bring the value back."""
    table = Recovering(tmp_path)
    (first,) = packs([(b"u|D1|T1", b"1"), (b"u|D1|T2", b"2")])
    (second,) = packs([(b"u|D1|T1", None), (b"v|D1|T1", b"3")])
    StateTable.apply_changelog_batch(cast(StateTable, table), [record(0, 1, pack_key(), first)])
    assert table.dbs[0].get(b"u|D1|T1") == b"1"
    StateTable.apply_changelog_batch(cast(StateTable, table), [record(0, 2, pack_key(), second)])
    assert dict(table.dbs[0].items()) == {b"u|D1|T2": b"2", b"v|D1|T1": b"3"}
    for db in table.dbs.values():
        db.close()
