"""The index of aliases by master: kept by the step that maps and unmaps (by hand and by the
matcher), always what a full scan of the aliases gives, and what a page of masters reads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from projections.alias_index import aliases_of, derived_index, index_key, reindexed
from projections.identity_inputs import apply_identity
from projections.keyvalue import DictStore
from projections.party_reads import masters_page
from projections.stores import ChannelStores
from schemas.parties import ResellerAliasMapped, ResellerAliasUnmapped
from tests.unit.party_events import mapped, registered, unmapped
from tests.unit.test_match_queue import EXACT, M1, M2, fed

NAMED: dict[str, Any] = {"name": "Acme Tools", "postal_code": "94105", "country": "US"}


def registered_stores(*masters: str) -> ChannelStores:
    stores = ChannelStores()
    for n, master in enumerate(masters, start=1):
        apply_identity(stores, registered(master, f"Party {master}", n=n), None)
    return stores


def applied(stores: ChannelStores, *events: ResellerAliasMapped | ResellerAliasUnmapped) -> None:
    for event in events:
        apply_identity(stores, event, None)


def index_of(stores: ChannelStores) -> dict[str, str]:
    return dict(stores.master_aliases.scan())


def test_a_mapping_files_the_alias_under_its_master_and_an_unmapping_removes_it() -> None:
    stores = registered_stores("M1", "M2")
    applied(stores, mapped("D1", "R1", "M1"), mapped("D2", "X9", "M1", n=101))
    assert index_of(stores) == {"M1|D1|id|R1": "D1|R1", "M1|D2|id|X9": "D2|X9"}
    applied(stores, unmapped("D1", "R1", "M1"))
    assert index_of(stores) == {"M1|D2|id|X9": "D2|X9"}


def test_a_remap_moves_the_entry_and_a_refused_or_repeated_change_leaves_it() -> None:
    stores = registered_stores("M1", "M2")
    applied(stores, mapped("D1", "R1", "M1"), mapped("D1", "R1", "M2", n=101))  # refused
    applied(stores, mapped("D1", "R1", "M1", n=102))  # already there
    assert index_of(stores) == {"M1|D1|id|R1": "D1|R1"}
    applied(stores, unmapped("D1", "R1", "M1"), mapped("D1", "R1", "M2", n=103))
    assert index_of(stores) == {"M2|D1|id|R1": "D1|R1"}


def test_an_alias_by_name_is_listed_by_its_key_and_a_master_reads_its_own_prefix_only() -> None:
    stores = registered_stores("M1", "M10")
    applied(stores, mapped("D1", None, "M1", **NAMED), mapped("D1", "R7", "M10", n=101))
    [key] = (key for key, _ in stores.party_aliases.scan("na|"))
    assert aliases_of(stores.master_aliases, "M1") == [key]
    assert aliases_of(stores.master_aliases, "M10") == ["D1|R7"]
    assert index_key("M1", key).startswith("M1|D1|na|")


def test_the_matcher_files_the_reseller_it_maps_automatically() -> None:
    channel = fed(M1, M2, EXACT)
    assert index_of(channel.stores) == {"M1|D1|id|R1": "D1|R1"}


def test_a_page_of_masters_reads_the_index_of_its_masters_only() -> None:
    stores = registered_stores("M1", "M2", "M3")
    applied(stores, mapped("D2", "X9", "M1"), mapped("D1", "R1", "M1", n=101))
    applied(stores, mapped("D1", "R2", "M3", n=102))
    stores.master_aliases = Counted(stores.master_aliases)
    rows, total = masters_page(stores, None, 0, 2)
    assert [(row["master_id"], row["aliases"]) for row in rows] == [
        ("M1", ["D1|R1", "D2|X9"]),
        ("M2", []),
    ]
    assert (total, stores.master_aliases.prefixes) == (3, ["M1|", "M2|"])
    rows, total = masters_page(stores, None, 2, 2)
    assert ([row["aliases"] for row in rows], total) == ([["D1|R2"]], 3)
    assert [row["master_id"] for row in masters_page(stores, "M3", 0, 10)[0]] == ["M3"]
    assert masters_page(stores, "M9", 0, 10) == ([], 0)


class Counted(DictStore[str]):
    """A store that notes the prefixes scanned."""

    def __init__(self, source: object) -> None:
        super().__init__()
        assert isinstance(source, DictStore)
        for key, value in source.scan():
            self.put(key, value)
        self.prefixes: list[str] = []

    def scan(
        self, prefix: str = "", start: str | None = None, reverse: bool = False
    ) -> Iterator[tuple[str, str]]:
        self.prefixes.append(prefix)
        return super().scan(prefix, start, reverse)


ALIASES = st.sampled_from([("D1", "R1"), ("D1", "R2"), ("D2", "R1"), ("D1", None)])
STEPS = st.lists(
    st.tuples(st.sampled_from(["map", "unmap"]), ALIASES, st.sampled_from(["M1", "M2", "M3"])),
    max_size=30,
)


@given(STEPS)
def test_the_index_always_equals_a_full_scan_of_the_aliases(steps) -> None:
    stores = registered_stores("M1", "M2")  # M3 is never registered: its mappings are refused
    for n, (action, (distributor, alias), master) in enumerate(steps, start=100):
        place = NAMED if alias is None else {}
        change = mapped if action == "map" else unmapped
        applied(stores, change(distributor, alias, master, n=n, **place))
        assert index_of(stores) == derived_index(stores.party_aliases.values())


def test_a_state_from_before_the_index_gains_its_entries_once() -> None:
    stores = registered_stores("M1", "M2")
    applied(stores, mapped("D1", "R1", "M1"), mapped("D2", "X9", "M2", n=101))
    expected = index_of(stores)
    stores.master_aliases = DictStore()  # as a state table written before the index
    stores.master_aliases.put("M2|D1|id|R1", "D1|R1")  # and an entry no alias gives
    assert reindexed(stores) == 3
    assert index_of(stores) == expected
    assert reindexed(stores) == 0
