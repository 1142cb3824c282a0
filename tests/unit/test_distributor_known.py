"""`is_known`: a distributor the channel has heard of by anything recorded under its id (not
only its lines and agreements: a claim, an alias, a reseller before its first line), and not
one whose id merely begins another's."""

from __future__ import annotations

from typing import Any

import pytest

from projections.distributor_reads import is_known
from projections.stores import ChannelStores

SOMETHING: Any = object()  # only the key is looked at

#: a store and the key something of D01's is kept under
RECORDED = [
    ("quality", "D01"),
    ("agreements", "D01"),
    ("reports", "D01|W14"),
    ("resellers", "D01|R1"),
    ("claims", "D01|DB-1"),
    ("rotations", "D01|ROT-1"),
    ("match_proposals", "D01|X1"),
    ("party_aliases", "id|D01|X1"),
    ("party_aliases", "na|D01|0f3a"),
    ("customer_aliases", "ci|D01|C1"),
    ("customer_aliases", "cn|D01|9b2e"),
]


@pytest.mark.parametrize(("store", "key"), RECORDED)
def test_anything_recorded_under_its_id_makes_it_known(store: str, key: str) -> None:
    stores = ChannelStores()
    assert not is_known(stores, "D01")
    getattr(stores, store).put(key, SOMETHING)
    assert is_known(stores, "D01")
    assert not is_known(stores, "D0") and not is_known(stores, "D1")  # no prefix of it


def test_another_distributors_rows_do_not():
    stores = ChannelStores()
    stores.claims.put("D010|DB-1", SOMETHING)
    stores.party_aliases.put("id|D010|X1", SOMETHING)
    assert not is_known(stores, "D01")
