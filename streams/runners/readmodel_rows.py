"""What the read models hold, decided purely: the rows of every projection, assigned to the
partition their distributor is keyed to, the tables bounded by the channel's entities whole
and the histories (violations, unpriced lines) by the keys changed
(streams/runners/readmodel_sink.py writes them)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, get_args
from uuid import UUID

from domain.scorecard_score import DEFAULT_SCORE, ScoreConfig
from infra.readmodel_tables import TABLE_OF, Row
from projections.aging_reads import aging_rows
from projections.agreement_reads import agreement_rows
from projections.claim_reads import debit_claim_rows
from projections.commitment_reads import commitment_rows
from projections.party_reads import alias_rows, master_table_rows, proposal_rows
from projections.periods import sell_in_vs_through
from projections.price_rules import violation_row
from projections.pricing_reads import unpriced_row
from projections.quality import DeadLetterCount
from projections.rotation_reads import rotation_rows
from projections.scorecard_reads import scorecard_rows
from projections.snapshot import (
    claim_rows,
    distributors,
    inventory_rows,
    now_of,
    protection_claims,
    quality_rows,
    rebate_rows,
    report_rows,
    reseller_rows,
)
from projections.statuses import Statuses
from projections.stores import ChannelStores
from projections.tallies import Granularity


def readmodel_tables(
    stores: ChannelStores,
    statuses: Statuses,
    partition_of: Callable[[str], int],
    score: ScoreConfig = DEFAULT_SCORE,
) -> dict[str, list[dict[str, Any]]]:
    """Every read-model table's rows, the histories whole."""
    return {
        **whole_tables(stores, partition_of, score),
        "violations": [
            violation_row(flagged, *statuses.of(flagged.violation_id))
            for flagged in stores.violations.values()
        ],
        "unpriced": [unpriced_row(flagged) for flagged in stores.unpriced.values()],
    }


def whole_tables(
    stores: ChannelStores, partition_of: Callable[[str], int], score: ScoreConfig = DEFAULT_SCORE
) -> dict[str, list[dict[str, Any]]]:
    """The rows of the tables bounded by the channel's entities, "now" being the clock."""
    now = now_of(stores)
    everyone = distributors(stores)
    return {
        "inventory": inventory_rows(stores, now),
        "inventory_aging": aging_rows(stores, now),
        "sell_in_vs_through": [
            {**row, "granularity": granularity}
            for granularity in get_args(Granularity)
            for row in sell_in_vs_through(stores.periods, stores.day_totals, everyone, granularity)
        ],
        "price_protection": claim_rows(protection_claims(stores, now)),
        "rebates": rebate_rows(stores),
        "resellers": reseller_rows(stores, now),
        "reports": report_rows(stores),
        "agreements": agreement_rows(stores, None if now is None else now.date(), None),
        "commitments": commitment_rows(stores, now, None),
        "rotations": rotation_rows(stores, None),
        "claims": debit_claim_rows(stores),
        "quality": quality_rows(stores, now),
        "dead_letters": dead_letter_rows(stores.dead_letters.values(), partition_of),
        "scorecards": scorecard_rows(stores, now, score=score),
        "masters": master_table_rows(stores, partition_of),
        "party_aliases": alias_rows(stores),
        "match_proposals": proposal_rows(stores),
        "customer_masters": master_table_rows(stores, partition_of, "end_customer"),
        "customer_aliases": alias_rows(stores, party="end_customer"),
    }


def changed_rows(
    stores: ChannelStores, statuses: Statuses, keys: Mapping[str, set[str]], decided: set[UUID]
) -> dict[str, list[dict[str, Any]]]:
    """The history rows to write: the stored keys that changed, and the violations whose
    lifecycle status moved (`decided`)."""
    violations = {
        flagged.violation_id: flagged
        for key in sorted(keys.get("violations", ()))
        if (flagged := stores.violations.get(key)) is not None
    }
    for decision in statuses.decided():
        if decision.violation_id in decided and decision.violation_id not in violations:
            flagged = stores.violations.get(f"{decision.distributor_id}|{decision.transaction_id}")
            if flagged is not None:
                violations[flagged.violation_id] = flagged
    return {
        "violations": [
            violation_row(flagged, *statuses.of(flagged.violation_id))
            for flagged in violations.values()
        ],
        "unpriced": [
            unpriced_row(flagged)
            for key in sorted(keys.get("unpriced", ()))
            if (flagged := stores.unpriced.get(key)) is not None
        ],
    }


def dead_letter_rows(
    counts: Iterable[DeadLetterCount], partition_of: Callable[[str], int]
) -> list[dict[str, Any]]:
    """Dead letters by (partition, reason): each count is in its inputs' partition (the
    source it applied), or, without a Kafka position, its distributor's."""
    totals: Counter[tuple[int, str]] = Counter()
    for state in counts:
        sources = list(state.applied)
        partition = int(sources[0].rsplit(":", 1)[1]) if sources else partition_of(state.scope)
        totals[partition, state.reason] += state.count
    return [
        {"kafka_partition": partition, "reason": reason, "count": n}
        for (partition, reason), n in sorted(totals.items())
        if n
    ]


def partition_rows(
    tables: Mapping[str, Sequence[Row]], partition_of: Callable[[str], int]
) -> dict[int, dict[str, list[Row]]]:
    """Rows of the defined tables by partition: the one a row names, else its distributor's.

    Every partition that has rows has every table (empty ones too). Keys without a table
    definition are left out (see `undefined`).
    """
    by_partition: dict[int, dict[str, list[Row]]] = {}
    for name, rows in tables.items():
        if name not in TABLE_OF:
            continue
        for row in rows:
            if "kafka_partition" in row:
                partition = int(row["kafka_partition"])
            elif "distributor_id" in row:
                partition = partition_of(row["distributor_id"])
            else:
                raise ValueError(f"{name} rows name no distributor_id nor kafka_partition")
            by_partition.setdefault(partition, empty_tables())[name].append(row)
    return by_partition


def empty_tables() -> dict[str, list[Row]]:
    return {name: [] for name in TABLE_OF}


def undefined(tables: Mapping[str, Sequence[Row]]) -> list[str]:
    """Tables and columns the rows have but infra/readmodel_tables.py does not define."""
    missing = []
    for name, rows in tables.items():
        table = TABLE_OF.get(name)
        if table is None:
            missing.append(name)
            continue
        defined = {column.name for column in table.all_columns}
        extra = {key for row in rows for key in row} - defined
        missing.extend(f"{name}.{key}" for key in sorted(extra))
    return missing
