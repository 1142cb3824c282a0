"""The ingest spool: lines back in order as spooled, a report rejected as a whole, the
upload's earlier keys (streams/ingest/spool.py)."""

from __future__ import annotations

import pytest

from projections.ingest_check import Answer, Earlier
from streams.ingest.spool import LineAnswer, Spool, SpooledLine
from streams.kafka.messages import Message


def message(n: int) -> Message:
    return Message("sales", b"DIST-001", b'{"n":%d}' % n, "SaleReported")


def answers(rows: list[SpooledLine]) -> list[tuple[int, Answer, str | None, bool]]:
    return [(r.answer.line, r.answer.answer, r.answer.reason, r.message is not None) for r in rows]


@pytest.mark.parametrize("in_memory", [True, False])
def test_lines_come_back_in_order_with_what_was_spooled(in_memory: bool) -> None:
    large = b"x" * (3 * 1024 * 1024)  # longer than a read chunk
    with Spool(in_memory=in_memory) as spool:
        for n in range(1, 451):  # more than one write buffer
            spool.add(LineAnswer(n, f"f:{n}", Answer.ACCEPTED), 1, message(n), b"line %d" % n)
        spool.add(LineAnswer(451, "f:451", Answer.REJECTED, "bad", "sku", "why"), 1, None, large)
        rows = list(spool.lines())
        again = list(spool.lines())
        outgoing = list(spool.outgoing())
    assert rows == again
    assert outgoing == [(1, r.message or r) for r in rows]
    assert [r.answer.line for r in rows] == list(range(1, 452))
    assert rows[9] == SpooledLine(
        LineAnswer(10, "f:10", Answer.ACCEPTED), 1, message(10), b"line 10", None
    )
    assert rows[-1].answer == LineAnswer(451, "f:451", Answer.REJECTED, "bad", "sku", "why")
    assert rows[-1].message is None and rows[-1].original == large


@pytest.mark.parametrize("in_memory", [True, False])
def test_a_report_rejected_as_a_whole_takes_the_lines_spooled_until_then(in_memory: bool) -> None:
    with Spool(in_memory=in_memory) as spool:
        spool.add(LineAnswer(1, "f:1", Answer.ACCEPTED), 1, message(1), None)
        spool.add(LineAnswer(2, "f:2", Answer.DUPLICATE, None, None, "seen"), 1, message(2), None)
        spool.add(LineAnswer(3, "f:3", Answer.REJECTED, "own", "qty", "own why"), 1, None, b"3")
        spool.add(LineAnswer(4, "f:4", Answer.ACCEPTED), 2, message(4), None)
        spool.add(LineAnswer(5, "f:5", Answer.ACCEPTED), 1, message(5), None)
        changed = spool.reject_report(1, "whole", "the report's period")
        again = spool.reject_report(1, "later", "nothing left to change")
        spool.add(LineAnswer(6, "f:6", Answer.ACCEPTED), 1, message(6), None)
        rows = list(spool.lines())
        problems = list(spool.lines(only_problems=True))
        outgoing = list(spool.outgoing())
    assert changed == {"accepted": 2, "duplicate": 1}
    assert again == {}
    assert answers(rows) == [
        (1, Answer.REJECTED, "whole", False),
        (2, Answer.REJECTED, "whole", False),
        (3, Answer.REJECTED, "own", False),
        (4, Answer.ACCEPTED, None, True),
        (5, Answer.REJECTED, "whole", False),
        (6, Answer.ACCEPTED, None, True),
    ]
    assert rows[1].answer.detail == "the report's period" and rows[1].answer.field is None
    assert rows[2].answer == LineAnswer(3, "f:3", Answer.REJECTED, "own", "qty", "own why")
    assert [r.answer.line for r in problems] == [1, 2, 3, 5]
    # what publishing reads: each line's message, or the line that goes out as a rejection
    assert outgoing == [(r.report, r.message or r) for r in rows]


@pytest.mark.parametrize("in_memory", [True, False])
def test_earlier_keys_are_found_and_the_first_sent_stands(in_memory: bool) -> None:
    with Spool(in_memory=in_memory) as spool:
        for n in range(1000):  # written to the table in batches as they go
            spool.remember(f"sale|D|T{n}", Earlier(f"id-{n}", f"fp-{n}"))
        spool.remember("sale|D|T7", Earlier("other", "other"))
        spool.remember("sale|D|T999", Earlier("other", "other"))
        assert spool.earlier("sale|D|T7") == Earlier("id-7", "fp-7")
        assert spool.earlier("sale|D|T999") == Earlier("id-999", "fp-999")
        assert all(
            spool.earlier(f"sale|D|T{n}") == Earlier(f"id-{n}", f"fp-{n}") for n in range(1000)
        )
        assert all(spool.earlier(f"sale|D|U{n}") is None for n in range(1000))
