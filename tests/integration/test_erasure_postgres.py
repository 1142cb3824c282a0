"""Crypto-shredding on the real PostgreSQL server: a subject's key is created on first use,
read by id, deleted by `channelflow erase`, and the erasure is sealed on the audit chain."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import psycopg
import pytest

from domain.erasure import SubjectErasure
from domain.personal_data import (
    CHANNEL,
    ERASED,
    PERSONAL_FIELDS,
    Subject,
    id_ref,
    name_ref,
    shown,
    tokens_in,
)
from infra.eventstore import open_audit_log
from infra.personal_cipher import Sealer, clear_texts
from infra.subject_keys import SubjectKeys
from schemas.codec import encode_event
from streams.cli.main import main
from streams.ingest.personal import DoorProtection
from tests.unit.channel_cases import sale
from tests.unit.party_events import customer_mapped, customer_registered

pytestmark = pytest.mark.postgres


def test_a_key_is_made_once_per_subject_and_read_by_its_id(database: str) -> None:
    keys, other = SubjectKeys(database), SubjectKeys(database)
    subject = Subject("D01", id_ref("EC-7"))
    key_id, key = keys.key_for(subject)
    assert other.key_for(subject) == (key_id, key)  # another process: the same key
    assert len(key) == 32 and len(key_id) == 32
    assert keys.key_for(Subject("D02", id_ref("EC-7")))[0] != key_id  # another distributor's
    assert other.keys([key_id, "0" * 32]) == {key_id: ("D01", key)}
    assert keys.held(id_ref("EC-7"), "D01") == [("D01", key_id)]
    assert keys.delete([key_id]) == 1
    assert other.keys([key_id]) == {}
    assert keys.held(id_ref("EC-7"), "D01") == []
    assert keys.delete([key_id]) == 0
    assert keys.key_for(subject)[0] != key_id  # a later line of the subject: a new key
    keys.close()
    other.close()


def sealed_line(database: str, distributor: str = "D01") -> list[tuple[str, str]]:
    line = sale(1, distributor_id=distributor, end_customer="EC-7",
                end_customer_name="Jane Doe", end_customer_contact="jane@example.com")  # fmt: skip
    keys = SubjectKeys(database)
    try:
        sealed = Sealer(keys).seal(line)
    finally:
        keys.close()
    return [(name, getattr(sealed, name)) for name in PERSONAL_FIELDS]


def readable(database: str, values: list[tuple[str, str]]) -> list[str | None]:
    keys = SubjectKeys(database)
    try:
        clear = clear_texts(keys, values)
    finally:
        keys.close()
    return [shown(value, clear) for _, value in values]


def test_erase_deletes_the_key_and_records_the_erasure_without_the_name(
    database: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHANNELFLOW_EVENTSTORE_URL", database)
    values = sealed_line(database)
    kept = sealed_line(database, "D02")
    assert readable(database, values) == ["Jane Doe", "jane@example.com"]

    status = main(["erase", "end-customer", "EC-7", "--distributor", "D01", "--actor", "dpo"])
    assert status == 0
    answer = orjson.loads(capsys.readouterr().out)
    assert (answer["subject"], answer["keys_deleted"]) == ("id:EC-7", 1)
    assert readable(database, values) == [ERASED, ERASED]
    assert readable(database, kept) == ["Jane Doe", "jane@example.com"]  # D02's stays

    audit = open_audit_log(database)
    erasure: object = audit.repository.get(uuid.UUID(answer["erasure_id"]))
    assert isinstance(erasure, SubjectErasure)
    assert (erasure.subject, erasure.distributor_id, erasure.actor_id) == ("id:EC-7", "D01", "dpo")
    assert len(erasure.key_ids) == 1 and erasure.key_ids[0].startswith("D01/")
    report = audit.verify_chain()
    assert report.verified and report.records >= 1
    with psycopg.connect(database) as conn:
        rows = conn.execute("SELECT state FROM channelflow_audit_events").fetchall()
    stored = b"".join(bytes(state) for (state,) in rows)
    assert b"Jane" not in stored and b"jane@" not in stored
    assert main(["verify", "--audit", "--chain-only"]) == 0


def test_erase_by_name_of_every_distributor(
    database: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHANNELFLOW_EVENTSTORE_URL", database)
    keys = SubjectKeys(database)
    made = [keys.key_for(Subject(d, name_ref("Jane Doe")))[0] for d in ("D01", "D02")]
    assert main(["erase", "end-customer", " jane  doe", "--by-name"]) == 0
    answer = orjson.loads(capsys.readouterr().out)
    assert answer["keys_deleted"] == 2 and "jane" not in answer["subject"]
    assert keys.keys(made) == {}  # gone from PostgreSQL, not only counted
    keys.close()


def test_erase_a_master_deletes_its_key_and_its_aliases_by_name_at_every_distributor(
    database: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHANNELFLOW_EVENTSTORE_URL", database)
    keys = SubjectKeys(database)
    door = DoorProtection(keys)
    alias: dict[str, Any] = {
        "name": "Jane Doe",
        "address": "12 Elm St",
        "postal_code": "94105",
        "country": "US",
    }
    events = [
        door.sealed(customer_registered("EC-M1", "Jane Doe", address="12 Elm St")),
        door.sealed(customer_mapped("D01", None, "EC-M1", **alias)),
        door.sealed(customer_mapped("D02", None, "EC-M1", **alias)),
        door.sealed(customer_registered("EC-M2", "John Roe")),
    ]
    values = [pair for event in events for pair in tokens_in(encode_event(event).decode())]
    keys.close()
    assert set(readable(database, values)) == {"Jane Doe", "12 Elm St", "John Roe"}

    assert main(["erase", "end-customer", "EC-M1", "--master", "--actor", "dpo"]) == 0
    answer = orjson.loads(capsys.readouterr().out)
    assert (answer["subject"], answer["keys_deleted"]) == ("master:EC-M1", 3)
    assert readable(database, values) == [ERASED] * 6 + ["John Roe"]  # EC-M2's stays
    [erasure] = erasures(database)
    assert sorted(key.split("/")[0] for key in erasure.key_ids) == [CHANNEL, "D01", "D02"]


def erasures(database: str) -> list[SubjectErasure]:
    audit = open_audit_log(database)
    found: list[object] = [audit.repository.get(ref) for ref in audit.aggregate_ids()]
    return [erasure for erasure in found if isinstance(erasure, SubjectErasure)]


def test_an_erasure_that_crashed_after_recording_is_completed_by_a_rerun(
    database: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHANNELFLOW_EVENTSTORE_URL", database)
    values = sealed_line(database)

    def crash(self: SubjectKeys, key_ids: object) -> int:
        raise psycopg.OperationalError("the connection was lost")  # after the record

    with monkeypatch.context() as patched:
        patched.setattr(SubjectKeys, "delete", crash)
        assert main(["erase", "end-customer", "EC-7", "--actor", "dpo"]) == 3
    assert readable(database, values) == ["Jane Doe", "jane@example.com"]  # not yet erased
    [recorded] = erasures(database)  # but on the record already
    assert len(recorded.key_ids) == 1

    capsys.readouterr()
    assert main(["erase", "end-customer", "EC-7", "--actor", "dpo"]) == 0
    answer = orjson.loads(capsys.readouterr().out)
    assert readable(database, values) == [ERASED, ERASED]
    assert (answer["erasure_id"], answer["keys_deleted"]) == (str(recorded.id), 1)
    assert answer["at"] == recorded.at.isoformat()  # the recorded erasure, completed
    assert [erasure.id for erasure in erasures(database)] == [recorded.id]  # recorded once

    assert main(["erase", "end-customer", "EC-7"]) == 0  # nothing held: a request of its own
    assert orjson.loads(capsys.readouterr().out)["keys_deleted"] == 0
    assert [e.key_ids for e in erasures(database)] == [recorded.key_ids, []]


def test_erase_without_a_key_store_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHANNELFLOW_EVENTSTORE_URL", "sqlite:///:memory:")
    assert main(["erase", "end-customer", "EC-7"]) == 2
    assert "no key store" in capsys.readouterr().err


def test_erase_with_postgresql_away_exits_3(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHANNELFLOW_SUBJECT_KEYS_URL", "postgresql://x:y@127.0.0.1:1/none")
    assert main(["erase", "end-customer", "EC-7"]) == 3


def test_a_key_table_that_cannot_be_made_leaves_no_connection_open(database: str) -> None:
    keys = SubjectKeys(f"{database}?options=-c%20default_transaction_read_only%3Don")
    subject = Subject("D01", id_ref("EC-7"))
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction) as first:
        keys.key_for(subject)
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction) as second:
        keys.key_for(subject)  # tried again on a new connection
    with psycopg.connect(database) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        ).fetchone()
    assert row == (1,), (first, second)  # only the one counting
