"""The worker's `ChannelStores`: views over its state table (RocksDB per partition, with a
changelog), written a batch at a time (`WorkerStores.commit`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import faust

from projections.agreement_timeline import AgreementTimeline
from projections.alias_index import reindexed
from projections.claim_caps import CapAsk, CapLedger
from projections.claim_inputs import SHARED
from projections.claim_state import ClaimRecord
from projections.claims import Blocked, PosClaims, pos_from_json, pos_to_changelog
from projections.clock import Clock
from projections.dedup import SeenEntry
from projections.inventory import InventoryState, Move
from projections.inventory_aging import AgingState
from projections.keyvalue import DictStore, KeyValue
from projections.match_proposals import Proposal
from projections.party_aliases import AliasState
from projections.price_rules import FlagCounts, FlaggedSale
from projections.quality import DeadLetterCount, QualityState
from projections.rate_waits import RateWait, groups_json, groups_of
from projections.rebate_buckets import RebateBucket, RecordedMove
from projections.resellers import DayCount, ResellerState
from projections.rotation_state import ExpectedReturn, Reservations, RotationRecord
from projections.scorecard import Scorecard
from projections.stock_rotations import RotationLedger
from projections.stores import ChannelStores
from projections.submitted_reports import ReportLine, ReportState
from projections.tallies import InOut
from projections.waiting_resellers import WaitingReseller
from streams.config import Settings
from streams.kafka.io import kafka_partition_of
from streams.kafka.worker_topics import STATE_TABLE
from streams.runners.processing import Input
from streams.runners.readmodel_sink import Changes
from streams.worker.state import APPLYING, StateTable, View, Writes

#: the stores of reference data: in memory, replicated whole from their raw topics
#: (streams/kafka/reference.py), not in the state table
REFERENCE_STORES = (
    "products",
    "aliases",
    "prices",
    "programs",
    "closed_periods",
    "rates",
    "authorizations",
    "sku_authorizations",
    "reseller_authorizations",
    "masters",
    "customer_masters",
    "customer_authorizations",
)


class WorkerStores(ChannelStores):
    """ChannelStores over the worker's state table, written a batch at a time."""

    def __init__(self, app: faust.App, settings: Settings) -> None:
        self.table = state_table(app, settings)
        app.tables.add(self.table)
        super().__init__(**cast(Any, store_views(self.table, settings.partitions)))
        #: a worker holds some partitions only (docs/CLAIMS.md, "Wired in")
        self.every_distributor = False
        #: source "topic:partition" -> last offset whose effects are all on the broker
        self.progress: View[int] = View(self.table, "progress|", int, int, cached=True)
        #: source -> offsets [first, end) that hold nothing to deliver (`pass_over`)
        self.passed: dict[str, tuple[int, int]] = {}
        #: told (store, partition, key) of the history keys each batch stored
        self.on_stored: Callable[[str, int, str], None] | None = None

    def route_to(self, item: Input) -> None:
        """The input about to be applied: its partition is where the batch reads and writes
        (in this task only: see `streams.worker.state.APPLYING`)."""
        APPLYING.set(item.partition or 0)

    def reindex_aliases(self, partition: int) -> int:
        """Begin a batch in `partition` that makes its index of aliases by master equal to
        its aliases (`projections.alias_index.reindexed`); how many entries it writes (to
        `commit`, or `discard` when none)."""
        APPLYING.set(partition)
        return reindexed(self)

    def stored_progress(self, source: str) -> int | None:
        return self.progress.get(source)

    def next_offset(self, source: str) -> int:
        """The offset of the source's first input whose effects are not all stored."""
        stored = self.progress.get(source)
        offset = 0 if stored is None else stored + 1
        first, end = self.passed.get(source, (0, 0))
        return end if first <= offset < end else offset

    def pass_over(self, source: str, first: int, end: int) -> None:
        """Offsets [first, end) of the source hold nothing to deliver (transaction markers,
        aborted records: streams/worker/gaps.py): once every input before them is stored,
        so is every one before `end`. Known in memory only: a worker that does not know it
        finds it out again."""
        self.passed[source] = (first, end)

    def is_stored(self, item: Input) -> bool:
        """Whether every effect of the input is stored already: it is read again, at or
        below its partition's checkpoint (in the batch's partition: after `route_to`)."""
        return item.offset is not None and item.offset < self.next_offset(
            f"{item.source}:{item.partition}"
        )

    async def commit(self, inputs: Sequence[Input]) -> int:
        """Store the batch: its writes on the changelog first, then (once the broker has
        every one) how far each source's effects are stored, then both into the local
        databases. Returns how many values were written."""
        data: Writes = {}
        written = 0
        for view in self.table.views:
            if view is not self.progress:
                written += view.encoded(data)
                await asyncio.sleep(0)  # requests are answered while a batch is encoded
        offsets = await self.table.send(data)
        last: dict[tuple[str, int], int] = {}
        for item in inputs:
            if item.partition is not None and item.offset is not None:
                key = (item.source, item.partition)
                last[key] = max(last.get(key, -1), item.offset)
        for (topic, partition), offset in last.items():
            source = f"{topic}:{partition}"
            APPLYING.set(partition)
            if offset > self.next_offset(source) - 1:
                self.progress.put(source, offset)
        checkpoints: Writes = {}
        self.progress.encoded(checkpoints)
        for partition, offset in (await self.table.send(checkpoints)).items():
            offsets[partition] = max(offsets.get(partition, -1), offset)
        for partition, keyed in checkpoints.items():
            data.setdefault(partition, {}).update(keyed)
        self.table.write_local(data, offsets)
        if self.on_stored is not None:
            for name in Changes.STORES:
                for partition, changed in cast(View[Any], getattr(self, name)).pending_keys():
                    self.on_stored(name, partition, changed)
        for view in self.table.views:
            view.committed()
        APPLYING.set(None)
        return written

    def discard(self) -> None:
        """Forget a batch that could not be stored: nothing of it remains."""
        for view in self.table.views:
            view.discard()
        self.cap_outbox.sent.clear()
        self.cap_grants.clear()
        APPLYING.set(None)

    def readers(self, partitions: Iterable[int] | None = None) -> ChannelStores:
        """The committed state for another thread: views that read the databases alone (of
        the given partitions, or of every one held), and copies of the reference data
        (which the agent and the replica change)."""
        views = {
            name: value.reader(partitions) if isinstance(value, View) else value
            for name, value in vars(self).items()
            if name in ChannelStores.__dataclass_fields__
        }
        for name in REFERENCE_STORES:
            views[name] = copied(getattr(self, name))
        return ChannelStores(**cast(Any, views))


def state_table(app: faust.App, settings: Settings) -> StateTable:
    """The worker's one state table: RocksDB per partition, with its changelog."""
    mib = 1024 * 1024
    return StateTable(
        app=app,
        name=STATE_TABLE,
        partitions=settings.partitions,
        key_type=bytes,
        value_type=bytes,
        options={
            "driver": "rocksdict",
            "write_buffer_size": settings.state_write_buffer_mb * mib,
            "max_write_buffer_number": 2,
            "block_cache_size": settings.state_cache_mb * mib,
        },
        beacon=app.tables.beacon,
    )


@dataclass(frozen=True)
class StoreLayout:
    """Where one store of `ChannelStores` lives in the state table, and how it is stored."""

    prefix: str
    decode: Callable[[Any], Any]
    #: a value as the changelog keeps it, for `orjson.dumps` (which writes datetimes and
    #: UUIDs itself: the POS lines' and flagged sales' are left to it)
    encode: Callable[[Any], Any]
    #: bounded by the channel's entities: held decoded in memory
    cached: bool = False
    #: the partition a key lives in (None: keys without a distributor first: every one)
    partition_of: Callable[[str], int] | None = None
    #: written once, mostly: sent to the changelog in packs
    packed: bool = False


def store_layouts(partitions: int) -> dict[str, StoreLayout]:
    """Every store of `ChannelStores` kept in the state table, by name."""

    def distributor_first(key: str) -> int:
        return kafka_partition_of(key.split("|", 1)[0], partitions)

    def distributor_second(key: str) -> int:  # seen keys: "sale|D01|T1", ...
        return kafka_partition_of(key.split("|", 2)[1], partitions)

    def ledger_partition(key: str) -> int:  # "D01|A1"; a shared cap's "*|A1": A1's partition
        owner, authorization_id = key.split("|", 1)
        return kafka_partition_of(authorization_id if owner == SHARED else owner, partitions)

    def entity(prefix: str, kind: Any) -> StoreLayout:
        return StoreLayout(prefix, kind.from_json, kind.to_json, True, distributor_first)

    def history(prefix: str, kind: Any) -> StoreLayout:
        return StoreLayout(prefix, kind.from_json, kind.to_json, False, distributor_first, True)

    def flagged(prefix: str) -> StoreLayout:  # its time left to orjson: the same text
        return StoreLayout(
            prefix, FlaggedSale.from_json, FlaggedSale.to_changelog, False, distributor_first, True
        )

    def scoped(prefix: str, kind: Any) -> StoreLayout:  # keys without a distributor first
        return StoreLayout(prefix, kind.from_json, kind.to_json, cached=True)

    return dict(
        inventory=entity("inv|", InventoryState),
        aging=entity("age|", AgingState),
        quality=entity("q|", QualityState),
        dead_letters=scoped("dl|", DeadLetterCount),
        periods=entity("per|", InOut),
        resellers=entity("rs|", ResellerState),
        reports=entity("rep|", ReportState),
        flag_counts=entity("fc|", FlagCounts),
        scorecards=entity("sc|", Scorecard),
        clock=scoped("clock|", Clock),
        agreements=entity("agr|", AgreementTimeline),
        party_aliases=StoreLayout(
            "pa|", AliasState.from_json, AliasState.to_json, True, distributor_second
        ),
        master_aliases=StoreLayout("ma|", str, str, False, distributor_second),
        customer_aliases=StoreLayout(
            "ca|", AliasState.from_json, AliasState.to_json, True, distributor_second
        ),
        customer_master_aliases=StoreLayout("cma|", str, str, False, distributor_second),
        match_proposals=entity("mp|", Proposal),
        waiting_resellers=StoreLayout(
            "wr|", WaitingReseller.from_json, WaitingReseller.to_json, False, distributor_first
        ),
        rematch_marks=StoreLayout(
            "rmk|", datetime.fromisoformat, datetime.isoformat, True, distributor_first
        ),
        rate_waits=StoreLayout(
            "rwt|", RateWait.from_json, RateWait.to_json, False, distributor_first
        ),
        rate_wait_days=StoreLayout("rwd|", groups_of, groups_json, True, distributor_first),
        seen=StoreLayout(
            "seen|", SeenEntry.from_json, SeenEntry.to_json, False, distributor_second, True
        ),
        moves=history("mv|", Move),
        day_totals=history("day|", InOut),
        rebate_buckets=history("rb|", RebateBucket),
        rebate_days=history("rbd|", RebateBucket),
        recorded_moves=history("rec|", RecordedMove),
        violations=flagged("v|"),
        violations_by_severity=StoreLayout("vs|", str, str, False, distributor_first, True),
        unpriced=flagged("u|"),
        report_lines=history("rl|", ReportLine),
        reseller_days=history("rd|", DayCount),
        rotation_reserved=entity("rot-res|", Reservations),
        rotation_returns=StoreLayout(
            "rot-ret|", ExpectedReturn.from_json, ExpectedReturn.to_json, False, distributor_first
        ),
        rotations=StoreLayout(
            "rot|", RotationRecord.from_json, RotationRecord.to_json, False, distributor_first
        ),
        rotation_ledgers=StoreLayout(
            "rot-led|", RotationLedger.from_json, RotationLedger.to_json, False, distributor_first
        ),
        pos_lines=StoreLayout(
            "pos|", pos_from_json, pos_to_changelog, False, distributor_second, True
        ),
        pos_claims=StoreLayout(
            "posc|", PosClaims.from_json, PosClaims.to_json, False, distributor_second
        ),
        claims_blocked=entity("clb|", Blocked),
        claims_pending=StoreLayout("clp|", bool, bool, False, distributor_first),
        cap_ledgers=StoreLayout(
            "cap|", CapLedger.from_json, CapLedger.to_json, False, ledger_partition
        ),
        cap_asks=StoreLayout("capa|", CapAsk.from_json, CapAsk.to_json, False, distributor_first),
        claims=StoreLayout(
            "clm|", ClaimRecord.from_json, ClaimRecord.to_json, False, distributor_first
        ),
    )


def store_views(table: StateTable, partitions: int) -> dict[str, View[Any]]:
    """Every store of `ChannelStores` as a view of the table, by name."""
    return {
        name: View(table, at.prefix, at.decode, at.encode, at.cached, at.partition_of, at.packed)
        for name, at in store_layouts(partitions).items()
    }


def copied(store: KeyValue[Any]) -> DictStore[Any]:
    copy: DictStore[Any] = DictStore()
    for key, value in list(store.scan()):
        copy.put(key, value)
    return copy
