"""DictStore: whatever the writes, its reads are those of a sorted dict."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.keyvalue import DictStore

KEYS = st.text(alphabet="ab|", max_size=4)
#: ("put", key, value), ("delete", key, 0) or ("scan", prefix, reverse as 0/1)
STEPS = st.lists(
    st.tuples(st.sampled_from(["put", "delete", "scan"]), KEYS, st.integers(0, 9)), max_size=60
)


@settings(max_examples=200)
@given(STEPS)
def test_reads_are_those_of_a_sorted_dict(steps: list[tuple[str, str, int]]) -> None:
    store: DictStore[int] = DictStore()
    expected: dict[str, int] = {}
    for op, key, value in steps:
        if op == "put":
            store.put(key, value)
            expected[key] = value
        elif op == "delete":
            store.delete(key)
            expected.pop(key, None)
        else:
            reverse = bool(value % 2)
            wanted = sorted(((k, v) for k, v in expected.items() if k.startswith(key)),
                            reverse=reverse)  # fmt: skip
            assert list(store.scan(key, reverse=reverse)) == wanted
        assert store.get(key) == expected.get(key)
    assert list(store.values()) == [expected[k] for k in sorted(expected)]
    assert list(store.scan("a", start="ab")) == sorted(
        (k, v) for k, v in expected.items() if k.startswith("a") and k >= "ab"
    )
