"""Every error leaves as JSON ({"error": {"status", "code", "message"}}), never as an
HTML page or a traceback: the app's outermost middleware."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import psycopg
from aiohttp import web
from aiokafka.errors import KafkaError
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import InterfaceError as StoreInterfaceError  # PostgreSQL away
from eventsourcing.persistence import OperationalError as StoreOperationalError

from domain import claim_steps
from domain.violation_lifecycle import IllegalTransition, NotAllowed
from streams.api.context import error_code, json_error
from streams.api.http_body import InvalidField
from streams.auth import AuthError, Forbidden, TokensUnavailable
from streams.health import StoreAway

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _message(request: web.Request, exc: web.HTTPException) -> str:
    """What the error says: the handler's own text, else, for the router's own 404 and
    405, the path and what to do (aiohttp's text is only "404: Not Found")."""
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        return f"{request.method} is not allowed on {request.path}: use {allowed}"
    if isinstance(exc, web.HTTPNotFound) and exc.text == f"{exc.status}: {exc.reason}":
        return f"no such path {request.path}: the paths are listed at /api/openapi.json"
    return exc.text or exc.reason


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves as JSON, never as an HTML page or a traceback."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        answer = json_error(exc.status, error_code(exc.reason), _message(request, exc))
        for kept in ("Retry-After", "Allow"):  # a 503's or 429's hint, a 405's methods
            if kept in exc.headers:
                answer.headers[kept] = exc.headers[kept]
        return answer
    except web.RequestPayloadError:  # a body that is not what its headers say (gzip ...)
        encoding = request.headers.get("Content-Encoding", "identity")
        return json_error(
            400,
            "bad_request",
            f"the request body cannot be read as sent (Content-Encoding: {encoding}, "
            f"Transfer-Encoding: {request.headers.get('Transfer-Encoding', 'none')}); "
            "nothing was done",
        )
    except InvalidField as exc:
        return json_error(400, "bad_request", str(exc), field=exc.field)
    except AuthError as exc:
        return json_error(401, "unauthorized", str(exc))
    except TokensUnavailable as exc:
        return json_error(503, "unavailable", str(exc))
    except (Forbidden, NotAllowed, claim_steps.NotAllowed) as exc:
        return json_error(403, "forbidden", str(exc))
    except AggregateNotFoundError:
        return json_error(404, "not_found", f"nothing recorded under {request.path}")
    except (IllegalTransition, claim_steps.IllegalTransition) as exc:
        return json_error(409, "conflict", str(exc))
    except KafkaError as exc:
        request.app.logger.warning("Kafka unavailable on %s: %r", request.path, exc)
        return json_error(
            503,
            "unavailable",
            f"Kafka is not reachable ({type(exc).__name__}); try again: a line sent again "
            "is recognized, never counted twice",
        )
    except (psycopg.OperationalError, StoreOperationalError, StoreInterfaceError, StoreAway) as exc:
        request.app.logger.warning("event store unavailable on %s: %s", request.path, exc)
        return json_error(
            503, "unavailable", "the event store (PostgreSQL) is not reachable; try again"
        )
    except Exception:
        request.app.logger.exception("unhandled error on %s", request.path)
        return json_error(500, "internal_error", "internal error; see the server log")
