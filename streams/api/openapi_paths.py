"""Every route of `streams.api.app.make_web_app` with its operation, for the OpenAPI document
(streams/api/openapi.py); tests/unit/api/test_openapi.py fails when a route is added without
documenting it (or documented without existing)."""

from __future__ import annotations

from streams.api.openapi_operations import (
    ACK,
    ANY_OBJECT,
    AS_OF,
    AUDIT_RECORD,
    CALENDAR_PERIOD,
    CLAIM_KEY,
    DECIMAL,
    DISTRIBUTOR,
    EVERY_LINE,
    INGEST_ERRORS,
    INTEGER,
    PAGED,
    PROGRAM,
    REBATE_PERIOD,
    REPORT_OPTIONS,
    RESENT,
    SALES_PERIOD,
    SCORECARD_PERIOD,
    SEVERITY,
    SKU,
    STATEMENT_KEY,
    STRING,
    SUBMIT_OPTIONS,
    TEST_INTERCHANGE,
    VIOLATION_ID,
    Schema,
    currency_query,
    op,
    page_of,
    path,
    query,
    ref,
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
                  ref("Health"), errors=(), open_=True),
    },
    "/metrics": {
        "get": op("Prometheus metrics (text format; the vendor roles and monitor)", "operations",
                  STRING, errors=(401, 403), media="text/plain"),
    },
    "/api/openapi.json": {
        "get": op("This document", "operations", ANY_OBJECT, errors=(), open_=True),
    },
    "/api/asyncapi.json": {
        "get": op("The AsyncAPI 3.0 document of the decisions topic (docs/DECISIONS.md)",
                  "operations", ANY_OBJECT, errors=(), open_=True),
    },
    "/schemas": {
        "get": op("The JSON Schema of every event type, of the dead-letter record and of "
                  "the decision documents",
                  "reference",
                  ref("SchemaList"), errors=(), open_=True),
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
                  page_of("InventorySummaryRow", "InventorySummaryTotals"),
                  DISTRIBUTOR, AS_OF,
                  query("n", "top SKUs per list (1-1000, default 5)", INTEGER), *PAGED),
    },
    "/api/inventory/aging": {
        "get": op("Held stock per distributor and SKU by age band (0-30, 31-60, 61-90, >90 "
                  "days), first in first out, and its value", "inventory",
                  page_of("AgingRow"), DISTRIBUTOR, SKU, AS_OF, *PAGED,
                  description="A distributor token sees its own rows only."),
    },
    "/api/sell-through": {
        "get": op("Sell-in vs sell-through per distributor and period, or channel-wide",
                  "inventory",
                  page_of("SellThroughRow", "SellThroughPeriods"),
                  query("granularity", "period length (default week)",
                        {"enum": ["week", "month", "quarter"]}),
                  query("scope", "channel: totals over all distributors (vendor roles)",
                        {"enum": ["channel"]}),
                  DISTRIBUTOR, SKU, SALES_PERIOD, *PAGED),
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
                  query("source", "only those that came in by this door (csv, edi867, edi852, "
                        "edi844, api, kafka, erp) or whose topic contains this text"),
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
                  query("status", "only this lifecycle status",
                        {"enum": ["detected", "acknowledged", "disputed", "resolved"]}),
                  *PAGED),
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
                  page_of("RebateRow"), PROGRAM, DISTRIBUTOR, REBATE_PERIOD,
                  query("status", "open or closed", {"enum": ["open", "closed"]}), *PAGED),
    },
    "/api/rebates/watchlist": {
        "get": op("Open accruals within a share of the next tier", "rebates",
                  page_of("RebateRow", "WatchlistShare"),
                  query("share", "within this share of the threshold (default 0.10)",
                        DECIMAL), PROGRAM, DISTRIBUTOR, REBATE_PERIOD, *PAGED),
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
                  CALENDAR_PERIOD,
                  *PAGED),
    },
    "/api/resellers/masters": {
        "get": op("Reseller masters, each with the aliases that mean it now (vendor roles)",
                  "resellers", page_of("MasterWithAliasesRow"),
                  query("master_id", "only this master"), *PAGED),
    },
    "/api/resellers/aliases": {
        "get": op("Reseller aliases: the master each means now, and every mapping step",
                  "resellers", page_of("PartyAliasRow"), DISTRIBUTOR,
                  query("master_id", "only the aliases mapped to this master"), *PAGED),
    },
    "/api/end-customers/masters": {
        "get": op("End customers' masters, each with the aliases that mean it now (vendor "
                  "roles); no name or address", "resellers",
                  page_of("CustomerMasterWithAliasesRow"),
                  query("master_id", "only this master"), *PAGED),
    },
    "/api/end-customers/aliases": {
        "get": op("End-customer aliases: the master each means now, and every mapping step",
                  "resellers", page_of("PartyAliasRow"), DISTRIBUTOR,
                  query("master_id", "only the aliases mapped to this master"), *PAGED),
    },
    "/api/resellers/proposals": {
        "get": op("The match queue: reseller ids proposed for a master (vendor roles)",
                  "resellers", page_of("ProposalRow"), DISTRIBUTOR,
                  query("status", "open (the queue), confirmed or rejected",
                        {"enum": ["open", "confirmed", "rejected"]}), *PAGED),
    },
    "/api/resellers/proposals/{distributor_id}/{alias}/{action}": {
        "post": op("Confirm (map to a master) or reject a match proposal (channel manager, "
                   "admin); applied asynchronously", "resellers", ref("MatchStepAccepted"),
                   path("distributor_id", "the distributor"),
                   path("alias", "the distributor's id for the reseller"),
                   path("action", "the step", {"enum": ["confirm", "reject"]}),
                   body="MatchStep", status=202, errors=(400, 401, 403, 404, 409, 503)),
    },
    "/api/reports": {
        "get": op("Sell-through reports submitted", "compliance", page_of("ReportRow"),
                  DISTRIBUTOR, *PAGED),
    },
    "/api/compliance": {
        "get": op("Reporting periods per distributor, on its agreement's calendar: on time, "
                  "late or missing", "compliance", page_of("CompliancePeriod"), DISTRIBUTOR,
                  query("status", "only periods with this status",
                        {"enum": ["on_time", "late", "missing"]}),
                  query("frequency", "only periods of this frequency",
                        {"enum": ["weekly", "monthly"]}), AS_OF, *PAGED),
    },
    "/api/scorecard": {
        "get": op("A period's distributor scorecards ranked by score (vendor roles)",
                  "scorecard", page_of("ScorecardRow"), SCORECARD_PERIOD, AS_OF, *PAGED,
                  description="A distributor token is refused (403): it tells about the "
                  "others (docs/SCORECARD.md)."),
    },
    "/api/scorecard.csv": {
        "get": op("The same ranking as CSV (vendor roles)", "scorecard", STRING,
                  SCORECARD_PERIOD, AS_OF, media="text/csv"),
    },
    "/api/scorecard/{distributor_id}": {
        "get": op("One distributor's scorecard for a period (a distributor token: its own)",
                  "scorecard", ref("ScorecardRow"), path("distributor_id", "distributor"),
                  SCORECARD_PERIOD, AS_OF, errors=(400, 401, 403, 404),
                  description="To the vendor's roles its ranking row; to the distributor its "
                  "card without rank or share of channel revenue. A distributor the channel "
                  "has never heard of (nothing recorded under its id) is not found (404)."),
    },
    "/api/agreements": {
        "get": op("Every version of the distributors' agreements, and which is in effect",
                  "agreements", page_of("AgreementRow"), DISTRIBUTOR,
                  query("agreement_id", "only this agreement"), AS_OF, *PAGED,
                  description="A distributor token sees its own agreements only."),
    },
    "/api/authorizations": {
        "get": op("The special price authorizations, one row per distributor each names",
                  "pricing", page_of("AuthorizationRow"), DISTRIBUTOR,
                  query("authorization_id", "only this authorization"),
                  query("in_effect", "true: only those in effect today (or as of)",
                        {"enum": ["true", "false"]}), AS_OF, *PAGED,
                  description="Their terms as they stand after amendments and an early "
                  "expiry. A sale within one is judged against its floor (docs/CLAIMS.md). "
                  "A distributor token sees the authorizations naming it."),
    },
    "/api/authorizations/usage": {
        "get": op("Each special price authorization's cap given out and days left",
                  "pricing", page_of("AuthorizationUsageRow"), DISTRIBUTOR,
                  query("authorization_id", "only this authorization"), AS_OF, *PAGED,
                  description="One row per authorization and distributor it names: its "
                  "cap, the units its ledger has given out to accepted claim lines, the units "
                  "left and the share used, "
                  "its last valid day and the days left to today (or as of), and `near`: "
                  "`cap` from CHANNELFLOW_CAP_NEAR_PERCENT (80) used, `expiry` from "
                  "CHANNELFLOW_EXPIRY_NEAR_DAYS (14) days left. A distributor token sees "
                  "the authorizations naming it."),
    },
    "/api/obligations": {
        "get": op("What each distributor's stock breaks of its agreement in effect today",
                  "agreements", page_of("ObligationRow"), DISTRIBUTOR,
                  query("kind", "only over-stock or over-age findings",
                        {"enum": ["over_stock", "over_age"]}),
                  query("ref", "only this sku or product group"), AS_OF, *PAGED,
                  description="Stocking targets exceeded (weeks of supply over the target) "
                  "and stock older than the maximum age, under the version that governs the "
                  "day. A distributor token sees its own."),
    },
    "/api/commitments": {
        "get": op("Each distributor's volume commitments over the periods judged",
                  "agreements", page_of("CommitmentRow"), DISTRIBUTOR,
                  query("status", "only commitments with this status",
                        {"enum": ["met", "open", "short", "unconverted"]}),
                  CALENDAR_PERIOD,
                  AS_OF, *PAGED,
                  description="Per period kind, the period holding today (open) and the one "
                  "before (closed), under the version governing the period's last day as "
                  "known when it closed, if one agreement governed the whole period. A "
                  "distributor token sees its own."),
    },
    "/api/rotations": {
        "get": op("Stock rotation requests as decided, and what came back of their returns",
                  "agreements", page_of("RotationRow"), DISTRIBUTOR,
                  query("status", "only this status",
                        {"enum": ["accepted", "rejected", "returned", "cancelled"]}), *PAGED,
                  description="In distributor and request order. A distributor token sees "
                  "its own requests only."),
    },
    "/api/rotations/{distributor_id}/{request_id}": {
        "get": op("One stock rotation request (a distributor token: its own)", "agreements",
                  ref("RotationRow"), path("distributor_id", "the distributor"),
                  path("request_id", "the distributor's request id"),
                  errors=(401, 403, 404)),
    },
    "/api/rotations/{distributor_id}/{request_id}/cancel": {
        "post": op("Cancel an accepted rotation before its return (a distributor: its own; "
                   "admin: anyone's); applied asynchronously", "agreements",
                   ref("RotationCancelled"), path("distributor_id", "the distributor"),
                   path("request_id", "the distributor's request id"), body="RotationCancel",
                   status=202, errors=(400, 401, 403, 404, 409),
                   description="Refused (409, its reason as the code) when the rotation was "
                   "rejected, already cancelled or part of its return came back."),
    },
    "/api/claims": {
        "get": op("Debit claims with their totals and the reasons of their lines, from the "
                  "worker's claims", "claims", page_of("ClaimRow"), DISTRIBUTOR,
                  query("status", "only decided claims, or those with a line still open",
                        {"enum": ["decided", "pending"]}), *PAGED,
                  description="In distributor and claim order; each claim's lifecycle "
                  "(approved, paid …) is on its own read. A distributor token sees its own "
                  "claims only."),
    },
    "/api/claims/{distributor_id}/{claim_id}": {
        "get": op("One debit claim: status, lines with their decisions, steps (a distributor "
                  "token: its own)", "claims", ref("Claim"), *CLAIM_KEY,
                  errors=(401, 403, 404),
                  description="Read from the claim's DebitClaim aggregate (docs/CLAIMS.md)."),
    },
    "/api/claims/{distributor_id}/{claim_id}/849": {
        "get": op("The X12 849 answering the claim, from the decisions recorded", "claims",
                  STRING, *CLAIM_KEY, errors=(401, 403, 404, 409),
                  media="application/edi-x12",
                  description="Lines not decided yet are not in it; 409 while none is."),
    },
    "/api/claims/{distributor_id}/{claim_id}/{action}": {
        "post": op("Approve, pay, credit, dispute or resolve a claim (admin; a distributor "
                   "disputes its own)", "claims", ref("Claim"), *CLAIM_KEY,
                   path("action", "the step",
                        {"enum": ["approve", "pay", "credit", "dispute", "resolve"]}),
                   body="ClaimStep", errors=(400, 401, 403, 404, 409)),
    },
    "/api/exchange-rates": {
        "get": op("Every exchange-rate publication, by pair and effective date", "reference",
                  page_of("ExchangeRateRow"),
                  currency_query("from_currency", "only from this currency"),
                  currency_query("to_currency", "only to this currency"), *PAGED),
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
        "post": op("Upload an X12 interchange of 867 or 852 reports, or 844 claims",
                   "ingest", ref("IngestAnswer"),
                   query("format", "867, 852 or 844 (else the first ST01 decides)",
                         {"enum": ["867", "852", "844"]}),
                   ACK,
                   *SUBMIT_OPTIONS, EVERY_LINE,
                   upload=("application/edi-x12", "text/plain"), errors=INGEST_ERRORS,
                   description="An 867's report id, the report it replaces and its period "
                   "are the interchange's own (its BPT and DTM segments): not options. "
                   "Asked for (ack=997 or Accept: application/edi-x12), the answer is the "
                   "interchange's acknowledgement: a 997 per functional group, a TA1 "
                   "when ISA14 asks for one or the envelope is refused, a TA1 E / 025 when "
                   "the interchange was received before (docs/INGEST.md). " + RESENT + " "
                   + TEST_INTERCHANGE),
    },
    "/api/ingest/claims": {
        "post": op("Upload debit claims: a CSV claim file or an X12 844 (by content)",
                   "ingest", ref("IngestAnswer"), ACK, *SUBMIT_OPTIONS, EVERY_LINE,
                   upload=("text/csv", "application/edi-x12"), errors=INGEST_ERRORS,
                   description="Each claim is one DebitClaimSubmitted on the claims topic, "
                   "answered on the line (or segment) where it starts. A claim with any "
                   "problem is refused whole: each problem answered with its line or "
                   "segment, field and reason, each of its other lines `claim_refused`, all "
                   "dead-lettered with their bytes; the file's other claims stand. A "
                   "distributor's file naming another distributor is refused (403) "
                   "(docs/CLAIMS.md). An 844 is acknowledged as on /api/ingest/edi when "
                   "asked (ack=997 or Accept: application/edi-x12; a CSV claim file is "
                   "answered in JSON all the same), each claim's set accepted or rejected "
                   "whole. " + RESENT + " " + TEST_INTERCHANGE),
    },
    "/api/audit/verify": {
        "get": op("Walk the audit chain and compare the live projections with the audit "
                  "store (auditor, admin)", "audit", ANY_OBJECT,
                  query("expect_head", "the chain head kept: 64 hex digits, either case")),
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
