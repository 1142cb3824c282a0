"""Debit claims: listed from the worker's claims store, read from and stepped on their
`DebitClaim` aggregate (docs/CLAIMS.md):

  GET  /api/claims[?distributor_id=&status=]          every claim with its totals
  GET  /api/claims/{distributor_id}/{claim_id}        status, lines and decisions, steps
  GET  /api/claims/{distributor_id}/{claim_id}/849    the X12 849 answer to the claim
  POST /api/claims/{distributor_id}/{claim_id}/{approve|pay|credit|dispute|resolve}

A claim id is the distributor's own, unique per distributor: the route names both, as
the aggregate's id is derived from them. Each call reads the one aggregate. A distributor
token reads and disputes its own claims only; the other steps are the admin's.
"""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from domain.claim_lifecycle import DebitClaim
from domain.claim_steps import ClaimAction, IllegalTransition, NotAllowed, check_allowed
from projections.claim_reads import claim_summary_rows
from schemas.answers import ClaimStep
from streams.api.context import SETTINGS, context_of, json_error, json_response
from streams.api.documents import claim_document
from streams.api.http_body import InvalidField, json_body, required_text
from streams.api.query import acting, filtered, page, principal_of, scope
from streams.api.violations import amount
from streams.auth import AuthError, Forbidden
from streams.ingest.parsers.edi849 import write_849
from streams.ingest.parsers.x12_writer import Parties, X12WriteError

#: who the 849 comes from (ISA06 / GS02): the vendor's side of the exchange
ANSWER_SENDER: Final = "CHANNELFLOW"
#: the functional group of the 849 (GS01), as of the 844 it answers
FUNCTIONAL_ID: Final = "CF"


async def claims(request: web.Request) -> web.Response:
    """In a thread, as the rotations: a row per claim of the distributor asked for (or all)."""
    wanted = scope(request)
    rows = await context_of(request).exporting(lambda current: claim_summary_rows(current, wanted))
    return json_response(page(request, filtered(request, rows, "status")))


def claim_key(request: web.Request) -> tuple[str, str]:
    info = request.match_info
    return info["distributor_id"], info["claim_id"]


async def _readable(request: web.Request) -> DebitClaim:
    key = claim_key(request)
    if not principal_of(request).may_read(key[0]):
        raise Forbidden("not your distributor's claim")
    context = context_of(request)
    found: DebitClaim = await context.blocking(context.audit.debit_claim, *key)
    return found


async def claim(request: web.Request) -> web.Response:
    return json_response(claim_document(await _readable(request)))


async def claim_849(request: web.Request) -> web.Response:
    """The 849 of the decisions recorded so far (a line not decided yet is not in it)."""
    found = await _readable(request)
    if not found.decisions:
        return json_error(409, "conflict", f"no line of claim {found.claim_id!r} is decided yet")
    try:
        body = answer_849(found)
    except X12WriteError as exc:  # an id from a CSV claim file may hold "*" or "~"
        return json_error(
            409, "conflict", f"claim {found.claim_id!r} has no 849: {exc}; read it as JSON"
        )
    return web.Response(body=body, content_type="application/edi-x12")


def answer_849(found: DebitClaim) -> bytes:
    """The 849 of a claim as recorded: the same aggregate state gives the same bytes (its
    control number is the aggregate's version, its date that of its last event)."""
    parties = Parties(
        ANSWER_SENDER, found.distributor_id, FUNCTIONAL_ID, found.version, found.modified_on
    )
    return write_849(found.claim_id, found.distributor_id, list(found.decisions.values()), parties)


async def claim_step(request: web.Request) -> web.Response:
    context = context_of(request)
    principal = principal_of(request)
    if principal.actor == "anonymous":
        raise AuthError("a claim step needs a bearer token")
    key = claim_key(request)
    action = ClaimAction(request.match_info["action"])
    # who may, before what is asked: a role not allowed is 403 whatever the body says
    check_allowed(principal.role, principal.distributor_id, key[0], action)
    body = await json_body(request, request.app[SETTINGS].body_timeout_seconds, ClaimStep)
    step: dict[str, Any] = {**acting(principal), **_step_fields(action, body)}
    try:
        updated = await context.blocking(context.audit.claim_step, key, action, **step)
    except (IllegalTransition, NotAllowed):
        raise
    except ValueError as exc:  # what the step says cannot be (no reason, an unknown line)
        raise web.HTTPBadRequest(text=str(exc)) from None
    return json_response(claim_document(updated))


def _step_fields(action: ClaimAction, body: dict[str, Any]) -> dict[str, Any]:
    """What the step says beyond who and when, from the body (else 400)."""
    if action in (ClaimAction.PAY, ClaimAction.CREDIT):
        return {"reference": required_text(body, "reference")}
    fields: dict[str, Any] = {"reason": required_text(body, "reason")}
    if action is ClaimAction.DISPUTE:
        if "lines" not in body:  # their type: the body's model
            raise InvalidField("lines", "the line numbers disputed are required, e.g. [2, 3]")
        fields["lines"] = tuple(body["lines"])
    if action is ClaimAction.RESOLVE:
        fields["outcome"] = required_text(body, "outcome")
        fields["granted"] = amount(body, "granted")
    return fields
