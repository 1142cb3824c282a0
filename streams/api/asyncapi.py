"""The AsyncAPI 3.0 document of what channelflow publishes: the decisions topic, served at
GET /api/asyncapi.json beside the OpenAPI document. Its message payloads are derived from
the decision models (schemas/decisions.py); docs/DECISIONS.md says the rest in prose."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from pydantic.json_schema import models_json_schema

from schemas.decisions import DECISION_TYPES, DECISIONS_TOPIC, decision_type_of
from schemas.topics import topic_name
from streams.config import Settings

Schema = dict[str, Any]

DESCRIPTION = (
    "Every decision channelflow records in its audit store (pricing violations and their "
    "lifecycle steps, inventory reconciliations, price-protection claims, rebate statements "
    "with their adjustments, approvals and payments, erasures of a data subject's personal "
    "data), published once stored, in the store's "
    "order, one JSON document per message, keyed by distributor_id: one distributor's "
    "decisions stay in order on one partition. Delivery is at-least-once: after a relay "
    "crash a document may come again, with the same decision_id; consumers keep the ids "
    "they have applied and skip a repeat (docs/DECISIONS.md)."
)

HEADERS: Schema = {
    "type": "object",
    "properties": {
        "decision_id": {"type": "string", "format": "uuid", "description": "as in the body"},
        "decision_type": {"type": "string", "description": "as in the body"},
    },
}


def payload_schemas() -> dict[str, Schema]:
    """The JSON Schema of every decision document, `$ref`s to components."""
    _, definitions = models_json_schema(
        [(model, "serialization") for model in DECISION_TYPES],
        ref_template="#/components/schemas/{model}",
    )
    return dict(definitions["$defs"])


def _message(model: type[Any]) -> Schema:
    return {
        "name": decision_type_of(model),
        "title": model.__name__,
        "summary": (model.__doc__ or "").strip(),
        "contentType": "application/json",
        "headers": HEADERS,
        "payload": {"$ref": f"#/components/schemas/{model.__name__}"},
        "bindings": {
            "kafka": {"key": {"type": "string", "description": "the document's distributor_id"}}
        },
    }


def document(settings: Settings) -> Schema:
    """The AsyncAPI document for a deployment (its broker and topic prefix)."""
    names = [model.__name__ for model in DECISION_TYPES]
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "channelflow decisions", "version": "1", "description": DESCRIPTION},
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": settings.kafka_bootstrap,
                "protocol": "kafka",
                "description": "the deployment's Kafka cluster (CHANNELFLOW_KAFKA_BOOTSTRAP)",
            }
        },
        "channels": {
            "decisions": {
                "address": topic_name(settings.topic_prefix, DECISIONS_TOPIC),
                "description": "<CHANNELFLOW_TOPIC_PREFIX>.decisions, kept forever",
                "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in names},
                "bindings": {"kafka": {"partitions": settings.partitions}},
            }
        },
        "operations": {
            "receiveDecisions": {
                "action": "receive",
                "channel": {"$ref": "#/channels/decisions"},
                "summary": "Follow what channelflow decides",
                "messages": [{"$ref": f"#/channels/decisions/messages/{n}"} for n in names],
            }
        },
        "components": {
            "messages": {model.__name__: _message(model) for model in DECISION_TYPES},
            "schemas": payload_schemas(),
        },
    }


def add_asyncapi_route(app: web.Application) -> None:
    body = orjson.dumps(document(Settings.from_env()), option=orjson.OPT_INDENT_2)

    async def asyncapi(_: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app.router.add_get("/api/asyncapi.json", asyncapi)
