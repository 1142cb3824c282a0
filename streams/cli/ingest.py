"""`channelflow ingest`: reports and events through the gateway.

`ingest FILE` submits a CSV report, an X12 867 / 852 interchange or JSON events, to a
running API (--url; the token from --token-file, CHANNELFLOW_TOKEN or --token) or
straight to Kafka (the same checks in-process, against the catalog on the products
topic); `ingest FILE --check` runs the same checks offline
and publishes nothing (the catalog from --catalog, a JSON Lines file of events). Exit
status: 0 when every line was accepted or a duplicate, 1 when a line was rejected or a
conflict, 2 when the file was refused as a whole (unreadable, not allowed, too large) or
the command was wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import orjson

from domain.roles import Role
from projections.ingest_check import Answer
from schemas.codec import InvalidEvent, decode_event
from schemas.events import ProductDefined
from streams.auth import Principal
from streams.cli.ingest_http import CHUNK, IngestError, over_http
from streams.cli.progress import Progress
from streams.cli.support import (
    Subcommands,
    UserError,
    api_url,
    identifier,
    input_file,
    kafka_flags,
    settings_of,
    token_flags,
)
from streams.config import Settings
from streams.ingest.acks import AckWatch
from streams.ingest.formats.upload import (
    FORMATS,
    SOURCES,
    Format,
    Stored,
    Unreadable,
    Upload,
    file_label,
    option_id,
)
from streams.ingest.gateway import Gateway, offline_view
from streams.ingest.parallel_check import check_processes, check_upload
from streams.ingest.parsers.content_kind import CLAIM_COLUMN, content_kind, start_of
from streams.ingest.parsers.csv_report import CsvFormatError, CsvHeaderError
from streams.ingest.parsers.x12 import X12Error, first_transaction_set
from streams.ingest.spool import Spool
from streams.runners.processing import GC_THRESHOLD

#: who submits when the CLI publishes straight to Kafka (whoever can reach the broker)
OPERATOR: Final = Principal("cli", Role.ADMIN)
#: the X12 transaction sets read, each its own format
X12_FORMATS: Final[tuple[Format, ...]] = ("867", "852", "844")
#: problem lines printed under the summary (all of them with --json)
PROBLEMS_SHOWN: Final = 20
#: a report's ignored segments listed in the table
IGNORED_SHOWN: Final = 10


def register(sub: Subcommands) -> None:
    ingest = sub.add_parser(
        "ingest", help="submit a CSV report, an X12 867/852 file, claims (CSV, 844) or JSON events"
    )
    ingest.add_argument("file", help="the file to submit")
    ingest.add_argument("--format", choices=FORMATS, help="default: detected from the content")
    ingest.add_argument("--url", type=api_url, help="a running API (else: straight to Kafka)")
    token_flags(ingest, "for --url: distributor or admin")
    ingest.add_argument("--report-id", help="the report's id (CSV, JSON events)")
    ingest.add_argument("--replaces", help="the report this one replaces (with --report-id)")
    ingest.add_argument(
        "--distributor", type=identifier, help="whose data it is (admin: on whose behalf)"
    )
    ingest.add_argument("--json", action="store_true", help="print the full answer as JSON")
    ingest.add_argument(
        "--check",
        action="store_true",
        help="check the file offline, as a submission would be: no server, no Kafka, "
        "nothing published",
    )
    ingest.add_argument(
        "--catalog",
        metavar="EVENTS.jsonl",
        help="with --check: the product catalog, from the ProductDefined events of a JSON "
        "Lines file (as `channelflow generate` writes); without it the catalog is not checked",
    )
    ingest.add_argument(
        "--check-processes",
        type=int,
        metavar="N",
        help="check a large CSV report (1 MiB or more) on N processes, straight to Kafka or "
        "with --check (CHANNELFLOW_CHECK_PROCESSES; default: the cores available; 1: this "
        "process alone); the answers are the same",
    )
    ingest.add_argument(
        "--ack-file",
        metavar="PATH",
        help="an X12 interchange published straight to Kafka: write its acknowledgement "
        "(a 997 per functional group, a TA1 when ISA14 asks for one or the envelope is "
        "refused) to PATH",
    )
    kafka_flags(ingest)
    ingest.set_defaults(func=cmd_ingest)


# --- ingest --------------------------------------------------------------------------


def cmd_ingest(args: argparse.Namespace) -> int:
    path = input_file(args.file)
    if args.replaces and not args.report_id:
        raise UserError("--replaces needs --report-id (the replacing report's own id)")
    for flag, value in (
        ("--report-id", args.report_id),
        ("--replaces", args.replaces),
        ("--distributor", args.distributor),
    ):
        try:
            option_id(flag, value)
        except ValueError as exc:
            raise UserError(str(exc)) from None
    if args.check and args.url:
        raise UserError("--check runs offline: give --url to submit, --check to check")
    if args.catalog and not args.check:
        raise UserError("--catalog is for --check (a submission uses the server's catalog)")
    if args.check_processes is not None and args.check_processes < 1:
        raise UserError("--check-processes must be 1 or more")
    if args.check_processes is not None and args.url:
        raise UserError("--check-processes is for a check here: the server checks what --url sends")
    try:
        fmt = args.format or detect_format(path)
    except UnreadableX12 as exc:  # refused before its first set: an ISA15 neither P nor T, ...
        if args.ack_file and not (args.check or args.url):
            AckFile(Path(args.ack_file)).write(path, _sha256(path), datetime.now(UTC), exc.error)
        raise
    if args.ack_file and (args.check or args.url or fmt not in X12_FORMATS):
        raise UserError(
            "--ack-file acknowledges an X12 interchange published straight to Kafka (with "
            "--url the server answers it: ?ack=997; a --check publishes nothing to acknowledge)"
        )
    if not args.url:  # checked here: a batch job (streams/runners/processing.py)
        gc.set_threshold(*GC_THRESHOLD)
    if args.check:
        answer = asyncio.run(_check_offline(args, settings_of(args), path, fmt))
    elif args.url:
        answer = over_http(args, path, fmt)
    else:
        answer = asyncio.run(_to_kafka(args, settings_of(args), path, fmt))
    return print_answer(answer, args.json)


def print_answer(answer: dict[str, Any], as_json: bool) -> int:
    """Print an upload's answer (a table, or JSON); the exit status it makes."""
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(answer, option=orjson.OPT_INDENT_2) + b"\n")
    else:
        sys.stdout.write(summary_table(answer) + "\n")
    summary = answer["summary"]
    refused = any(report.get("report_errors") for report in answer["reports"])
    return 1 if summary["rejected"] or summary["conflict"] or refused else 0


class UnreadableX12(IngestError):
    """A file that starts like X12 but whose envelope is refused before its first
    transaction set says what it holds (exit 2)."""

    def __init__(self, path: Path, error: X12Error) -> None:
        super().__init__(f"{path} starts like X12 but is not readable: {error}")
        self.error = error


def detect_format(path: Path) -> Format:
    """X12 by its ISA (867, 852 or 844 by the first ST01), JSON by its first byte, a CSV
    claim file by its claim_id column, else a CSV report. A file with nothing in it but
    blanks is none of them: refused as empty, not as a CSV without its header."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if not start_of(head) and len(head) < 4096:
        raise IngestError(f"{path} is empty (or holds only blanks): nothing was published")
    kind = content_kind(head)
    if kind == "x12":
        try:
            with path.open("rb") as handle:
                found = first_transaction_set(handle)
        except X12Error as exc:
            raise UnreadableX12(path, exc) from None
        for x12 in X12_FORMATS:
            if found == x12:
                return x12
        raise IngestError(f"{path} holds {found or 'no'} transaction sets: 867, 852 or 844 only")
    if kind == "json":
        return "events"
    header = start_of(head).split(b"\n", 1)[0].decode("utf-8", "replace").lower()
    if CLAIM_COLUMN in (name.strip() for name in header.split(",")):
        return "claim-csv"
    return "csv"


async def _to_kafka(args: argparse.Namespace, settings: Settings, path: Path, fmt: Format) -> Any:
    from streams.ingest.interchanges import is_test_file, register, register_of
    from streams.ingest.kafka import KafkaPublisher, catalog_view
    from streams.ingest.personal import door_protection
    from streams.kafka.io import ensure_topics

    await ensure_topics(settings)
    view = await catalog_view(settings)
    with Spool() as spool:
        test = fmt in X12_FORMATS and is_test_file(Stored(path))
        upload, protection = _upload(args, settings, path, fmt), door_protection(settings, test)
        gateway = Gateway(upload, view, spool, protection=protection, test=test)
        ack = AckFile(Path(args.ack_file)) if args.ack_file else None
        await _checked(gateway, path, _processes(args, settings), ack)
        total = sum(gateway.answers.values()) + sum(
            1 for report in gateway.reports.values() if report.header is not None
        )
        async with KafkaPublisher(settings) as publisher:
            progress = Progress("publishing", "events", total, count=lambda: gateway.published)
            await progress.follow(asyncio.create_task(gateway.publish(publisher.publish)))
        registry = register_of(settings) if fmt in X12_FORMATS else None
        registered = await register(registry, Stored(path), gateway)
        if ack is not None:
            resent = registered is not None and registered.resent
            ack.write(path, upload.digest, upload.received_at, resent=resent)
        answer = _answer(gateway)
        if registered is not None:
            answer["interchange"] = registered.answer()
        return answer


@dataclass(frozen=True)
class AckFile:
    """--ack-file: where the interchange's acknowledgement goes, and what the parsers found."""

    target: Path
    watch: AckWatch = field(default_factory=AckWatch)

    def write(
        self,
        path: Path,
        digest: str,
        at: datetime,
        failure: X12Error | None = None,
        resent: bool = False,
    ) -> None:
        """Write the acknowledgement of the file at `path` (its sha256 `digest`, received
        `at`; none when it has no readable ISA: there is no one to answer); `failure`: the
        structural error that refused it; `resent`: the register knew the interchange."""
        body = self.watch.acknowledgement(Stored(path), digest, at, failure, resent)
        if body is None:
            sys.stderr.write(f"no acknowledgement: {path} has no readable ISA\n")
            return
        self.target.write_bytes(body)
        sys.stderr.write(f"acknowledgement written to {self.target}\n")


async def _check_offline(
    args: argparse.Namespace, settings: Settings, path: Path, fmt: Format
) -> Any:
    """The gateway's check pass on the file, as `_to_kafka` runs it, and nothing else: no
    Kafka, no server, nothing published (nothing is seen before: duplicates are judged
    within the file only)."""
    if args.catalog:
        products = _products(Path(args.catalog))
        catalog = f"{len(products):,} products from {args.catalog}"
    else:
        products = None
        catalog = "not checked (no --catalog): unknown_sku / unknown_unit are not answered"
    view = offline_view(products)
    with Spool() as spool:
        gateway = Gateway(_upload(args, settings, path, fmt), view, spool)
        await _checked(gateway, path, _processes(args, settings))
        return {**_answer(gateway), "check": {"published": False, "catalog": catalog}}


def _upload(args: argparse.Namespace, settings: Settings, path: Path, fmt: Format) -> Upload:
    """The file as the CLI submits it: by the operator (an admin, on behalf of
    --distributor when given), received now."""
    return Upload(
        fmt,
        file_label(path.name),
        OPERATOR,
        datetime.now(UTC),
        _sha256(path),
        "kafka" if fmt == "events" else SOURCES[fmt],
        args.report_id,
        args.replaces,
        None,
        args.distributor,
        settings.time_rules(),
    )


def _processes(args: argparse.Namespace, settings: Settings) -> int:
    """How many processes check the file (--check-processes, else the setting)."""
    wanted = args.check_processes
    return check_processes(settings.check_processes if wanted is None else wanted)


async def _checked(
    gateway: Gateway, path: Path, processes: int, ack: AckFile | None = None
) -> None:
    """Check every line of the file into `gateway` (a progress bar on stderr); an X12
    interchange refused as a whole is acknowledged so when `ack` asks."""
    progress = Progress("checking", "lines", count=lambda: gateway.lines)
    watch = None if ack is None else ack.watch
    try:
        checking = asyncio.create_task(check_upload(gateway, Stored(path), processes, watch))
        await progress.follow(checking)
    except (Unreadable, CsvHeaderError, CsvFormatError, X12Error) as exc:
        if ack is not None and isinstance(exc, X12Error):
            ack.write(path, gateway.upload.digest, gateway.upload.received_at, exc)
        raise IngestError(f"{path}: {_reason(exc)}; nothing was published") from None


def _answer(gateway: Gateway) -> dict[str, Any]:
    problems = [line.to_json() for line in gateway.answer_lines(every=False)]
    return {**gateway.document(), "lines": problems}


def _products(path: Path) -> list[ProductDefined]:
    """The ProductDefined events of a JSON Lines file of events (the others are skipped)."""
    if not path.is_file():
        raise UserError(f"no such catalog file: {path}")
    products = []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                event = decode_event(line)
            except InvalidEvent as exc:
                raise UserError(f"{path}:{number}: not an event: {exc}") from None
            if isinstance(event, ProductDefined):
                products.append(event)
    return products


def _reason(exc: Exception) -> str:
    return exc.message if isinstance(exc, Unreadable | CsvHeaderError) else str(exc)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _report_state(report: dict[str, Any], checked: bool) -> str:
    """Whether the report's header (its `ReportSubmitted`) is published. An 852 (its answer
    says `counts`) has no header: its counts are the lines, so nothing is said."""
    if report.get("published"):
        return " (would be published)" if checked else " (published)"
    if "counts" in report:
        return ""
    return " (would not be published)" if checked else " (not published)"


def _ignored(report: dict[str, Any]) -> Iterator[str]:
    """The X12 segments the report's answer lists as read and left aside (a QTY or ZA
    that says nothing about sales or on-hand counts), so that nobody wonders where they
    went."""
    listed = report.get("ignored") or []
    for item in listed[:IGNORED_SHOWN]:
        what = ", ".join(str(item[key]) for key in ("sku", "quantity") if item.get(key))
        out = f"    ignored at segment {item['segment']}: {item['code']} {item['description']}"
        yield f"{out} ({what})" if what else out
    more = int(report.get("ignored_count") or 0) - min(len(listed), IGNORED_SHOWN)
    if more > 0:
        yield f"    ... and {more:,} more ignored (--json lists up to 1,000)"


def summary_table(answer: dict[str, Any]) -> str:
    """The answer for people: the reports, answers per kind, rejections, problem lines."""
    summary, check = answer["summary"], answer.get("check")
    checked = check is not None
    out = [f"{answer['file']} ({answer['format']}): {summary['lines']:,} lines"]
    if answer.get("test"):
        out.append(f"  {answer['note']}")
    interchange = answer.get("interchange") or {}
    if interchange.get("resent"):
        out.append(
            f"  interchange {interchange['control_number']} from {interchange['sender']} was "
            f"first received at {interchange['first_received_at']}: {interchange['note']}"
        )
    for report in answer["reports"]:
        described = ", ".join(
            f"{key} {value}"
            for key, value in report.items()
            if key in ("report_id", "distributor_id", "replaces", "period_start", "period_end")
            and value is not None
        )
        out.append(f"  report: {described}{_report_state(report, checked)}")
        for error in report.get("report_errors") or ():
            missing = error.get("missing")
            where = (
                f" ({missing['id']} belongs before segment {missing['before']})" if missing else ""
            )
            at = f" at segment {error['segment']}" if error.get("segment") else ""
            out.append(f"    report error{at}: {error['message']}{where}")
        out.extend(_ignored(report))
    out.append("")
    out.append(f"  {'answer':<24}{'lines':>10}")
    for kind in Answer:
        out.append(f"  {kind.value:<24}{summary[kind.value]:>10,}")
    if summary["rejected_by_reason"]:
        out.append("")
        out.append(f"  {'rejected, by reason':<24}{'lines':>10}")
        for reason, count in summary["rejected_by_reason"].items():
            out.append(f"  {reason:<24}{count:>10,}")
    problems = [line for line in answer["lines"] if line["answer"] != Answer.ACCEPTED]
    if problems:
        out.append("")
        for line in problems[:PROBLEMS_SHOWN]:
            why = f" {line['reason']}" if line.get("reason") else ""
            field = f" [{line['field']}]" if line.get("field") else ""
            out.append(f"  {line['ref']}: {line['answer']}{why}{field}: {line.get('detail', '')}")
        if len(problems) > PROBLEMS_SHOWN:
            out.append(f"  ... and {len(problems) - PROBLEMS_SHOWN:,} more (--json lists all)")
    if check is None:
        out.append(f"\n  {summary['published']:,} messages published")
    else:
        out.append("\n  checked offline (--check): nothing published")
        out.append(f"  catalog: {check['catalog']}")
    return "\n".join(out)
