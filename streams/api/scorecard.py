"""The distributor scorecard (docs/SCORECARD.md): /api/scorecard (a period's ranking, the
vendor's roles), /api/scorecard.csv (the same as CSV) and /api/scorecard/{distributor_id}
(one distributor's card: a distributor's token reads its own only)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from aiohttp import web

from projections.distributor_reads import is_known
from projections.scorecard_reads import period_cards
from projections.scorecard_rows import SEVERITIES, STATUSES, VERDICTS, card_row, ranking
from projections.snapshot import now_of
from projections.stores import ChannelStores
from schemas.scorecard import PERIOD_PATTERN
from streams.api.context import SCORE, context_of, json_response
from streams.api.known_ids import unknown
from streams.api.query import Rows, as_of, page, principal_of
from streams.audit.safe_csv import csv_bytes
from streams.auth import Forbidden

#: a month ("2026-07") or a quarter ("2026-Q3"), as the targets event's period
PERIOD: Final = re.compile(PERIOD_PATTERN)
#: the CSV export's columns: a ranking row's figures (its parts and programs flattened)
CSV_COLUMNS: Final = (
    "rank", "distributor_id", "period", "currency", "score",
    "sell_in_units", "sell_in_revenue", "sell_through_units", "sell_through_revenue",
    "share_of_channel_revenue", "revenue_target", "gross_margin", "gross_margin_rate",
    "unknown_cost_lines", "other_currency_lines", "weeks_of_supply",
    *(f"weeks_{status}" for status in STATUSES),
    *(f"{verdict}_lines" for verdict in VERDICTS),
    *(f"{verdict}_rate" for verdict in VERDICTS),
    *(f"{severity}_per_1000" for severity in SEVERITIES),
    "active_resellers", "reseller_target",
    *(f"part_{name}" for name in (
        "sell_through", "inventory", "timeliness", "data_quality", "pricing", "resellers",
        "rebates",
    )),
    "rebate_programs",
)  # fmt: skip


def period_of(request: web.Request) -> str:
    """?period= (required): a month or a quarter."""
    period = request.query.get("period")
    if period is None or PERIOD.fullmatch(period) is None:
        raise web.HTTPBadRequest(text="period: a month (2026-07) or a quarter (2026-Q3)")
    return period


def ranked(request: web.Request) -> Callable[[ChannelStores], Rows]:
    """The period's ranking as of ?as_of= (default: now), for the vendor's roles only."""
    principal = principal_of(request)
    if not principal.may_read(None):
        raise Forbidden(f"{principal.actor} may not read the channel's ranking")
    period, when, score = period_of(request), as_of(request), request.app[SCORE]
    return lambda current: ranking(
        period_cards(current, period, now_of(current, when), None, when), score
    )


async def scorecard(request: web.Request) -> web.Response:
    rows = await context_of(request).exporting(ranked(request))
    return json_response(page(request, rows))


async def scorecard_csv(request: web.Request) -> web.Response:
    rows = await context_of(request).exporting(ranked(request))
    return web.Response(
        body=csv_bytes(CSV_COLUMNS, [csv_row(row) for row in rows]),
        content_type="text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="scorecard-{period_of(request)}.csv"'
        },
    )


async def distributor_card(request: web.Request) -> web.Response:
    """One distributor's card: to the vendor's roles its ranking row (rank, share of
    channel revenue); to the distributor itself the card alone (neither: they tell
    about the others)."""
    distributor = request.match_info["distributor_id"]
    principal = principal_of(request)
    if not principal.may_read(distributor):
        raise Forbidden(f"{principal.actor} may not read distributor {distributor}")
    period, when, score = period_of(request), as_of(request), request.app[SCORE]
    context = context_of(request)
    if not is_known(context.stores(), distributor):
        raise web.HTTPNotFound(text=unknown(context, distributor))
    whole = principal.may_read(None)

    def card(current: ChannelStores) -> dict[str, Any]:
        now = now_of(current, when)
        if whole:
            rows = ranking(period_cards(current, period, now, None, when), score)
            found = [row for row in rows if row["distributor_id"] == distributor]
            if found:
                return found[0]
        (own,) = period_cards(current, period, now, [distributor], when)
        return {**card_row(own, None, score), "rank": None}

    return json_response(await context.exporting(card))


def csv_row(row: dict[str, Any]) -> dict[str, Any]:
    """A ranking row as CSV cells: each part a column, programs as "P1 1/3; P2 2/2"."""
    flat = {key: value for key, value in row.items() if key not in ("parts", "rebates")}
    flat.update({f"part_{name}": value for name, value in row["parts"].items()})
    flat["rebate_programs"] = "; ".join(
        f"{r['program_id']} {r['tiers_reached']}/{r['tiers']}" for r in row["rebates"]
    )
    return flat
