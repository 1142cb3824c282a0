"""What every route module of the API shares: the request context (`ApiContext`) and
what else the app holds for its handlers (`request.app[CONTEXT]`, ...), the caller's
principal on each request, and JSON answers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from aiohttp import web

from domain.scorecard_score import ScoreConfig
from infra.eventstore import AuditLog
from projections.statuses import Statuses
from projections.stores import ChannelStores
from streams.api.answer_cache import AnswerCache
from streams.auth import Principal, TokenRegistry
from streams.config import Settings
from streams.health import Health
from streams.ingest.deadletters import LetterSource
from streams.kafka.messages import Publish
from streams.runners.violation_statuses import RecordedStatuses

if TYPE_CHECKING:
    from streams.runners.embedded import EmbeddedChannel

T = TypeVar("T")

StoresProvider = Callable[[], ChannelStores]

PRINCIPAL = web.RequestKey("principal", Principal)


@dataclass(frozen=True)
class ApiContext:
    stores: StoresProvider
    mode: str
    audit: AuditLog
    tokens: TokenRegistry
    #: publishes events in order (a period close, an ingest batch) where the runner takes
    #: input, and returns once they are all taken
    submit: Publish
    #: the dead letters themselves (the stores keep only their counts)
    dead_letter_lines: LetterSource
    #: what /health reports (dependencies, failing jobs), and whether the event store
    #: is known to be away right now
    health: Health | None = None
    #: the committed state for a thread (a worker's databases): reads as long as the
    #: history (an export, a verification) run there, off the event loop; None: the
    #: stores are read in place (the embedded runner: small, and changed on the loop)
    committed: Callable[[], Awaitable[ChannelStores]] | None = None
    #: whether /metrics sets the gauges that read the projections when scraped (the
    #: embedded runner: small state); False: the runner keeps them up to date itself (a
    #: worker, in a thread, so a scrape computes nothing)
    gauges_at_scrape: bool = True
    #: answers shared between requests asking the same question (the API process:
    #: streams/api/answer_cache.py); None: every request computes its own
    answers: AnswerCache | None = None

    async def blocking(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """An event-store call (psycopg blocks): off the event loop, and failing at once
        while the event store is known to be away (the library would retry for most of
        a minute)."""
        if self.health is not None:
            self.health.check_store()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, lambda: function(*args, **kwargs))

    async def exporting(self, work: Callable[[ChannelStores], T]) -> T:
        """Run a read that costs the length of the history: in a thread over the
        committed state when there is one, else on the loop."""
        if self.committed is None:
            return work(self.stores())
        readers = await self.committed()
        return await asyncio.get_running_loop().run_in_executor(None, work, readers)

    @classmethod
    def of_channel(
        cls, channel: EmbeddedChannel, tokens: TokenRegistry, mode: str = "embedded demo"
    ) -> ApiContext:
        """The API over an embedded channel: its stores, audit log, input and dead letters."""
        return cls(
            lambda: channel.stores,
            mode,
            channel.audit,
            tokens,
            channel.submit,
            channel.stored_dead_letters,
        )


#: what the app holds for its handlers: the context, the request limits and timeouts, and
#: the violation statuses followed in the event store
CONTEXT = web.AppKey("context", ApiContext)
SETTINGS = web.AppKey("settings", Settings)
#: the scorecard's weights and constants, from the settings (read once: a mistake stops the
#: server as it starts)
SCORE = web.AppKey("score", ScoreConfig)
STATUSES = web.AppKey("statuses", RecordedStatuses)


def context_of(request: web.Request) -> ApiContext:
    return request.app[CONTEXT]


async def statuses(request: web.Request) -> Statuses:
    """Violation statuses from the event store, fetched off the event loop (only the
    steps recorded since the last request are read).

    The stores themselves are read on the loop only: the agent changes them there.
    """
    known: Statuses = await context_of(request).blocking(request.app[STATUSES].refresh)
    return known


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=orjson.dumps(data, option=orjson.OPT_INDENT_2),
        status=status,
        content_type="application/json",
        headers=headers,
    )


#: RFC 6750: a 401 names the scheme the client should answer with
BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="channelflow"'}


def error_code(reason: str) -> str:
    """An error's `code`: the reason phrase of its status in snake case (not_found)."""
    return reason.lower().replace(" ", "_")


def json_error(status: int, code: str, message: str, **details: Any) -> web.Response:
    """An error answer; `details` name more than the message (the line, the field, ...)."""
    document = {"error": {"status": status, "code": code, "message": message, **details}}
    return json_response(document, status, BEARER_CHALLENGE if status == 401 else None)
