"""Answers shared between the requests that ask the same question (the API process).

Some reads cost what the channel has, not what they return: the inventory summary,
compliance, price protection take 0.1–0.3 s of CPU at 10,000 inventory rows. Fifty people
opening the dashboard at once would queue fifty of them. So `channelflow api` computes such
an answer once for everyone asking the same question at the same time (the others wait
for that one computation), serves an answer up to `fresh` seconds old as it is, and one up
to `stale` seconds old at once while a new one is computed behind it; older, the request
waits for a new one. The `Age` header (RFC 9111) says how old a served answer is.

A question is the path with its query and the caller's `Authorization` header, so no
caller sees an answer computed for another's scope; the token is checked on every
request before this runs. A successful request that changes something (a violation's
step, a statement's approval, a close, an ingest) forgets every answer kept, so its
caller reads the step back at once. Only successful GETs under /api/ are kept, at most
`entries` of them and `max_bytes` of bodies, the least recently asked first out; a body
larger than `max_bytes` / 8 (a whole snapshot, an export) is never kept.

Given a `runner` (the API process's `ComputeThread.run`), the handlers of the GETs kept
run there, not on the loop that serves the kept answers (streams/api/compute_thread.py).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from aiohttp import hdrs, web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Question = tuple[str, str]
#: runs a handler's coroutine somewhere else and gives its response
Runner = Callable[[Coroutine[Any, Any, web.StreamResponse]], Awaitable[web.StreamResponse]]

#: headers not kept with an answer: aiohttp sets them for each response
_PER_RESPONSE = {hdrs.CONTENT_LENGTH, hdrs.DATE, hdrs.SERVER}


@dataclass(frozen=True)
class Answer:
    body: bytes
    headers: tuple[tuple[str, str], ...]
    at: float  # time.monotonic() when computed

    def response(self, now: float) -> web.Response:
        headers = dict(self.headers)
        headers[hdrs.AGE] = str(int(now - self.at))
        return web.Response(body=self.body, headers=headers)


#: what a computation gives: the answer kept, or else the handler's response or error
Outcome = Answer | web.StreamResponse | Exception


class AnswerCache:
    def __init__(
        self,
        fresh: float,
        stale: float,
        entries: int = 128,
        max_bytes: int = 64 * 2**20,
        runner: Runner | None = None,
    ) -> None:
        self.fresh, self.stale, self.entries = fresh, max(stale, fresh), entries
        self.max_bytes = max_bytes
        self.runner = runner
        self._answers: OrderedDict[Question, Answer] = OrderedDict()
        self._bytes = 0
        self._computing: dict[Question, asyncio.Task[Outcome]] = {}

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method != hdrs.METH_GET:
            response = await handler(request)
            if response.status < 400:  # a step, a close, an ingest: read it back anew
                self._answers.clear()
                self._bytes = 0
            return response
        if not request.path.startswith("/api/"):
            return await handler(request)
        question = (request.path_qs, request.headers.get(hdrs.AUTHORIZATION, ""))
        now = time.monotonic()
        known = self._answers.get(question)
        if known is not None and now - known.at <= self.stale:
            self._answers.move_to_end(question)
            if now - known.at > self.fresh:
                self._compute(question, request, handler)  # behind this answer
            return known.response(now)
        task, mine = self._compute(question, request, handler)
        outcome = await asyncio.shield(task)
        if isinstance(outcome, Answer):
            return outcome.response(time.monotonic())
        if not mine:  # another caller's error or unkept response: this one asks anew
            return await self._handled(request, handler)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def _compute(
        self, question: Question, request: web.Request, handler: Handler
    ) -> tuple[asyncio.Task[Outcome], bool]:
        """The computation of the question's answer: the one under way, or a new one (and
        whether it is new)."""
        task = self._computing.get(question)
        if task is not None:
            return task, False
        task = asyncio.create_task(self._answer(question, request, handler))
        self._computing[question] = task
        task.add_done_callback(lambda _: self._computing.pop(question, None))
        return task, True

    async def _answer(self, question: Question, request: web.Request, handler: Handler) -> Outcome:
        """The answer, kept; or what the handler gave that is not kept (its response, or
        the error it raised: a computation behind a stale answer has no caller to tell)."""
        started = time.monotonic()
        try:
            response = await self._handled(request, handler)
        except Exception as exc:
            self._forget(question)
            return exc
        body = response.body if isinstance(response, web.Response) else None
        if response.status == 200 and isinstance(body, bytes) and len(body) <= self.max_bytes // 8:
            headers = tuple(
                (name, value)
                for name, value in response.headers.items()
                if name not in _PER_RESPONSE
            )
            return self._keep(question, Answer(body, headers, started))
        self._forget(question)
        return response

    async def _handled(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The handler's response, computed by the runner if there is one."""
        if self.runner is None:
            return await handler(request)

        async def handled() -> web.StreamResponse:
            return await handler(request)

        return await self.runner(handled())

    def _keep(self, question: Question, answer: Answer) -> Answer:
        self._forget(question)
        self._answers[question] = answer
        self._bytes += len(answer.body)
        while len(self._answers) > self.entries or self._bytes > self.max_bytes:
            self._forget(next(iter(self._answers)))
        return answer

    def _forget(self, question: Question) -> None:
        gone = self._answers.pop(question, None)
        if gone is not None:
            self._bytes -= len(gone.body)
