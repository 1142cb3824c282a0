"""Reads of the rebate programs (reference data, replicated whole into every worker) that
the API shares."""

from __future__ import annotations

from projections.stores import ChannelStores


def is_known(stores: ChannelStores, program_id: str, reader: str | None = None) -> bool:
    """Whether a rebate program of that id is defined (one lookup); to a distributor
    (`reader`), whether it is one of its programs: one that is not is as unknown to it as one
    never defined, so that its answer does not tell which others' programs exist."""
    terms = stores.programs.get(program_id)
    if terms is None:
        return False
    return reader is None or terms.distributor_ids == "all" or reader in terms.distributor_ids
