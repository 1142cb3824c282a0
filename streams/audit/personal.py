"""The personal fields of the source lines an auditor reads (the audit pack, lineage):
opened where the subject's key still exists, `erased` where it was deleted or there is no
key store (docs/PRIVACY.md). An auditor may see every distributor's."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeAlias

from domain.personal_data import PERSONAL_FIELDS, shown
from infra.personal_cipher import clear_texts
from infra.subject_keys import SubjectKeys
from streams.config import Settings

#: (field, token) pairs → token → clear text, for the tokens whose keys exist
Opener: TypeAlias = Callable[[list[tuple[str, str]]], dict[str, str]]


def reveal_sources(sources: Iterable[dict[str, Any]], opener: Opener | None) -> None:
    """Replace each source's personal fields (under `read`) by what the auditor is shown."""
    reads = [source["read"] for source in sources if source.get("read")]
    values = [(name, read[name]) for read in reads for name in PERSONAL_FIELDS if read.get(name)]
    clear = opener(values) if opener is not None and values else {}
    for read in reads:
        for name in PERSONAL_FIELDS:
            read[name] = shown(read.get(name), clear)


def opener_of(settings: Settings) -> tuple[Opener | None, Callable[[], None]]:
    """The opener of the key store `settings` name (None: there is none), and its closer."""
    dsn = settings.subject_keys_dsn()
    if dsn is None:
        return None, lambda: None
    keys = SubjectKeys(dsn)
    return (lambda values: clear_texts(keys, values)), keys.close
