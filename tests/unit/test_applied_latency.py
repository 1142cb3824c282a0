"""The latency of applied events observed a bundle at a time (`metrics.observe_many`): the
same histogram as one observation per event."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Histogram

from streams.metrics import observe_many

BOUNDS = (0.05, 0.25, 1.0)


def samples(histogram: Histogram) -> dict[tuple[str, str], float]:
    (family,) = histogram.collect()
    return {
        (s.name, s.labels.get("le", "")): s.value for s in family.samples if "created" not in s.name
    }


@pytest.mark.parametrize("amount", [0.0, 0.05, 0.1, 0.25, 0.9, 1.0, 7.5])
def test_observing_many_at_once_is_observing_each(amount: float) -> None:
    each = Histogram("each", "", buckets=BOUNDS, registry=CollectorRegistry())
    many = Histogram("many", "", buckets=BOUNDS, registry=CollectorRegistry())
    for _ in range(3):
        each.observe(amount)
    observe_many(many, amount, 3)
    observed = {(name.replace("many", "each"), le): v for (name, le), v in samples(many).items()}
    assert observed == pytest.approx(samples(each))
    assert observed[("each_count", "")] == 3
