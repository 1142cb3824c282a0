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
request before this runs. Only successful GETs under /api/ are kept, at most `entries` of
them, the least recently asked first out.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import hdrs, web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Question = tuple[str, str]

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


class AnswerCache:
    def __init__(self, fresh: float, stale: float, entries: int = 128) -> None:
        self.fresh, self.stale, self.entries = fresh, max(stale, fresh), entries
        self._answers: OrderedDict[Question, Answer] = OrderedDict()
        self._computing: dict[Question, asyncio.Task[Answer | None]] = {}

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method != hdrs.METH_GET or not request.path.startswith("/api/"):
            return await handler(request)
        question = (request.path_qs, request.headers.get(hdrs.AUTHORIZATION, ""))
        now = time.monotonic()
        known = self._answers.get(question)
        if known is not None and now - known.at <= self.stale:
            self._answers.move_to_end(question)
            if now - known.at > self.fresh:
                self._compute(question, request, handler)  # behind this answer
            return known.response(now)
        answer = await asyncio.shield(self._compute(question, request, handler))
        if answer is None:  # not an answer to keep (an error, a stream): the caller's own
            return await handler(request)
        return answer.response(time.monotonic())

    def _compute(
        self, question: Question, request: web.Request, handler: Handler
    ) -> asyncio.Task[Answer | None]:
        """The computation of the question's answer: the one under way, or a new one."""
        task = self._computing.get(question)
        if task is None:
            task = asyncio.create_task(self._answer(question, request, handler))
            self._computing[question] = task
            task.add_done_callback(lambda _: self._computing.pop(question, None))
        return task

    async def _answer(
        self, question: Question, request: web.Request, handler: Handler
    ) -> Answer | None:
        started = time.monotonic()
        with contextlib.suppress(web.HTTPException):
            response = await handler(request)
            if response.status == 200 and isinstance(response, web.Response):
                body = response.body
                if isinstance(body, bytes):
                    headers = tuple(
                        (name, value)
                        for name, value in response.headers.items()
                        if name not in _PER_RESPONSE
                    )
                    return self._keep(question, Answer(body, headers, started))
        self._answers.pop(question, None)
        return None

    def _keep(self, question: Question, answer: Answer) -> Answer:
        self._answers[question] = answer
        self._answers.move_to_end(question)
        while len(self._answers) > self.entries:
            self._answers.popitem(last=False)
        return answer
