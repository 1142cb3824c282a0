"""How the OpenAPI document (streams/api/openapi.py) writes an operation: schema shorthands,
the query and path parameters routes share, and `op`, one operation with its responses."""

from __future__ import annotations

from typing import Any

from schemas.rows.base import DATE_SCHEMA, DECIMAL_SCHEMA, TIME_SCHEMA, UUID_SCHEMA
from schemas.types import CURRENCY_PATTERN
from streams.audit.trail import KINDS

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


def obj(**properties: Schema) -> Schema:
    return {"type": "object", "properties": properties}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def page_of(row: str, extra: str | None = None) -> Schema:
    """A page of a list endpoint: the Page, its rows, and what the route adds to it."""
    rows = obj(rows={"type": "array", "items": ref(row)})
    return {"allOf": [ref("Page"), rows, *([ref(extra)] if extra else [])]}


# --- parameters ------------------------------------------------------------------------


def query(name: str, description: str, schema: Schema = STRING) -> Schema:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}  # fmt: skip


def path(name: str, description: str, schema: Schema = STRING) -> Schema:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": schema}  # fmt: skip


LIMIT = query("limit", "rows per page (default 1000)", {**INTEGER, "minimum": 1, "maximum": 10000})
OFFSET = query(
    "offset", "rows to skip (default 0)", {**INTEGER, "minimum": 0, "maximum": 2**31 - 1}
)
DISTRIBUTOR = query(
    "distributor_id",
    "only this distributor (a distributor token: its own); one the channel has never heard of "
    "(nothing recorded under its id) is not found (404)",
)
SKU = query("sku", "only this SKU")
AS_OF = query("as_of", '"now" of the answer: a date or an ISO time (default: latest seen)')
PROGRAM = query(
    "program_id",
    "only this rebate program; one not defined (a distributor token: not one of its own) is "
    "not found (404)",
)


def currency_query(name: str, description: str) -> Schema:
    """A currency filter: a code not of ISO 4217 (`usd`, `EURO`) is refused (400), as it would
    match no row (streams/api/query_choices.py)."""
    described = f"{description}: an ISO 4217 code in capitals, like USD or EUR"
    return query(name, described, {"type": "string", "pattern": CURRENCY_PATTERN})


def period_query(description: str, pattern: str) -> Schema:
    """?period=, a filter: a key not of its form is refused (400), as it would match no row
    (streams/api/query_choices.py)."""
    return query("period", description, {"type": "string", "pattern": pattern})


SALES_PERIOD = period_query(
    'only this period: a week "2026-W28", month "2026-07" or quarter "2026-Q3"',
    r"^\d{4}-(W(0[1-9]|[1-4]\d|5[0-3])|0[1-9]|1[0-2]|Q[1-4])$",
)
REBATE_PERIOD = period_query(
    'only this period: a quarter "2026-Q3" or a year "2026"', r"^\d{4}(-Q[1-4])?$"
)
CALENDAR_PERIOD = period_query(
    'only this period: a month "2026-07", a quarter "2026-Q3" or a year "2026"',
    r"^\d{4}(-(0[1-9]|1[0-2]|Q[1-4]))?$",
)
PAGED = (LIMIT, OFFSET)
#: query parameters naming an id a read is not found (404) for when it is not known
KNOWN_IDS = ("distributor_id", "program_id")
SCORECARD_PERIOD = {
    **query("period", 'a month "2026-07" or a quarter "2026-Q3"',
            {"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$"}),
    "required": True,
}  # fmt: skip

# --- operations ------------------------------------------------------------------------


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
    # what has a body may wait for it; what needs a token may need Kafka or PostgreSQL too;
    # a read about a distributor or program never heard of is not found (streams/api/known_ids.py)
    about_one = not (body or upload) and any(p["name"] in KNOWN_IDS for p in params)
    errors = tuple(
        sorted({*errors, *((408,) if body or upload else ()), *((404,) if about_one else ())})
    )
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
CLAIM_KEY = (
    path("distributor_id", "the distributor"),
    path("claim_id", "the distributor's claim id"),
)
AUDIT_RECORD = (
    path("kind", "record kind", {"enum": list(KINDS)}),
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
#: an X12 upload's acknowledgement, asked for
ACK = query(
    "ack",
    "997: answer an X12 interchange with its acknowledgement (TA1 / 997, application/edi-x12) "
    "instead of JSON, as Accept: application/edi-x12 does",
    {"enum": ["997"]},
)
#: what the answer to an X12 upload says of an interchange received before
RESENT = (
    "Where the register of interchanges is configured (PostgreSQL), the interchange is "
    "registered by sender, receiver and control number once published; one received "
    "before is answered TA1 E / 025 and the JSON answer's `interchange` names its first "
    "receipt and whether the content is the same. Its lines are answered as ever."
)
#: what becomes of an X12 test interchange
TEST_INTERCHANGE = (
    "A test interchange (ISA15 T) is checked and acknowledged as its production copy would "
    "be, but nothing of it is published or registered: the JSON answer says `test: true`. "
    "An ISA15 neither P nor T refuses the interchange whole (422; TA1 R / 020)."
)
