"""The usage indicator ISA15 (streams/ingest/parsers/x12_envelope.py): T a test, P
production, anything else refuses the interchange whole with a TA1 R / 020."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from streams.ingest.parsers.x12 import Segment, X12Error, tokenize
from streams.ingest.parsers.x12_ack import acknowledgement, received
from streams.ingest.parsers.x12_ack_codes import TA1_NOTES
from streams.ingest.parsers.x12_envelope import is_test_interchange, usage_indicator
from tests.unit.parsers.conftest import SAMPLES

WEEKLY = (SAMPLES / "867_weekly.edi").read_bytes()
AT = datetime(2026, 4, 7, 10, 30, tzinfo=UTC)


def with_usage(usage: bytes, data: bytes = WEEKLY) -> bytes:
    changed = data.replace(b"*000000101*0*P*", b"*000000101*0*" + usage + b"*")
    assert changed != data
    return changed


def isa_of(data: bytes) -> Segment:
    return next(tokenize(io.BytesIO(data)))


def test_t_is_a_test_and_p_production() -> None:
    assert usage_indicator(isa_of(WEEKLY)) == "P" and not is_test_interchange(isa_of(WEEKLY))
    test = isa_of(with_usage(b"T"))
    assert usage_indicator(test) == "T" and is_test_interchange(test)


@pytest.mark.parametrize("usage", [b"I", b"t", b" ", b"0"])
def test_any_other_indicator_refuses_the_interchange_at_isa15(usage: bytes) -> None:
    data = with_usage(usage)
    with pytest.raises(X12Error) as caught:
        is_test_interchange(isa_of(data))
    assert (caught.value.segment_index, caught.value.element_index) == (1, 15)
    with pytest.raises(X12Error) as read:  # the tokenizer's envelope check: the same rule
        list(tokenize(io.BytesIO(data)))
    error = read.value
    assert (error.segment_index, error.element_index, error.tag) == (1, 15, "ISA")
    assert "ISA15 usage indicator" in error.message


def ack_segments(data: bytes) -> list[str]:
    got = received(io.BytesIO(data))
    assert got is not None
    body = acknowledgement(got, [], control=42, at=AT)
    return [seg.text for seg in tokenize(io.BytesIO(body))]


def test_an_invalid_indicator_is_answered_ta1_020_alone() -> None:
    ack = ack_segments(with_usage(b"X"))
    assert [text[:3] for text in ack] == ["ISA", "TA1", "IEA"]
    assert ack[1] == "TA1*000000101*260406*0830*R*020~"
    assert TA1_NOTES["020"] == "Invalid Test Indicator Value"
    assert ack[0].split("*")[15] == "P"  # the refusal itself is no test


def test_a_test_interchange_gets_the_acknowledgement_of_its_production_copy() -> None:
    production, test = ack_segments(WEEKLY), ack_segments(with_usage(b"T"))
    assert test[0].split("*")[15] == "T"  # the test indicator kept
    assert test[1:] == production[1:]
    assert production[0].split("*")[15] == "P"
