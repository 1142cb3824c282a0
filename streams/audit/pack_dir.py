"""The directory an audit pack is written to: its own, so that what it holds is the pack.

A new or empty directory takes a pack, and so does one holding a pack written before (its
manifest lists its files): that pack is replaced. A directory holding anything else is
refused, before any work is done: a pack written beside other files would overwrite those
of the same names and leave the others looking like part of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import orjson

#: the file every pack has, listing the others
MANIFEST: Final = "manifest.json"
#: the foreign files a refusal names
NAMED: Final = 3


def previous_pack(out: Path) -> frozenset[str]:
    """The files of the pack already in `out` (none in a new or empty directory);
    `ValueError`, in one line, when `out` is no directory or holds anything else."""
    if not out.exists():
        return frozenset()
    if not out.is_dir():
        raise ValueError(f"{out} is not a directory: give a new or empty one for the pack")
    present = {entry.name for entry in out.iterdir()}
    pack = _listed(out / MANIFEST) if MANIFEST in present else frozenset()
    foreign = sorted(present - pack)
    if foreign:
        named = ", ".join(foreign[:NAMED]) + (", ..." if len(foreign) > NAMED else "")
        raise ValueError(
            f"{out} holds {len(foreign)} file(s) that are not an audit pack's ({named}): "
            "write the pack to a new or empty directory (a pack written there before is "
            "replaced)"
        )
    return pack


def _listed(manifest: Path) -> frozenset[str]:
    """The manifest's files and itself; none when it is not a pack's manifest."""
    try:
        files = orjson.loads(manifest.read_bytes()).get("files")
    except (OSError, orjson.JSONDecodeError, AttributeError):
        return frozenset()
    if not isinstance(files, dict):
        return frozenset()
    return frozenset({MANIFEST, *files})
