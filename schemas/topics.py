"""Topic names and partitioning keys: part of the wire contract for producers."""

from __future__ import annotations

from typing import Final

#: logical topic -> event types it carries
RAW_TOPICS: Final[dict[str, tuple[str, ...]]] = {
    "shipments": ("ShipmentRecorded",),
    # a report's header travels with its lines, so a replacement is seen before its new lines
    "sales": ("SaleReported", "ReportSubmitted"),
    "inventory": ("InventoryCounted",),
    "prices": ("PriceChanged",),
    "programs": ("RebateProgramDefined", "RebatePeriodClosed"),
    "resellers": ("ResellerOnboarded",),
    "products": ("ProductDefined",),
    "rejections": ("LineRejected",),
    "agreements": (
        "DistributorAgreementSigned",
        "DistributorAgreementAmended",
        "DistributorAgreementTerminated",
    ),
    "rates": ("ExchangeRatePublished",),
    # keyed by distributor: the targets live in the partition of the cards they set
    "targets": ("DistributorTargetsSet",),
    # keyed by authorization: its amendments and expiry follow it in order
    "authorizations": ("SpecialPriceAuthorized", "SpecialPriceAmended", "SpecialPriceExpired"),
    # keyed by distributor: a request is decided in the partition of its stock and ledger
    "rotations": ("StockRotationRequested", "StockRotationCancelled"),
    # keyed by distributor: a claim is decided in the partition of the POS lines it names
    "claims": ("DebitClaimSubmitted",),
    # keyed by distributor: the map and unmap of one alias stay in order (docs/IDENTITY.md)
    "identity": (
        "ResellerAliasMapped",
        "ResellerAliasUnmapped",
        "ResellerMatchRejected",
        "ResellerMatchProposed",
        "EndCustomerAliasMapped",
        "EndCustomerAliasUnmapped",
    ),
    # an end customer's name and address are sealed before they reach it (docs/PRIVACY.md)
    "masters": ("ResellerRegistered", "EndCustomerRegistered"),
}
DEAD_LETTER_TOPIC: Final = "deadletters"
#: the internal topics of a cap that several distributors share (docs/CLAIMS.md, "The cap,
#: in a worker"): written by the workers alone, never by a producer of events; kept forever
#: like the raw topics, as the log of the order in which each cap was given out
CLAIM_CAPS_TOPIC: Final = "claim-caps"  # keyed by authorization: requests and releases
CLAIM_GRANTS_TOPIC: Final = "claim-grants"  # keyed by distributor: the ledgers' grants
INTERNAL_TOPICS: Final = (CLAIM_CAPS_TOPIC, CLAIM_GRANTS_TOPIC)
#: the topics of reference data, which every worker and every replay job reads whole (the
#: others are keyed by distributor_id and split by partition)
REFERENCE_TOPICS: Final = ("products", "prices", "programs", "rates", "authorizations", "masters")

#: event type -> the field whose value is the message key
KEY_FIELD: Final[dict[str, str]] = {
    "ShipmentRecorded": "distributor_id",
    "SaleReported": "distributor_id",
    "InventoryCounted": "distributor_id",
    "ResellerOnboarded": "distributor_id",
    "ReportSubmitted": "distributor_id",
    "LineRejected": "distributor_id",
    "PriceChanged": "sku",
    "ProductDefined": "sku",
    "RebateProgramDefined": "program_id",
    "RebatePeriodClosed": "program_id",
    "DistributorAgreementSigned": "distributor_id",
    "DistributorAgreementAmended": "distributor_id",
    "DistributorAgreementTerminated": "distributor_id",
    #: a property of the event: "EUR>USD"
    "ExchangeRatePublished": "pair",
    "DistributorTargetsSet": "distributor_id",
    "SpecialPriceAuthorized": "authorization_id",
    "SpecialPriceAmended": "authorization_id",
    "SpecialPriceExpired": "authorization_id",
    "StockRotationRequested": "distributor_id",
    "StockRotationCancelled": "distributor_id",
    "DebitClaimSubmitted": "distributor_id",
    "ResellerRegistered": "master_id",
    "ResellerAliasMapped": "distributor_id",
    "ResellerAliasUnmapped": "distributor_id",
    "ResellerMatchRejected": "distributor_id",
    "ResellerMatchProposed": "distributor_id",
    "EndCustomerRegistered": "master_id",
    "EndCustomerAliasMapped": "distributor_id",
    "EndCustomerAliasUnmapped": "distributor_id",
}

TOPIC_OF: Final[dict[str, str]] = {
    event_type: topic for topic, types in RAW_TOPICS.items() for event_type in types
}


def topic_name(prefix: str, logical: str) -> str:
    return f"{prefix}.{logical}" if prefix else logical
