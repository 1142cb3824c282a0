"""`channelflow deadletters`: list the dead letters (filtered), show one's original bytes,
resubmit a fixed line (validated like an ingested one first)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from projections.ingest_check import Answer, precheck
from schemas.codec import InvalidEvent, decode_event
from schemas.deadletter import DeadLetter
from schemas.events import Envelope
from streams.cli.support import Subcommands, UserError, identifier, kafka_flags, settings_of
from streams.config import Settings
from streams.ingest.deadletters import (
    NoDeadLetterTopic,
    StoredDeadLetter,
    collect_dead_letters,
    dead_letter_topic,
)
from streams.ingest.personal import reveal_letters
from streams.kafka.messages import message_of


def register(sub: Subcommands) -> None:
    letters = sub.add_parser(
        "deadletters",
        help="list dead letters; show one's original bytes; resubmit a fixed line",
        description="list (the default): every dead letter, filtered; show: print one's "
        "original bytes; resubmit: publish its corrected event (--fixed), validated first",
    )
    letters.add_argument("action", nargs="?", default="list", choices=["list", "show", "resubmit"])
    letters.add_argument("--reason", help="list: only this reason")
    letters.add_argument("--distributor", type=identifier, help="list: only this distributor's")
    letters.add_argument(
        "--source",
        help="list: only those that came in by this door (csv, edi867, api...) or whose topic "
        "contains this",
    )
    letters.add_argument("--json", action="store_true", help="list: JSON Lines, with originals")
    letters.add_argument("--partition", type=int, help="show, resubmit: the dead letter's")
    letters.add_argument("--offset", type=int, help="show, resubmit: the dead letter's")
    letters.add_argument("--fixed", help="resubmit: the corrected event (JSON file, - = stdin)")
    kafka_flags(letters)
    letters.set_defaults(func=cmd_deadletters)


def cmd_deadletters(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    if args.action == "list":
        return _list(args, settings)
    if args.partition is None or args.offset is None:
        raise UserError(f"deadletters {args.action} needs --partition and --offset")
    if args.action == "resubmit" and args.fixed is None:
        raise UserError("deadletters resubmit needs --fixed FILE (or - for stdin)")
    found = _collected(settings, args.partition, args.offset)
    if not found:
        raise UserError(
            f"no dead letter at partition {args.partition}, offset {args.offset} of "
            f"{dead_letter_topic(settings)}"
        )
    stored = found[0]
    if args.action == "show":
        letter = stored.letter
        sys.stderr.write(
            f"{stored.where} {letter.reason} from {letter.source}"
            f"{_position(letter)}: {letter.detail}\n"
        )
        sys.stdout.buffer.write(letter.original)
        sys.stdout.flush()
        return 0
    event = _fixed_event(args, stored, settings)
    asyncio.run(_publish_fix(settings, event))
    sys.stderr.write(
        f"published {event.event_type} {event.event_id} fixing dead letter {stored.where} "
        f"({event.source_ref})\n"
    )
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    every = _collected(settings)
    letters = [
        stored for stored in every if stored.selected(args.reason, args.distributor, args.source)
    ]
    if every and not letters:
        sys.stderr.write(unmatched(args, every))
    if args.json:  # as /api/dead-letters/lines answers them, personal fields shown alike
        documents = [stored.to_json() for stored in letters]
        reveal_letters(settings, documents, None)
        for document in documents:
            sys.stdout.buffer.write(orjson.dumps(document) + b"\n")
        return 0
    out = [f"{'where':<10} {'time':<20} {'reason':<22} {'distributor':<14} {'source':<28} detail"]
    for stored in letters:
        letter = stored.letter
        when = letter.recorded_at.strftime("%Y-%m-%d %H:%M:%S")
        source = f"{letter.source}{_position(letter)}"
        detail = letter.detail if len(letter.detail) <= 100 else letter.detail[:99] + "…"
        out.append(
            f"{stored.where:<10} {when:<20} {letter.reason:<22} {letter.key or '-':<14} "
            f"{source:<28} {detail}"
        )
    sys.stdout.write("\n".join(out) + "\n")
    sys.stderr.write(f"{len(letters):,} dead letters\n")
    return 0


#: the values named when a filter matches nothing (a typo'd id: D7 for D07)
VALUES_NAMED = 20


def unmatched(args: argparse.Namespace, every: list[StoredDeadLetter]) -> str:
    """The filters that match no letter on their own, each with the values the letters
    have; "" when each matches some (only their combination matches none)."""
    filters: tuple[tuple[str, str, str | None, Callable[[DeadLetter], str | None]], ...] = (
        ("reason", "reason", args.reason, lambda letter: letter.reason),
        ("distributor", "key", args.distributor, lambda letter: letter.key),
        ("source", "source", args.source, lambda letter: letter.door or letter.source),
    )
    said = []
    for name, keyword, wanted, value in filters:
        if wanted is None or any(stored.selected(**{keyword: wanted}) for stored in every):
            continue
        values = sorted({v for stored in every if (v := value(stored.letter)) is not None})
        shown = ", ".join(values[:VALUES_NAMED]) + (", ..." if len(values) > VALUES_NAMED else "")
        said.append(f"no dead letter has {name} {wanted!r}; those they have: {shown or 'none'}\n")
    return "".join(said)


def _collected(
    settings: Settings, partition: int | None = None, offset: int | None = None
) -> list[StoredDeadLetter]:
    try:
        return asyncio.run(collect_dead_letters(settings, partition, offset))
    except NoDeadLetterTopic as exc:
        raise UserError(str(exc)) from None


def _position(letter: Any) -> str:
    if letter.partition is None and letter.offset is None:
        return ""
    if letter.partition is None:
        return f":{letter.offset}"
    return f":{letter.partition}@{letter.offset}"


def _fixed_event(
    args: argparse.Namespace, stored: StoredDeadLetter, settings: Settings
) -> Envelope:
    """The corrected event, validated like an ingested one; refused if still invalid."""
    raw = sys.stdin.buffer.read() if args.fixed == "-" else _read_file(args.fixed)
    try:
        event = decode_event(raw)
    except InvalidEvent as exc:
        raise UserError(f"the fixed event is still invalid: {exc}; nothing was published") from None
    named = getattr(event, "distributor_id", None)
    if stored.letter.key and named is not None and named != stored.letter.key:
        raise UserError(
            f"the dead letter is distributor {stored.letter.key!r}'s, the fix is {named!r}'s: "
            "a fix replaces a line of the same distributor"
        )
    if event.event_type == "LineRejected":
        raise UserError("a fix is the corrected event itself, not a LineRejected")
    view = asyncio.run(_catalog(settings))
    now = datetime.now(UTC)
    check = precheck(
        event,
        catalog=view.catalog,
        seen=view.seen,
        earlier=lambda _: None,
        recorded_at=now,
        rules=settings.time_rules(),
    )
    if check.answer is Answer.REJECTED:
        raise UserError(
            f"the fixed event is still rejected: {check.reason}: {check.detail}; "
            "nothing was published"
        )
    ref = f"deadletter {dead_letter_topic(settings)}:{stored.where}"
    return event.model_copy(update={"source": "kafka", "source_ref": ref[:256], "recorded_at": now})


async def _catalog(settings: Settings) -> Any:
    from streams.ingest.kafka import catalog_view

    return await catalog_view(settings)


async def _publish_fix(settings: Settings, event: Envelope) -> None:
    from streams.ingest.kafka import KafkaPublisher

    async with KafkaPublisher(settings) as publisher:
        await publisher.publish([message_of(event)])


def _read_file(name: str) -> bytes:
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {name}: {exc.strerror}") from None
