"""What the demo's distributors send again: resent POS lines and a corrected report."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from random import Random

from schemas.events import Envelope, ReportSubmitted, SaleReported
from streams.channel_events import new_uuid


def resent_lines(rng: Random, sales: list[SaleReported]) -> list[SaleReported]:
    """~1 % exact duplicates (new envelope) and 2-3 conflicting ones."""
    n_dups = max(1, round(len(sales) * 0.01))
    n_conflicts = rng.randint(2, 3)
    picked = rng.sample(range(len(sales)), k=min(len(sales), n_dups + n_conflicts))
    resends: list[SaleReported] = []
    for n, index in enumerate(picked):
        original = sales[index]
        update: dict[str, object] = {
            "event_id": new_uuid(rng),
            "recorded_at": original.sold_at + timedelta(days=rng.randint(1, 3)),
        }
        if n >= n_dups:
            update["quantity"] = original.quantity + (1 if original.quantity > 0 else -1)
        resends.append(original.model_copy(update=update))
    return resends


def corrected_report(
    rng: Random, replaced: ReportSubmitted, sales: list[SaleReported], txn_seq: Iterator[int]
) -> list[Envelope]:
    """A corrected report, header first: the replaced report's lines again with one
    withdrawn, one more and one fewer unit on two others, and a line it had missed."""
    submitted_at = replaced.submitted_at + timedelta(days=2, hours=1)
    report_id = f"{replaced.report_id}-C1"
    lines = [s for s in sales if s.report_id == replaced.report_id]
    withdrawn, more, fewer = rng.sample(range(len(lines)), k=3)
    corrected: list[SaleReported] = []
    for n, line in enumerate(lines):
        if n == withdrawn:
            continue
        update: dict[str, object] = {
            "event_id": new_uuid(rng),
            "recorded_at": submitted_at + timedelta(seconds=n + 1),
            "report_id": report_id,
        }
        if n == more:
            update["quantity"] = line.quantity + 1
        elif n == fewer and line.quantity > 1:
            update["quantity"] = line.quantity - 1
        corrected.append(line.model_copy(update=update))
    missed = lines[-1].model_copy(
        update={
            "event_id": new_uuid(rng),
            "transaction_id": f"{replaced.distributor_id}-T{next(txn_seq):06d}",
            "recorded_at": submitted_at + timedelta(seconds=len(lines) + 1),
            "report_id": report_id,
            "quantity": 1,
        }
    )
    corrected.append(missed)
    header = replaced.model_copy(
        update={
            "event_id": new_uuid(rng),
            "occurred_at": submitted_at,
            "recorded_at": submitted_at,
            "submitted_at": submitted_at,
            "report_id": report_id,
            "line_count": len(corrected),
            "replaces_report_id": replaced.report_id,
        }
    )
    return [header, *corrected]
