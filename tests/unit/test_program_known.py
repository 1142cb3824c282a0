"""`program_reads.is_known`: a rebate program is known once defined; to a distributor, only
if it is one of its programs (all distributors', or naming it)."""

from __future__ import annotations

from projections.channel import apply_event
from projections.program_reads import is_known
from projections.stores import ChannelStores
from tests.unit.rebate_cases import program


def test_a_program_is_known_once_defined() -> None:
    stores = ChannelStores()
    assert not is_known(stores, "VPA-1")
    apply_event(stores, program(program_id="VPA-1", distributor_ids=["D02", "D03"]), None)
    assert is_known(stores, "VPA-1") and not is_known(stores, "VPA")


def test_to_a_distributor_only_its_own_programs_are_known() -> None:
    stores = ChannelStores()
    apply_event(stores, program(program_id="SOME", distributor_ids=["D02", "D03"]), None)
    apply_event(stores, program(program_id="ALL", distributor_ids="all"), None)
    assert is_known(stores, "SOME", "D02") and not is_known(stores, "SOME", "D01")
    assert is_known(stores, "ALL", "D01")
