"""History, lineage and the audit pack on the embedded runner, and their CLI and HTTP faces."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import sqlite3
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer

from domain.rebate_statement import RebateStatement
from domain.rebates import events_digest
from domain.roles import Role
from domain.violation import PricingViolation
from infra.eventstore import open_audit_log
from projections.price_rules import Severity, ViolationDetected
from schemas.codec import encode_event
from schemas.events import Envelope, SaleReported
from streams.api.app import make_web_app
from streams.api.context import ApiContext
from streams.audit.lineage import RawIndex, lineage
from streams.audit.pack import export_pack
from streams.audit.trail import aggregate_id, history
from streams.auth import TokenRegistry, token_hash
from streams.generator import generate_channel
from streams.runners.embedded import EmbeddedChannel, file_inputs

REPO = Path(__file__).resolve().parents[3]
LATE = datetime(2026, 10, 20, 9, tzinfo=UTC)  # after Q3's automatic close (Oct 16)


def late_sale(template: SaleReported) -> SaleReported:
    """A Q3 sale of the same distributor, recorded after the close: an adjustment."""
    return template.model_copy(
        update={"event_id": uuid.uuid4(), "transaction_id": "LATE-1", "recorded_at": LATE}
    )


class Recorded:
    """16 generated weeks (rebates closed, violations, counts, price drops) in a JSON Lines
    file, replayed into a file-backed audit store, with a late sale, an acknowledged and
    resolved violation and an approved statement."""

    def __init__(self, directory: Path) -> None:
        events: list[Envelope] = list(generate_channel(seed=7, weeks=16))
        q3_sale = next(
            e
            for e in events
            if isinstance(e, SaleReported) and e.quantity > 0 and e.sold_at.month == 8
        )
        events.append(late_sale(q3_sale))
        self.events_file = directory / "events.jsonl"
        self.events_file.write_bytes(b"".join(encode_event(e) + b"\n" for e in events))
        self.store = directory / "audit.db"
        self.url = f"sqlite:///{self.store}"
        self.channel = EmbeddedChannel(self.url)
        self.raw = RawIndex()
        self.channel.feed(self.raw.watch(file_inputs(self.events_file)))
        audit = self.channel.audit
        self.violation = self.channel.snapshot()["violations"][0]["violation_id"]
        step = {"actor_id": "pricing-ann", "role": "admin", "at": LATE}
        audit.violation_step(uuid.UUID(self.violation), "acknowledge", reason="agreed", **step)
        audit.violation_step(
            uuid.UUID(self.violation), "resolve", reason="credited back", resolution="credited",
            amount=Decimal("12.50"), **step,
        )  # fmt: skip
        self.statement = f"VPA-2026-ST/{q3_sale.distributor_id}/2026-Q3"
        program_id, distributor_id, period = self.statement.split("/")
        audit.statement_step((program_id, distributor_id, period), "approve", "finance-carol", LATE)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    return Recorded(tmp_path_factory.mktemp("audit"))


def statement(recorded: Recorded) -> RebateStatement:
    return recorded.channel.audit.rebate_statement(*recorded.statement.split("/"))


def test_the_generated_stream_has_every_kind_of_record(recorded):
    found = statement(recorded)
    assert found.event_count > 100 and len(found.adjustments) == 1
    snapshot = recorded.channel.snapshot()
    assert snapshot["violations"] and snapshot["price_protection"]


def test_the_listed_events_of_a_statement_reproduce_its_digests(recorded):
    found = statement(recorded)
    document = lineage(recorded.channel.audit, recorded.channel.stores, "statement",
                       recorded.statement, recorded.raw)  # fmt: skip
    contributing = [s["event_id"] for s in document["sources"] if s["role"] == "contributing"]
    late = [s["event_id"] for s in document["sources"] if s["role"] == "adjustment"]
    assert len(contributing) == found.event_count
    assert events_digest(contributing) == found.digest
    assert events_digest(contributing + late) == found.adjustments[0].digest
    assert [c["matches"] for c in document["digests"]] == [True, True] and document["complete"]
    read = document["sources"][0]["read"]
    assert read["topic"] == "events.jsonl" and read["offset"] > 0 and read["source"]


def test_a_replay_that_misses_an_event_does_not_reproduce_the_digest(recorded):
    partial = EmbeddedChannel()
    skipped = lineage(recorded.channel.audit, recorded.channel.stores, "statement",
                      recorded.statement)["sources"][3]["event_id"]  # fmt: skip
    partial.feed(i for i in file_inputs(recorded.events_file) if skipped.encode() not in i.raw)
    document = lineage(recorded.channel.audit, partial.stores, "statement", recorded.statement)
    assert not document["complete"] and not document["digests"][0]["matches"]


def test_a_violation_read_from_a_history_that_lacks_its_sale_is_incomplete(recorded, tmp_path):
    """Read from a raw history (`--events`, `--from-kafka`), a lineage whose source events are
    not all in it is incomplete (exit 1), whatever kind of record it is: the auditor replayed
    the wrong file, or a topic lost them."""
    audit, stores = recorded.channel.audit, recorded.channel.stores
    sale = lineage(audit, stores, "violation", recorded.violation)["sources"][0]["event_id"]
    whole = lineage(audit, stores, "violation", recorded.violation, recorded.raw)
    assert whole["complete"] and all(source["read"] for source in whole["sources"])
    partial = RawIndex()
    for item in file_inputs(recorded.events_file):
        if sale.encode() not in item.raw:
            partial.add(item)
    document = lineage(audit, stores, "violation", recorded.violation, partial)
    assert not document["complete"]

    without = tmp_path / "without-the-sale.jsonl"
    lines = recorded.events_file.read_bytes().splitlines(keepends=True)
    without.write_bytes(b"".join(line for line in lines if sale.encode() not in line))
    traced = cli("audit", "lineage", "violation", recorded.violation, "--eventstore",
                 recorded.url, "--events", str(without))  # fmt: skip
    assert traced.returncode == 1, traced.stdout
    assert "lineage incomplete: 1 of 2 source events not in the replayed source" in traced.stderr


def test_history_says_what_when_who_and_why(recorded):
    document = history(recorded.channel.audit, "violation", recorded.violation)
    events = document["events"]
    assert [e["what"] for e in events] == ["Detected", "Acknowledged", "Resolved"]
    assert [(e["who"], e["role"], e["why"]) for e in events[1:]] == [
        ("pricing-ann", "admin", "agreed"),
        ("pricing-ann", "admin", "credited back"),
    ]
    assert events[0]["who"] == "channelflow" and events[0]["why"]
    assert all(e["seal"] and len(e["seal"]["chain_hash"]) == 64 for e in events)
    assert document["state"]["status"] == "resolved"


def test_records_are_named_by_id_or_business_key(recorded):
    found = statement(recorded)
    assert aggregate_id("statement", recorded.statement) == found.id
    assert aggregate_id("statement", str(found.id)) == found.id
    claim = recorded.channel.snapshot()["price_protection"][0]
    key = f"{claim['distributor_id']}/{claim['sku']}/{claim['effective_from']}"
    assert history(recorded.channel.audit, "claim", key)["events"][0]["what"] == "Created"
    document = lineage(recorded.channel.audit, recorded.channel.stores, "claim", key,
                       recorded.raw)  # fmt: skip
    roles = {s["role"] for s in document["sources"]}
    assert {"movement", "price_drop", "previous_price"} <= roles


def test_the_audit_pack_holds_every_record_with_its_hashes(recorded, tmp_path):
    manifest = export_pack(recorded.channel.audit, tmp_path, "2026-Q3", None,
                           recorded.channel.stores, recorded.raw)  # fmt: skip
    assert manifest["chain_verified"]
    assert manifest["head"] == recorded.channel.audit.verify_chain().head
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == digest
    pack = orjson.loads((tmp_path / "audit_pack.json").read_bytes())
    for section in ("statements", "violations", "reconciliations", "claims"):
        with (tmp_path / f"{section}.csv").open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == len(pack[section]) == manifest["counts"][section] > 0
    assert manifest["counts"]["adjustments"] == 1
    steps = list(csv.DictReader((tmp_path / "violation_steps.csv").open(newline="")))
    assert [(s["action"], s["actor_id"]) for s in steps] == [
        ("acknowledge", "pricing-ann"), ("resolve", "pricing-ann"),
    ]  # fmt: skip
    approved = [r for r in csv.DictReader((tmp_path / "statements.csv").open(newline=""))
                if r["approved_by"]]  # fmt: skip
    assert [r["approved_by"] for r in approved] == ["finance-carol"]
    sources = list(csv.DictReader((tmp_path / "source_lines.csv").open(newline="")))
    assert {s["kind"] for s in sources} == {"statement", "violation", "reconciliation", "claim"}


def test_a_pack_replaces_an_earlier_pack_and_refuses_a_directory_of_other_files(recorded, tmp_path):
    audit = recorded.channel.audit
    export_pack(audit, tmp_path, "2026-Q3", None)
    earlier = orjson.loads((tmp_path / "manifest.json").read_bytes())
    earlier["files"]["retired.csv"] = "0" * 64  # a file an older release's pack had
    (tmp_path / "manifest.json").write_bytes(orjson.dumps(earlier))
    (tmp_path / "retired.csv").write_bytes(b"old\n")
    manifest = export_pack(audit, tmp_path, "2026-Q3", "D02")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [*manifest["files"], "manifest.json"]
    )

    papers = tmp_path / "papers"
    papers.mkdir()
    (papers / "notes.csv").write_bytes(b"mine\n")
    with pytest.raises(ValueError, match=r"holds 1 file\(s\) that are not an audit pack's \(notes"):
        export_pack(audit, papers, "2026-Q3", None)
    assert [p.name for p in papers.iterdir()] == ["notes.csv"]


def test_the_pack_states_when_each_record_was_known(recorded, tmp_path):
    """A record's known_at is when its last event was stored (an approved statement: the
    approval); the manifest's is the latest of them."""
    manifest = export_pack(recorded.channel.audit, tmp_path, "2026-Q3", None)
    pack = orjson.loads((tmp_path / "audit_pack.json").read_bytes())
    stated = []
    for section in ("statements", "violations", "reconciliations", "claims"):
        rows = list(csv.DictReader((tmp_path / f"{section}.csv").open(newline="")))
        for entry, row in zip(pack[section], rows, strict=True):
            recorded_times = [event["recorded_at"] for event in entry["events"]]
            assert entry["known_at"] == row["known_at"] == max(recorded_times)
            assert entry["known_at"] == recorded_times[-1]
            stated.append(entry["known_at"])
    assert manifest["known_at"] == max(stated)
    approved = next(e for e in pack["statements"] if e["state"]["approved_by"])
    assert approved["events"][-1]["what"] == "RebateApproved"


def test_the_pack_of_one_distributor_has_only_its_records(recorded, tmp_path):
    export_pack(recorded.channel.audit, tmp_path, "2026-Q3", "D02")
    pack = orjson.loads((tmp_path / "audit_pack.json").read_bytes())
    distributors = {
        entry["state"]["distributor_id"]
        for section in ("statements", "violations", "reconciliations", "claims")
        for entry in pack[section]
    }
    assert distributors == {"D02"}


HYPERLINK = '=HYPERLINK("http://evil.example/?x","click")'


def test_the_pack_csv_shows_formulas_as_text_and_the_json_keeps_them(tmp_path):
    """Distributor-controlled text that a spreadsheet would evaluate (ids, a dispute reason
    with a line break, quotes and a NUL) is quoted out in the CSV files, exact in the JSON."""
    audit = open_audit_log("sqlite:///:memory:")
    sold = datetime(2026, 8, 4, 15, tzinfo=UTC)
    fact = ViolationDetected(
        PricingViolation.create_id("D01", "=2+5"), "D01", "=2+5", "@SUM(A1)",
        "+cmd|' /C calc'!A0", sold, 3, Decimal("8.00"), Decimal("10.00"), "USD",
        Severity.CRITICAL, uuid.UUID(int=1), "list", uuid.UUID(int=2),
    )  # fmt: skip
    audit.record(fact)
    reason = f'{HYPERLINK}\nsee "quote"\0 and -1+1'
    who = {"role": "distributor", "actor_distributor_id": "D01", "at": LATE}
    audit.violation_step(fact.violation_id, "dispute", actor_id="-1+1", reason=reason, **who)
    manifest = export_pack(audit, tmp_path, "2026-Q3", None)

    for name, digest in manifest["files"].items():
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == digest
    with (tmp_path / "violations.csv").open(newline="", encoding="utf-8") as handle:
        [violation] = list(csv.DictReader(handle))
    assert (violation["transaction_id"], violation["reseller_id"], violation["sku"]) == (
        "'=2+5", "'@SUM(A1)", "'+cmd|' /C calc'!A0",
    )  # fmt: skip
    assert violation["quantity"] == "3" and violation["unit_price"] == "8.00"
    with (tmp_path / "violation_steps.csv").open(newline="", encoding="utf-8") as handle:
        [step] = list(csv.DictReader(handle))
    assert step["actor_id"] == "'-1+1"
    assert step["reason"] == "'" + reason.replace("\0", "\ufffd")
    for name in manifest["files"]:
        if name.endswith(".csv"):
            with (tmp_path / name).open(newline="", encoding="utf-8") as handle:
                cells = [c for row in csv.reader(handle) for c in row]
            assert not [c for c in cells if c.lstrip(" ").startswith(("=", "+", "@", "\t"))]

    pack = orjson.loads((tmp_path / "audit_pack.json").read_bytes())
    [entry] = pack["violations"]
    assert entry["state"]["transaction_id"] == "=2+5" and entry["state"]["sku"].startswith("+")
    assert entry["state"]["steps"][0]["reason"] == reason


# --- the command line ---------------------------------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", *args],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_cli_history_lineage_and_export(recorded, tmp_path):
    store = ("--eventstore", recorded.url)
    shown = cli("audit", "history", "violation", recorded.violation, "--json", *store)
    assert shown.returncode == 0, shown.stderr
    assert [e["what"] for e in orjson.loads(shown.stdout)["events"]][-1] == "Resolved"

    traced = cli("audit", "lineage", "statement", recorded.statement, *store,
                 "--events", str(recorded.events_file))  # fmt: skip
    assert traced.returncode == 0, traced.stderr
    assert traced.stdout.count("digest reproduced") == 2

    missing = cli("audit", "history", "claim", "D01/SKU-0001/2020-01-01T00:00:00Z", *store)
    assert missing.returncode == 2 and "no claim" in missing.stderr
    assert "Traceback" not in missing.stderr

    exported = cli("audit", "export", "--period", "2026-Q3", "--out", str(tmp_path), *store,
                   "--events", str(recorded.events_file))  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    manifest = orjson.loads((tmp_path / "manifest.json").read_bytes())
    assert f"head {manifest['head']}" in exported.stdout and manifest["source_lines"]


def test_cli_export_of_a_distributor_the_history_does_not_know_is_refused(recorded, tmp_path):
    """`--distributor D1` for D01 wrote an empty pack, chain verified, exit 0."""
    pack = tmp_path / "pack"
    refused = cli("audit", "export", "--period", "2026-Q3", "--distributor", "D1",
                  "--out", str(pack), "--eventstore", recorded.url,
                  "--events", str(recorded.events_file))  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert "no distributor 'D1' in the replayed history" in refused.stderr
    assert not pack.exists() or not any(pack.iterdir())


def test_cli_export_with_a_history_of_no_events_is_refused(recorded, tmp_path):
    """An empty events file (or raw topics with nothing on them) wrote a pack whose source
    lines were all missing, its manifest saying `source_lines: true`, exit 0."""
    empty, pack = tmp_path / "empty.jsonl", tmp_path / "pack"
    empty.write_bytes(b"")
    refused = cli("audit", "export", "--period", "2026-Q3", "--out", str(pack),
                  "--eventstore", recorded.url, "--events", str(empty))  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert f"the events file {empty} is empty: there is no history for the pack's source " in (
        refused.stderr
    )
    assert "--no-sources writes the pack from the audit store alone" in refused.stderr
    assert not pack.exists()


def test_cli_verify_chain_of_an_empty_store_says_so(tmp_path):
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    open_audit_log(url)
    walked = cli("verify", "--chain-only", "--eventstore", url)
    assert walked.returncode == 0, walked.stderr
    assert walked.stdout.endswith(
        f"head {'0' * 64} (no record: an empty chain)\n"
    )  # was "at position None"


def test_cli_export_of_no_period_key_is_a_usage_error_before_any_replay(tmp_path):
    # the events file does not exist: the period is refused before the replay opens it
    missing = str(tmp_path / "missing.jsonl")
    refused = cli("audit", "export", "--period", "2026Q3", "--out", str(tmp_path / "pack"),
                  "--events", missing)  # fmt: skip
    assert refused.returncode == 2 and "2026Q3" in refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "pack").exists()


def test_cli_export_into_a_directory_of_other_files_is_refused_before_any_replay(tmp_path):
    (tmp_path / "notes.txt").write_bytes(b"the auditor's own\n")
    refused = cli("audit", "export", "--period", "2026-Q3", "--out", str(tmp_path),
                  "--events", str(tmp_path / "missing.jsonl"))  # fmt: skip
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "not an audit pack's (notes.txt)" in refused.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_cli_verify_chain_catches_a_changed_row(tmp_path, recorded):
    copy = tmp_path / "audit.db"
    copy.write_bytes(recorded.store.read_bytes())
    store = ("--eventstore", f"sqlite:///{copy}")
    clean = cli("verify", "--chain-only", *store)
    assert clean.returncode == 0 and ", 0 findings; head " in clean.stdout
    head = clean.stdout.split("head ")[1].split()[0]
    with sqlite3.connect(copy) as connection:
        connection.execute("UPDATE stored_events SET state = state || x'20' WHERE rowid = 5")
    tampered = cli("verify", "--chain-only", *store, "--expect-head", head)
    assert tampered.returncode == 1
    assert "changed: aggregate" in tampered.stdout and "position 5:" in tampered.stdout
    assert "rewritten: the chain" in tampered.stdout


def test_cli_verify_reads_a_kept_head_in_capitals_and_refuses_a_malformed_one(recorded):
    store = ("--eventstore", recorded.url)
    head = cli("verify", "--chain-only", *store).stdout.split("head ")[1].split()[0]
    # as a spreadsheet or a printout keeps it: the same head, not a rewritten chain
    kept = cli("verify", "--chain-only", *store, "--expect-head", f" {head.upper()}\n")
    assert kept.returncode == 0, kept.stdout
    assert "the kept head is the chain hash at position" in kept.stdout
    truncated = cli("verify", "--chain-only", *store, "--expect-head", head[:40])
    assert truncated.returncode == 2 and "is not a chain head" in truncated.stderr
    assert "rewritten" not in truncated.stdout and "Traceback" not in truncated.stderr


# --- HTTP ---------------------------------------------------------------------------------

TOKENS = TokenRegistry(
    [
        {"sha256": token_hash(role.value), "role": role.value, "actor": role.value}
        | ({"distributor_id": "D01"} if role is Role.DISTRIBUTOR else {})
        for role in Role
    ]
)


def get(recorded: Recorded, path: str, token: str | None) -> tuple[int, Any]:
    async def go() -> tuple[int, Any]:
        channel = recorded.channel
        context = ApiContext.of_channel(channel, TOKENS, "test")
        client = TestClient(TestServer(make_web_app(context)))
        await client.start_server()
        try:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = await client.get(path, headers=headers)
            return response.status, await response.json()
        finally:
            await client.close()

    return asyncio.run(go())


def test_http_verify_for_the_auditor(recorded):
    status, body = get(recorded, "/api/audit/verify", "auditor")
    assert status == 200, body
    assert body["verified"] and body["chain"]["verified"] and not body["live"]["differences"]
    assert body["live"]["verified"] > 0 and len(body["chain"]["head"]) == 64


def test_http_verify_reads_a_kept_head_in_capitals_and_refuses_a_malformed_one(recorded):
    head = get(recorded, "/api/audit/verify", "auditor")[1]["chain"]["head"]
    status, body = get(recorded, f"/api/audit/verify?expect_head={head.upper()}", "auditor")
    assert status == 200 and body["chain"]["verified"], body["chain"]["findings"]
    assert body["chain"]["expected_head_position"] == body["chain"]["head_position"]
    status, body = get(recorded, "/api/audit/verify?expect_head=zz", "auditor")
    assert status == 400 and "is not a chain head" in body["error"]["message"]


@pytest.mark.parametrize(("token", "status"), [(None, 401), ("channel_manager", 403),
                                               ("distributor", 403), ("admin", 200)])  # fmt: skip
def test_http_audit_is_for_auditor_and_admin(recorded, token, status):
    got, body = get(recorded, f"/api/audit/violation/{recorded.violation}/history", token)
    assert got == status, body
    if status != 200:
        assert body["error"]["status"] == status


def test_http_history_and_lineage_by_business_key(recorded):
    base = f"/api/audit/statement/{recorded.statement}"
    status, shown = get(recorded, f"{base}/history", "auditor")
    assert status == 200 and shown["events"][0]["what"] == "RebateCalculated"
    status, traced = get(recorded, f"{base}/lineage", "auditor")
    assert status == 200 and traced["complete"], traced.get("digests")
    assert get(recorded, "/api/audit/nope/x/history", "auditor")[0] == 400
    assert get(recorded, f"/api/audit/claim/{uuid.uuid4()}/lineage", "auditor")[0] == 404
