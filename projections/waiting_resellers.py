"""The resellers the matcher left unmapped, filed by block key, so a master registered later
finds those sharing a block with it (re-matching: `projections.rematch`).

An onboarding the matcher did not map (`new`, or `review`: a proposal) files its reseller in
`waiting_resellers` under `distributor|block key|reseller_id` for each of its block keys
(`projections.party_index.block_keys`), and once under `distributor||reseller_id` (a later
onboarding of the id replaces its keys). A master reads the resellers sharing one of its
blocks by key prefix: never a scan of them all. The distributor's mark (`rematch_marks`) says
up to which recorded time its waiting resellers were matched against the masters.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any

from domain.party_matching import PartyRecord
from projections.party_index import BlockingConfig, block_keys
from schemas.envelope import Source

if TYPE_CHECKING:  # the stores hold the waiting resellers
    from projections.stores import ChannelStores


@dataclass(frozen=True, slots=True)
class WaitingReseller:
    """An onboarded reseller the matcher left unmapped, normalised for matching, and its
    onboarding. Names stay out of `repr` (`PartyRecord`)."""

    distributor_id: str
    reseller_id: str
    record: PartyRecord
    onboarded_at: datetime
    #: when the onboarding was recorded: the masters known by then were its candidates
    recorded: datetime
    event_id: str
    source: Source

    def to_json(self) -> dict[str, Any]:
        record = self.record
        return {
            "d": self.distributor_id,
            "r": self.reseller_id,
            "rec": [record.party_id, record.name, record.country, record.postal,
                    record.address, record.tax_id, record.duns],
            "on": self.onboarded_at.isoformat(),
            "at": self.recorded.isoformat(),
            "ev": self.event_id,
            "src": self.source,
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WaitingReseller:
        return cls(
            data["d"], data["r"], PartyRecord(*data["rec"]),
            datetime.fromisoformat(data["on"]), datetime.fromisoformat(data["at"]),
            data["ev"], data["src"],
        )  # fmt: skip


def wait(stores: ChannelStores, waiting: WaitingReseller, config: BlockingConfig) -> None:
    """File the reseller under its block keys (in place of an earlier onboarding's); the
    distributor's mark starts at the onboarding when it had none."""
    filed = stores.waiting_resellers.get(_key(waiting.distributor_id, "", waiting.reseller_id))
    if filed == waiting:
        return
    if filed is not None:
        _unfile(stores, filed, config)
    for block in ("", *block_keys(waiting.record, config)):
        stores.waiting_resellers.put(
            _key(waiting.distributor_id, block, waiting.reseller_id), waiting
        )
    mark = stores.rematch_marks.get(waiting.distributor_id)
    if mark is None or mark < waiting.recorded:
        stores.rematch_marks.put(waiting.distributor_id, waiting.recorded)


def stop_waiting(
    stores: ChannelStores, distributor_id: str, reseller_id: str, config: BlockingConfig
) -> None:
    """The reseller is mapped (or a person decided): no master is matched with it again."""
    filed = stores.waiting_resellers.get(_key(distributor_id, "", reseller_id))
    if filed is not None:
        _unfile(stores, filed, config)


def _unfile(stores: ChannelStores, filed: WaitingReseller, config: BlockingConfig) -> None:
    for block in ("", *block_keys(filed.record, config)):
        stores.waiting_resellers.delete(_key(filed.distributor_id, block, filed.reseller_id))


def sharing_a_block(
    stores: ChannelStores, distributor_id: str, master: PartyRecord, config: BlockingConfig
) -> Iterator[WaitingReseller]:
    """The distributor's waiting resellers sharing a block key with the master, by reseller
    id; a rare-word block holding more than `max_block` of them is left out (as matching
    leaves out a common word)."""
    found: dict[str, WaitingReseller] = {}
    for block in block_keys(master, config):
        limit = config.max_block + 1 if block.startswith("w|") else None
        rows = list(islice(stores.waiting_resellers.scan(_key(distributor_id, block, "")), limit))
        if limit is not None and len(rows) > config.max_block:
            continue
        found.update((waiting.reseller_id, waiting) for _, waiting in rows)
    return (found[reseller_id] for reseller_id in sorted(found))


def _key(distributor_id: str, block: str, reseller_id: str) -> str:
    return f"{distributor_id}|{block}|{reseller_id}"
