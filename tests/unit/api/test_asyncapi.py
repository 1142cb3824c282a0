"""The AsyncAPI document of the decisions topic: a valid 3.0 structure, every decision
document's message and schema present, every reference resolvable (tests/unit/api/authz/ check
it is served to anyone)."""

from __future__ import annotations

from typing import Any

from schemas.decisions import DECISION_TYPES, decision_type_of
from streams.api.asyncapi import document
from streams.config import Settings

SETTINGS = Settings(topic_prefix="acme", kafka_bootstrap="kafka.example:9092", partitions=6)


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def resolve(doc: dict[str, Any], pointer: str) -> Any:
    assert pointer.startswith("#/"), pointer
    node: Any = doc
    for part in pointer[2:].split("/"):
        node = node[part]
    return node


def test_the_document_has_the_asyncapi_3_structure() -> None:
    doc = document(SETTINGS)
    assert doc["asyncapi"] == "3.0.0"
    assert {"title", "version", "description"} <= set(doc["info"])
    assert doc["servers"]["kafka"] == {
        "host": "kafka.example:9092",
        "protocol": "kafka",
        "description": doc["servers"]["kafka"]["description"],
    }
    channel = doc["channels"]["decisions"]
    assert channel["address"] == "acme.decisions"
    operation = doc["operations"]["receiveDecisions"]
    assert operation["action"] == "receive"
    assert operation["channel"] == {"$ref": "#/channels/decisions"}
    assert len(operation["messages"]) == len(DECISION_TYPES)


def test_every_decision_document_is_a_message_with_its_schema() -> None:
    doc = document(SETTINGS)
    messages = doc["components"]["messages"]
    schemas = doc["components"]["schemas"]
    for model in DECISION_TYPES:
        message = messages[model.__name__]
        assert message["name"] == decision_type_of(model)
        assert message["payload"] == {"$ref": f"#/components/schemas/{model.__name__}"}
        schema = schemas[model.__name__]
        assert schema["properties"]["decision_type"]["const"] == decision_type_of(model)
        assert {"decision_id", "distributor_id", "record_id", "position"} <= set(schema["required"])
        assert message["bindings"]["kafka"]["key"]["type"] == "string"


def test_erasures_are_announced_with_their_subject_and_keys() -> None:
    doc = document(SETTINGS)
    assert doc["components"]["messages"]["SubjectErased"]["name"] == "erasure.recorded"
    schema = doc["components"]["schemas"]["SubjectErased"]
    assert {"subject", "key_ids", "actor_id", "at", "reason"} <= set(schema["required"])


def test_every_reference_resolves() -> None:
    doc = document(SETTINGS)
    pointers = refs(doc)
    assert len(pointers) > 3 * len(DECISION_TYPES)
    for pointer in pointers:
        assert resolve(doc, pointer) is not None
