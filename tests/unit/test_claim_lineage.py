"""`audit history|lineage debit-claim DISTRIBUTOR/CLAIM`: a claim's events (submitted, each
line decided) and the source events that decided its lines (the claim, the authorization,
the POS lines, the price entry), in the embedded runner."""

from __future__ import annotations

from streams.audit.lineage import lineage
from streams.audit.trail import history
from streams.runners.embedded import EmbeddedChannel
from tests.unit.catalog import product
from tests.unit.claim_events import authorization, book_price, claim, line, sale


def test_a_decided_claim_names_every_source() -> None:
    channel = EmbeddedChannel()
    deal, listed = authorization(), book_price()
    sold = [sale("T1", 60), sale("T2", 50)]
    channel.feed_events([product("X"), listed, deal, *sold])
    claimed = claim("C1", line(1, "T1", 60), line(2, "T2", 50), line(3, "T9", 1))
    channel.feed_events([claimed])

    events = history(channel.audit, "debit-claim", "D1/C1")["events"]
    assert [e["what"] for e in events] == ["Submitted", *["LineDecided"] * 3]
    document = lineage(channel.audit, channel.stores, "debit-claim", "D1/C1")
    roles = [(s["role"], s["event_id"]) for s in document["sources"]]
    assert roles == [
        ("claim", str(claimed.event_id)),
        ("authorization", str(deal.event_id)),
        ("pos_line", str(sold[0].event_id)),
        ("price", str(listed.event_id)),
        ("pos_line", str(sold[1].event_id)),
    ]
    assert document["complete"]
