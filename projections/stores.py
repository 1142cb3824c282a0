"""Every store the channel projection reads and writes, by name.

Stores keyed by distributor (each key starts with its distributor_id, so it lives in
that distributor's partition) and reference data every worker holds whole (catalog,
prices, programs, period closes, exchange rates, reseller masters). Some stores are bounded by the
channel's entities (distributors, SKUs, resellers, programs) and are read whole; the
others keep history (lines, days, violations) and are only ever read by key or by a
prefix range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.claim_rules import PosLine
from domain.frozen import quick_init
from domain.rebates import ProgramTerms
from projections.agreement_timeline import AgreementTimeline
from projections.authorizations import AuthorizationState
from projections.catalog import IdentifierAlias, Product
from projections.claim_caps import CapAsk, CapGrant, CapLedger
from projections.claim_phases import Outbox
from projections.claim_state import ClaimRecord
from projections.claims import Blocked, PosClaims
from projections.clock import Clock
from projections.dedup import SeenEntry
from projections.exchange_rates import RateMonth
from projections.inventory import InventoryState, Move
from projections.inventory_aging import AgingState
from projections.keyvalue import DictStore, KeyValue, NotedSet
from projections.match_proposals import Proposal
from projections.party_aliases import AliasState, MasterState
from projections.party_index import IndexedMasters
from projections.price_book import PriceHistory
from projections.price_rules import FlagCounts, FlaggedSale
from projections.quality import DeadLetterCount, QualityState
from projections.rate_waits import Groups, RateWait
from projections.rebate_accruals import ClosedPeriod, RebateSources
from projections.rebate_buckets import RebateBucket, RecordedMove
from projections.resellers import DayCount, ResellerState
from projections.rotation_state import ExpectedReturn, Reservations, RotationRecord
from projections.scorecard import Scorecard
from projections.stock_rotations import RotationLedger
from projections.submitted_reports import ReportLine, ReportState
from projections.tallies import InOut
from projections.waiting_resellers import WaitingReseller
from schemas.parties import PartyKind


@quick_init  # one per sale line (its reseller's master: `identity_inputs.master_of`)
@dataclass(frozen=True, slots=True)
class PartyStores:
    """What identity keeps of one kind of party (docs/IDENTITY.md): its masters, its aliases
    by alias key, the aliases by the master each means, the authorizations naming each."""

    kind: PartyKind
    masters: KeyValue[MasterState]
    aliases: KeyValue[AliasState]
    by_master: KeyValue[str]
    authorizations: KeyValue[tuple[str, ...]]


@dataclass
class ChannelStores:
    # --- bounded by the channel's entities (read whole) ---------------------------------
    #: (distributor, sku) -> totals, last count, recent days
    inventory: KeyValue[InventoryState] = field(default_factory=DictStore)
    #: (distributor, sku) -> receipts by day, for inventory aging (at most a year of days)
    aging: KeyValue[AgingState] = field(default_factory=DictStore)
    quality: KeyValue[QualityState] = field(default_factory=DictStore)
    dead_letters: KeyValue[DeadLetterCount] = field(default_factory=DictStore)
    #: distributor|granularity|period -> sell-in and sell-through
    periods: KeyValue[InOut] = field(default_factory=DictStore)
    #: the reseller network, by distributor_id|reseller_id
    resellers: KeyValue[ResellerState] = field(default_factory=DictStore)
    #: submitted reports, by distributor_id|report_id
    reports: KeyValue[ReportState] = field(default_factory=DictStore)
    #: violations by severity and unpriced lines, by distributor_id
    flag_counts: KeyValue[FlagCounts] = field(default_factory=DictStore)
    #: the distributor scorecard, by distributor_id|period (a month and a quarter)
    scorecards: KeyValue[Scorecard] = field(default_factory=DictStore)
    #: the latest recorded time applied, per partition ("" outside a worker)
    clock: KeyValue[Clock] = field(default_factory=DictStore)
    #: each distributor's agreement versions and terminations, by distributor_id
    agreements: KeyValue[AgreementTimeline] = field(default_factory=DictStore)
    #: per sku, the units accepted rotations still expect back, by distributor_id
    rotation_reserved: KeyValue[Reservations] = field(default_factory=DictStore)
    #: each reseller alias and the master it means, by alias key: "id|distributor|alias_id"
    #: or "na|distributor|digest" (projections/party_aliases.py; the distributor comes second)
    party_aliases: KeyValue[AliasState] = field(default_factory=DictStore)
    #: the aliases by the master each means now: master_id|distributor|kind|own -> the
    #: alias's name (projections/alias_index.py; the distributor comes second)
    master_aliases: KeyValue[str] = field(default_factory=DictStore)
    #: each end-customer alias and the master it means, by alias key: "ci|distributor|id"
    #: or "cn|distributor|digest" (as `party_aliases`; `party("end_customer")`)
    customer_aliases: KeyValue[AliasState] = field(default_factory=DictStore)
    #: the end-customer aliases by the master each means now (as `master_aliases`)
    customer_master_aliases: KeyValue[str] = field(default_factory=DictStore)
    #: the match queue: proposals of a distributor's reseller ids, by distributor|alias_id
    #: (projections/match_proposals.py)
    match_proposals: KeyValue[Proposal] = field(default_factory=DictStore)
    #: onboarded resellers the matcher left unmapped, by distributor|block key|reseller_id
    #: (and distributor||reseller_id), for masters registered later (projections/rematch.py)
    waiting_resellers: KeyValue[WaitingReseller] = field(default_factory=DictStore)
    #: up to which recorded time a distributor's waiting resellers were re-matched
    rematch_marks: KeyValue[datetime] = field(default_factory=DictStore)
    #: sales judged before their floor's rate, by distributor|FROM>TO|day|transaction_id
    #: (projections/rate_waits.py)
    rate_waits: KeyValue[RateWait] = field(default_factory=DictStore)
    #: a distributor's (pair, day) groups of waiting sales -> how many wait in each, and
    #: the earliest time one of them was recorded
    rate_wait_days: KeyValue[Groups] = field(default_factory=DictStore)
    # --- reference data, replicated whole into every worker -----------------------------
    products: KeyValue[Product] = field(default_factory=DictStore)
    aliases: KeyValue[IdentifierAlias] = field(default_factory=DictStore)
    prices: KeyValue[PriceHistory] = field(default_factory=DictStore)
    programs: KeyValue[ProgramTerms] = field(default_factory=DictStore)
    closed_periods: KeyValue[ClosedPeriod] = field(default_factory=DictStore)
    #: exchange rates, by "FROM>TO|month" (projections/exchange_rates.py)
    rates: KeyValue[RateMonth] = field(default_factory=DictStore)
    #: special price authorizations, by authorization_id (their terms as they stand)
    authorizations: KeyValue[AuthorizationState] = field(default_factory=DictStore)
    #: sku -> the ids of the authorizations naming it (what pricing looks a sale up in)
    sku_authorizations: KeyValue[tuple[str, ...]] = field(default_factory=DictStore)
    #: reseller id (an alias's or a master's) -> the ids of the authorizations naming it
    #: (what an alias's unmapping looks up: `projections.identity_inputs`)
    reseller_authorizations: KeyValue[tuple[str, ...]] = field(default_factory=DictStore)
    #: reseller masters (`ResellerRegistered`), by master_id
    masters: KeyValue[MasterState] = field(default_factory=IndexedMasters)
    #: end-customer masters (`EndCustomerRegistered`, names sealed), by master_id
    customer_masters: KeyValue[MasterState] = field(default_factory=DictStore)
    #: end customer id (an alias's or a master's) -> the ids of the authorizations naming it
    customer_authorizations: KeyValue[tuple[str, ...]] = field(default_factory=DictStore)
    # --- history: read by key or prefix range only --------------------------------------
    #: idempotency keys of lines and reports, and replacement notes
    seen: KeyValue[SeenEntry] = field(default_factory=DictStore)
    #: every movement, by distributor|sku|day|time|event_id
    moves: KeyValue[Move] = field(default_factory=DictStore)
    #: distributor|sku|day -> that day's sell-in and sell-through
    day_totals: KeyValue[InOut] = field(default_factory=DictStore)
    #: distributor|basis|sku-or-""|quarter -> qualifying tallies (projections/rebate_buckets.py)
    rebate_buckets: KeyValue[RebateBucket] = field(default_factory=DictStore)
    #: distributor|basis|sku-or-""|day -> the same tallies by business day
    rebate_days: KeyValue[RebateBucket] = field(default_factory=DictStore)
    #: every movement by when it was recorded: distributor|basis|quarter|recorded|event_id
    recorded_moves: KeyValue[RecordedMove] = field(default_factory=DictStore)
    #: violations, by distributor_id|transaction_id
    violations: KeyValue[FlaggedSale] = field(default_factory=DictStore)
    #: distributor_id|severity|transaction_id -> the violation's sku (a severity's list)
    violations_by_severity: KeyValue[str] = field(default_factory=DictStore)
    #: unpriced sale lines, by distributor_id|transaction_id
    unpriced: KeyValue[FlaggedSale] = field(default_factory=DictStore)
    #: each reported line, by distributor_id|report_id|event_id (what a replacement reverses)
    report_lines: KeyValue[ReportLine] = field(default_factory=DictStore)
    #: distributor_id|reseller_id|day -> sale lines that day
    reseller_days: KeyValue[DayCount] = field(default_factory=DictStore)
    #: stock rotation requests as decided, by distributor_id|request_id
    rotations: KeyValue[RotationRecord] = field(default_factory=DictStore)
    #: accepted rotations' returns still awaited, by distributor_id|shipment_id
    rotation_returns: KeyValue[ExpectedReturn] = field(default_factory=DictStore)
    #: the rotation allowance used, by distributor_id|rotation period
    rotation_ledgers: KeyValue[RotationLedger] = field(default_factory=DictStore)
    # --- ship-and-debit claims (docs/CLAIMS.md), keyed by distributor ------------------
    #: each accepted sale line as a claim line is checked against it, by sale key
    #: ("sale|distributor_id|transaction_id": the distributor comes second)
    pos_lines: KeyValue[PosLine] = field(default_factory=DictStore)
    #: the claim lines holding, awaiting or waiting for each POS line, by sale key
    pos_claims: KeyValue[PosClaims] = field(default_factory=DictStore)
    #: a distributor's claim lines held back behind one awaiting its cap's grant
    claims_blocked: KeyValue[Blocked] = field(default_factory=DictStore)
    #: distributor_id|recorded day|sale key while a line recorded that day waits for that
    #: POS line (projections/pending_claims.py)
    claims_pending: KeyValue[bool] = field(default_factory=DictStore)
    #: each authorization's cap ledger, by `projections.claim_inputs.ledger_key`
    cap_ledgers: KeyValue[CapLedger] = field(default_factory=DictStore)
    #: what a shared cap's ledger answered each line asking against each POS line, by
    #: `projections.claim_caps.ask_key` (a request or release sent again counts once)
    cap_asks: KeyValue[CapAsk] = field(default_factory=DictStore)
    #: each claim and its lines as decided, by distributor_id|claim_id
    claims: KeyValue[ClaimRecord] = field(default_factory=DictStore)
    #: whether this process applies every distributor's claims (the embedded runner, a
    #: replay in one process), so it may count a cap that several distributors share; a
    #: worker or a replay job holds some partitions only (docs/CLAIMS.md, "Wired in")
    every_distributor: bool = True
    #: where every distributor is not: the requests and releases of shared caps for the
    #: `claim-caps` topic, and the grants of the ledgers here for `claim-grants`, sent
    #: with the batch that made them (docs/CLAIMS.md, "The cap, in a worker")
    cap_outbox: Outbox = field(default_factory=Outbox)
    cap_grants: list[CapGrant] = field(default_factory=list)
    #: as-of replays only: reports submitted after the cut (distributor_id|report_id),
    #: whose lines are left out with them (a failed input's taken out again)
    reports_after_cut: NotedSet = field(default_factory=NotedSet)
    #: not stored, one message's at most: the distributor, recorded time and wait at which
    #: `projections.claim_inputs.expire_due` last left no claim line due, while no POS
    #: line's claims were written since (a second call there would find none either)
    claims_checked: tuple[str, datetime, timedelta] | None = None

    def party(self, kind: PartyKind) -> PartyStores:
        """The stores of one kind of party: resellers or end customers."""
        if kind == "reseller":
            return PartyStores(
                kind, self.masters, self.party_aliases, self.master_aliases,
                self.reseller_authorizations,
            )  # fmt: skip
        return PartyStores(
            kind, self.customer_masters, self.customer_aliases, self.customer_master_aliases,
            self.customer_authorizations,
        )  # fmt: skip

    def rebate_sources(self) -> RebateSources:
        """What a rebate program's figures are read from."""
        return RebateSources(self.rebate_buckets, self.rebate_days, self.rates, self.agreements)
