"""A distributor reads all of its own rows and no others, on every list, its summary totals
and its snapshot, with or without filters."""

from __future__ import annotations

import pytest

from tests.api_channel import (
    owner_field,
    row_field,
    row_filters,
)
from tests.unit.api.authz_matrix import (
    AGGREGATES,
    CATALOG,
    LISTS,
    NOT_OWNED,
    SCOPED,
    mine,
    rows_of,
    written,
)


def test_the_lists_are_classified():
    assert set(LISTS) <= set(SCOPED)
    assert set(NOT_OWNED) <= set(LISTS)


@pytest.mark.parametrize("route", LISTS)
def test_a_distributor_reads_all_of_its_own_rows_and_no_others(api, route):
    """Every row of a distributor's answer is its own, and every row of its own that the
    vendor sees is in it, in the same order; aggregates are its own data's."""
    every = rows_of(api, route, "cm")
    got = rows_of(api, route, "d01")
    assert got, f"the fixture gives D01 no rows of {route}: nothing to check"
    if route in CATALOG:
        assert got == every
    elif route in AGGREGATES:  # counts over its own data: the vendor's for D01 alone
        assert got == rows_of(api, route, "cm", distributor_id="D01")
        assert got != every, "the fixture gives the other distributors nothing to count"
    else:
        owner = owner_field(route)
        assert {row[owner] for row in every} - {"D01", None}, "no other distributor's rows"
        assert [row for row in got if row[owner] not in ("D01", None)] == []
        assert got == mine(route, every)


def test_a_distributor_reads_its_own_summary_totals(api):
    """The channel totals of the inventory summary are its own distributor's."""
    status, _, body = api.call("GET", "/api/inventory/summary", "d01")
    assert status == 200
    vendor = api.call("GET", "/api/inventory/summary", "cm", distributor_id="D01")[2]
    everyone = api.call("GET", "/api/inventory/summary", "cm")[2]
    assert body["channel"] == vendor["channel"] != everyone["channel"]
    assert body["channel"]["distributors"] == 1


def test_a_distributors_snapshot_holds_its_own_rows_only(api):
    """Each section: the vendor's rows of D01 (none of a section of no distributor's rows,
    such as the dead-letter counts)."""
    status, _, got = api.call("GET", "/api/snapshot", "d01")
    assert status == 200
    every = api.call("GET", "/api/snapshot", "cm")[2]
    assert got.keys() == every.keys()
    owned = []
    for section, rows in every.items():
        expected = [row for row in rows if row.get("distributor_id") == "D01"]
        assert got[section] == expected, section
        if any("distributor_id" in row for row in rows):
            assert expected and expected != rows, f"{section}: D01's rows and others' wanted"
            owned.append(section)
    assert len(owned) >= 9, owned


DISTRIBUTOR_FILTER_CASES = [
    (route, name)
    for route in LISTS
    for name in row_filters(route)
    if name != "distributor_id" and route not in NOT_OWNED
]


@pytest.mark.parametrize(("route", "name"), DISTRIBUTOR_FILTER_CASES)
def test_a_distributors_filters_narrow_its_own_rows(api, route, name):
    """Every value of the filter found in anyone's rows: a D01 token gets exactly its own
    rows with it (none for another distributor's value)."""
    every = rows_of(api, route, "cm")
    own = mine(route, every)
    field = row_field(route, name)
    values = {written(row[field]) for row in every if row.get(field) is not None}
    assert {written(row[field]) for row in own if row.get(field) is not None}, "nothing to narrow"
    for value in sorted(values):
        got = rows_of(api, route, "d01", **{name: value})
        assert got == [row for row in own if written(row.get(field)) == value], (name, value)
