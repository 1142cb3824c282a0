"""What `channelflow verify` advises about the differences it found (streams/audit/verify.py)."""

from __future__ import annotations

from streams.audit.verify import Difference, unrecorded, what_to_do

MISSING = Difference("PriceProtection 1f", {"kind": "PriceProtection", "units": 3}, None)
CHANGED = Difference("RebateStatement 2a total", "10.00", "12.00")
UNDERIVED = Difference("PriceProtection 3c", None, {"kind": "PriceProtection"})


def test_facts_the_store_does_not_hold_are_told_from_facts_that_differ() -> None:
    assert unrecorded([MISSING, CHANGED, UNDERIVED]) == 1


def test_facts_not_recorded_are_said_to_be_perhaps_late_with_what_to_wait_for() -> None:
    """A worker records in rounds: verify run before the round after the last events were
    applied finds their facts missing, which is not a store changed by hand."""
    advice = "\n".join(what_to_do(0, 1, unrecorded([MISSING])))
    assert "not recorded: 1 facts" in advice
    assert 'channelflow_round_seconds_count{round="recording"}' in advice
    assert "verify --audit" not in advice  # nothing recorded differs: no word of tampering
    both = "\n".join(what_to_do(0, 2, unrecorded([MISSING, CHANGED])))
    assert "verify --audit" in both and "not recorded: 1 facts" in both


def test_differing_facts_alone_get_no_word_of_rounds() -> None:
    advice = "\n".join(what_to_do(0, 2, unrecorded([CHANGED, UNDERIVED])))
    assert "verify --audit" in advice
    assert "not recorded" not in advice
