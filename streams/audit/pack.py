"""The audit pack of a period: every audit record of it as CSV files and one JSON file.

Files (one row per record unless said otherwise):

    statements.csv        rebate statements of periods overlapping the requested one
    adjustments.csv       their adjustments (one row each)
    violations.csv        violations of sales in the period, with status and resolution
    violation_steps.csv   their lifecycle steps: who, role, when, why
    reconciliations.csv   counts taken in the period
    claims.csv            price-protection claims of cost drops effective in the period
    aliases.csv           reseller alias records whose first mapping step came before the
                          period's end: the mappings the period's figures were counted under
    alias_steps.csv       their steps: mapped or unmapped, the master, who, why, when,
                          whether the matcher decided and its score
    source_lines.csv      the source events of every record above (when a replay was given)
    audit_pack.json       all of it per record: state, full history with seals, sources
    manifest.json         period, distributor, the chain's head and verdict, sha256 of each file

Each record (and its row) states its `known_at`: when the store recorded its last event, so
the figure exported is what the system showed from then on (`replay --known-at` that time
reproduces the raw side); the manifest's `known_at` is the latest of them.

A CSV cell that a spreadsheet would evaluate as a formula (a dispute reason `=HYPERLINK(...)`)
is written as text, with a single quote in front (streams/audit/safe_csv.py); audit_pack.json keeps
every text exactly as stored.

The head hash printed in the manifest is the one to keep: a later `verify --audit
--expect-head HEAD` proves the records exported here are still stored unchanged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import orjson

from domain.alias_mapping import PartyAlias
from domain.price_protection import PriceProtection
from domain.rebate_programs import period_bounds
from domain.rebate_statement import RebateStatement
from domain.reconciliation import InventoryReconciliation
from domain.violation import PricingViolation
from infra.eventstore import AuditLog
from projections.stores import ChannelStores
from streams.audit.lineage import RawIndex, lineage_of
from streams.audit.pack_dir import MANIFEST, previous_pack
from streams.audit.personal import Opener, reveal_sources
from streams.audit.safe_csv import csv_bytes
from streams.audit.trail import history, jsonable, state_of

COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "statements": (
        "id", "program_id", "distributor_id", "period", "volume", "revenue", "units",
        "tier_index", "tier_rate", "rebate", "commitment_shortfall", "event_count", "digest",
        "calculated_at", "calculated_by", "total", "status", "approved_by", "approved_at",
        "approved_total", "paid_by", "paid_at", "paid_total", "payment_reference", "known_at",
    ),
    "adjustments": (
        "statement_id", "program_id", "distributor_id", "period", "event_id", "reason",
        "amount", "rebate", "volume", "revenue", "units", "event_count", "digest",
        "commitment_shortfall", "at",
    ),
    "violations": (
        "id", "distributor_id", "transaction_id", "reseller_id", "sku", "sold_at", "quantity",
        "unit_price", "floor_price", "currency", "severity", "scope", "event_id",
        "price_event_id", "status", "resolution", "resolution_amount", "known_at",
    ),
    "violation_steps": (
        "violation_id", "action", "from_status", "to_status", "actor_id", "role",
        "actor_distributor_id", "at", "reason", "resolution", "amount",
    ),
    "reconciliations": (
        "id", "distributor_id", "sku", "counted_at", "on_hand", "expected", "variance", "stale",
        "known_at",
    ),
    "claims": (
        "id", "distributor_id", "sku", "effective_from", "units", "old_cost", "new_cost",
        "amount", "currency", "price_event_id", "revisions", "known_at",
    ),
    "aliases": ("id", "alias_key", "distributor_id", "master_id", "steps", "since", "known_at"),
    "alias_steps": (
        "alias_id", "alias_key", "version", "action", "master_id", "by", "reason", "at",
        "automatic", "score", "event_id",
    ),
    "source_lines": (
        "kind", "record_id", "role", "event_id", "business_time", "quantity", "unit_price",
        "topic", "partition", "offset", "source", "source_ref", "report_id",
        "end_customer_name", "end_customer_contact",
    ),
}  # fmt: skip
SECTIONS: Final[dict[type, str]] = {
    RebateStatement: "statements",
    PricingViolation: "violations",
    InventoryReconciliation: "reconciliations",
    PriceProtection: "claims",
    PartyAlias: "aliases",
}
#: the business time that puts a record in a period
MOMENTS: Final[dict[type, str]] = {
    PricingViolation: "sold_at",
    InventoryReconciliation: "counted_at",
    PriceProtection: "effective_from",
}
#: rows by section, as the CSV files will hold them
Tables = dict[str, list[dict[str, Any]]]
KIND_OF: Final = {
    "statements": "statement",
    "violations": "violation",
    "reconciliations": "reconciliation",
    "claims": "claim",
    "aliases": "alias",
}


def export_pack(
    audit: AuditLog,
    out: Path,
    period: str,
    distributor_id: str | None = None,
    stores: ChannelStores | None = None,
    raw: RawIndex | None = None,
    opener: Opener | None = None,
) -> dict[str, Any]:
    """Write the pack of `period` (and one distributor) to `out`, a new or empty directory
    or one holding an earlier pack, which it replaces (streams/audit/pack_dir.py, else
    `ValueError`); returns the manifest.

    `stores` (a replay's projection stores) give each record's source lines, `raw` where
    each source event was read. Without them the pack has no source lines, and says so.
    A source line's personal fields are opened with `opener`, else shown `erased`.
    """
    earlier = previous_pack(out)
    chain = audit.verify_chain()
    records = _records(audit, period_bounds(period), distributor_id)
    tables: Tables = {name: [] for name in COLUMNS}
    document: dict[str, Any] = {"period": period, "distributor_id": distributor_id}
    for section, found in records.items():
        document[section] = _entries(audit, section, found, tables, (stores, raw, opener))
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, rows in tables.items():
        files[f"{name}.csv"] = _write(out / f"{name}.csv", csv_bytes(COLUMNS[name], rows))
    document["chain"] = chain.to_json()
    files["audit_pack.json"] = _write(out / "audit_pack.json", _json(document))
    manifest = {
        "period": period,
        "distributor_id": distributor_id,
        "head": chain.head,
        "head_position": chain.head_position,
        "records_in_store": chain.records,
        "chain_verified": chain.verified,
        "chain_findings": [str(finding) for finding in chain.findings],
        "known_at": max(
            (e["known_at"] for section in KIND_OF for e in document[section]), default=None
        ),
        "source_lines": stores is not None,
        "raw_positions": raw is not None,
        "counts": {name: len(rows) for name, rows in tables.items()},
        "files": files,
    }
    _write(out / MANIFEST, _json(manifest))
    for stale in earlier - {MANIFEST, *files}:  # a file of an earlier pack this one has not
        (out / stale).unlink(missing_ok=True)
    return manifest


def _records(
    audit: AuditLog, bounds: tuple[datetime, datetime], distributor_id: str | None
) -> dict[str, list[Any]]:
    """The store's records of the period (and distributor), by section."""
    start, end = bounds
    records: dict[str, list[Any]] = {section: [] for section in KIND_OF}
    for aggregate_id in audit.aggregate_ids():
        aggregate: Any = audit.repository.get(aggregate_id)
        section = SECTIONS.get(type(aggregate))
        if section is None or (distributor_id and aggregate.distributor_id != distributor_id):
            continue
        if _in_period(aggregate, start, end):
            records[section].append(aggregate)
    return records


def _entries(
    audit: AuditLog,
    section: str,
    found: list[Any],
    tables: Tables,
    sources_from: tuple[ChannelStores | None, RawIndex | None, Opener | None],
) -> list[dict[str, Any]]:
    """Each record's history (and sources, personal fields opened or `erased`) in order;
    its rows added to `tables`."""
    stores, raw, opener = sources_from
    found.sort(key=_order)
    entries = []
    for aggregate in found:
        kind = KIND_OF[section]
        entry = history(audit, kind, str(aggregate.id))
        if stores is not None:
            sources = lineage_of(aggregate, kind, stores, raw)
            reveal_sources(sources["sources"], opener)
            entry["sources"] = sources["sources"]
            entry["digests"] = sources.get("digests")
            tables["source_lines"] += [
                _source_line(kind, aggregate.id, source) for source in sources["sources"]
            ]
        # the record as exported is what the store held from its last event on
        entry["known_at"] = entry["events"][-1]["recorded_at"] if entry["events"] else None
        entries.append(entry)
        ROWS[section](aggregate, entry, tables)
        tables[section][-1]["known_at"] = entry["known_at"]
    return entries


def _in_period(aggregate: Any, start: datetime, end: datetime) -> bool:
    if isinstance(aggregate, RebateStatement):
        own_start, own_end = period_bounds(aggregate.period)
        return own_start < end and start < own_end
    if isinstance(aggregate, PartyAlias):  # a mapping made before the period counts in it
        return aggregate.since is not None and aggregate.since < end
    return bool(start <= getattr(aggregate, MOMENTS[type(aggregate)]) < end)


def _order(aggregate: Any) -> tuple[str, ...]:
    if isinstance(aggregate, RebateStatement):
        return (aggregate.program_id, aggregate.distributor_id, aggregate.period)
    if isinstance(aggregate, PricingViolation):
        return (aggregate.distributor_id, aggregate.transaction_id)
    if isinstance(aggregate, PartyAlias):
        return (aggregate.distributor_id, aggregate.alias_key)
    moment = (
        aggregate.counted_at
        if isinstance(aggregate, InventoryReconciliation)
        else (aggregate.effective_from)
    )
    return (aggregate.distributor_id, aggregate.sku, moment.isoformat())


def _statement_rows(statement: RebateStatement, _: dict[str, Any], tables: Tables) -> None:
    tables["statements"].append(state_of(statement))
    key = {
        "statement_id": str(statement.id),
        "program_id": statement.program_id,
        "distributor_id": statement.distributor_id,
        "period": statement.period,
    }
    tables["adjustments"] += [key | jsonable(a) for a in statement.adjustments]


def _violation_rows(violation: PricingViolation, _: dict[str, Any], tables: Tables) -> None:
    tables["violations"].append(state_of(violation))
    tables["violation_steps"] += [
        {"violation_id": str(violation.id)} | jsonable(step) for step in violation.steps
    ]


def _claim_rows(claim: PriceProtection, _: dict[str, Any], tables: Tables) -> None:
    tables["claims"].append(state_of(claim) | {"revisions": claim.version - 1})


def _alias_rows(alias: PartyAlias, entry: dict[str, Any], tables: Tables) -> None:
    """The alias and each step of its history (`entry`, as `audit history alias` shows it)."""
    steps = [event for event in entry["events"] if event["what"] in ("Mapped", "Unmapped")]
    key = {"alias_id": str(alias.id), "alias_key": alias.alias_key}
    tables["alias_steps"] += [
        key | step["data"] | {"version": step["version"], "action": step["what"].lower()}
        for step in steps
    ]
    tables["aliases"].append(state_of(alias) | {"steps": len(steps)})


ROWS: Final[dict[str, Callable[[Any, dict[str, Any], Tables], None]]] = {
    "statements": _statement_rows,
    "violations": _violation_rows,
    "reconciliations": lambda found, _, tables: tables["reconciliations"].append(state_of(found)),
    "claims": _claim_rows,
    "aliases": _alias_rows,
}


def _source_line(kind: str, record_id: Any, source: dict[str, Any]) -> dict[str, Any]:
    read = source.get("read") or {}
    return {"kind": kind, "record_id": str(record_id), **source, **read}


def _json(document: dict[str, Any]) -> bytes:
    return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"


def _write(path: Path, content: bytes) -> str:
    """Write `content` to `path`; its sha256 (of exactly these bytes) for the manifest."""
    path.write_bytes(content)
    return hashlib.sha256(content).hexdigest()
