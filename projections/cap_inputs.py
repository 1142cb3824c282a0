"""The logs of a cap several distributors share, as a worker applies them (docs/CLAIMS.md,
"The cap, in a worker").

`claim-caps` (keyed by authorization): the requests and releases the distributors'
partitions sent (`ChannelStores.cap_outbox`); its partition keeps the authorization's
ledger (`cap_ledgers` under `*|authorization_id`, with what it answered each line in
`cap_asks`) and grants in the order of the log, each grant for `claim-grants`
(`ChannelStores.cap_grants`). `claim-grants` (keyed by distributor): the grants back in
the line's partition, which finishes the line (`projections.claim_phases.apply_grant`).
Each is applied under its position: a redelivery changes nothing, and a request or a
release sent again (a batch applied again) counts once (`projections.claim_caps`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

from projections.claim_caps import (
    CapGrant,
    CapRequest,
    ask_key,
    cap_message_from_json,
    cap_message_to_json,
    give_back_once,
    grant_once,
    settled,
)
from projections.claim_inputs import (
    claims_view,
    sequencer_of,
    shared_ledger,
    store_steps,
    terms_of,
)
from projections.claim_phases import apply_grant
from projections.dedup import Verdict
from projections.outcome import Outcome
from projections.positions import Position
from projections.stores import ChannelStores
from schemas.topics import CLAIM_CAPS_TOPIC, CLAIM_GRANTS_TOPIC, topic_name

#: dead-letter reason of a message on an internal topic that is not one (never written so
#: by a worker: a producer that should not write there)
INVALID_CAP_MESSAGE: Final = "invalid_cap_message"

#: the type of the logs' messages in the metrics (they are not events)
CAP_MESSAGE: Final = "CapMessage"

#: applies one message of a log
#: applies one message of a log (its raw bytes, position and key)
CapLogHandler = Callable[[ChannelStores, bytes, Position | None, str | None], Outcome]


def cap_log_handlers(prefix: str) -> dict[str, CapLogHandler]:
    """The two logs' handlers, by topic name (for `streams.runners.processing`)."""
    return {
        topic_name(prefix, CLAIM_CAPS_TOPIC): apply_cap_message,
        topic_name(prefix, CLAIM_GRANTS_TOPIC): apply_grant_message,
    }


def apply_cap_message(
    stores: ChannelStores, raw: bytes, position: Position | None, key: str | None = None
) -> Outcome:
    """A request (granted, the grant sent on) or a release, to its authorization's ledger
    (a message keyed otherwise is in another ledger's partition: refused, or that cap
    would be counted twice)."""
    try:
        message = cap_message_from_json(json.loads(raw))
        _keyed_by(key, message.authorization_id)
    except (ValueError, KeyError, TypeError) as exc:
        return _invalid(exc)
    name = message.authorization_id
    where = shared_ledger(name)
    ledger = stores.cap_ledgers.get(where)
    # an unnamed release (never sent by a worker) counts plainly
    ask_at = None if message.ref is None else ask_key(name, message.ref, message.pos)
    ask = None if ask_at is None else stores.cap_asks.get(ask_at)
    if isinstance(message, CapRequest):
        terms = terms_of(stores, name)
        after, ask, answer = grant_once(ledger, ask, terms, message, position)
        if answer is not None:
            stores.cap_grants.append(answer)
    else:
        after, ask = give_back_once(ledger, ask, message, position)
    stores.cap_ledgers.put(where, after)
    if ask_at is not None and ask is not None:
        if settled(ask):  # answers nothing any more: kept, it would only grow the store
            stores.cap_asks.delete(ask_at)
        else:
            stores.cap_asks.put(ask_at, ask)
    return Outcome(Verdict.ACCEPTED)


def apply_grant_message(
    stores: ChannelStores, raw: bytes, position: Position | None, key: str | None = None
) -> Outcome:
    """A grant back in its line's partition (keyed by its distributor): the line finished,
    its held back lines checked again; the decisions are facts."""
    try:
        answer = CapGrant.from_json(json.loads(raw))
        _keyed_by(key, answer.distributor_id)
    except (ValueError, KeyError, TypeError) as exc:
        return _invalid(exc)
    sequencer = sequencer_of(stores)
    steps = apply_grant(claims_view(stores), answer, sequencer, position)
    return Outcome(Verdict.ACCEPTED, facts=store_steps(stores, steps, sequencer))


Keyed = list[tuple[str, dict[str, Any]]]


def cap_messages(stores: ChannelStores) -> tuple[Keyed, Keyed]:
    """What the batch applied so far sends, and forget it: the `claim-caps` messages keyed
    by authorization, in the order made, and the `claim-grants` messages keyed by
    distributor."""
    caps = [(m.authorization_id, cap_message_to_json(m)) for m in stores.cap_outbox.sent]
    grants = [(g.distributor_id, g.to_json()) for g in stores.cap_grants]
    stores.cap_outbox.sent.clear()
    stores.cap_grants.clear()
    return caps, grants


#: how many cap messages a batch had made at a point (`outgoing`)
Mark = tuple[int, int]


def outgoing(stores: ChannelStores) -> Mark:
    """How many `claim-caps` and `claim-grants` messages the batch has made so far."""
    return len(stores.cap_outbox.sent), len(stores.cap_grants)


def drop_since(stores: ChannelStores, mark: Mark) -> None:
    """Forget the messages made since `mark`: those of an input whose handler failed half
    way (dead-lettered `processing_error`). Its stored result is its dead letter, so
    nothing it asked of a cap, gave back or granted may go out."""
    caps, grants = mark
    del stores.cap_outbox.sent[caps:]
    del stores.cap_grants[grants:]


def _keyed_by(key: str | None, expected: str) -> None:
    """A log message's key must be what its partition is chosen by (None: read from a file)."""
    if key is not None and key != expected:
        raise ValueError(f"keyed {key!r}, not {expected!r}")


def _invalid(exc: Exception) -> Outcome:
    detail = f"not a claim-caps or claim-grants message: {type(exc).__name__}: {exc}"
    return Outcome(None, INVALID_CAP_MESSAGE, detail=detail)
