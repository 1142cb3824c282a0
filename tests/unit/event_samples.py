"""One valid event of every type, as the wire carries it, and helpers to send it changed."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from schemas.codec import InvalidEvent, decode_event

EVENT_ID = "0b7d6a0e-1c7c-4e6b-9f0a-3d1f2c9a8e11"
WHEN = "2026-07-07T15:04:05Z"


def envelope(event_type: str, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": EVENT_ID,
        "event_type": event_type,
        "schema_version": 1,
        "occurred_at": WHEN,
        "recorded_at": "2026-07-07T15:05:00Z",
        "source": "api",
        **fields,
    }


SAMPLES: dict[str, dict[str, Any]] = {
    "ShipmentRecorded": envelope(
        "ShipmentRecorded",
        source="erp",
        shipment_id="SH-000001",
        distributor_id="D01",
        sku="SKU-0001",
        quantity=-12,
        unit="EA",
        unit_price="101.25",
        currency="USD",
        shipped_at=WHEN,
    ),
    "SaleReported": envelope(
        "SaleReported",
        distributor_id="D01",
        transaction_id="D01-T000123",
        reseller_id="D01-R001",
        end_customer="EC-0042",
        sku="SKU-0001",
        quantity=3,
        unit_price="129.90",
        currency="USD",
        sold_at=WHEN,
        report_id="D01-2026W28",
    ),
    "InventoryCounted": envelope(
        "InventoryCounted",
        source="edi852",
        distributor_id="D01",
        sku="SKU-0001",
        on_hand=40,
        counted_at="2026-07-12T23:00:00Z",
    ),
    "PriceChanged": envelope(
        "PriceChanged",
        source="erp",
        sku="SKU-0001",
        distributor_cost="100.00",
        floor_price="120.000001",
        currency="USD",
        effective_from="2026-07-01T00:00:00Z",
        distributor_id="D02",
        reseller_id="D02-R007",
    ),
    "RebatePeriodClosed": envelope(
        "RebatePeriodClosed",
        source="erp",
        program_id="VPA-1",
        period="2026-Q3",
        closed_at="2026-10-15T00:00:00Z",
        closed_by="finance-carol",
    ),
    "RebateProgramDefined": envelope(
        "RebateProgramDefined",
        source="erp",
        program_id="VPA-1",
        distributor_ids=["D01", "D02"],
        basis="sell_through",
        measure="revenue",
        period="quarter",
        tiers=[{"threshold": "0", "rate": "0"}, {"threshold": "100000", "rate": "0.02"}],
        tier_mode="retroactive",
        minimum_commitment="50000",
        growth_baseline="10000.50",
        skus=["SKU-0001"],
        currency="USD",
    ),
    "ResellerOnboarded": envelope(
        "ResellerOnboarded",
        distributor_id="D01",
        reseller_id="D01-R001",
        name="Austin Tech 001",
        onboarded_at=WHEN,
    ),
    "ProductDefined": envelope(
        "ProductDefined",
        source="erp",
        sku="SKU-0001",
        description="Rugged Router",
        base_unit="EA",
        unit_conversions={"CA": 12},
        identifiers={"upc": "036000291452", "vendor_part": "VP-0001"},
    ),
    "ReportSubmitted": envelope(
        "ReportSubmitted",
        distributor_id="D01",
        report_id="D01-2026W28",
        period_start="2026-07-06",
        period_end="2026-07-12",
        line_count=0,
        submitted_at="2026-07-14T09:00:00Z",
        replaces_report_id="D01-2026W28-a",
    ),
    "LineRejected": envelope(
        "LineRejected",
        source="csv",
        source_ref="weekly.csv:42",
        distributor_id="D01",
        reason="schema_violation",
        detail="quantity: not an integer ('twelve')",
        original_b64="RDAxLFQtOTksUjAxLFNLVS0xLHR3ZWx2ZQ==",
        report_id="D01-2026W28",
    ),
    "DistributorTargetsSet": envelope(
        "DistributorTargetsSet",
        source="erp",
        distributor_id="D01",
        period="2026-Q3",
        sell_through_revenue="250000.00",
        currency="USD",
        reseller_population=40,
        weeks_of_supply_min="4.0",
        weeks_of_supply_max="8.0",
        set_by="channel-ann",
        set_at=WHEN,
    ),
    "DistributorAgreementSigned": envelope(
        "DistributorAgreementSigned",
        source="erp",
        agreement_id="AG-D01-2026",
        distributor_id="D01",
        signed_at=WHEN,
        term_start="2026-07-01",
        term_end="2027-06-30",
        currency="USD",
        program_ids=["VPA-2026"],
        price_lists=[],
        product_groups=[{"group_id": "G-NET", "skus": ["SKU-0001", "SKU-0002"]}],
        discounts=[{"group_id": "G-NET", "discount": "0.05"}],
        commitments=[
            {"period": "quarter", "basis": "sell_in", "measure": "units", "minimum": "1000"}
        ],
        inventory={
            "stocking_targets": [{"group_id": "G-NET", "max_weeks_of_supply": "6"}],
            "max_age_days": 90,
            "rotation_allowance": "0.10",
            "rotation_period": "quarter",
            "rotation_min_age_days": 60,
            "rotation_requires_exchange": False,
        },
        reporting={"frequency": "monthly", "due_day": 10, "grace_days": 2},
    ),
    "DistributorAgreementAmended": envelope(
        "DistributorAgreementAmended",
        source="erp",
        agreement_id="AG-D01-2026",
        distributor_id="D01",
        amendment_id="M1",
        amended_at=WHEN,
        effective_from="2026-08-01",
        discounts=[{"group_id": "G-NET", "discount": "0.07"}],
    ),
    "DistributorAgreementTerminated": envelope(
        "DistributorAgreementTerminated",
        source="erp",
        agreement_id="AG-D01-2026",
        distributor_id="D01",
        terminated_at=WHEN,
        last_day="2026-12-31",
        reason="distributor acquired",
    ),
    "ExchangeRatePublished": envelope(
        "ExchangeRatePublished",
        source="erp",
        from_currency="EUR",
        to_currency="USD",
        rate="1.0842",
        effective_date="2026-07-06",
        rate_source="ECB",
        published_at=WHEN,
    ),
    "SpecialPriceAuthorized": envelope(
        "SpecialPriceAuthorized",
        source="erp",
        authorization_id="SPA-2026-0117",
        distributor_ids=["D01"],
        skus=["SKU-0001"],
        reseller_id="D01-R001",
        authorized_cost="88.00",
        floor_price="95.00",
        valid_from="2026-07-01",
        valid_to="2026-09-30",
        quantity_cap=500,
        currency="USD",
    ),
    "SpecialPriceAmended": envelope(
        "SpecialPriceAmended",
        source="erp",
        authorization_id="SPA-2026-0117",
        amendment_id="SPA-2026-0117-A1",
        quantity_cap=800,
    ),
    "SpecialPriceExpired": envelope(
        "SpecialPriceExpired",
        source="erp",
        authorization_id="SPA-2026-0117",
        last_valid_date="2026-08-31",
        reason="the deal was lost",
    ),
    "DebitClaimSubmitted": envelope(
        "DebitClaimSubmitted",
        claim_id="DB-2026-0420",
        distributor_id="D01",
        submitted_at=WHEN,
        lines=[
            {
                "line_no": 1,
                "transaction_id": "D01-T000294",
                "sku": "SKU-0001",
                "quantity": 10,
                "authorization_id": "SPA-2026-0117",
                "cost_paid": "92.00",
                "authorized_cost": "88.00",
                "amount_claimed": "40.00",
                "currency": "USD",
            }
        ],
    ),
    "StockRotationRequested": envelope(
        "StockRotationRequested",
        request_id="ROT-2026-07-1",
        distributor_id="D01",
        requested_at=WHEN,
        returns=[{"sku": "SKU-0001", "quantity": 40}],
        orders=[{"sku": "SKU-0002", "quantity": 20}],
        note="slow mover",
    ),
    "StockRotationCancelled": envelope(
        "StockRotationCancelled",
        request_id="ROT-2026-07-1",
        distributor_id="D01",
        cancelled_at=WHEN,
        cancelled_by="d01-user",
        role="distributor",
        reason="the reseller took the stock after all",
    ),
    "ResellerRegistered": envelope(
        "ResellerRegistered",
        source="erp",
        master_id="M-ACME",
        legal_name="Acme Tools, Inc.",
        tax_id="US-12-3456789",
        country="US",
        postal_code="94105",
        address="1 Market Street",
        registered_at=WHEN,
    ),
    "ResellerAliasMapped": envelope(
        "ResellerAliasMapped",
        source="erp",
        distributor_id="D01",
        alias_id="D01-R001",
        master_id="M-ACME",
        changed_by="ops-ana",
        reason="same tax id on the onboarding form",
        changed_at=WHEN,
        automatic=True,
        score="100.00",
    ),
    "ResellerAliasUnmapped": envelope(
        "ResellerAliasUnmapped",
        source="erp",
        distributor_id="D01",
        name="ACME TOOLS LLC",
        postal_code="94105-1804",
        country="US",
        master_id="M-ACME",
        changed_by="ops-ana",
        reason="a different shop at the same ZIP",
        changed_at=WHEN,
    ),
    "ResellerMatchRejected": envelope(
        "ResellerMatchRejected",
        source="api",
        distributor_id="D01",
        alias_id="D01-R002",
        changed_by="ops-ana",
        reason="another shop of the same owner",
        changed_at=WHEN,
    ),
    "ResellerMatchProposed": envelope(
        "ResellerMatchProposed",
        source="api",
        distributor_id="D01",
        alias_id="D01-R003",
        candidates=[
            {
                "master_id": "M-ACME",
                "score": "88.03",
                "reasons": ["name 94.74", "postal 50 (same postal area)", "no address to compare"],
            },
        ],
        proposed_by="matcher",
        reason="bulk match of resellers.csv",
        proposed_at=WHEN,
    ),
}


def raw(data: dict[str, Any]) -> bytes:
    return orjson.dumps(data)


def rejected(data: dict[str, Any] | bytes) -> InvalidEvent:
    with pytest.raises(InvalidEvent) as caught:
        decode_event(data if isinstance(data, bytes) else raw(data))
    return caught.value


def sale(**changes: Any) -> dict[str, Any]:
    return {**SAMPLES["SaleReported"], **changes}
