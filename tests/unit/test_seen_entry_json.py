"""A dedup entry's stored form: the short path for a plain entry writes what the full one
does (`SeenEntry.to_json`), and every entry reads back as it was."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from projections.dedup import Resend, SeenEntry, Verdict

IDS = st.sampled_from(["e1", "e2", "3f0c1b7e-1111-4222-8333-944455556666"])
SOURCES = st.none() | st.sampled_from(["sales:0", "sales:3"])
OFFSETS = st.none() | st.integers(min_value=0, max_value=10**9)
RESENDS = st.lists(
    st.builds(Resend, IDS, st.sampled_from(list(Verdict)), SOURCES, OFFSETS), max_size=2
).map(tuple)
ENTRIES = st.builds(
    SeenEntry, IDS, st.just("f" * 32), SOURCES, OFFSETS, RESENDS,
    st.none() | st.sampled_from(["R1", "R2"]), st.booleans(), RESENDS,
)  # fmt: skip


def layout(entry: SeenEntry) -> list[object]:
    """The stored form as documented: five fields, then report_id, released and previous
    up to the last one set."""

    def resends(items: tuple[Resend, ...]) -> list[list[object]]:
        return [[r.event_id, r.verdict.value, r.source, r.offset] for r in items]

    extra: list[object] = [entry.report_id, entry.released or None, resends(entry.previous) or None]
    while extra and extra[-1] is None:
        extra.pop()
    base: list[object] = [
        entry.event_id,
        entry.fingerprint,
        entry.source,
        entry.offset,
        resends(entry.resends),
    ]
    return base + extra


@given(ENTRIES)
def test_every_entry_is_stored_in_its_layout_and_read_back(entry: SeenEntry) -> None:
    assert entry.to_json() == layout(entry)
    assert SeenEntry.from_json(entry.to_json()) == entry


def test_a_plain_entry_is_five_fields() -> None:
    entry = SeenEntry("e1", "f" * 32, "sales:0", 7)
    assert entry.to_json() == ["e1", "f" * 32, "sales:0", 7, []]
