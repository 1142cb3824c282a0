"""The rows the projections answer: one pydantic model per row kind, the single declaration
(one module per resource; what they are made of in `base.py`).

A row is the JSON the API and the snapshot answer (money as decimal strings, times as ISO
8601 UTC with a `Z`, dates as ISO dates) and what a read-model table holds. From each model
are derived: the OpenAPI component schema (`streams/api/openapi.py`), the read-model
columns with their SQL types, keys and comments (`infra/readmodel_tables.py`), and which fields a
row carries (tests compare every row answered with its model).

The row builders (`projections/`) still build plain dicts: rows are never validated through
these models on the hot paths; a model only declares.
"""

from __future__ import annotations

from schemas.rows.agreements import (
    AgreementRow,
    AuthorizationRow,
    AuthorizationUsageRow,
    CommitmentRow,
    ExchangeRateRow,
    ObligationRow,
    UnconvertedAmount,
)
from schemas.rows.base import RowModel
from schemas.rows.catalog import ProductRow
from schemas.rows.claims import ClaimLineRow, ClaimRow
from schemas.rows.identity import (
    CustomerMasterRow,
    CustomerMasterWithAliasesRow,
    MappingStepRow,
    MasterRow,
    MasterWithAliasesRow,
    PartyAliasRow,
    ProposalRow,
    ProposedMasterRow,
)
from schemas.rows.inventory import (
    AgingRow,
    ChannelInventory,
    InventoryRow,
    InventorySummaryRow,
    SellThroughRow,
    SkuBrief,
)
from schemas.rows.pricing import (
    PriceProtectionRow,
    PriceRow,
    SeverityCount,
    UnpricedRow,
    ViolationRow,
)
from schemas.rows.rebates import RebateRow
from schemas.rows.reporting import (
    CompliancePeriod,
    DeadLetterLine,
    DeadLetterRow,
    QualityRow,
    ReportRow,
)
from schemas.rows.resellers import ResellerGrowthRow, ResellerNetworkRow, TopResellerRow
from schemas.rows.rotations import RotationRow
from schemas.rows.scorecard import ScorecardCard, ScorecardRebate, ScorecardRow

#: the snapshot's sections, in order, and the model of their rows
SNAPSHOT_SECTIONS: dict[str, type[RowModel]] = {
    "inventory": InventoryRow,
    "inventory_aging": AgingRow,
    "sell_in_vs_through": SellThroughRow,
    "violations": ViolationRow,
    "unpriced": UnpricedRow,
    "price_protection": PriceProtectionRow,
    "rebates": RebateRow,
    "resellers": ResellerNetworkRow,
    "reports": ReportRow,
    "agreements": AgreementRow,
    "commitments": CommitmentRow,
    "rotations": RotationRow,
    "claims": ClaimLineRow,
    "quality": QualityRow,
    "dead_letters": DeadLetterRow,
    "scorecards": ScorecardCard,
    "masters": MasterRow,
    "party_aliases": PartyAliasRow,
    "match_proposals": ProposalRow,
    "customer_masters": CustomerMasterRow,
    "customer_aliases": PartyAliasRow,
}

#: every row model the API documents, by component name
ROW_MODELS: tuple[type[RowModel], ...] = (
    InventoryRow,
    InventorySummaryRow,
    ChannelInventory,
    SkuBrief,
    SellThroughRow,
    QualityRow,
    DeadLetterRow,
    DeadLetterLine,
    ProductRow,
    ViolationRow,
    SeverityCount,
    RebateRow,
    PriceRow,
    UnpricedRow,
    PriceProtectionRow,
    ResellerNetworkRow,
    ResellerGrowthRow,
    TopResellerRow,
    ReportRow,
    CompliancePeriod,
    AgreementRow,
    ExchangeRateRow,
    ObligationRow,
    AuthorizationRow,
    AuthorizationUsageRow,
    CommitmentRow,
    UnconvertedAmount,
    AgingRow,
    RotationRow,
    ClaimLineRow,
    ClaimRow,
    ScorecardRow,
    ScorecardCard,
    ScorecardRebate,
    MasterRow,
    MasterWithAliasesRow,
    CustomerMasterRow,
    CustomerMasterWithAliasesRow,
    PartyAliasRow,
    MappingStepRow,
    ProposalRow,
    ProposedMasterRow,
)
