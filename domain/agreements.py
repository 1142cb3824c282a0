"""Distributor agreements: their terms checked, and which version governs a day or a period.

An agreement is signed with terms that govern from `term_start`; each amendment replaces
sections of the terms from its `effective_from`; a termination ends it after `last_day`.
A distributor has one agreement at a time. Everything here is pure: the versions and ends
are values a projection keeps (`projections.agreement_timeline`).

Which version governs:

- **a day**: among the versions taken effect by then (`effective_from ≤ day`), the latest
  to take effect (then the last recorded); none when the day is past that version's
  `term_end` or its agreement's termination `last_day`;
- **a period** (a commitment's month or quarter, a reporting week): the version governing
  its last day, *as known when the period closed*: versions and terminations recorded
  after the close are left out, so a retroactive amendment never rewrites a closed period.
  An open period (no close yet) is judged with everything known;
- **a rebate program's line**: the version governing the line's business day, as known
  when the program's period closed (`spans`, `binds_program`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from domain.currency import round_money
from schemas.agreements import AgreementTerms


@dataclass(frozen=True, slots=True)
class AgreementVersion:
    """One version of an agreement's terms: the signing or an amendment."""

    agreement_id: str
    distributor_id: str
    #: the agreement_id for the signing, the amendment_id for an amendment
    version_id: str
    currency: str
    term_start: date
    effective_from: date
    terms: AgreementTerms
    recorded_at: datetime
    #: the event that made this version (lineage)
    event_id: UUID
    #: arrival order within the distributor's timeline (breaks a tie of effective_from)
    seq: int


@dataclass(frozen=True, slots=True)
class AgreementEnd:
    """A termination: the agreement governs no day after `last_day`."""

    agreement_id: str
    last_day: date
    recorded_at: datetime
    event_id: UUID


def agreement_problems(terms: AgreementTerms, term_start: date) -> list[str]:
    """Every problem of a version's terms, each naming its field; empty when they hold."""
    problems = []
    if terms.term_end < term_start:
        problems.append(f"term_end: {terms.term_end} is before term_start {term_start}")
    problems += _duplicates("program_ids", terms.program_ids)
    problems += _duplicates("price_lists", terms.price_lists)
    groups = [group.group_id for group in terms.product_groups]
    problems += _duplicates("product_groups", groups)
    owners = Counter(sku for group in terms.product_groups for sku in set(group.skus))
    problems += [
        f"product_groups: sku {sku!r} is in several groups" for sku, n in owners.items() if n > 1
    ]
    problems += _unknown_groups("discounts", (d.group_id for d in terms.discounts), groups)
    problems += _duplicates("discounts", [d.group_id for d in terms.discounts])
    targets = terms.inventory.stocking_targets
    named = [t.group_id for t in targets if t.group_id is not None]
    problems += _unknown_groups("inventory.stocking_targets", named, groups)
    scopes = [f"sku {t.sku}" if t.sku else f"group {t.group_id}" for t in targets]
    problems += _duplicates("inventory.stocking_targets", scopes)
    kinds = [f"{c.period}/{c.basis}/{c.measure}" for c in terms.commitments]
    problems += _duplicates("commitments", kinds)
    low, high = terms.inventory.rotation_min_age_days, terms.inventory.rotation_max_age_days
    if low is not None and high is not None and low > high:
        problems.append(
            f"inventory: rotation_min_age_days {low} is above rotation_max_age_days {high}"
        )
    return problems


def _duplicates(name: str, values: Iterable[str]) -> list[str]:
    counts = Counter(values)
    return [f"{name}: {value!r} appears twice" for value, n in counts.items() if n > 1]


def _unknown_groups(name: str, named: Iterable[str], groups: Sequence[str]) -> list[str]:
    return [f"{name}: unknown product group {group!r}" for group in named if group not in groups]


def group_of(terms: AgreementTerms, sku: str) -> str | None:
    """The product group holding `sku`, or None."""
    for group in terms.product_groups:
        if sku in group.skus:
            return group.group_id
    return None


def discount_for(terms: AgreementTerms, sku: str) -> Decimal | None:
    """The discount the terms give on `sku` (its group's), or None."""
    group = group_of(terms, sku)
    for discount in terms.discounts:
        if discount.group_id == group:
            return discount.discount
    return None


def discounted_cost(list_cost: Decimal, discount: Decimal | None, currency: str) -> Decimal:
    """A list distributor cost in `currency` less an agreement's group discount, rounded
    half-up to the currency's minor unit: what the distributor pays for a sku no price of
    its own covers. No discount: the list cost as it is."""
    if not discount:
        return list_cost
    return round_money(list_cost * (1 - discount), currency)


def distributor_cost(
    cost: Decimal, currency: str, listed: bool, terms: AgreementTerms | None, sku: str
) -> Decimal:
    """What the distributor pays for `sku` at a price book cost in `currency`: a price of
    its own as it is; the list's (`listed`) less the discount the agreement's terms give
    the sku's group."""
    if not listed or terms is None:
        return cost
    return discounted_cost(cost, discount_for(terms, sku), currency)


def version_on(
    versions: Sequence[AgreementVersion],
    ends: Sequence[AgreementEnd],
    day: date,
    known_at: datetime | None = None,
) -> AgreementVersion | None:
    """The version governing `day`, from what was recorded up to `known_at` (None: all)."""
    known = [v for v in versions if known_at is None or v.recorded_at <= known_at]
    started = [v for v in known if v.effective_from <= day]
    if not started:
        return None
    best = max(started, key=lambda v: (v.effective_from, v.seq))
    return best if day <= last_day(best, ends, known_at) else None


def last_day(
    version: AgreementVersion, ends: Sequence[AgreementEnd], known_at: datetime | None = None
) -> date:
    """The last day `version`'s agreement governs: its term_end, or an earlier termination."""
    ended = [
        end.last_day
        for end in ends
        if end.agreement_id == version.agreement_id
        and (known_at is None or end.recorded_at <= known_at)
    ]
    return min([version.terms.term_end, *ended])


def governing(
    versions: Sequence[AgreementVersion],
    ends: Sequence[AgreementEnd],
    first: date,
    last: date,
    closed_at: datetime | None,
) -> AgreementVersion | None:
    """The version governing the period `first`..`last`: the one on its last day, as known
    when it closed (`closed_at`; None while open). None when no agreement holds that day."""
    if last < first:
        raise ValueError(f"a period ends ({last}) before it starts ({first})")
    return version_on(versions, ends, last, closed_at)


def covers_whole_period(
    versions: Sequence[AgreementVersion],
    ends: Sequence[AgreementEnd],
    first: date,
    last: date,
    closed_at: datetime | None,
) -> bool:
    """Whether one agreement governed every day of the period (a commitment is judged only
    then: an agreement starting or ending within a period commits to no part of it)."""
    at_first = version_on(versions, ends, first, closed_at)
    at_last = governing(versions, ends, first, last, closed_at)
    return (
        at_first is not None
        and at_last is not None
        and at_first.agreement_id == at_last.agreement_id
    )


@dataclass(frozen=True, slots=True)
class Span:
    """Days `first`..`last` (both inclusive) governed by one version (None: no agreement)."""

    first: date
    last: date
    version: AgreementVersion | None


def spans(
    versions: Sequence[AgreementVersion],
    ends: Sequence[AgreementEnd],
    first: date,
    last: date,
    known_at: datetime | None = None,
) -> list[Span]:
    """The days `first`..`last` cut where the governing version changes (as known at
    `known_at`): it changes only on a version's effective_from or the day after an
    agreement's last day, so this costs the versions, never the days."""
    known = [v for v in versions if known_at is None or v.recorded_at <= known_at]
    cuts = {first}
    for each in known:
        for day in (each.effective_from, last_day(each, ends, known_at) + timedelta(days=1)):
            if first < day <= last:
                cuts.add(day)
    starts = sorted(cuts)
    found: list[Span] = []
    for start, after in zip(starts, [*starts[1:], last + timedelta(days=1)], strict=True):
        governs = version_on(known, ends, start, known_at)
        if found and found[-1].version is governs:
            found[-1] = Span(found[-1].first, after - timedelta(days=1), governs)
        else:
            found.append(Span(start, after - timedelta(days=1), governs))
    return found


def binds_program(version: AgreementVersion | None, program_id: str) -> bool:
    """Whether an agreement lets a line governed by `version` count for a program: no
    agreement governs the line's day, or the version lists no programs (an agreement of
    discounts, schedule or obligations only: the program's own distributor list decides
    alone), or the version binds the program (`program_ids`)."""
    return (
        version is None or not version.terms.program_ids or program_id in version.terms.program_ids
    )


def version_label(version: AgreementVersion) -> str:
    """`AG-1` for a signing, `AG-1/M1` for an amendment: how a version is named in rows."""
    if version.version_id == version.agreement_id:
        return version.agreement_id
    return f"{version.agreement_id}/{version.version_id}"
