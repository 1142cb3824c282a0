"""Which POS lines have claim lines waiting for them, by the day the claims were recorded,
pure: what lets the recorded clock run `projections.claims.expire_pending` on the POS lines
whose wait may have run out, never on every POS line with a claim.

One key per (distributor, recorded day, POS line) while a line recorded that day waits for
that POS line: `distributor_id|YYYY-MM-DD|sale key`. Keys start with the distributor, so
the index lives in its partition; a scan of a distributor's keys in day order stops at the
first day not due, so it reads the due POS lines and one key more.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from domain.timeutil import utc
from projections.claim_refs import LineRef
from projections.claims import DEFAULT_PENDING_WAIT, PosClaims
from projections.keyvalue import KeyValue


def index_key(ref: LineRef) -> str:
    return f"{ref.distributor_id}|{ref.recorded_at.date().isoformat()}|{ref.sale_key}"


def index_moves(before: PosClaims | None, after: PosClaims) -> tuple[set[str], set[str]]:
    """The index keys to add and to remove when a POS line's claims go from `before` to
    `after`."""
    old = {index_key(ref) for ref in (before.pending if before is not None else ())}
    new = {index_key(ref) for ref in after.pending}
    return new - old, old - new


def update_index(index: KeyValue[bool], before: PosClaims | None, after: PosClaims) -> None:
    if (() if before is None else before.pending) == after.pending:
        return  # the lines waiting are the same (most steps): no key moves
    added, removed = index_moves(before, after)
    for key in sorted(removed):
        index.delete(key)
    for key in sorted(added):
        index.put(key, True)


def due_pos_lines(
    index: KeyValue[bool],
    distributor_id: str,
    now: datetime,
    wait: timedelta = DEFAULT_PENDING_WAIT,
) -> Iterator[str]:
    """The sale keys of the distributor's POS lines with a line recorded on a day whose
    wait may have run out by `now` (recorded time), each once, oldest day first. A line
    recorded later on the last of those days may not be due yet: `expire_pending` leaves
    it waiting."""
    last_day = (utc(now, "now") - wait).date().isoformat()
    seen: set[str] = set()
    for key, _ in index.scan(f"{distributor_id}|"):
        _, day, sale_key = key.split("|", 2)
        if day > last_day:
            return
        if sale_key not in seen:
            seen.add(sale_key)
            yield sale_key
