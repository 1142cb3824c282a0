"""An X12 test interchange (ISA15 T) through the doors: checked and acknowledged as its
production copy, nothing published (no lines, no dead letters), nothing registered, and
the answer says so."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import orjson

from infra.interchange_register import InterchangeRegister
from streams import metrics
from streams.cli.ingest import summary_table
from streams.ingest.formats.upload import Stored
from streams.ingest.gateway import TEST_NOTE, Gateway
from streams.ingest.interchanges import is_test_file, register
from streams.ingest.parsers.x12 import tokenize
from tests.unit.api.ingest_api import WEEKLY
from tests.unit.parsers.conftest import SAMPLES

X12 = "application/edi-x12"
LINE_ERRORS = (SAMPLES / "867_line_errors.edi").read_bytes()
CLAIM_844 = (SAMPLES / "844_claim.edi").read_bytes()


def as_test(data: bytes) -> bytes:
    """The interchange with ISA15 T (its ISA14 and ISA13 kept)."""
    isa, rest = data[:106], data[106:]
    assert isa[-4:-3] == b"P", isa  # ISA15, its separator, ISA16, the terminator
    return isa[:-4] + b"T" + isa[-3:] + rest


def body_of(ack: bytes) -> list[str]:
    """The acknowledgement's segments from the first TA1 or AK1, without the group's
    envelope (its control number and date are the acknowledgement's own)."""
    return [seg.text for seg in tokenize(io.BytesIO(ack)) if seg.tag[:2] in ("TA", "AK")]


def usage_of(ack: bytes) -> str:
    return next(tokenize(io.BytesIO(ack))).get(15)


def test_a_test_interchange_is_answered_as_checked_and_nothing_is_published(api):
    counted = metrics.INGEST_TEST_INTERCHANGES.labels("867")
    before = counted._value.get()
    answer = api.ok("/api/ingest/edi", as_test(LINE_ERRORS))
    assert api.published == []  # neither its good lines nor its rejections
    assert answer["test"] is True and answer["note"] == TEST_NOTE
    assert "checked, not posted" in answer["note"]
    assert "interchange" not in answer
    assert [report["published"] for report in answer["reports"]] == [False]
    assert counted._value.get() == before + 1

    # the production copy: the same answers, its lines new to the channel (none was seen)
    production = api.ok("/api/ingest/edi", LINE_ERRORS)
    assert "test" not in production and production["reports"][0]["published"] is True
    tested, summary = answer["summary"], production["summary"]
    assert summary["accepted"] > 0 and summary["rejected"] > 0
    assert {**tested, "published": summary["published"]} == summary
    assert tested["published"] == 0 < summary["published"] == len(api.published)
    assert answer["lines"] == production["lines"]
    assert answer["reports"][0] | {"published": True} == production["reports"][0]
    assert counted._value.get() == before + 1


def test_a_test_interchange_gets_the_997_of_its_production_copy(api):
    status, media, test = api.raw("/api/ingest/edi", as_test(LINE_ERRORS), ack="997")
    assert (status, media) == (200, X12) and api.published == []
    status, media, production = api.raw("/api/ingest/edi", LINE_ERRORS, ack="997")
    assert (status, media) == (200, X12) and api.published != []
    assert body_of(test) == body_of(production)
    assert "AK5*E*5~" in body_of(test)
    assert (usage_of(test), usage_of(production)) == ("T", "P")


def test_the_claims_door_checks_a_test_844_and_posts_nothing(api):
    status, media, ack = api.raw("/api/ingest/claims", as_test(CLAIM_844), ack="997")
    assert (status, media) == (200, X12) and usage_of(ack) == "T"
    assert [text for text in body_of(ack) if text.startswith("AK5")] == ["AK5*A~"]
    answer = api.ok("/api/ingest/claims", as_test(CLAIM_844))
    assert answer["test"] is True and answer["summary"]["accepted"] == 1
    assert api.published == []


def test_an_indicator_neither_p_nor_t_refuses_the_interchange_whole(api):
    body = WEEKLY.replace(b"*000000101*0*P*", b"*000000101*0*X*")
    status, media, ack = api.raw("/api/ingest/edi", body, ack="997")
    assert (status, media) == (422, X12)
    assert body_of(ack) == ["TA1*000000101*260406*0830*R*020~"]
    status, media, answer = api.raw("/api/ingest/edi", body)
    error = orjson.loads(answer)["error"]
    assert (status, error["code"], error["segment"], error["element"]) == (
        422,
        "x12_structure",
        1,
        "15",
    )
    assert api.published == []


class NoRegister:
    """A register that must not be asked."""

    def record(self, *_: Any) -> None:
        raise AssertionError("a test interchange was registered")


def test_a_test_interchange_is_not_registered(tmp_path: Path) -> None:
    path = tmp_path / "test.edi"
    path.write_bytes(as_test(WEEKLY))
    assert is_test_file(Stored(path))
    gateway = cast(Gateway, SimpleNamespace(test=True))  # all `register` reads of it
    registry = cast(InterchangeRegister, NoRegister())
    assert asyncio.run(register(registry, Stored(path), gateway)) is None
    path.write_bytes(WEEKLY.replace(b"*0*P*", b"*0*X*"))
    assert not is_test_file(Stored(path))  # refused whole by the check, not a test


def test_the_cli_prints_the_test_in_one_line(api):
    answer = api.ok("/api/ingest/edi", as_test(WEEKLY))
    table = summary_table(answer).splitlines()
    assert table[1] == f"  {TEST_NOTE}"
    assert "0 messages published" in table[-1]
