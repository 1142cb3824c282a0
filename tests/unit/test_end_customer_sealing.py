"""An end customer's master and its aliases by name at the door (docs/PRIVACY.md): the name
and address sealed under the master's subject, one subject across distributors, the alias
still keyed by its name's digest, nothing clear in a repr; without a key store, dropped."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from domain.personal_data import (
    CHANNEL,
    ERASED,
    Subject,
    clear_values,
    master_ref,
    parse_sealed,
    shown,
    tokens_in,
)
from infra.personal_cipher import ThrowawayKeys, clear_texts
from projections.party_aliases import IdentityProblem, alias_key
from schemas.codec import encode_event
from streams.config import Settings
from streams.ingest.personal import DoorProtection, door_protection
from tests.unit.party_events import (
    customer_mapped,
    customer_registered,
    customer_unmapped,
    mapped,
    registered,
)
from tests.unit.test_personal_data import MemoryKeys

NAME, STREET = "Jane Doe", "12 Elm Street"


def by_name(name: str = NAME) -> dict[str, Any]:
    return {"name": name, "address": STREET, "postal_code": "94105", "country": "US"}


def test_a_master_is_sealed_under_its_own_subject_and_opens_again() -> None:
    keys = MemoryKeys()
    clear = customer_registered("EC-M1", NAME, address=STREET, tax_id="DE123")
    sealed = DoorProtection(keys).sealed(clear)
    assert list(keys.by_subject) == [Subject(CHANNEL, master_ref("EC-M1"))]
    assert parse_sealed(sealed.legal_name) is not None
    assert sealed.address is not None and parse_sealed(sealed.address) is not None
    assert (sealed.master_id, sealed.postal_code, sealed.country) == ("EC-M1", "94105", "US")
    assert clear_values(sealed) == {}
    text = encode_event(sealed).decode()
    assert NAME not in text and "Elm" not in text
    opened = clear_texts(keys, tokens_in(text))
    assert [shown(sealed.legal_name, opened), shown(sealed.address, opened)] == [NAME, STREET]
    assert NAME not in repr(clear) and "Elm" not in repr(clear)


def test_every_distributors_alias_by_name_is_the_masters_subject_there() -> None:
    keys = MemoryKeys()
    door = DoorProtection(keys)
    first = door.sealed(customer_mapped("D01", None, "EC-M1", **by_name()))
    second = door.sealed(customer_unmapped("D02", None, "EC-M1", **by_name()))
    assert set(keys.by_subject) == {
        Subject("D01", master_ref("EC-M1")),
        Subject("D02", master_ref("EC-M1")),
    }
    for sealed in (first, second):
        assert sealed.name is not None and parse_sealed(sealed.name) is not None
        assert NAME not in encode_event(sealed).decode()
        assert NAME not in repr(sealed)
    # the alias keeps the key its clear name gives, so its steps still meet
    clear = customer_mapped("D01", None, "EC-M1", **by_name())
    assert alias_key(first) == alias_key(clear)
    assert alias_key(second) == alias_key(clear).replace("|D01|", "|D02|")
    assert NAME.casefold() not in alias_key(first).casefold()


def test_a_name_key_sent_with_a_clear_name_is_made_again_from_the_name() -> None:
    forged = customer_mapped("D01", None, "EC-M1", name_key="0" * 24, **by_name())
    sealed = DoorProtection(MemoryKeys()).sealed(forged)
    assert sealed.name_key != "0" * 24
    assert alias_key(sealed) == alias_key(customer_mapped("D01", None, "EC-M1", **by_name()))


def test_an_alias_by_id_and_a_resellers_events_carry_nothing_to_seal() -> None:
    keys = MemoryKeys()
    door = DoorProtection(keys)
    by_id = customer_mapped("D01", "EC-7", "EC-M1")
    reseller = registered("M1", "Acme Tools Inc.", address=STREET)
    reseller_alias = mapped("D01", None, "M1", **by_name())
    assert door.sealed(by_id) is by_id
    assert door.sealed(reseller) is reseller
    assert door.sealed(reseller_alias) is reseller_alias
    assert keys.by_subject == {}


def test_without_a_key_store_the_door_keeps_no_name() -> None:
    door = DoorProtection(None)
    master = door.sealed(customer_registered("EC-M1", NAME, address=STREET))
    assert (master.legal_name, master.address) == (ERASED, None)
    alias = door.sealed(customer_mapped("D01", None, "EC-M1", **by_name()))
    assert (alias.name, alias.address) == (ERASED, None)
    assert alias_key(alias) == alias_key(customer_mapped("D01", None, "EC-M1", **by_name()))
    assert door.sealed(master) is master  # `erased` is not clear text to strip again


def test_a_sealed_name_without_its_key_is_refused_unreadable() -> None:
    sealed = DoorProtection(MemoryKeys()).sealed(customer_mapped("D01", None, "EC-M1", **by_name()))
    with pytest.raises(IdentityProblem) as refused:
        alias_key(sealed.model_copy(update={"name_key": None}))
    assert refused.value.reason == "unreadable_alias"
    assert NAME not in str(refused.value)


def test_erasing_the_master_leaves_no_name_readable() -> None:
    keys = MemoryKeys()
    door = DoorProtection(keys)
    events = [
        door.sealed(customer_registered("EC-M1", NAME, address=STREET)),
        door.sealed(customer_mapped("D01", None, "EC-M1", **by_name())),
        door.sealed(customer_mapped("D02", None, "EC-M1", **by_name())),
        door.sealed(customer_mapped("D02", None, "EC-M2", **by_name("John Roe"))),
    ]
    values = [pair for event in events for pair in tokens_in(encode_event(event).decode())]
    assert len(values) == 8 and {shown(v, clear_texts(keys, values)) for _, v in values} == {
        NAME,
        STREET,
        "John Roe",
    }
    for subject in [s for s in keys.by_subject if s.ref == master_ref("EC-M1")]:
        keys.erase(subject)
    opened = clear_texts(keys, values)
    assert [shown(v, opened) for _, v in values] == [ERASED] * 6 + ["John Roe", STREET]
    assert NAME not in orjson.dumps(opened).decode()


def test_a_test_uploads_fields_are_sealed_with_keys_never_stored() -> None:
    # a key table that cannot be reached: a test upload (ISA15 T) never asks it
    settings = Settings(subject_keys_url="postgresql://channelflow@127.0.0.1:1/nowhere")
    protection = door_protection(settings, test=True)
    assert protection.seals  # sealed, as its production copy's, not dropped
    clear = customer_registered("EC-M1", NAME, address=STREET)
    sealed = protection.sealed(clear)
    again = protection.sealed(clear)  # one key a subject for the upload
    token, other = parse_sealed(sealed.legal_name), parse_sealed(again.legal_name)
    assert token is not None and other is not None and token.key_id == other.key_id
    assert clear_values(sealed) == {}
    # and nothing opens it: no key was kept anywhere
    assert clear_texts(ThrowawayKeys(), [("legal_name", sealed.legal_name)]) == {}
    assert door_protection(settings).seals  # a production upload uses the key table
