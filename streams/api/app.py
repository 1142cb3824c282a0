"""The HTTP API (JSON), the dashboard and /metrics, for worker and demo alike.

Every route, with its parameters and answers, is in the OpenAPI document the app serves
at /api/openapi.json (streams/api/openapi.py). Reads take `Authorization: Bearer`; a
distributor token sees only its own distributor's rows (another one's: 403).

  /dashboard (and / -> it)           the channel manager's page (streams/api/dashboard.py)
  /health                            liveness (no token needed)
  /metrics                           Prometheus text format (the vendor's roles)
  /schemas[/{name}]                  the events' JSON Schemas (no token needed)
  /api/snapshot[?as_of=DATE]         the full projection snapshot (its format: docs/DESIGN.md,
                                     "The projection snapshot")
  /api/inventory[/summary|/aging]    channel inventory rows; per distributor with weeks
                                     of supply, and channel-wide totals; by age band
  /api/sell-through                  sell-in vs sell-through per distributor and period;
                                     granularity=week|month|quarter, scope=channel
  /api/quality, /api/compliance, /api/reports      data quality, reporting weeks, reports
  /api/resellers[/growth|/top]       the reseller network, its growth, top resellers (by master)
  /api/resellers/masters|aliases     reseller masters with their aliases; each alias's history
  /api/end-customers/masters|aliases the same for end customers (no names)
  /api/resellers/proposals[/{d}/{alias}/confirm|reject]  the match queue, and its steps
  /api/dead-letters/lines            rejected lines, why, original bytes (a distributor: its own)
  /api/violations[/summary|/{id}]    pricing violations; by severity; one with its sale
  POST /api/violations/{id}/{action} acknowledge | dispute | resolve
  /api/rebates[/watchlist]           accruals; those near the next tier
  POST /api/rebates/{program}/{period}/close, /api/rebates/statements/... (admin)
  /api/prices, /api/unpriced, /api/price-protection, /api/products, /api/dead-letters
  /api/scorecard[.csv]?period=, /api/scorecard/{distributor_id}   the distributor scorecard
  /api/agreements, /api/exchange-rates   agreement versions (which is in effect); rates
  /api/obligations                   stocking targets exceeded, stock over the maximum age
  /api/authorizations                special price deals (terms in effect, per distributor)
  /api/authorizations/usage          each deal's cap given out and days left, near flagged
  /api/commitments                   volume commitments: met, open, short, unconverted
  /api/rotations[/{d}/{request_id}]   stock rotation requests as decided, their returns
  POST /api/rotations/{d}/{request_id}/cancel   cancel an accepted rotation (own; admin any)
  /api/claims                        debit claims with their totals and reasons
  /api/claims/{d}/{claim_id}[/849]   a debit claim: lines, decisions, steps; its 849 answer
  POST /api/claims/{d}/{claim_id}/{action}   approve | pay | credit | dispute | resolve
  POST /api/ingest/events|csv|edi|claims   submit events, reports and debit claims

List endpoints answer a page: {"rows": [...], "total", "limit", "offset"} (?limit= 1 to
10000, default 1000; ?offset=), filtered by distributor_id, sku, period, ... as documented;
a query parameter the document does not list for the route is a 400 (query_choices.py).
Errors: {"error": {"status": 409, "code": "conflict", "message": "..."}} (streams/api/errors.py;
those aiohttp answers before the app sees a request: protocol_errors.py).

This module holds the route table; each resource's handlers are module-level functions in
their own module (inventory.py, violations.py, rebates.py, ...) that read what they share
from the app: `request.app[CONTEXT]` (streams/api/context.py), the request helpers are in
query.py (scope, filters, pages) and http_body.py (bodies).
"""

from __future__ import annotations

from aiohttp import web

from domain.permissions import metrics_only
from streams.api import (
    agreements,
    claims,
    dead_letters,
    end_customers,
    ingest,
    inventory,
    monitoring,
    prices,
    rebates,
    reporting,
    resellers,
    rotations,
    scorecard,
    sell_through,
    snapshot,
    violations,
)
from streams.api.asyncapi import add_asyncapi_route
from streams.api.audit import add_audit_routes
from streams.api.context import CONTEXT, PRINCIPAL, SCORE, SETTINGS, STATUSES, ApiContext
from streams.api.dashboard import add_dashboard_routes
from streams.api.errors import Handler, json_errors
from streams.api.headers import add_response_headers
from streams.api.known_ids import known_ids
from streams.api.openapi import add_openapi_route
from streams.api.openapi_paths import PATHS
from streams.api.protocol_errors import JsonErrorRunner
from streams.api.query_choices import checked_query, query_parameters
from streams.api.reference_loading import refuse_while_loading
from streams.api.schemas import add_schema_routes
from streams.auth import Forbidden
from streams.config import Settings
from streams.runners.violation_statuses import RecordedStatuses

#: routes (as registered) anyone may call: the page shell, its assets and the schemas carry
#: no data
OPEN_PATHS = frozenset(
    {
        "/health",
        "/",
        "/dashboard",
        "/static/{name}",
        "/api/openapi.json",
        "/api/asyncapi.json",
        "/schemas",
        "/schemas/{name}",
    }
)

#: the Prometheus text: the one route of the monitor role (Prometheus's token)
METRICS = "/metrics"

GETS: tuple[tuple[str, Handler], ...] = (
    ("/health", monitoring.health),
    (METRICS, monitoring.prometheus),
    ("/api/snapshot", snapshot.snapshot),
    ("/api/inventory", inventory.inventory),
    ("/api/inventory/summary", inventory.inventory_summary),
    ("/api/inventory/aging", inventory.inventory_aging),
    ("/api/sell-through", sell_through.sell_through),
    ("/api/quality", reporting.quality),
    ("/api/dead-letters", dead_letters.dead_letters),
    ("/api/dead-letters/lines", dead_letters.dead_letter_lines),
    ("/api/products", prices.products),
    ("/api/violations", violations.violations),
    ("/api/violations/summary", violations.violation_summary),
    ("/api/violations/{violation_id}", violations.violation),
    ("/api/rebates", rebates.rebates),
    ("/api/rebates/watchlist", rebates.rebate_watchlist),
    ("/api/rebates/statements/{program_id}/{distributor_id}/{period}", rebates.statement),
    ("/api/prices", prices.prices),
    ("/api/unpriced", prices.unpriced),
    ("/api/price-protection", prices.price_protection),
    ("/api/resellers", resellers.resellers),
    ("/api/resellers/growth", resellers.reseller_growth),
    ("/api/resellers/top", resellers.reseller_top),
    ("/api/resellers/masters", resellers.reseller_masters),
    ("/api/resellers/aliases", resellers.reseller_aliases),
    ("/api/resellers/proposals", resellers.reseller_proposals),
    ("/api/end-customers/masters", end_customers.end_customer_masters),
    ("/api/end-customers/aliases", end_customers.end_customer_aliases),
    ("/api/reports", reporting.reports),
    ("/api/compliance", reporting.compliance),
    ("/api/scorecard", scorecard.scorecard),
    ("/api/scorecard.csv", scorecard.scorecard_csv),
    ("/api/scorecard/{distributor_id}", scorecard.distributor_card),
    ("/api/agreements", agreements.agreements),
    ("/api/obligations", agreements.obligations),
    ("/api/commitments", agreements.commitments),
    ("/api/exchange-rates", agreements.exchange_rates),
    ("/api/authorizations", agreements.authorizations),
    ("/api/authorizations/usage", agreements.authorization_usage),
    ("/api/rotations", rotations.rotations),
    ("/api/rotations/{distributor_id}/{request_id}", rotations.rotation),
    ("/api/claims", claims.claims),
    ("/api/claims/{distributor_id}/{claim_id}", claims.claim),
    ("/api/claims/{distributor_id}/{claim_id}/849", claims.claim_849),
)
POSTS: tuple[tuple[str, Handler], ...] = (
    (
        "/api/violations/{violation_id}/{action:acknowledge|dispute|resolve}",
        violations.violation_step,
    ),
    ("/api/rebates/{program_id}/{period}/close", rebates.close_period),
    ("/api/rotations/{distributor_id}/{request_id}/cancel", rotations.cancel),
    (
        "/api/resellers/proposals/{distributor_id}/{alias}/{action:confirm|reject}",
        resellers.proposal_step,
    ),
    (
        "/api/rebates/statements/{program_id}/{distributor_id}/{period}/{action:approve|pay}",
        rebates.statement_step,
    ),
    (
        "/api/claims/{distributor_id}/{claim_id}/{action:approve|pay|credit|dispute|resolve}",
        claims.claim_step,
    ),
)
#: submitting events and reports (streams/api/ingest.py)
INGEST_POSTS: tuple[tuple[str, Handler], ...] = (
    ("/api/ingest/events", ingest.events),
    ("/api/ingest/csv", ingest.csv_report),
    ("/api/ingest/edi", ingest.edi_report),
    ("/api/ingest/claims", ingest.claims),
)


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The caller's principal on the request, from its bearer token (open paths need none)."""
    resource = request.match_info.route.resource
    if resource is None or resource.canonical not in OPEN_PATHS:
        tokens = request.app[CONTEXT].tokens
        principal = tokens.authenticate(request.headers.get("Authorization"))
        if resource is not None and resource.canonical != METRICS and metrics_only(principal.role):
            raise Forbidden(f"a token of the {principal.role} role reads {METRICS} only")
        request[PRINCIPAL] = principal
    return await handler(request)


def app_runner(context: ApiContext) -> web.AppRunner:
    """The app ready to serve, for every server (worker, API process, demo): a connection
    that brings no whole request within `keepalive_seconds` is closed (aiohttp's own
    default keeps it an hour); a request aiohttp cannot parse is answered as JSON too."""
    app = make_web_app(context)
    return JsonErrorRunner(app, keepalive_timeout=app[SETTINGS].keepalive_seconds)


def make_web_app(context: ApiContext) -> web.Application:
    shared = [] if context.answers is None else [context.answers.middleware]
    query = checked_query(query_parameters(PATHS))
    middlewares = [json_errors, authenticate, query, refuse_while_loading, known_ids, *shared]
    app = web.Application(middlewares=middlewares)
    app[CONTEXT] = context
    app[SETTINGS] = Settings.from_env()  # request limits and timeouts
    app[SCORE] = app[SETTINGS].score_config()
    app[STATUSES] = RecordedStatuses(context.audit)
    add_response_headers(app, OPEN_PATHS)
    add_dashboard_routes(app, context.mode)
    add_openapi_route(app)
    add_asyncapi_route(app)
    add_schema_routes(app)
    for path, handler in GETS:
        app.router.add_get(path, handler)
    for path, handler in POSTS:
        app.router.add_post(path, handler)
    add_audit_routes(app, context)
    for path, handler in INGEST_POSTS:
        app.router.add_post(path, handler)
    return app
