"""The raw history as it would read under a proposed price list (`channelflow simulate
--prices`): the proposal's prices first, then every raw message with the published prices
the proposal replaces left out (projections/price_proposal.py says which). Nothing is
published: the replay applies these inputs in place of the ones it reads."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterable, Iterator

import orjson

from projections.price_proposal import PriceProposal
from schemas.codec import InvalidEvent, event_of, message_values
from schemas.events import PriceChanged
from streams.kafka.messages import message_of
from streams.runners.processing import Input

#: where a proposed price comes from, as a dead letter would name it
PROPOSAL_SOURCE = "proposal"


def proposal_inputs(proposal: PriceProposal) -> list[Input]:
    """The proposal's prices as inputs, one message each, keyed as on the prices topic."""
    messages = map(message_of, proposal.prices)
    return [Input(m.value, m.key.decode(), PROPOSAL_SOURCE) for m in messages]


def rewritten(item: Input, proposal: PriceProposal) -> Input | None:
    """The message without the published prices the proposal replaces (None: nothing is
    left of it). Anything that is not a readable price passes as it is, to be applied or
    dead-lettered as it would be without the proposal."""
    if b"PriceChanged" not in item.raw:
        return item
    try:
        values, bundle = message_values(item.raw)
    except InvalidEvent:
        return item
    kept = [value for value in values if _stays(value, proposal)]
    if len(kept) == len(values):
        return item
    if not kept:
        return None
    return dataclasses.replace(item, raw=orjson.dumps(kept if bundle else kept[0]))


def _stays(value: object, proposal: PriceProposal) -> bool:
    if not isinstance(value, dict) or value.get("event_type") != "PriceChanged":
        return True
    try:
        event = event_of(dict(value))
    except InvalidEvent:
        return True
    return not isinstance(event, PriceChanged) or proposal.keeps(event)


def with_proposal(inputs: Iterable[Input], proposal: PriceProposal | None) -> Iterator[Input]:
    """`inputs` under the proposal (None: as they are)."""
    yield from proposal_inputs(proposal) if proposal is not None else ()
    for item in inputs:
        kept = item if proposal is None else rewritten(item, proposal)
        if kept is not None:
            yield kept


async def with_proposal_async(
    inputs: AsyncIterator[Input], proposal: PriceProposal | None
) -> AsyncIterator[Input]:
    """`with_proposal` of inputs read from Kafka."""
    for first in proposal_inputs(proposal) if proposal is not None else ():
        yield first
    async for item in inputs:
        kept = item if proposal is None else rewritten(item, proposal)
        if kept is not None:
            yield kept
