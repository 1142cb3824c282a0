"""Hot reducers build their new values with the constructor instead of dataclasses.replace,
naming every field: a field added to one of these classes must be added there too."""

from __future__ import annotations

from dataclasses import fields

from projections.channel import Outcome
from projections.inventory import InventoryState
from projections.quality import DeadLetterCount, QualityState
from projections.resellers import ResellerState

BUILT_DIRECTLY = {
    # class: its fields, as the direct constructions in these modules pass them
    InventoryState: (  # inventory.apply_movements
        "distributor_id", "sku", "sell_in", "sell_through", "recent", "latest", "count_on_hand",
        "counted_at", "last_variance", "after_in", "after_through", "late_after_count",
        "since_drops", "applied",
    ),
    QualityState: (  # quality.record_verdicts, quality.record_rejection
        "distributor_id", "accepted", "duplicates", "conflicts", "rejected", "applied",
    ),
    DeadLetterCount: ("scope", "reason", "count", "applied"),  # quality.count_dead_letter
    ResellerState: (  # resellers.record_lines
        "distributor_id", "reseller_id", "name", "onboarded_at", "first_sale_day",
        "last_sale_day", "lines", "revenue", "applied",
    ),
    # channel.apply_message (a bundle's index with the rest)
    Outcome: (
        "verdict", "dead_letter_reason", "facts", "detail", "event", "original", "index",
        "rate_wait_refused",
    ),
}  # fmt: skip


def test_directly_built_classes_have_the_fields_their_constructions_pass() -> None:
    for cls, names in BUILT_DIRECTLY.items():
        assert tuple(f.name for f in fields(cls)) == names, cls.__name__
