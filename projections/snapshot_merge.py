"""One snapshot from the snapshots of disjoint sets of distributors (a parallel replay's jobs).

Every section but `dead_letters` is made of rows of one distributor each, and a
distributor's rows all come from one part, already in `build_snapshot`'s order. So a
section is merged by a stable sort of the parts' rows on what orders rows of *different*
distributors in `build_snapshot` (`GROUP_ORDER`): within a group, a part's own order stands.
Two orders occur: a store's key order (`distributor|...` strings: "D1-X|" sorts before
"D1|") and `sorted()` of distributor ids ("D1" before "D1-X"). Dead letters are counts by
reason; each part counts its own, and letters of inputs every part read (reference data)
are counted by one part only, so counts add up. The `masters` are reference data, which
every part holds whole: the first part's rows stand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import chain
from typing import Any

from projections.snapshot import Snapshot, reason_count_rows

Row = dict[str, Any]


def _store_key_order(row: Row) -> tuple[str, ...]:
    """Rows listed in the order of their store's keys, which start `distributor|`."""
    return (f"{row['distributor_id']}|",)


def _distributor_order(row: Row) -> tuple[str, ...]:
    """Rows sorted by distributor_id first."""
    return (row["distributor_id"],)


def _program_order(row: Row) -> tuple[str, ...]:
    """Rebate rows, sorted by (program_id, distributor_id, period)."""
    return (row["program_id"], row["distributor_id"])


#: snapshot section -> the sort key that orders rows of different distributors as
#: `build_snapshot` does (projections/snapshot.py and the readers it calls)
GROUP_ORDER: dict[str, Callable[[Row], tuple[str, ...]]] = {
    "inventory": _store_key_order,
    "inventory_aging": _store_key_order,
    "sell_in_vs_through": _distributor_order,
    "violations": _store_key_order,
    "unpriced": _store_key_order,
    "price_protection": _distributor_order,
    "rebates": _program_order,
    "resellers": _distributor_order,
    "reports": _distributor_order,
    "agreements": _distributor_order,
    "commitments": _distributor_order,
    "rotations": _store_key_order,
    "claims": _store_key_order,
    "quality": _distributor_order,
    "scorecards": _distributor_order,
    "party_aliases": _distributor_order,
    "match_proposals": _store_key_order,
    "customer_aliases": _distributor_order,
}
#: sections of reference data: every part holds all of it, so the first part's rows stand
REFERENCE_SECTIONS = frozenset({"masters", "customer_masters"})


def merge_snapshots(parts: Sequence[Snapshot]) -> Snapshot:
    """The snapshot one process would have built over all the parts' distributors (each
    distributor in one part only), sections in the first part's order."""
    if not parts:
        return {}
    merged: Snapshot = {}
    for section in parts[0]:
        rows = [part[section] for part in parts]
        if section == "dead_letters":
            counts = chain.from_iterable(rows)
            merged[section] = reason_count_rows((row["reason"], row["count"]) for row in counts)
        elif section in REFERENCE_SECTIONS:
            merged[section] = rows[0]
        elif section in GROUP_ORDER:
            merged[section] = sorted(chain.from_iterable(rows), key=GROUP_ORDER[section])
        else:
            raise ValueError(f"no merge order for snapshot section {section!r}")
    return merged
