"""Records faust's consumer let go, sought back to (streams/worker/let_go.py)."""

from __future__ import annotations

from typing import NamedTuple

from faust.types import TP

from streams.worker.let_go import Span, Taken, taken

SALES, SHIPMENTS, CHANGELOG = TP("sales", 8), TP("shipments", 8), TP("state-changelog", 8)


class Record(NamedTuple):
    offset: int


def test_a_fetch_handed_over_whole_reads_nothing_again() -> None:
    fetch = Taken({SALES: Span(3, 14, 15), SHIPMENTS: Span(0, 0, 1)})
    positions = {SALES: 15, SHIPMENTS: 1}
    assert fetch.let_go({SALES: 14, SHIPMENTS: 0}, positions.get) == {}


def test_records_let_go_are_read_again_from_the_first_not_handed_over() -> None:
    # the takeover's late tail: nothing of sales:8 handed over after the recovery's seek
    fetch = Taken({SALES: Span(3, 14, 15), SHIPMENTS: Span(40, 49, 50)})
    positions = {SALES: 15, SHIPMENTS: 50}
    # the fetch cut short half-way through shipments:8
    assert fetch.let_go({SHIPMENTS: 44}, positions.get) == {SALES: 3, SHIPMENTS: 45}


def test_a_partition_placed_since_the_fetch_is_left_where_it_was_placed() -> None:
    fetch = Taken({SALES: Span(3, 14, 15), SHIPMENTS: Span(40, 49, 50)})
    # sales:8 sought back by the gate, shipments:8 given to a new assignment (no position)
    positions = {SALES: 3, SHIPMENTS: None}
    assert fetch.let_go({}, positions.get) == {}


def test_the_fetch_notes_the_worker_input_only_and_where_it_left_it() -> None:
    records = {
        SALES: [Record(3), Record(4), Record(7)],  # 5-6: a transaction's marker, say
        SHIPMENTS: [],
        CHANGELOG: [Record(120)],  # the recovery's, not the worker's input
    }
    positions = {SALES: 8, SHIPMENTS: 50, CHANGELOG: 121}
    fetch = taken(records, positions.get, lambda tp: tp != CHANGELOG)
    assert fetch == Taken({SALES: Span(3, 7, 8)})
    assert fetch.let_go({SALES: 4}, positions.get) == {SALES: 5}
