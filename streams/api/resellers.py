"""The reseller network: /api/resellers, /api/resellers/growth, /api/resellers/top (counted
by master: docs/IDENTITY.md), and its identities: /api/resellers/masters (vendor roles),
/api/resellers/aliases (a distributor: its own), the match queue /api/resellers/proposals
(vendor roles) and its steps, confirm and reject (the channel manager and the admin)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from aiohttp import web

from domain.permissions import Permission, allows
from projections.party_reads import (
    alias_rows,
    masters_page,
    proposal_of,
    proposal_rows,
)
from projections.snapshot import now_of, reseller_growth_of, reseller_rows, top_resellers_of
from schemas.answers import MatchStep
from schemas.envelope import Envelope
from schemas.parties import PartyKind, ResellerAliasMapped, ResellerMatchRejected
from streams.api.context import SETTINGS, context_of, json_error, json_response
from streams.api.http_body import InvalidField, json_body, required_text
from streams.api.query import (
    answer,
    as_of,
    filtered,
    integer,
    page,
    principal_of,
    scope,
    visible,
    window,
)
from streams.api.reference_loading import ReferenceLoading, reference_loading
from streams.auth import AuthError, Forbidden
from streams.kafka.messages import message_of


async def resellers(request: web.Request) -> web.Response:
    when = as_of(request)
    rows = await context_of(request).exporting(
        lambda current: reseller_rows(current, now_of(current, when))
    )
    return json_response(page(request, visible(request, rows)))


async def reseller_growth(request: web.Request) -> web.Response:
    wanted = scope(request)
    rows = await context_of(request).exporting(lambda current: reseller_growth_of(current, wanted))
    return json_response(page(request, rows))


async def reseller_top(request: web.Request) -> web.Response:
    period, wanted, n = request.query.get("period"), scope(request), integer(request, "n", 10)
    rows = await context_of(request).exporting(
        lambda current: top_resellers_of(current, wanted, n, period)
    )
    return json_response(page(request, rows))


async def reseller_masters(request: web.Request) -> web.Response:
    """Every master with the aliases that mean it now: they span distributors, so for the
    vendor's roles only."""
    if not principal_of(request).may_read(None):
        raise Forbidden("the reseller masters and their aliases are for the vendor's roles")
    return await masters_of(request, "reseller")


async def masters_of(request: web.Request, party: PartyKind) -> web.Response:
    """A page of the masters of the kind (`?master_id=`), each with its aliases now."""
    wanted, (offset, limit) = request.query.get("master_id"), window(request)
    rows, total = await context_of(request).exporting(
        lambda current: masters_page(current, wanted, offset, limit, party)
    )
    return json_response(answer(rows, total, offset, limit))


async def reseller_aliases(request: web.Request) -> web.Response:
    """Each alias of a distributor (or of all), the master it means and its history."""
    return await aliases_of(request, "reseller")


async def aliases_of(request: web.Request, party: PartyKind) -> web.Response:
    """The aliases of the kind of a distributor (a distributor's token: its own), each with
    the master it means and its history."""
    wanted = scope(request)
    rows = await context_of(request).exporting(lambda current: alias_rows(current, wanted, party))
    return json_response(page(request, visible(request, rows, "master_id")))


async def reseller_proposals(request: web.Request) -> web.Response:
    """The match queue: for the vendor's roles (a proposal names masters every distributor
    shares). `?status=open` (the queue proper), confirmed or rejected (a value outside the
    OpenAPI document's list: 400, streams/api/query_choices.py); `?distributor_id=`."""
    if not principal_of(request).may_read(None):
        raise Forbidden("the match queue is for the vendor's roles")
    wanted = request.query.get("distributor_id")
    rows = await context_of(request).exporting(lambda current: proposal_rows(current, wanted))
    return json_response(page(request, filtered(request, rows, "status")))


async def proposal_step(request: web.Request) -> web.Response:
    """Confirm (a `ResellerAliasMapped` by the caller, to `master_id` or the best candidate)
    or reject (a `ResellerMatchRejected`) an open proposal; `reason` is required. 202: the
    event is on its way; the proposal closes when the worker applies it."""
    context = context_of(request)
    principal = principal_of(request)
    if principal.actor == "anonymous":
        raise AuthError("this needs a bearer token")
    if not allows(principal.role, Permission.MATCH_RESELLERS):
        raise Forbidden(f"{principal.actor} ({principal.role}) may not confirm or reject matches")
    info = request.match_info
    distributor, alias, action = info["distributor_id"], info["alias"], info["action"]
    stores = context.stores()
    proposal = proposal_of(stores, distributor, alias)
    if proposal is None:
        raise web.HTTPNotFound(text=f"no match proposal for reseller {alias!r} of {distributor}")
    if proposal.closing is not None:
        return json_error(409, "conflict", f"the proposal is {proposal.status} already")
    body = await json_body(request, request.app[SETTINGS].body_timeout_seconds, MatchStep)
    reason, now = required_text(body, "reason"), datetime.now(UTC)
    event: Envelope
    if action == "confirm":
        master_id = body.get("master_id") or proposal.candidates[0].master_id
        if not isinstance(master_id, str) or stores.masters.get(master_id) is None:
            if reference_loading(context):
                raise ReferenceLoading("the reseller masters are")
            raise InvalidField("master_id", f"{master_id!r} is not a registered master")
        event = ResellerAliasMapped(
            event_id=uuid4(), occurred_at=now, source="api", distributor_id=distributor,
            alias_id=alias, master_id=master_id, automatic=False, changed_by=principal.actor,
            reason=reason, changed_at=now,
        )  # fmt: skip
    else:
        event = ResellerMatchRejected(
            event_id=uuid4(), occurred_at=now, source="api", distributor_id=distributor,
            alias_id=alias, changed_by=principal.actor, reason=reason, changed_at=now,
        )  # fmt: skip
    await context.submit([message_of(event)])
    answer = {"distributor_id": distributor, "alias_id": alias, "action": action,
              "event_id": str(event.event_id), "changed_by": principal.actor}  # fmt: skip
    if isinstance(event, ResellerAliasMapped):
        answer["master_id"] = event.master_id
    return json_response(answer, 202)
