"""The auditor's HTTP endpoints (roles auditor and admin; others 403, no token 401).

  GET /api/audit/verify                    the audit chain walk, and the live projections
                                           against the audit store (streams/audit/verify.py)
  GET /api/audit/{kind}/{ref}/history      every event of a record: what, when, who, why
  GET /api/audit/{kind}/{ref}/lineage      its source events (from this process's stores)

`kind` is statement, violation, reconciliation, claim, rotation or alias; `ref` the
record's id or its business key (streams/audit/trail.py), e.g.
/api/audit/statement/VPA-1/D01/2026-Q3/history.
Where each source event was read (topic, partition, offset) needs the raw topics:
`channelflow audit lineage --from-kafka`.
"""

from __future__ import annotations

from aiohttp import web

from domain.permissions import Permission, allows
from infra.auditchain import kept_head
from streams.api.context import PRINCIPAL, ApiContext, json_response
from streams.api.query import parsed
from streams.audit.lineage import lineage_of
from streams.audit.trail import UnknownRecord, history, load
from streams.audit.verify import live_differences, live_facts
from streams.auth import AuthError, Forbidden


def add_audit_routes(app: web.Application, context: ApiContext) -> None:
    audit = context.audit

    def auditor(request: web.Request) -> None:
        principal = request[PRINCIPAL]
        if principal.actor == "anonymous":
            raise AuthError("the audit trail needs a bearer token (role auditor or admin)")
        if not allows(principal.role, Permission.READ_AUDIT):
            raise Forbidden(
                f"the audit trail is for the auditor and admin roles ({principal.actor} is "
                f"{principal.role})"
            )

    blocking = context.blocking

    def record(request: web.Request) -> tuple[str, str]:
        return request.match_info["kind"], request.match_info["ref"]

    async def verify(request: web.Request) -> web.Response:
        auditor(request)
        if context.health is not None:
            context.health.check_store()
        facts = await context.exporting(live_facts)
        # a malformed head is a 400, not a `rewritten` finding
        chain = await blocking(audit.verify_chain, parsed(request, "expect_head", kept_head))
        verified, differences = await blocking(live_differences, facts, audit)
        return json_response(
            {
                "verified": chain.verified and not differences,
                "chain": chain.to_json(),
                "live": {
                    "verified": verified,
                    "differences": [
                        {"where": d.where, "live": str(d.replayed), "recorded": str(d.recorded)}
                        for d in differences
                    ],
                },
            }
        )

    async def record_history(request: web.Request) -> web.Response:
        auditor(request)
        try:
            return json_response(await blocking(history, audit, *record(request)))
        except UnknownRecord as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None

    async def record_lineage(request: web.Request) -> web.Response:
        auditor(request)
        kind, ref = record(request)
        try:
            aggregate = await blocking(load, audit, kind, ref)
        except UnknownRecord as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        return json_response(
            await context.exporting(lambda current: lineage_of(aggregate, kind, current))
        )

    app.router.add_get("/api/audit/verify", verify)
    app.router.add_get("/api/audit/{kind}/{ref:.+}/history", record_history)
    app.router.add_get("/api/audit/{kind}/{ref:.+}/lineage", record_lineage)
