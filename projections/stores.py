"""Every store the channel projection reads and writes, by name."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.rebates import ProgramTerms
from projections.catalog import IdentifierAlias, Product
from projections.dedup import SeenEntry
from projections.inventory import DayDetail, InventoryState
from projections.keyvalue import DictStore, KeyValue
from projections.prices import PriceHistory
from projections.pricing import FlaggedSale
from projections.quality import DeadLetterCount, QualityState
from projections.rebate_accruals import ClosedPeriod
from projections.reports import ReportState
from projections.resellers import ResellerState


@dataclass
class ChannelStores:
    """Stores keyed by distributor (owned by one partition) and reference data every
    worker holds whole (catalog, prices, programs, period closes)."""

    seen: KeyValue[SeenEntry] = field(default_factory=DictStore)
    inventory: KeyValue[InventoryState] = field(default_factory=DictStore)
    inventory_days: KeyValue[DayDetail] = field(default_factory=DictStore)
    quality: KeyValue[QualityState] = field(default_factory=DictStore)
    dead_letters: KeyValue[DeadLetterCount] = field(default_factory=DictStore)
    products: KeyValue[Product] = field(default_factory=DictStore)
    aliases: KeyValue[IdentifierAlias] = field(default_factory=DictStore)
    prices: KeyValue[PriceHistory] = field(default_factory=DictStore)
    programs: KeyValue[ProgramTerms] = field(default_factory=DictStore)
    closed_periods: KeyValue[ClosedPeriod] = field(default_factory=DictStore)
    #: violations and unpriced sale lines, by sale key (distributor_id|transaction_id)
    flagged: KeyValue[FlaggedSale] = field(default_factory=DictStore)
    #: submitted reports, by distributor_id|report_id
    reports: KeyValue[ReportState] = field(default_factory=DictStore)
    #: the reseller network, by distributor_id|reseller_id
    resellers: KeyValue[ResellerState] = field(default_factory=DictStore)
    #: as-of replays only: reports submitted after the cut (distributor_id|report_id),
    #: whose lines are left out with them
    reports_after_cut: set[str] = field(default_factory=set)
