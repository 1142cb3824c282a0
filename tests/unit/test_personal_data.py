"""Personal data: the sealed token's format, whose data it is, what a reader is shown, the
cipher (over an in-memory key table), and that a resent line sealed afresh stays a duplicate."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.identity import content_fingerprint
from domain.personal_data import (
    ERASED,
    PERSONAL_FIELDS,
    Sealed,
    Subject,
    id_ref,
    name_ref,
    parse_sealed,
    shown,
    subject_of,
    tokens_in,
)
from infra.personal_cipher import Sealer, clear_texts, open_token, seal
from projections.dedup import Verdict
from streams.config import Settings
from streams.ingest.personal import reveal_letters
from tests.unit.catalog import catalog_stores
from tests.unit.channel_cases import counts, inventory, quality, run, sale

KEY_ID = "0123456789abcdef0123456789abcdef"


class MemoryKeys:
    """The key table's contract (infra/subject_keys.py) in a dict."""

    def __init__(self) -> None:
        self.by_subject: dict[Subject, tuple[str, bytes]] = {}

    def key_for(self, subject: Subject) -> tuple[str, bytes]:
        if subject not in self.by_subject:
            self.by_subject[subject] = (uuid.uuid4().hex, secrets.token_bytes(32))
        return self.by_subject[subject]

    def keys(self, key_ids: Iterable[str]) -> dict[str, tuple[str, bytes]]:
        wanted = set(key_ids)
        return {
            key_id: (subject.distributor_id, key)
            for subject, (key_id, key) in self.by_subject.items()
            if key_id in wanted
        }

    def erase(self, subject: Subject) -> None:
        del self.by_subject[subject]


@given(st.binary(min_size=13, max_size=300))
def test_a_token_reads_back_as_written(payload: bytes) -> None:
    token = Sealed(KEY_ID, payload)
    assert token.text().startswith(f"pii1.{KEY_ID}.")
    assert parse_sealed(token.text()) == token


@pytest.mark.parametrize(
    "value",
    [
        "Jane Doe",
        f"pii2.{KEY_ID}.AAAAAAAAAAAAAAAAAAAAAAAA",  # another scheme
        "pii1.0123.AAAAAAAAAAAAAAAAAAAAAAAA",  # a short key id
        f"pii1.{KEY_ID}.AAAA",  # no room for a nonce and a tag
        f"pii1.{KEY_ID}.AAAA+AAAAAAAAAAAAAAAAAAA",  # not base64url
    ],
)
def test_what_is_not_a_token(value: str) -> None:
    assert parse_sealed(value) is None


def test_a_subject_is_its_id_else_a_digest_of_its_name() -> None:
    assert subject_of("D01", "EC-7", "Jane Doe") == Subject("D01", "id:EC-7")
    by_name = subject_of("D01", None, "Jane Doe")
    assert by_name == Subject("D01", name_ref("  jane   DOE "))
    assert by_name is not None and "jane" not in by_name.ref.casefold()
    assert subject_of("D01", None, None) is None
    assert id_ref("EC-7") == "id:EC-7"


def test_a_reader_sees_clear_text_only_where_it_holds_the_key() -> None:
    assert shown("tok-a", {"tok-a": "Jane"}) == "Jane"
    assert shown("tok-b", {"tok-a": "Jane"}) == ERASED
    assert shown(None, {}) is None


def test_seal_and_open_bind_the_key_and_the_field() -> None:
    key = secrets.token_bytes(32)
    token = parse_sealed(seal(KEY_ID, key, "end_customer_name", "Jane Doe"))
    assert token is not None and token.key_id == KEY_ID
    assert open_token(token, key, "end_customer_name") == "Jane Doe"
    assert open_token(token, key, "end_customer_contact") is None  # moved to another field
    assert open_token(token, secrets.token_bytes(32), "end_customer_name") is None


def test_the_sealer_seals_every_clear_field_and_a_reader_opens_them_until_erased() -> None:
    keys = MemoryKeys()
    line = sale(1, end_customer="EC-7", end_customer_name="Jane Doe", end_customer_contact="j@x")
    sealed = Sealer(keys).seal(line)
    values = [(name, getattr(sealed, name)) for name in PERSONAL_FIELDS]
    assert all(parse_sealed(value) is not None for _, value in values)
    assert "Jane" not in sealed.model_dump_json()
    assert Sealer(keys).seal(sealed) == sealed  # tokens are left as they are
    clear = clear_texts(keys, values)
    assert [shown(value, clear) for _, value in values] == ["Jane Doe", "j@x"]
    assert clear_texts(keys, values, distributor_id="D02") == {}  # another distributor's
    keys.erase(Subject("D01", "id:EC-7"))
    assert [shown(value, clear_texts(keys, values)) for _, value in values] == [ERASED, ERASED]


def test_a_line_without_personal_data_is_left_alone() -> None:
    line = sale(1)
    assert Sealer(MemoryKeys()).seal(line) is line


def test_a_resend_sealed_afresh_is_a_duplicate_and_figures_are_unchanged() -> None:
    """Each sealing draws a new nonce, so the resend's tokens differ from the first's; the
    personal fields are outside the fingerprint, so it is a duplicate, not a conflict."""
    keys = MemoryKeys()
    first = Sealer(keys).seal(sale(1, end_customer="EC-7", end_customer_name="Jane Doe"))
    resent = Sealer(keys).seal(sale(2, end_customer="EC-7", end_customer_name="Jane Doe"))
    assert first.end_customer_name != resent.end_customer_name
    plain_line = sale(3, end_customer="EC-7")
    assert (
        content_fingerprint(first) == content_fingerprint(resent) == content_fingerprint(plain_line)
    )
    stores, plain = catalog_stores("SKU-1"), catalog_stores("SKU-1")
    outcomes = run(stores, first, resent)
    assert [o.verdict for o in outcomes] == [Verdict.ACCEPTED, Verdict.DUPLICATE]
    run(plain, sale(1, end_customer="EC-7"), sale(2, end_customer="EC-7"))
    assert counts(quality(stores)) == counts(quality(plain)) == (1, 1, 0, 0)
    assert inventory(stores) == inventory(plain)


def test_tokens_are_found_in_a_dead_letters_json() -> None:
    keys = MemoryKeys()
    sealed = Sealer(keys).seal(sale(1, end_customer_name="Jane Doe"))
    text = "[" + sealed.model_dump_json() + "]"
    assert tokens_in(text) == [("end_customer_name", sealed.end_customer_name)]
    assert tokens_in('{"end_customer": "pii1.x", "note": "end_customer_name"}') == []


def test_a_dead_letter_shows_erased_without_a_key_store() -> None:
    sealed = Sealer(MemoryKeys()).seal(sale(1, end_customer_name="Jane Doe"))
    documents: list[dict[str, Any]] = [{"original": sealed.model_dump_json()}, {"original": None}]
    reveal_letters(Settings.from_env({"CHANNELFLOW_SUBJECT_KEYS_URL": "off"}), documents, None)
    assert documents[0]["personal"] == {sealed.end_customer_name: ERASED}
    assert documents[1]["personal"] == {}


def test_dead_letters_still_answer_with_the_key_store_away() -> None:
    sealed = Sealer(MemoryKeys()).seal(sale(1, end_customer_name="Jane Doe"))
    documents: list[dict[str, Any]] = [{"original": sealed.model_dump_json()}]
    away = Settings.from_env({"CHANNELFLOW_SUBJECT_KEYS_URL": "postgresql://x:y@127.0.0.1:1/k"})
    reveal_letters(away, documents, None)
    assert documents[0]["personal"] == {sealed.end_customer_name: ERASED}
