"""The published JSON Schema files match the pydantic models."""

from __future__ import annotations

from schemas.jsonschema import SCHEMA_DIR, rendered_schemas


def test_json_schema_files_are_up_to_date():
    expected = rendered_schemas()
    on_disk = {path.name: path.read_text(encoding="utf-8") for path in SCHEMA_DIR.glob("*.json")}
    stale = sorted(name for name in expected if on_disk.get(name) != expected[name])
    extra = sorted(set(on_disk) - set(expected))
    assert not stale and not extra, (
        f"regenerate with `python -m schemas.jsonschema` (stale: {stale}, unexpected: {extra})"
    )
