"""Personal fields through the replay and the audit pack: every figure of a channel whose
sale lines carry sealed names equals the same channel's without them; the pack shows the
names while their keys exist, and after an erasure holds no trace of them."""

from __future__ import annotations

import csv
from pathlib import Path

from domain.personal_data import ERASED
from infra.personal_cipher import Sealer, clear_texts
from schemas.codec import encode_event
from schemas.events import Envelope, SaleReported
from streams.audit.lineage import RawIndex
from streams.audit.pack import export_pack
from streams.generator import generate_channel
from streams.runners.embedded import EmbeddedChannel, file_inputs
from streams.runners.processing import Input
from tests.unit.test_personal_data import MemoryKeys

NAME = "Jane Doe"


def named(events: list[Envelope], keys: MemoryKeys) -> list[Envelope]:
    """Every sale line with the end customer's name and contact, sealed."""
    sealer = Sealer(keys)
    return [
        sealer.seal(e.model_copy(update={"end_customer_name": f"{NAME} {e.end_customer}",
                                              "end_customer_contact": "jane@example.com"}))
        if isinstance(e, SaleReported) else e
        for e in events
    ]  # fmt: skip


def replay(events: list[Envelope], directory: Path) -> tuple[EmbeddedChannel, RawIndex]:
    path = directory / "events.jsonl"
    path.write_bytes(b"".join(encode_event(e) + b"\n" for e in events))
    channel, raw = EmbeddedChannel("sqlite:///:memory:"), RawIndex()
    channel.feed(raw.watch(file_inputs(path)))
    return channel, raw


def pack_bytes(directory: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(directory.iterdir()))


def test_names_change_no_figure_and_an_erased_name_leaves_no_trace(tmp_path: Path) -> None:
    plain_events = list(generate_channel(seed=7, weeks=6))
    keys = MemoryKeys()
    (tmp_path / "plain").mkdir()
    plain, _ = replay(plain_events, tmp_path / "plain")
    channel, raw = replay(named(plain_events, keys), tmp_path)
    assert channel.snapshot() == plain.snapshot()
    violation = channel.snapshot()["violations"][0]
    sold = violation["sold_at"]
    period = f"{sold[:4]}-Q{(int(sold[5:7]) - 1) // 3 + 1}"

    def opener(values: list[tuple[str, str]]) -> dict[str, str]:
        return clear_texts(keys, values)

    before = tmp_path / "before"
    export_pack(channel.audit, before, period, None, channel.stores, raw, opener)
    sales = [row for row in csv.DictReader((before / "source_lines.csv").open(newline=""))
             if row["role"] == "sale"]  # fmt: skip
    assert sales and all(row["end_customer_name"].startswith(NAME) for row in sales)
    assert NAME.encode() in pack_bytes(before)

    for subject in list(keys.by_subject):
        keys.erase(subject)
    after = tmp_path / "after"
    export_pack(channel.audit, after, period, None, channel.stores, raw, opener)
    sales = [row for row in csv.DictReader((after / "source_lines.csv").open(newline=""))
             if row["role"] == "sale"]  # fmt: skip
    assert {(r["end_customer_name"], r["end_customer_contact"]) for r in sales} == {
        (ERASED, ERASED)
    }
    assert b"Jane" not in pack_bytes(after) and b"jane@" not in pack_bytes(after)
    assert channel.snapshot() == plain.snapshot()


def test_the_raw_index_reads_every_event_of_a_bundle() -> None:
    events = [e for e in generate_channel(seed=7, weeks=1) if isinstance(e, SaleReported)][:3]
    bundle = b"[" + b",".join(encode_event(e) for e in events) + b"]"
    raw = RawIndex()
    raw.add(Input(bundle, "D01", "t.sales", 0, 7))
    assert {str(e.event_id) for e in events} <= set(raw.by_event)
    assert {(s.partition, s.offset) for s in raw.by_event.values()} == {(0, 7)}
