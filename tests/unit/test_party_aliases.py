"""Master registrations and the alias → master mapping: history, refusals, resends, order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from projections.party_aliases import (
    AliasState,
    IdentityProblem,
    MasterState,
    alias_key,
    current_mapping,
    identity_of,
    map_alias,
    register,
    unmap_alias,
)
from projections.positions import Position
from schemas.parties import AliasMapped
from tests.unit.party_events import AT, mapped, registered, unmapped

MASTERS = {"M1", "M2"}


def is_master(master_id: str) -> bool:
    return master_id in MASTERS


def nothing_refers(alias: str, master: str) -> str | None:
    return None


def test_a_mapping_is_kept_with_who_why_and_whether_automatic() -> None:
    state = map_alias(
        None, mapped("D1", "R1", "M1", automatic=True, score="95.20"), is_master, None
    )
    assert state.master_id == "M1"
    (step,) = state.history
    assert (step.action, step.changed_by, step.automatic, str(step.score)) == (
        "mapped", "ops-ana", True, "95.20",
    )  # fmt: skip
    assert step.reason == "same tax id on the onboarding form" and step.changed_at == AT


def test_mapping_an_alias_another_master_holds_is_refused_naming_it() -> None:
    state = map_alias(None, mapped("D1", "R1", "M1"), is_master, None)
    with pytest.raises(IdentityProblem, match="mapped to master 'M1'") as raised:
        map_alias(state, mapped("D1", "R1", "M2", n=101), is_master, None)
    assert raised.value.reason == "conflicting_mapping"


def test_a_mapping_to_an_unknown_master_is_refused() -> None:
    with pytest.raises(IdentityProblem) as raised:
        map_alias(None, mapped("D1", "R1", "M7"), is_master, None)
    assert raised.value.reason == "unknown_master"


def test_a_resend_or_the_same_mapping_again_changes_nothing() -> None:
    state = map_alias(None, mapped("D1", "R1", "M1"), is_master, None)
    assert map_alias(state, mapped("D1", "R1", "M1"), is_master, None) is state
    again = map_alias(state, mapped("D1", "R1", "M1", n=150), is_master, None)
    assert again.history == state.history  # already mapped there: no second step


def test_a_redelivered_position_changes_nothing() -> None:
    at = Position("identity:0", 5)
    state = map_alias(None, mapped("D1", "R1", "M1"), is_master, at)
    assert unmap_alias(state, unmapped("D1", "R1", "M1"), nothing_refers, at) is state


def test_unmap_then_map_elsewhere_keeps_the_whole_history() -> None:
    state = map_alias(None, mapped("D1", "R1", "M1"), is_master, None)
    state = unmap_alias(state, unmapped("D1", "R1", "M1"), nothing_refers, None)
    assert state.master_id is None
    state = map_alias(state, mapped("D1", "R1", "M2", n=101), is_master, None)
    assert [(step.action, step.master_id) for step in state.history] == [
        ("mapped", "M1"), ("unmapped", "M1"), ("mapped", "M2"),
    ]  # fmt: skip
    assert AliasState.from_json(state.to_json()) == state


def test_unmapping_is_refused_while_something_still_names_the_master() -> None:
    state = map_alias(None, mapped("D1", "R1", "M1"), is_master, None)

    def authorizations(alias: str, master: str) -> str | None:
        return "authorization A1" if master == "M1" else None

    with pytest.raises(IdentityProblem, match="authorization A1 still names it") as raised:
        unmap_alias(state, unmapped("D1", "R1", "M1"), authorizations, None)
    assert raised.value.reason == "master_referenced"


def test_unmapping_what_is_not_mapped_there_is_refused() -> None:
    with pytest.raises(IdentityProblem) as raised:
        unmap_alias(None, unmapped("D1", "R1", "M1"), nothing_refers, None)
    assert raised.value.reason == "alias_not_mapped"
    state = map_alias(None, mapped("D1", "R1", "M1"), is_master, None)
    with pytest.raises(IdentityProblem, match="not 'M2'") as raised:
        unmap_alias(state, unmapped("D1", "R1", "M2"), nothing_refers, None)
    assert raised.value.reason == "conflicting_mapping"


def test_a_name_and_address_alias_is_keyed_by_its_normalised_form() -> None:
    one = mapped("D1", None, "M1", name="Acme Tools, Inc.", postal_code="94105", country="US")
    two = mapped("D1", None, "M1", name="ACME TOOLS LLC", postal_code="94105", country="US")
    assert alias_key(one) == alias_key(two)
    assert alias_key(one).startswith("na|D1|") and "acme" not in alias_key(one)
    other = mapped("D1", None, "M1", name="Acme Tools", postal_code="94107", country="US")
    assert alias_key(other) != alias_key(one)
    assert alias_key(mapped("D1", "R1", "M1")) == "id|D1|R1"


def test_the_latest_registration_stands_in_either_order() -> None:
    first = registered("M1", "Acme Tools", n=1)
    renamed = registered("M1", "Acme Tools & Repair", n=2, registered_at=AT + timedelta(days=3))
    one = register(register(None, first, None), renamed, None)
    other = register(register(None, renamed, None), first, None)
    assert one == other and one.legal_name == "Acme Tools & Repair"
    assert MasterState.from_json(one.to_json()) == one
    assert "Acme" not in repr(one)  # names stay out of logs
    assert one.record.name == "acme tools and repair"


def test_identity_of_an_unmapped_alias_is_itself() -> None:
    mapping = {"id|D1|R1": "M1"}
    assert identity_of(mapping, "D1", "R1") == "M1"
    assert identity_of(mapping, "D1", "R2") == "D1|R2"


changes = st.lists(
    st.tuples(st.sampled_from(["D1", "D2"]), st.sampled_from(["R1", "R2", "R3", "R4"])),
    unique=True,
    max_size=8,
).flatmap(
    lambda aliases: st.tuples(
        st.just(aliases), st.lists(st.sampled_from(sorted(MASTERS)), min_size=len(aliases),
                                   max_size=len(aliases))
    )
)  # fmt: skip


def apply_all(events: Sequence[AliasMapped]) -> dict[str, str]:
    states: dict[str, AliasState] = {}
    for event in events:
        key = alias_key(event)
        states[key] = map_alias(states.get(key), event, is_master, None)
    return current_mapping(states.values())


@given(changes, st.randoms())
def test_mappings_of_different_aliases_commute(drawn, random) -> None:
    aliases, masters = drawn
    events = [
        mapped(d, r, m, n=100 + i)
        for i, ((d, r), m) in enumerate(zip(aliases, masters, strict=True))
    ]
    shuffled = list(events)
    random.shuffle(shuffled)
    assert apply_all(events) == apply_all(shuffled)
    # a resend of each, anywhere, changes nothing either
    assert apply_all([*shuffled, *events]) == apply_all(events)
