"""Normalising names and addresses, scoring, deciding and blocking (docs/IDENTITY.md)."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.party_matching import MatchConfig, decide, party_record, score
from domain.party_names import (
    fold,
    normalise_address,
    normalise_name,
    normalise_postal,
    normalise_tax_id,
)
from projections.party_index import BlockingConfig, BlockingIndex, block_keys, match_stream


@pytest.mark.parametrize(
    ("name", "normalised"),
    [
        ("ACME, Inc.", "acme"),
        ("Acme Inc", "acme"),
        ("acme incorporated", "acme"),
        ("Acme Holdings Co., Ltd.", "acme holdings"),
        ("Müller & Söhne GmbH & Co. KG", "muller and sohne"),
        ("Distribuciones Pérez S.A.", "distribuciones perez"),
        ("O'Neil Systems, L.L.C.", "oneil systems"),
        ("The Byte Shop", "byte shop"),
        ("  BYTE   shop  ", "byte shop"),
        ("Straße-Computer AG", "strasse computer"),
        ("Limited Edition Audio Ltd", "limited edition audio"),  # only the trailing form goes
        ("The Company", "company"),  # a name that is all legal form stays a name
        ("Nordic Data AS", "nordic data"),
    ],
)
def test_names_normalise(name: str, normalised: str) -> None:
    assert normalise_name(name) == normalised


@pytest.mark.parametrize(
    ("address", "normalised"),
    [
        ("12th Main Street, Suite 4", "12 main st ste 4"),
        ("12 MAIN ST. STE 4", "12 main st ste 4"),
        ("Hauptstraße 5", "haupt str 5"),
        ("Hauptstrasse 5", "haupt str 5"),
        ("1 North Avenue", "1 n ave"),
    ],
)
def test_addresses_normalise(address: str, normalised: str) -> None:
    assert normalise_address(address) == normalised


def test_postal_codes_and_tax_ids_normalise() -> None:
    assert normalise_postal("sw1a 1aa") == "SW1A1AA"
    assert normalise_postal("94105-1804") == "941051804"
    assert normalise_tax_id("de 123-456 789") == "DE123456789"


ACME = party_record("M1", "Acme Tools Inc.", "US", "94105", "1 Market Street")


def test_the_same_party_written_otherwise_scores_high() -> None:
    alias = party_record("D1|R1", "ACME TOOLS LLC", "US", "94105-1804", "1 Market St.")
    # name 100 (legal forms dropped), postal 100 (ZIP and ZIP+4), address 100 after normalising
    assert score(alias, ACME).score == Decimal("100.00")


def test_a_typo_scores_by_the_weights() -> None:
    alias = party_record("D1|R1", "Acme Tols", "US", "94107")
    # no address on one side: its 0.15 goes to the name; name token_sort_ratio 94.74,
    # postal 941.. shared prefix: 50 → 0.85 × 94.74 + 0.15 × 50 = 80.53 + 7.50
    assert score(alias, ACME).score == Decimal("88.03")


def test_identifiers_decide_alone() -> None:
    master = party_record("M1", "Acme Tools", "DE", "10115", tax_id="DE123456789")
    same_tax = party_record("a", "Totally Other Name", "DE", "80331", tax_id="de 123 456 789")
    other_tax = party_record("b", "Acme Tools", "DE", "10115", tax_id="DE999999999")
    assert score(same_tax, master).exact and score(same_tax, master).score == 100
    assert score(other_tax, master).score == 0
    duns = party_record("c", "Acme", "FR", duns="123456789")
    assert score(duns, party_record("M2", "X", "US", duns="123456789")).exact


def test_another_country_is_another_party() -> None:
    assert score(party_record("a", "Acme Tools", "CA", "94105"), ACME).score == 0


def test_decide_exact_automatic_review_new() -> None:
    config = MatchConfig()
    masters = [ACME, party_record("M2", "Byte Shop", "US", "10001")]
    exact = party_record("x", "Anything", "US", tax_id="1", duns="000000001")
    with_duns = [*masters, party_record("M3", "Other", "US", duns="000000001")]
    assert decide(exact, with_duns, config).outcome == "exact"
    auto = decide(party_record("a", "Acme Tools Corp", "US", "94105"), masters, config)
    assert (auto.outcome, auto.master_id) == ("automatic", "M1")
    review = decide(party_record("r", "Acme Tols", "US", "94107"), masters, config)
    assert (review.outcome, review.master_id) == ("review", "M1")  # 88.03: in the band
    new = decide(party_record("n", "Zeta Audio", "US", "94105"), masters, config)
    assert (new.outcome, new.master_id) == ("new", None)
    assert decide(party_record("e", "Acme", "US"), [], config).outcome == "new"


def test_two_masters_close_together_make_a_proposal_not_a_mapping() -> None:
    twins = [ACME, party_record("M9", "Acme Tools", "US", "94105", "1 Market St")]
    found = decide(party_record("a", "Acme Tools", "US", "94105", "1 Market St"), twins)
    assert found.outcome == "review"
    assert found.best is not None and found.best.master_id == "M1"  # tie: the smaller id


def test_thresholds_are_configuration() -> None:
    strict = MatchConfig(automatic_at=Decimal("99"), review_at=Decimal("90"))
    alias = party_record("a", "Acme Tool Corp", "US", "94105")  # 0.85 × 94.74 + 15 = 95.53
    assert decide(alias, [ACME]).outcome == "automatic"
    assert decide(alias, [ACME], strict).outcome == "review"
    with pytest.raises(ValueError, match="thresholds"):
        MatchConfig(automatic_at=Decimal("70"), review_at=Decimal("80"))
    with pytest.raises(ValueError, match="sum to 1"):
        MatchConfig(name_weight=Decimal("0.9"))


def test_blocking_finds_the_party_and_skips_the_unrelated() -> None:
    index = BlockingIndex()
    index.add(ACME)
    index.add(party_record("M2", "Byte Shop", "US", "10001"))
    index.add(party_record("M3", "Acme Tools", "DE", "10115"))
    found = index.candidates(party_record("a", "Acme Tols Inc", "US", "94107"))
    assert [record.party_id for record in found] == ["M1"]  # "acme" in 941.., and as a word


def test_a_common_word_is_left_to_the_postal_blocks() -> None:
    index = BlockingIndex(BlockingConfig(max_block=2))
    for n in range(3):
        index.add(party_record(f"M{n}", f"Systems {n}x", "US", f"{n}0000"))
    alias = party_record("a", "Systems Zz", "US", "10000")
    assert [record.party_id for record in index.candidates(alias)] == ["M1"]


def test_re_adding_a_master_replaces_its_keys() -> None:
    index = BlockingIndex()
    index.add(ACME)
    index.add(party_record("M1", "Byte Shop", "US", "10001"))
    assert index.candidates(party_record("a", "Acme Tools", "US", "94105")) == []
    index.discard("M1")
    assert len(index) == 0


def test_match_stream_reads_aliases_one_at_a_time() -> None:
    index = BlockingIndex()
    index.add(ACME)
    taken: list[str] = []

    def aliases():  # a generator: the stream must not read ahead of what it answered
        for n in range(3):
            taken.append(str(n))
            yield party_record(str(n), "Acme Tools", "US", "94105")

    stream = match_stream(index, aliases())
    decision, scored = next(stream)
    assert (decision.party_id, scored, taken) == ("0", 1, ["0"])


words = st.sampled_from(["acme", "tools", "byte", "shop", "nordic", "data", "inc", "gmbh"])
names = st.lists(words, min_size=1, max_size=4).map(" ".join)
records = st.builds(
    party_record,
    st.just("x"),
    names,
    st.sampled_from(["US", "DE"]),
    st.sampled_from([None, "94105", "94107", "10115", "94105-1804"]),
    st.sampled_from([None, "1 Market Street", "1 Market St", "5 Hauptstrasse"]),
    st.sampled_from([None, "DE123", "DE124"]),
    st.sampled_from([None, "123456789"]),
)


@given(records, records)
def test_scores_are_symmetric(a, b) -> None:
    assert score(a, b).score == score(b, a).score
    assert score(a, b).exact == score(b, a).exact


@given(records)
def test_a_record_matches_itself_fully_and_shares_its_blocks(a) -> None:
    # without a postal code a match is at best proposed: its weight is not given to the name
    assert score(a, a).score == (100 if a.postal or a.tax_id or a.duns else 85)
    index = BlockingIndex()
    index.add(a)
    assert index.candidates(a) == [a]
    assert len(block_keys(a)) == len(set(block_keys(a)))


@given(st.text(max_size=40))
def test_ascii_text_skips_the_accent_step_and_folds_as_it_would(text: str) -> None:
    """Text without accents (ASCII after the accent step) takes the short cut: the same words."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    assert fold(text) == fold(plain)
