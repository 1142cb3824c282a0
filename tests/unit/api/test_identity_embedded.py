"""Reseller identity over the HTTP API in the embedded runner: the masters with their
aliases (vendor roles), a distributor's own aliases with their history, and its top
resellers by master after a merge and a partial unmerge."""

from __future__ import annotations

from streams.runners.embedded import EmbeddedChannel
from tests.unit.api.test_scorecard_embedded import answers
from tests.unit.party_events import customer_mapped, customer_registered
from tests.unit.test_identity_wiring import MASTERS, MERGE, NETWORK, UNMERGE, fed


def channel() -> EmbeddedChannel:
    """R1, R1B (D1) and X9 (D2) merged into M1, then R1 unmapped again."""
    return fed(NETWORK, MASTERS, MERGE, UNMERGE[:1])


def test_the_vendor_reads_each_master_with_the_aliases_that_mean_it_now():
    [(status, page)] = answers(channel(), ("/api/resellers/masters", "cm"))
    assert status == 200
    assert [(row["master_id"], row["aliases"]) for row in page["rows"]] == [
        ("M1", ["D1|R1B", "D2|X9"]),
        ("M2", []),
    ]
    assert page["rows"][0]["legal_name"] == "Acme Tools Inc."


def test_a_distributor_reads_its_own_aliases_and_their_history_only():
    own, other, masters = answers(
        channel(),
        ("/api/resellers/aliases", "d1"),
        ("/api/resellers/aliases?distributor_id=D2", "d1"),
        ("/api/resellers/masters", "d1"),
    )
    assert own[0] == 200
    rows = {row["alias_id"]: row for row in own[1]["rows"]}
    assert {row["distributor_id"] for row in rows.values()} == {"D1"}
    assert (rows["R1"]["master_id"], rows["R1B"]["master_id"]) == (None, "M1")
    steps = [(s["action"], s["master_id"], s["changed_by"]) for s in rows["R1"]["history"]]
    assert steps == [("mapped", "M1", "ops-ana"), ("unmapped", "M1", "ops-ana")]
    assert (other[0], masters[0]) == (403, 403)


def test_a_distributors_top_resellers_count_its_aliases_of_one_master_once():
    [(status, page)] = answers(channel(), ("/api/resellers/top", "d1"))
    assert status == 200
    assert [(r["distributor_id"], r["reseller_id"], r["revenue"], r["aliases"])
            for r in page["rows"]] == [
        ("D1", "R1", "250.00", ["D1|R1"]),
        ("D1", "R2", "30.00", ["D1|R2"]),
        ("D1", "M1", "20.00", ["D1|R1B"]),
    ]  # fmt: skip


def test_end_customers_masters_and_aliases_are_read_apart_from_the_resellers():
    fed_channel = channel()
    fed_channel.feed_events(
        [
            customer_registered("EC-M1", "erased", n=9_100, address="erased"),
            customer_mapped("D1", "EC-7", "EC-M1", n=9_101),
            customer_mapped("D2", "EC-9", "EC-M1", n=9_102),
        ]
    )
    masters, own, other, refused = answers(
        fed_channel,
        ("/api/end-customers/masters", "cm"),
        ("/api/end-customers/aliases", "d1"),
        ("/api/end-customers/aliases?distributor_id=D2", "d1"),
        ("/api/end-customers/masters", "d1"),
    )
    assert masters[0] == 200
    [row] = masters[1]["rows"]
    assert (row["master_id"], row["aliases"]) == ("EC-M1", ["D1|EC-7", "D2|EC-9"])
    assert "legal_name" not in row and "address" not in row
    assert [(r["alias_key"], r["master_id"]) for r in own[1]["rows"]] == [("ci|D1|EC-7", "EC-M1")]
    assert (other[0], refused[0]) == (403, 403)
