"""The OpenAPI 3.1 document of the HTTP API, served at GET /api/openapi.json.

Every route of `streams.api.app.make_web_app` is listed here; tests/unit/api/test_openapi.py
fails when a route is added without documenting it (or documented without existing).
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from pydantic.json_schema import GenerateJsonSchema, models_json_schema
from pydantic_core import core_schema

from schemas.rows import (
    DATE_SCHEMA,
    DECIMAL_SCHEMA,
    ROW_MODELS,
    SNAPSHOT_SECTIONS,
    TIME_SCHEMA,
    UUID_SCHEMA,
)

Schema = dict[str, Any]

# --- schema shorthands -----------------------------------------------------------------

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
DECIMAL: Schema = DECIMAL_SCHEMA
TIME: Schema = TIME_SCHEMA
DATE: Schema = DATE_SCHEMA
UUID: Schema = UUID_SCHEMA
ANY_OBJECT: Schema = {"type": "object"}
SEVERITY: Schema = {"enum": ["minor", "major", "critical"]}


def nullable(schema: Schema) -> Schema:
    return {**schema, "type": [schema["type"], "null"]}


def obj(**properties: Schema) -> Schema:
    return {"type": "object", "properties": properties}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def page_of(row: str, **extra: Schema) -> Schema:
    """A page of a list endpoint: rows, the total before paging, and the page's bounds."""
    return {"allOf": [ref("Page"), obj(rows={"type": "array", "items": ref(row)}, **extra)]}


class _RowSchema(GenerateJsonSchema):
    """Row schemas as the document shows them: no per-field titles, no defaults (a field
    with one may be absent from a row, it is never filled in)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> Schema:
        return self.generate_inner(schema["schema"])


def row_schemas() -> dict[str, Schema]:
    """The component schema of every row model (schemas/rows.py), `$ref`s to components."""
    _, definitions = models_json_schema(
        [(model, "serialization") for model in ROW_MODELS],
        ref_template="#/components/schemas/{model}",
        schema_generator=_RowSchema,
    )
    return dict(definitions["$defs"])


def snapshot_schema() -> Schema:
    return {
        "type": "object",
        "description": (
            "Every projection as lists of rows (docs/DESIGN.md, the projection snapshot)."
        ),
        "properties": {
            section: {"type": "array", "items": ref(model.__name__)}
            for section, model in SNAPSHOT_SECTIONS.items()
        },
        "required": list(SNAPSHOT_SECTIONS),
    }


SCHEMAS: dict[str, Schema] = {
    **row_schemas(),
    "Snapshot": snapshot_schema(),
    "Error": obj(
        error=obj(
            status=INTEGER,
            code={**STRING, "examples": ["bad_request", "unauthorized", "forbidden"]},
            message=STRING,
        )
    ),
    "Page": {
        **obj(
            rows={"type": "array", "items": ANY_OBJECT},
            total={**INTEGER, "description": "rows matching the filters, before paging"},
            limit=INTEGER,
            offset=INTEGER,
        ),
        "required": ["rows", "total", "limit", "offset"],
    },
    "Violation": {
        "allOf": [
            ref("ViolationRow"),
            obj(
                sale=obj(
                    event_id=UUID,
                    transaction_id=STRING,
                    reseller_id=STRING,
                    sku=STRING,
                    sold_at=TIME,
                    quantity=INTEGER,
                    unit_price=DECIMAL,
                    currency=STRING,
                ),
                price=obj(event_id=UUID, scope=STRING, floor_price=DECIMAL),
                steps={"type": "array", "items": ANY_OBJECT},
            ),
        ]
    },
    "ViolationStep": {
        **obj(
            reason=STRING,
            resolution={**STRING, "description": "resolve: waived, credited or penalized"},
            amount=DECIMAL,
        ),
        "required": ["reason"],
    },
    "PeriodClose": obj(program_id=STRING, period=STRING, closed_by=STRING, closed_at=TIME),
    "Statement": obj(
        program_id=STRING,
        distributor_id=STRING,
        period=STRING,
        rebate=nullable(DECIMAL),
        adjustments={"type": "array", "items": ANY_OBJECT},
        total=nullable(DECIMAL),
        status=STRING,
        digest=STRING,
    ),
    "Payment": {**obj(reference=STRING), "required": ["reference"]},
    "IngestAnswer": obj(
        format={"enum": ["events", "csv", "867", "852"]},
        file=STRING,
        received_at=TIME,
        reports={"type": "array", "items": ANY_OBJECT},
        summary={
            **ANY_OBJECT,
            "description": "answers per kind, rejections per reason, messages published",
        },
        lines={
            "type": "array",
            "items": ANY_OBJECT,
            "description": "each line's answer (accepted, duplicate, conflict or rejected, why)",
        },
        note=STRING,
    ),
    "EventBatch": {
        "oneOf": [
            {"type": "array", "items": ANY_OBJECT, "description": "events (schemas/json/)"},
            obj(events={"type": "array", "items": ANY_OBJECT}, report=ANY_OBJECT),
        ]
    },
}

# --- parameters ------------------------------------------------------------------------


def query(name: str, description: str, schema: Schema = STRING) -> Schema:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}  # fmt: skip


def path(name: str, description: str, schema: Schema = STRING) -> Schema:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": schema}  # fmt: skip


LIMIT = query("limit", "rows per page (default 1000)", {**INTEGER, "minimum": 1, "maximum": 10000})
OFFSET = query("offset", "rows to skip (default 0)", {**INTEGER, "minimum": 0})
DISTRIBUTOR = query("distributor_id", "only this distributor (a distributor token: its own)")
SKU = query("sku", "only this SKU")
AS_OF = query("as_of", '"now" of the answer: a date or an ISO time (default: latest seen)')
PROGRAM = query("program_id", "only this rebate program")
PERIOD = query("period", 'only this period ("2026-Q3", "2026", a week "2026-W28", ...)')
PAGED = (LIMIT, OFFSET)

# --- operations ------------------------------------------------------------------------

#: responses every operation may give, by status
ERRORS = {
    400: "a parameter or body is not valid",
    401: "no token, or an unknown one (when tokens are configured)",
    403: "the token's role may not do this, or not for this distributor",
    404: "no such resource",
    408: "the request body stopped arriving (nothing for CHANNELFLOW_BODY_TIMEOUT_SECONDS, "
    "30 s by default): nothing was done",
    409: "the change is not allowed in the current state",
    413: "the request body is larger than the configured limit",
    422: "the upload cannot be read as a whole (nothing was published)",
    503: "Kafka or PostgreSQL is not reachable, or the server's token file cannot be used: try "
    "again (a line sent again is recognized, never counted twice)",
}

#: every 401 names the scheme to answer with (RFC 6750)
CHALLENGE_HEADER: Schema = {
    "WWW-Authenticate": {"description": 'Bearer realm="channelflow"', "schema": {"type": "string"}}
}


def responses(ok: Schema | None, status: int, errors: tuple[int, ...], media: str) -> Schema:
    answer: Schema = {"description": "OK" if status < 300 else "accepted"}
    if ok is not None:
        answer["content"] = {media: {"schema": ok}}
    documented: Schema = {str(status): answer}
    for code in errors:
        documented[str(code)] = {"$ref": f"#/components/responses/E{code}"}
    return documented


def op(
    summary: str,
    tag: str,
    ok: Schema | None,
    *params: Schema,
    status: int = 200,
    errors: tuple[int, ...] = (400, 401, 403),
    body: str | None = None,
    upload: tuple[str, ...] = (),
    open_: bool = False,
    media: str = "application/json",
    description: str | None = None,
) -> Schema:
    # what has a body may wait for it; what needs a token may need Kafka or PostgreSQL too
    errors = tuple(sorted({*errors, *((408,) if body or upload else ())}))
    operation: Schema = {
        "summary": summary,
        "tags": [tag],
        "parameters": list(params),
        "responses": responses(ok, status, errors if open_ else (*errors, 503), media),
    }
    if description:
        operation["description"] = description
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(body)}},
        }
    if upload:  # a file: the raw body, or one file part of a form
        raw: Schema = {"type": "string", "contentMediaType": upload[0]}
        form = obj(file={"type": "string", "contentMediaType": upload[0]})
        content = {media: {"schema": raw} for media in upload}
        operation["requestBody"] = {
            "required": True,
            "content": {**content, "multipart/form-data": {"schema": form}},
        }
    if open_:
        operation["security"] = []
    return operation


VIOLATION_ID = path("violation_id", "the violation's id", UUID)
STATEMENT_KEY = (
    path("program_id", "rebate program"),
    path("distributor_id", "distributor"),
    path("period", 'period, e.g. "2026-Q3"'),
)
AUDIT_RECORD = (
    path("kind", "record kind", {"enum": ["statement", "violation", "reconciliation", "claim"]}),
    path("ref", "the record's id, or its business key (may contain /)"),
)

INGEST_ERRORS = (400, 401, 403, 413, 422)
REPORT_OPTIONS = (
    query("report_id", "the report's id (a sell-through report)"),
    query("replaces", "the id of the report this one replaces (with report_id)"),
    query("period_start", "the report's first day", DATE),
    query("period_end", "the report's last day", DATE),
)
SUBMIT_OPTIONS = (
    query("distributor_id", "admin: the distributor submitted for (a distributor: its own)"),
    query("filename", "names the lines' source_ref"),
)
EVERY_LINE = query(
    "lines", "all: answer every line, not only those not accepted", {"enum": ["all", "problems"]}
)

PATHS: dict[str, dict[str, Schema]] = {
    "/": {
        "get": op("Redirects to the dashboard", "dashboard", None, status=302, errors=(),
                  open_=True),
    },
    "/dashboard": {
        "get": op("The channel manager's dashboard (HTML; reads this API)", "dashboard",
                  STRING, errors=(), open_=True, media="text/html"),
    },
    "/static/{name}": {
        "get": op("A dashboard asset (script, style sheet, Chart.js and its license)",
                  "dashboard", STRING, path("name", "asset file name"), errors=(404,),
                  open_=True, media="text/javascript"),
    },
    "/health": {
        "get": op("Liveness and the running mode", "operations",
                  obj(status=STRING, mode=STRING), errors=(), open_=True),
    },
    "/metrics": {
        "get": op("Prometheus metrics (text exposition format)", "operations", STRING,
                  errors=(), open_=True, media="text/plain"),
    },
    "/api/openapi.json": {
        "get": op("This document", "operations", ANY_OBJECT, errors=(), open_=True),
    },
    "/schemas": {
        "get": op("The JSON Schema of every event type and of the dead-letter record",
                  "reference",
                  obj(schemas={"type": "array", "items": obj(
                      name={**STRING, "examples": ["SaleReported.v1.json"]},
                      type={**STRING, "examples": ["SaleReported"]},
                      version=INTEGER, url=STRING)}),
                  errors=(), open_=True),
    },
    "/schemas/{name}": {
        "get": op("One JSON Schema (draft 2020-12)", "reference", ANY_OBJECT,
                  path("name", "its file name, as /schemas lists it"), errors=(404,),
                  open_=True, media="application/schema+json"),
    },
    "/api/snapshot": {
        "get": op("The full projection snapshot", "projections", ref("Snapshot"), AS_OF,
                  description="A distributor token sees its own rows only."),
    },
    "/api/inventory": {
        "get": op("Channel inventory per distributor and SKU", "inventory",
                  page_of("InventoryRow"), DISTRIBUTOR, SKU, AS_OF, *PAGED),
    },
    "/api/inventory/summary": {
        "get": op("Per distributor: stock, value, weeks of supply, top SKUs; and the "
                  "channel-wide totals of the rows", "inventory",
                  page_of("InventorySummaryRow", channel=ref("ChannelInventory")),
                  DISTRIBUTOR, AS_OF,
                  query("n", "top SKUs per list (1-1000, default 5)", INTEGER), *PAGED),
    },
    "/api/sell-through": {
        "get": op("Sell-in vs sell-through per distributor and period, or channel-wide",
                  "inventory",
                  page_of(
                      "SellThroughRow",
                      granularity=STRING,
                      partial_period={
                          **nullable(STRING),
                          "description": "the period the latest recorded time falls in: not "
                          "over, its totals are partial (null: no data yet)",
                      },
                  ),
                  query("granularity", "period length (default week)",
                        {"enum": ["week", "month", "quarter"]}),
                  query("scope", "channel: totals over all distributors (vendor roles)",
                        {"enum": ["channel"]}),
                  DISTRIBUTOR, SKU, PERIOD, *PAGED),
    },
    "/api/quality": {
        "get": op("Data quality and report compliance per distributor", "compliance",
                  page_of("QualityRow"), DISTRIBUTOR, *PAGED),
    },
    "/api/dead-letters": {
        "get": op("Dead-letter counts by reason (vendor roles)", "operations",
                  page_of("DeadLetterRow"), query("reason", "only this reason"), *PAGED),
    },
    "/api/dead-letters/lines": {
        "get": op("Rejected lines: why, from where, and their original bytes", "operations",
                  page_of("DeadLetterLine"), DISTRIBUTOR, query("reason", "only this reason"),
                  query("source", "only those whose source contains this text"),
                  query("order", "topic (default): by partition and offset on the dead-letter "
                        "topic; newest: the latest recorded first", {"enum": ["topic", "newest"]}),
                  *PAGED,
                  description="A distributor token sees the lines sent under its own id; the "
                  "vendor's roles see all (distributor_id: under that message key). Read from "
                  "the dead-letter topic on each call."),
    },
    "/api/products": {
        "get": op("The product catalog", "reference", page_of("ProductRow"), SKU, *PAGED),
    },
    "/api/violations": {
        "get": op("Pricing violations", "pricing", page_of("ViolationRow"), DISTRIBUTOR, SKU,
                  query("severity", "only this severity", SEVERITY),
                  query("status", "only this lifecycle status"), *PAGED),
    },
    "/api/violations/summary": {
        "get": op("Violations per severity, and per status within it", "pricing",
                  page_of("SeverityCount"), DISTRIBUTOR, SKU, *PAGED),
    },
    "/api/violations/{violation_id}": {
        "get": op("One violation with its sale, the price it broke and its lifecycle",
                  "pricing", ref("Violation"), VIOLATION_ID, errors=(401, 403, 404)),
    },
    "/api/violations/{violation_id}/{action}": {
        "post": op("Acknowledge, dispute or resolve a violation (role-checked)", "pricing",
                   ref("Violation"), VIOLATION_ID,
                   path("action", "the step", {"enum": ["acknowledge", "dispute", "resolve"]}),
                   body="ViolationStep", errors=(400, 401, 403, 404, 409)),
    },
    "/api/rebates": {
        "get": op("Rebate accruals per program, distributor and period", "rebates",
                  page_of("RebateRow"), PROGRAM, DISTRIBUTOR, PERIOD,
                  query("status", "open or closed", {"enum": ["open", "closed"]}), *PAGED),
    },
    "/api/rebates/watchlist": {
        "get": op("Open accruals within a share of the next tier", "rebates",
                  page_of("RebateRow", share=DECIMAL),
                  query("share", "within this share of the threshold (default 0.10)",
                        DECIMAL), PROGRAM, DISTRIBUTOR, PERIOD, *PAGED),
    },
    "/api/rebates/{program_id}/{period}/close": {
        "post": op("Close a rebate period (admin); applied asynchronously", "rebates",
                   ref("PeriodClose"), path("program_id", "rebate program"),
                   path("period", 'period, e.g. "2026-Q3"'), status=202,
                   errors=(400, 401, 403, 404)),
    },
    "/api/rebates/statements/{program_id}/{distributor_id}/{period}": {
        "get": op("A closed period's statement, adjustments and approval state", "rebates",
                  ref("Statement"), *STATEMENT_KEY, errors=(401, 403, 404)),
    },
    "/api/rebates/statements/{program_id}/{distributor_id}/{period}/{action}": {
        "post": op("Approve or pay a statement (admin); pay takes a reference", "rebates",
                   ref("Statement"), *STATEMENT_KEY,
                   path("action", "the step", {"enum": ["approve", "pay"]}), body="Payment",
                   errors=(400, 401, 403, 404, 409)),
    },
    "/api/prices": {
        "get": op("Price history (list prices, distributor costs, special authorizations)",
                  "pricing", page_of("PriceRow"), SKU, DISTRIBUTOR, *PAGED),
    },
    "/api/unpriced": {
        "get": op("Sale lines with no price in effect", "pricing", page_of("UnpricedRow"),
                  DISTRIBUTOR, SKU, *PAGED),
    },
    "/api/price-protection": {
        "get": op("Price-protection claims of cost drops", "pricing",
                  page_of("PriceProtectionRow"), DISTRIBUTOR, SKU, AS_OF, *PAGED),
    },
    "/api/resellers": {
        "get": op("The reseller network per distributor", "resellers",
                  page_of("ResellerNetworkRow"), DISTRIBUTOR, AS_OF, *PAGED),
    },
    "/api/resellers/growth": {
        "get": op("Per month: resellers onboarded and first selling, with running totals",
                  "resellers", page_of("ResellerGrowthRow"), DISTRIBUTOR, *PAGED),
    },
    "/api/resellers/top": {
        "get": op("The resellers with the most revenue, per currency", "resellers",
                  page_of("TopResellerRow"), DISTRIBUTOR,
                  query("n", "how many (1-1000, default 10)", INTEGER),
                  query("period", 'a year "2026", quarter "2026-Q3" or month "2026-07"'),
                  *PAGED),
    },
    "/api/reports": {
        "get": op("Sell-through reports submitted", "compliance", page_of("ReportRow"),
                  DISTRIBUTOR, *PAGED),
    },
    "/api/compliance": {
        "get": op("Reporting weeks per distributor: on time, late or missing",
                  "compliance", page_of("ComplianceWeek"), DISTRIBUTOR,
                  query("status", "only weeks with this status",
                        {"enum": ["on_time", "late", "missing"]}), AS_OF, *PAGED),
    },
    "/api/ingest/events": {
        "post": op("Submit a batch of events (distributor: its own; admin: anyone's)",
                   "ingest", ref("IngestAnswer"), *REPORT_OPTIONS, *SUBMIT_OPTIONS,
                   body="EventBatch", errors=INGEST_ERRORS,
                   description="Every line is checked, then the batch is published, then "
                   "answered line by line (docs/INGEST.md)."),
    },
    "/api/ingest/csv": {
        "post": op("Upload a CSV sell-through report", "ingest", ref("IngestAnswer"),
                   *REPORT_OPTIONS, *SUBMIT_OPTIONS, EVERY_LINE,
                   upload=("text/csv",), errors=INGEST_ERRORS),
    },
    "/api/ingest/edi": {
        "post": op("Upload an X12 interchange of 867 or 852 reports", "ingest",
                   ref("IngestAnswer"),
                   query("format", "867 or 852 (else the first ST01 decides)",
                         {"enum": ["867", "852"]}),
                   *SUBMIT_OPTIONS, EVERY_LINE,
                   upload=("application/edi-x12", "text/plain"), errors=INGEST_ERRORS),
    },
    "/api/audit/verify": {
        "get": op("Walk the audit chain and compare the live projections with the audit "
                  "store (auditor, admin)", "audit", ANY_OBJECT,
                  query("expect_head", "the chain head the auditor expects")),
    },
    "/api/audit/{kind}/{ref}/history": {
        "get": op("Every event of an audit record: what, when, who, why (auditor, admin)",
                  "audit", ANY_OBJECT, *AUDIT_RECORD, errors=(401, 403, 404)),
    },
    "/api/audit/{kind}/{ref}/lineage": {
        "get": op("The source events of an audit record (auditor, admin)", "audit",
                  ANY_OBJECT, *AUDIT_RECORD, errors=(401, 403, 404)),
    },
}  # fmt: skip


def document() -> Schema:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "channelflow API",
            "version": "1",
            "description": (
                "Reads of every projection, per distributor and channel-wide, and the "
                "commands of pricing, rebates and audit. Reads take `Authorization: Bearer "
                "<token>`; a distributor token sees only its own distributor (another one's: "
                "403). With no tokens configured (the embedded demo) reads need none. List "
                "endpoints answer pages: `rows`, `total`, `limit` (1-10000, default 1000), "
                "`offset`. Money is a decimal string, time ISO 8601 UTC. Errors are "
                '`{"error": {"status", "code", "message"}}`. In a multi-worker deployment '
                "each worker answers for the partitions it owns; the PostgreSQL read models "
                "are the shared read path."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": PATHS,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
            "responses": {
                f"E{status}": {
                    "description": text,
                    "content": {"application/json": {"schema": ref("Error")}},
                    **({"headers": CHALLENGE_HEADER} if status == 401 else {}),
                }
                for status, text in ERRORS.items()
            },
        },
    }


def add_openapi_route(app: web.Application) -> None:
    body = orjson.dumps(document(), option=orjson.OPT_INDENT_2)

    async def openapi(_: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app.router.add_get("/api/openapi.json", openapi)
