"""Reseller figures by master id, re-derived from the per-alias figures under a mapping.

The reseller view (`projections.resellers`) keeps one `ResellerState` per alias, that is
per (distributor, the distributor's reseller id): onboarding, first and last sale day,
sale lines and revenue per month. Those values never depend on the mapping, so a mapping
change rewrites nothing: the figures below group the aliases by the identity each means
now (`party_aliases.identity_of`: its master, or itself when unmapped) and combine them.
A merge then an unmerge gives back exactly the figures before the merge.

Combining a master's aliases: the earliest onboarding and first sale, the latest last
sale, lines and revenue summed per month (and currency); active in the 90 days when any
alias is. Scope: per distributor (aliases of one distributor that mean one master count
once there) or channel-wide (`distributor_id` "*": a master buying through two
distributors counts once). The cost is the number of aliases read, as the per-alias views
already cost.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from domain.frozen import quick_init
from domain.timeutil import utc
from projections.keyvalue import KeyValue
from projections.party_aliases import AliasState, current_mapping, identity_of
from projections.resellers import DayCount, ResellerState, active_at, growth, top_resellers
from projections.stores import ChannelStores

#: the `distributor_id` of channel-wide figures
CHANNEL: Final = "*"


@quick_init  # one per identity read: a channel-wide figure builds as many as there are aliases
@dataclass(frozen=True, slots=True)
class MasterFigures:
    """One identity's aliases within a scope, and their figures combined."""

    identity: str
    distributor_id: str
    aliases: tuple[ResellerState, ...]

    @property
    def combined(self) -> ResellerState:
        """The aliases as one `ResellerState` named by the identity (for the per-alias
        views, which rank and count it like any reseller)."""
        onboarded = [s.onboarded_at for s in self.aliases if s.onboarded_at is not None]
        firsts = [s.first_sale_day for s in self.aliases if s.first_sale_day is not None]
        lasts = [s.last_sale_day for s in self.aliases if s.last_sale_day is not None]
        lines: Counter[str] = Counter()
        revenue: dict[str, Decimal] = {}
        for state in self.aliases:
            lines.update(state.lines)
            for key, amount in state.revenue.items():
                revenue[key] = revenue.get(key, Decimal(0)) + amount
        named = sorted((s.distributor_id, s.reseller_id, s.name) for s in self.aliases if s.name)
        return ResellerState(
            self.owner, self.identity, named[0][2] if named else None,
            min(onboarded, default=None), min(firsts, default=None), max(lasts, default=None),
            {month: n for month, n in sorted(lines.items()) if n}, dict(sorted(revenue.items())),
        )  # fmt: skip

    @property
    def owner(self) -> str:
        """Whose the identity is in its scope: the one distributor all its aliases are of
        (so a distributor's rows stay its own), else the channel ("*")."""
        distributors = {state.distributor_id for state in self.aliases}
        return distributors.pop() if len(distributors) == 1 else self.distributor_id

    @property
    def shown(self) -> ResellerState:
        """What the views count and a top row shows: an alias that means no master as
        itself, named by its distributor and its own id as the per-alias views name it (with
        no mapping, every figure is as those views give it, and nothing is combined), else
        the aliases combined under the master id."""
        if "|" in self.identity:  # unmapped: "distributor|alias" (no master id holds "|")
            return self.aliases[0]
        return self.combined

    @property
    def alias_ids(self) -> list[str]:
        """The aliases behind the identity, as "distributor|reseller", sorted."""
        return sorted(f"{s.distributor_id}|{s.reseller_id}" for s in self.aliases)

    def active_at(self, today: date, days: KeyValue[DayCount]) -> bool:
        return any(active_at(state, today, days) for state in self.aliases)


def by_master(
    states: Iterable[ResellerState], mapping: Mapping[str, str], per_distributor: bool = True
) -> list[MasterFigures]:
    """The aliases grouped by the identity they mean under `mapping` (alias key -> master
    id), per distributor or channel-wide; sorted by scope, then identity."""
    groups: dict[tuple[str, str], list[ResellerState]] = {}
    for state in states:
        identity = identity_of(mapping, state.distributor_id, state.reseller_id)
        scope = state.distributor_id if per_distributor else CHANNEL
        groups.setdefault((scope, identity), []).append(state)
    return [
        MasterFigures(identity, scope, tuple(members))
        for (scope, identity), members in sorted(groups.items())
    ]


def master_network_rows(
    figures: Iterable[MasterFigures], now: datetime | None, days: KeyValue[DayCount]
) -> list[dict[str, Any]]:
    """The `resellers` rows (onboarded, active_90d, new_this_quarter, not_onboarded),
    counting identities, one row per scope, sorted."""
    today = None if now is None else utc(now).date()
    rows: dict[str, Counter[str]] = {}
    for figure in figures:
        merged = figure.shown
        counts = rows.setdefault(figure.distributor_id, Counter())
        counts["onboarded"] += merged.onboarded_at is not None
        counts["not_onboarded"] += merged.onboarded_at is None and merged.last_sale is not None
        if today is not None:
            counts["active_90d"] += figure.active_at(today, days)
            counts["new_this_quarter"] += merged.new_in_quarter_of(today)
    names = ("onboarded", "active_90d", "new_this_quarter", "not_onboarded")
    return [
        {"distributor_id": scope, **{name: counts[name] for name in names}}
        for scope, counts in sorted(rows.items())
    ]


def master_growth(figures: Iterable[MasterFigures]) -> list[dict[str, Any]]:
    """Growth per month (`projections.resellers.growth`) counting identities."""
    return growth(figure.shown for figure in figures)


def master_top(
    figures: Iterable[MasterFigures], n: int, period: str | None = None
) -> list[dict[str, Any]]:
    """Top resellers (`projections.resellers.top_resellers`) by identity: a master's row
    has its master id as `reseller_id` and its `owner` as `distributor_id` ("*" for a
    master buying through several distributors), an unmapped alias's row is the alias's
    own; `aliases` lists the aliases behind each row."""
    listed = list(figures)
    shown = [(figure, figure.shown) for figure in listed]
    aliases = {(state.distributor_id, state.reseller_id): f.alias_ids for f, state in shown}
    rows = top_resellers((state for _, state in shown), n, period)
    return [
        {**row, "aliases": aliases[(row["distributor_id"], row["reseller_id"])]} for row in rows
    ]


def figures_by_identity(
    stores: ChannelStores, distributor_id: str | None, per_distributor: bool
) -> list[MasterFigures]:
    """The reseller states of one distributor (or all), grouped by the identity each alias
    means now: the aliases read are the distributor's (or all), as the states are."""
    if distributor_id is None:
        states: Iterable[ResellerState] = stores.resellers.values()
        aliases: Iterable[AliasState] = stores.party_aliases.values()
    else:
        states = (state for _, state in stores.resellers.scan(f"{distributor_id}|"))
        aliases = (alias for _, alias in stores.party_aliases.scan(f"id|{distributor_id}|"))
    return by_master(states, current_mapping(aliases), per_distributor)
