"""quick_init: a frozen dataclass built through its slots is the value the dataclass's own
__init__ builds, and stays frozen."""

from __future__ import annotations

import inspect
from dataclasses import MISSING, FrozenInstanceError, dataclass, field, fields

import pytest

from domain.frozen import quick_init
from domain.rebates import RebateTally
from projections.dedup import SeenEntry
from projections.inventory import InventoryState
from projections.outcome import Outcome
from projections.positions import Position
from projections.price_rules import FlaggedSale
from projections.rebate_buckets import RebateBucket, RecordedMove
from projections.resellers import DayCount, ResellerState
from projections.stores import PartyStores
from projections.tallies import InOut


@dataclass(frozen=True, slots=True)
class Plain:
    name: str
    count: int = 0
    tags: dict[str, int] = field(default_factory=dict)


@quick_init
@dataclass(frozen=True, slots=True)
class Quick:
    name: str
    count: int = 0
    tags: dict[str, int] = field(default_factory=dict)


def test_the_same_value_as_the_dataclass_builds_and_still_frozen() -> None:
    for args, kwargs in [(("a",), {}), (("a", 2), {}), (("a",), {"tags": {"x": 1}})]:
        quick, plain = Quick(*args, **kwargs), Plain(*args, **kwargs)  # type: ignore[arg-type]
        assert (quick.name, quick.count, quick.tags) == (plain.name, plain.count, plain.tags)
        assert quick == Quick(*args, **kwargs)  # type: ignore[arg-type]
        assert hash(Quick("a", tags=None)) == hash(Quick("a", tags=None))  # type: ignore[arg-type]
    assert Quick("a").tags is not Quick("a").tags  # a fresh default each time
    assert repr(Quick("a")) == "Quick(name='a', count=0, tags={})"
    with pytest.raises(FrozenInstanceError):
        Quick("a").count = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        Quick()  # type: ignore[call-arg]


def test_only_frozen_slotted_dataclasses_are_taken() -> None:
    with pytest.raises(TypeError):
        quick_init(dataclass(frozen=True)(type("Loose", (), {"__annotations__": {"a": int}})))
    with pytest.raises(TypeError):
        quick_init(dataclass(slots=True)(type("Mutable", (), {"__annotations__": {"a": int}})))


@pytest.mark.parametrize(
    "cls",
    [
        Position,
        Outcome,
        SeenEntry,
        FlaggedSale,
        RecordedMove,
        RebateBucket,
        InOut,
        RebateTally,
        InventoryState,
        ResellerState,
        DayCount,
        PartyStores,
    ],
)
def test_every_decorated_class_takes_its_fields_in_order_with_their_defaults(cls: type) -> None:
    parameters = list(inspect.signature(cls).parameters.values())
    assert [p.name for p in parameters] == [f.name for f in fields(cls)]
    for parameter, item in zip(parameters, fields(cls), strict=True):
        if item.default is not MISSING:
            assert parameter.default is item.default
        else:
            assert (parameter.default is inspect.Parameter.empty) == (
                item.default_factory is MISSING
            )
