"""Reseller figures by master id: a merge and an unmerge re-derive growth, top resellers and
the network from the per-alias figures, which no mapping changes (docs/IDENTITY.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from projections.keyvalue import DictStore
from projections.master_resellers import (
    by_master,
    master_growth,
    master_network_rows,
    master_top,
)
from projections.party_aliases import AliasState, current_mapping, map_alias, unmap_alias
from projections.resellers import DayCount, ResellerState, ResoldLine, onboard, record_lines
from tests.unit.party_events import mapped, unmapped

NOW = datetime(2026, 7, 31, 12, tzinfo=UTC)


def day(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}T10:00:00+00:00")


class Network:
    """Per-alias reseller states, as `projections.resellers` keeps them."""

    def __init__(self) -> None:
        self.resellers: DictStore[ResellerState] = DictStore()
        self.days: DictStore[DayCount] = DictStore()

    def onboard(self, distributor: str, reseller: str, at: str) -> None:
        key = f"{distributor}|{reseller}"
        state = self.resellers.get(key) or ResellerState(distributor, reseller)
        self.resellers.put(key, onboard(state, f"{reseller} Ltd", day(at), None))

    def sell(self, distributor: str, reseller: str, at: str, quantity: int, price: str) -> None:
        line = ResoldLine(day(at), quantity, Decimal(price), "USD")
        record_lines(self.resellers, self.days, distributor, reseller, [line], None)

    def figures(self, mapping: dict[str, str], per_distributor: bool = False) -> dict[str, Any]:
        found = by_master(self.resellers.values(), mapping, per_distributor)
        return {
            "growth": master_growth(found),
            "top": [(r["reseller_id"], r["revenue"], r["aliases"]) for r in master_top(found, 10)],
            "network": master_network_rows(found, NOW, self.days),
        }


@pytest.fixture
def network() -> Network:
    """D1 sells to R1 (onboarded 05-10) and to R1B (R1 under a typo) and R2; D2 to X9
    (onboarded 04-20), which is R1 buying through another distributor."""
    net = Network()
    net.onboard("D1", "R1", "2026-05-10")
    net.sell("D1", "R1", "2026-06-03", 2, "100.00")  # 200.00
    net.sell("D1", "R1", "2026-07-15", 1, "50.00")  # 50.00
    net.sell("D1", "R1B", "2026-07-28", 1, "20.00")
    net.sell("D1", "R2", "2026-07-02", 3, "10.00")  # 30.00
    net.onboard("D2", "X9", "2026-04-20")
    net.sell("D2", "X9", "2026-04-25", 5, "40.00")  # 200.00
    net.sell("D2", "X9", "2026-07-20", 1, "30.00")
    return net


def growth_row(month: str, onboarded: int, first: int, total_on: int, total_sell: int) -> dict:
    return {
        "month": month,
        "onboarded": onboarded,
        "first_sales": first,
        "onboarded_total": total_on,
        "selling_total": total_sell,
    }


def network_row(scope: str, onboarded: int, active: int, new: int, not_onboarded: int) -> dict:
    return {
        "distributor_id": scope,
        "onboarded": onboarded,
        "active_90d": active,
        "new_this_quarter": new,
        "not_onboarded": not_onboarded,
    }


BEFORE = {
    # onboarded: X9 in April, R1 in May; first sales: X9 April, R1 June, R2 and R1B July
    "growth": [
        growth_row("2026-04", 1, 1, 1, 1),
        growth_row("2026-05", 1, 0, 2, 1),
        growth_row("2026-06", 0, 1, 2, 2),
        growth_row("2026-07", 0, 2, 2, 4),
    ],
    "top": [
        ("R1", "250.00", ["D1|R1"]),
        ("X9", "230.00", ["D2|X9"]),
        ("R2", "30.00", ["D1|R2"]),
        ("R1B", "20.00", ["D1|R1B"]),
    ],
    # all four sold in the 90 days to 07-31; R2 and R1B first sold in Q3 and never onboarded
    "network": [network_row("*", 2, 4, 2, 2)],
}

MERGED = {
    # M1 = R1 + R1B + X9: onboarded 04-20 (X9's), first sale 04-25 (X9's); R2 alone in July
    "growth": [growth_row("2026-04", 1, 1, 1, 1), growth_row("2026-07", 0, 1, 1, 2)],
    "top": [("M1", "500.00", ["D1|R1", "D1|R1B", "D2|X9"]), ("R2", "30.00", ["D1|R2"])],
    "network": [network_row("*", 1, 2, 1, 1)],
}


def mapping_after(*steps: tuple[str, str, str, str]) -> dict[str, str]:
    states: dict[str, AliasState] = {}
    for n, (action, distributor, alias, master) in enumerate(steps):
        key = f"id|{distributor}|{alias}"
        if action == "map":
            event = mapped(distributor, alias, master, n=500 + n)
            states[key] = map_alias(states.get(key), event, lambda m: m == "M1", None)
        else:
            undo = unmapped(distributor, alias, master, n=600 + n)
            states[key] = unmap_alias(states.get(key), undo, lambda a, m: None, None)
    return current_mapping(states.values())


MERGE = [("map", "D1", "R1", "M1"), ("map", "D1", "R1B", "M1"), ("map", "D2", "X9", "M1")]


def test_per_alias_figures_without_a_mapping(network: Network) -> None:
    assert network.figures({}) == BEFORE


def test_a_merge_re_derives_growth_top_and_network(network: Network) -> None:
    before = {key: state.to_json() for key, state in network.resellers.data.items()}
    assert network.figures(mapping_after(*MERGE)) == MERGED
    # nothing the per-alias view keeps was rewritten
    assert {key: state.to_json() for key, state in network.resellers.data.items()} == before


def test_a_partial_unmerge_splits_the_other_distributors_alias_off(network: Network) -> None:
    steps = [*MERGE, ("unmap", "D2", "X9", "M1")]
    figures = network.figures(mapping_after(*steps))
    # M1 = R1 + R1B: onboarded 05-10, first sale 06-03, 250.00 + 20.00
    assert figures["top"] == [
        ("M1", "270.00", ["D1|R1", "D1|R1B"]),
        ("X9", "230.00", ["D2|X9"]),
        ("R2", "30.00", ["D1|R2"]),
    ]
    assert figures["growth"] == [
        growth_row("2026-04", 1, 1, 1, 1),
        growth_row("2026-05", 1, 0, 2, 1),
        growth_row("2026-06", 0, 1, 2, 2),
        growth_row("2026-07", 0, 1, 2, 3),
    ]
    # M1 (R1 + R1B), X9 and R2 onboarded / active / new this quarter / not onboarded
    assert figures["network"] == [network_row("*", 2, 3, 1, 1)]


def test_a_whole_unmerge_restores_the_figures_before_the_merge(network: Network) -> None:
    undo = [("unmap", d, r, m) for _, d, r, m in MERGE]
    assert network.figures(mapping_after(*MERGE, *undo)) == BEFORE


def test_per_distributor_a_master_counts_once_within_each(network: Network) -> None:
    figures = network.figures(mapping_after(*MERGE), per_distributor=True)
    # D1: M1 (R1 + R1B, onboarded, first sale 06-03: not new in Q3) and R2; D2: M1 (X9)
    assert figures["network"] == [network_row("D1", 1, 2, 1, 1), network_row("D2", 1, 1, 0, 0)]
    before = network.figures({}, per_distributor=True)
    assert before["network"] == [network_row("D1", 1, 3, 2, 2), network_row("D2", 1, 1, 0, 0)]


ALIASES = [("D1", "R1"), ("D1", "R1B"), ("D1", "R2"), ("D2", "X9")]


@given(st.lists(st.sampled_from([None, "M1", "M2"]), min_size=4, max_size=4))
def test_any_mapping_keeps_the_totals_and_counts_each_identity_once(masters) -> None:
    network = Network()
    for distributor, alias in ALIASES:
        network.sell(distributor, alias, "2026-07-02", 1, "10.00")
    mapping = {
        f"id|{d}|{r}": master
        for (d, r), master in zip(ALIASES, masters, strict=True)
        if master is not None
    }
    figures = network.figures(mapping)
    identities = {mapping.get(f"id|{d}|{r}", f"{d}|{r}") for d, r in ALIASES}
    assert sum(Decimal(revenue) for _, revenue, _ in figures["top"]) == Decimal("40.00")
    assert sorted(alias for _, _, aliases in figures["top"] for alias in aliases) == sorted(
        f"{d}|{r}" for d, r in ALIASES
    )
    assert figures["growth"][-1]["selling_total"] == len(identities)
    assert figures["network"][0]["active_90d"] == len(identities)
