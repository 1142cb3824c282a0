"""The contiguous-progress gate that guards the worker against skipped input."""

from __future__ import annotations

from streams.worker.gaps import gaps_found
from streams.worker.progress import ContiguousGate, TailWatch, Undelivered

Msg = tuple[str, int]


def gate(stored: dict[str, int]) -> ContiguousGate[Msg]:
    return ContiguousGate(stored.get)


def admit(g: ContiguousGate[Msg], *messages: Msg) -> tuple[list[Msg], dict[str, int]]:
    return g.admit(messages, lambda m: m[0], lambda m: m[1])


def test_messages_continuing_the_stored_prefix_are_admitted():
    g = gate({"sales:0": 9})
    assert admit(g, ("sales:0", 10), ("sales:0", 11)) == ([("sales:0", 10), ("sales:0", 11)], {})
    assert admit(g, ("sales:0", 12)) == ([("sales:0", 12)], {})


def test_a_skipped_range_rewinds_the_partition_to_the_first_missing_offset():
    g = gate({"sales:0": 9, "sales:1": 4})
    admitted, rewind = admit(g, ("sales:1", 5), ("sales:0", 15), ("sales:0", 16), ("sales:1", 6))
    assert admitted == [("sales:1", 5), ("sales:1", 6)]
    assert rewind == {"sales:0": 10}
    # after the rewind the missing ones arrive and are admitted, stale later ones are not
    assert admit(g, ("sales:0", 16), ("sales:0", 10))[1] == {"sales:0": 10}
    assert admit(g, ("sales:0", 10), ("sales:0", 11)) == ([("sales:0", 10), ("sales:0", 11)], {})


def test_redelivered_messages_behind_the_prefix_are_admitted_for_idempotent_reapply():
    g = gate({"sales:0": 9})
    assert admit(g, ("sales:0", 7), ("sales:0", 10))[0] == [("sales:0", 7), ("sales:0", 10)]


def test_without_a_checkpoint_the_prefix_starts_at_the_beginning_of_the_partition():
    stored: dict[str, int] = {}
    g = gate(stored)
    # offsets committed by a worker killed before its first checkpoint: read from 0 again
    assert admit(g, ("sales:2", 40), ("sales:2", 41)) == ([], {"sales:2": 0})
    assert admit(g, ("sales:2", 0), ("sales:2", 1)) == ([("sales:2", 0), ("sales:2", 1)], {})
    stored["sales:2"] = 30  # another worker stored less than this one saw
    g.reset()
    assert admit(g, ("sales:2", 42))[1] == {"sales:2": 31}


def test_a_gap_that_holds_nothing_to_deliver_is_passed_over():
    g = gate({"sales:0": 9})
    batch = (("sales:0", 10), ("sales:0", 12), ("sales:0", 13), ("sales:0", 15))
    admitted, rewind = admit(g, *batch)
    assert (admitted, rewind) == ([("sales:0", 10)], {"sales:0": 11})
    gaps = gaps_found(rewind, batch, lambda m: m[0], lambda m: m[1])
    assert gaps == {"sales:0": (11, 12)}  # a transaction's marker at 11, say
    g.pass_over("sales:0", *gaps["sales:0"])
    assert admit(g, ("sales:0", 12), ("sales:0", 13), ("sales:0", 15))[1] == {"sales:0": 14}
    # a gap known empty is passed over only from where the gate stands
    g.pass_over("sales:0", 20, 30)
    assert g.next_offset("sales:0") == 14


def test_after_a_rewind_later_messages_wait_until_the_first_missing_one_arrives():
    g = gate({})
    assert admit(g, ("sales:1", 5)) == ([], {"sales:1": 0})
    assert admit(g, ("sales:1", 6), ("sales:1", 7)) == ([], {"sales:1": 0})
    assert admit(g, ("sales:1", 0), ("sales:1", 1)) == ([("sales:1", 0), ("sales:1", 1)], {})


def test_partitions_behind_their_end_are_read_again_once_nothing_moved_for_a_while() -> None:
    watch = TailWatch(patience=15)
    behind = {"sales:1": (40, 4), "sales:2": (7, 0)}
    assert watch.stalled(behind, now=0) == {}
    assert watch.stalled(behind, now=14) == {}
    assert watch.stalled(behind, now=15) == {"sales:1": 40}  # not sales:2: at its end
    assert watch.stalled(behind, now=16) == {}  # and as long again before the next
    assert watch.stalled(behind, now=30) == {"sales:1": 40}


def test_a_partition_waiting_while_others_move_is_left_alone() -> None:
    watch = TailWatch(patience=15)
    watch.stalled({"sales:1": (40, 4), "sales:2": (7, 900)}, now=0)
    assert watch.stalled({"sales:1": (40, 4), "sales:2": (507, 400)}, now=10) == {}
    assert watch.stalled({"sales:1": (40, 4), "sales:2": (907, 0)}, now=20) == {}
    assert watch.stalled({"sales:1": (40, 4), "sales:2": (907, 0)}, now=34) == {}
    assert watch.stalled({"sales:1": (40, 4), "sales:2": (907, 0)}, now=35) == {"sales:1": 40}


def test_a_pause_counts_again_from_the_next_look() -> None:
    watch = TailWatch(patience=15)
    watch.stalled({"sales:1": (40, 4)}, now=0)
    watch.pause()  # recovering, or PostgreSQL away: nothing can move
    assert watch.stalled({"sales:1": (40, 4)}, now=100) == {}
    assert watch.stalled({"sales:1": (40, 4)}, now=115) == {"sales:1": 40}


def test_a_partition_fetched_past_what_reached_the_agent_is_read_again_after_patience() -> None:
    watch = Undelivered(patience=5)
    assert watch.overdue({"t.sales:0": 10, "t.inventory:0": 3}, 0.0) == {}
    assert watch.overdue({"t.sales:0": 12, "t.inventory:0": 3}, 4.0) == {}  # sales moved on
    assert watch.overdue({"t.sales:0": 12, "t.inventory:0": 3}, 5.0) == {"t.inventory:0": 3}
    # read again, it gets as long again; one no longer waited for is forgotten
    assert watch.overdue({"t.sales:0": 12, "t.inventory:0": 3}, 9.0) == {"t.sales:0": 12}
    assert watch.overdue({"t.inventory:0": 3}, 10.0) == {"t.inventory:0": 3}
    assert watch.overdue({"t.sales:0": 12}, 14.0) == {}
