"""JSON Schema files for non-Python producers, generated from the pydantic models.

Regenerate with `python -m schemas.jsonschema`; a test fails when the files are stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from schemas.agreements import AGREEMENT_EVENT_TYPES
from schemas.claims import CLAIM_EVENT_TYPES
from schemas.codec import MAX_BUNDLE
from schemas.deadletter import DeadLetter
from schemas.decisions import Decision
from schemas.events import EVENT_TYPES, SCHEMA_VERSION
from schemas.parties import PARTY_EVENT_TYPES

SCHEMA_DIR = Path(__file__).with_name("json")
BASE = "https://channelflow.dev/schemas"


def rendered_schemas() -> dict[str, str]:
    """File name -> JSON Schema text for every event type (the claim, end-customer identity and
    rotation ones too, not on a raw topic yet), a bundle of
    events, the dead-letter record and a decision document (the decisions topic)."""
    files = {}
    models: tuple[type[BaseModel], ...] = (
        *EVENT_TYPES,
        *(kind for kind in CLAIM_EVENT_TYPES if kind not in EVENT_TYPES),
        *(kind for kind in PARTY_EVENT_TYPES if kind not in EVENT_TYPES),
        *(kind for kind in AGREEMENT_EVENT_TYPES if kind not in EVENT_TYPES),
        DeadLetter,
    )
    for model in models:
        files.update(_file(model.__name__, model.model_json_schema(mode="validation")))
    files.update(_file("Bundle", _bundle_schema()))
    files.update(_file("Decision", Decision.model_json_schema(mode="serialization")))
    return files


def _file(name: str, schema: dict[str, Any]) -> dict[str, str]:
    schema["$id"] = f"{BASE}/{name}.v{SCHEMA_VERSION}.json"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return {f"{name}.v{SCHEMA_VERSION}.json": json.dumps(schema, indent=2, sort_keys=True) + "\n"}


def _bundle_schema() -> dict[str, Any]:
    """A message value that carries many events: each one valid by its own schema."""
    return {
        "title": "Bundle",
        "description": (
            "A raw-topic message may carry one event (a JSON object) or a bundle: a JSON array "
            f"of 1 to {MAX_BUNDLE} events, applied in order, each judged on its own. Every event "
            "of a bundle belongs on the topic and under the message key the bundle has."
        ),
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_BUNDLE,
        "items": {
            "oneOf": [
                {"$ref": f"{BASE}/{model.__name__}.v{SCHEMA_VERSION}.json"} for model in EVENT_TYPES
            ]
        },
    }


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(exist_ok=True)
    written = []
    for name, text in rendered_schemas().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_schemas():
        sys.stdout.write(f"wrote {path}\n")
