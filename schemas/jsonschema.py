"""JSON Schema files for non-Python producers, generated from the pydantic models.

Regenerate with `python -m schemas.jsonschema`; a test fails when the files are stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel

from schemas.deadletter import DeadLetter
from schemas.events import EVENT_TYPES, SCHEMA_VERSION

SCHEMA_DIR = Path(__file__).with_name("json")


def rendered_schemas() -> dict[str, str]:
    """File name -> JSON Schema text for every event type and the dead-letter record."""
    files = {}
    models: tuple[type[BaseModel], ...] = (*EVENT_TYPES, DeadLetter)
    for model in models:
        schema = model.model_json_schema(mode="validation")
        schema["$id"] = f"https://channelflow.dev/schemas/{model.__name__}.v{SCHEMA_VERSION}.json"
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        text = json.dumps(schema, indent=2, sort_keys=True) + "\n"
        files[f"{model.__name__}.v{SCHEMA_VERSION}.json"] = text
    return files


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
