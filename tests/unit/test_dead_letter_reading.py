"""A dead letter as a reader of this version reads it: one written by a later version, with
fields this one does not know, is still read (a rolling upgrade's newer workers write
them); one missing what every letter has is not."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from pydantic import ValidationError

from schemas.deadletter import DeadLetter

LETTER = DeadLetter.of(
    b'{"sku": "X"}', "invalid_schema", "sku: unknown", "t.sales", datetime(2026, 3, 2, tzinfo=UTC),
    partition=1, offset=7,
)  # fmt: skip


def written(**changes: object) -> bytes:
    return orjson.dumps({**orjson.loads(LETTER.model_dump_json()), **changes})


def test_a_letter_reads_as_written() -> None:
    assert DeadLetter.read(LETTER.model_dump_json().encode()) == LETTER


def test_a_later_version_s_fields_are_left_out() -> None:
    newer = written(retry_hint="send again", attempts=3)
    assert DeadLetter.read(newer) == LETTER


@pytest.mark.parametrize(
    "wrong",
    [written(reason=None), written(offset="seven"), written(recorded_at="yesterday")],
)
def test_a_letter_with_a_wrong_field_is_not_read(wrong: bytes) -> None:
    with pytest.raises(ValidationError):
        DeadLetter.read(wrong)


def test_a_letter_missing_a_field_is_not_read_whatever_else_it_has() -> None:
    document = orjson.loads(written(retry_hint="x"))
    del document["detail"]
    with pytest.raises(ValidationError):
        DeadLetter.read(orjson.dumps(document))
