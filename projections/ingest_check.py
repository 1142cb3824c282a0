"""The answer the ingest gateway gives a line at receipt: a read-only precheck.

The gateway answers each line it publishes with what the stores it can see say about
it: `accepted`, `duplicate` or `conflict` (by the same idempotency key and content
fingerprint the worker uses), or `rejected` when the catalog cannot name its item or
unit. It changes nothing: the worker applies the published event later and its verdict
is the authoritative one (the stores may have moved on meanwhile, or belong to another
worker's partitions). Whatever the answer said, nothing is counted twice: counting is
the worker's alone.

A line whose business dates are implausible at receipt (domain/business_time.py) is
rejected here, before anything else is asked of it, and is not to be published as an
event: the gateway sends it to the dead letters as a `LineRejected` instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from domain.business_time import TimeRules, date_problem
from domain.frozen import quick_init
from domain.identity import content_fingerprint, idempotency_key, uuid_text
from domain.rebate_programs import validate_program
from projections.agreement_timeline import AgreementProblem, check_terms
from projections.catalog import IdentifierAlias, Product, normalize
from projections.dedup import SeenEntry, Verdict, classify, conflict_detail
from projections.keyvalue import KeyValue
from projections.rebate_accruals import INVALID_PROGRAM
from schemas.events import (
    DistributorAgreementSigned,
    Envelope,
    InventoryCounted,
    RebateProgramDefined,
    SaleReported,
    ShipmentRecorded,
)

#: the events with an idempotency key, checked against the catalog
_MOVEMENTS: Final = (SaleReported, ShipmentRecorded, InventoryCounted)


class Answer(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"  # the same content under the same key was sent before
    CONFLICT = "conflict"  # the same key with different content: the worker dead-letters it
    REJECTED = "rejected"  # not usable (unreadable, invalid, or unknown to the catalog)


def upload_outcome(summary: Mapping[str, int]) -> str:
    """What an upload's lines earned, by their answers' counts: `accepted` (none refused),
    `rejected` (none taken: every line rejected or a conflict), else `errors`."""
    taken = summary[Answer.ACCEPTED] + summary[Answer.DUPLICATE]
    refused = summary[Answer.REJECTED] + summary[Answer.CONFLICT]
    if not refused:
        return "accepted"
    return "rejected" if not taken else "errors"


@quick_init
@dataclass(frozen=True, slots=True)
class Earlier:
    """What an earlier line of the same request sent under an idempotency key."""

    event_id: str
    fingerprint: str


@quick_init  # one or two per line checked
@dataclass(frozen=True, slots=True)
class Precheck:
    answer: Answer
    reason: str | None = None
    detail: str | None = None
    #: (idempotency key, what this line sends under it) when the line has a key
    keyed: tuple[str, Earlier] | None = None
    #: False: the event must not reach its topic (the worker would apply it): the line goes
    #: to the dead letters as a rejection instead
    publishable: bool = True
    #: the field at fault, when one is
    field: str | None = None


@dataclass(frozen=True, slots=True)
class Catalog:
    products: KeyValue[Product]
    aliases: KeyValue[IdentifierAlias]


def precheck(
    event: Envelope,
    *,
    catalog: Catalog | None,
    seen: Callable[[str], SeenEntry | None],
    earlier: Callable[[str], Earlier | None],
    recorded_at: datetime,
    rules: TimeRules,
    replaces: str | None = None,
) -> Precheck:
    """What the worker would make of `event` now, as far as these stores can tell.

    `recorded_at` is when the line was received, against which `rules` judge its dates.
    `catalog` None means it is not known here (the movement is not checked against it).
    `seen` reads the worker's idempotency store; `earlier` what preceding lines of the
    same request sent. `replaces` names the report that the line's report replaces: a
    key held by a line of that report is free for it (the worker releases those keys
    when the replacement's header arrives, just before its lines).
    """
    dates = date_problem(event, recorded_at, rules)
    if dates is not None:
        reason, detail = dates
        field = detail.partition(":")[0]  # the detail starts with the field it names
        return Precheck(Answer.REJECTED, reason, detail, publishable=False, field=field)
    if isinstance(event, RebateProgramDefined):
        problems = validate_program(event)
        if problems:
            return Precheck(Answer.REJECTED, INVALID_PROGRAM, "; ".join(problems))
        return Precheck(Answer.ACCEPTED)
    if isinstance(event, DistributorAgreementSigned):
        try:
            check_terms(event.agreement_id, event.terms(), event.term_start)
        except AgreementProblem as problem:
            return Precheck(Answer.REJECTED, problem.reason, str(problem))
        return Precheck(Answer.ACCEPTED)
    if not isinstance(event, _MOVEMENTS):
        return Precheck(Answer.ACCEPTED)
    normalized = event if catalog is None else normalize(catalog.products, catalog.aliases, event)
    if isinstance(normalized, tuple):
        reason, detail = normalized
        field = detail.partition(":")[0]  # the catalog's detail starts with the field too
        return Precheck(Answer.REJECTED, reason, detail, field=field)
    key = idempotency_key(normalized)
    if key is None:  # pragma: no cover - every movement has a key
        return Precheck(Answer.ACCEPTED)
    mine = Earlier(uuid_text(normalized.event_id), content_fingerprint(normalized))
    keyed = (key, mine)
    before = earlier(key)
    if before is not None:
        return sent_earlier(key, mine, before)
    held = seen(key)
    if held is not None and replaces is not None and held.report_id == replaces:
        return Precheck(Answer.ACCEPTED, keyed=keyed)
    verdict = classify(held, mine.event_id, mine.fingerprint, None)
    if verdict is Verdict.CONFLICT:
        detail = conflict_detail(normalized, held)
        return Precheck(Answer.CONFLICT, "conflicting_duplicate", detail, keyed)
    if verdict in (Verdict.DUPLICATE, Verdict.REDELIVERY):
        return Precheck(Answer.DUPLICATE, None, "already accepted with the same content", keyed)
    return Precheck(Answer.ACCEPTED, keyed=keyed)


def sent_earlier(key: str, mine: Earlier, before: Earlier) -> Precheck:
    """The answer to a line whose idempotency `key` an earlier line of the same request
    sent (`before`): a duplicate when it is the same event or the same content, else a
    conflict. (The gateway's parallel check asks it again of a line whose key a part of
    the file checked before it sent.)"""
    keyed = (key, mine)
    if before.event_id == mine.event_id or before.fingerprint == mine.fingerprint:
        detail = "sent earlier in this request with the same content"
        return Precheck(Answer.DUPLICATE, None, detail, keyed)
    detail = "sent earlier in this request with different content under the same key"
    return Precheck(Answer.CONFLICT, "conflicting_duplicate", detail, keyed)
