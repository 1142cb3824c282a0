"""Frozen dataclasses built at nearly the cost of plain ones.

The `__init__` that `dataclass(frozen=True)` writes sets every field through
`object.__setattr__` (the class's own `__setattr__` refuses), which costs about twice
what setting a slot does. The values the reducers build for every line (its position,
dedup entry, flagged row, recorded move, outcome) pay that on each field: about a tenth
of a line's time. `quick_init` gives a frozen, slotted dataclass an `__init__` that sets
the slots through their descriptors instead: the same signature, defaults and value, and
the instance stays frozen.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any, TypeVar

T = TypeVar("T")

#: the default of a parameter whose field has a default_factory
_FACTORY: Any = object()


def quick_init(cls: type[T]) -> type[T]:
    """Decorate a `dataclass(frozen=True, slots=True)` (placed above it)."""
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    if not params.frozen or "__slots__" not in vars(cls) or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: quick_init is for frozen, slotted dataclasses")
    namespace: dict[str, Any] = {"_FACTORY": _FACTORY}
    signature, body = [], []
    for item in fields(cls):  # type: ignore[arg-type]
        name = item.name
        if not item.init or item.kw_only:
            raise TypeError(f"{cls.__name__}.{name}: quick_init takes plain fields only")
        namespace[f"_set_{name}"] = getattr(cls, name).__set__
        if item.default is not MISSING:
            namespace[f"_default_{name}"] = item.default
            signature.append(f"{name}=_default_{name}")
        elif item.default_factory is not MISSING:
            namespace[f"_factory_{name}"] = item.default_factory
            signature.append(f"{name}=_FACTORY")
            body.append(f"    if {name} is _FACTORY: {name} = _factory_{name}()")
        else:
            signature.append(name)
        body.append(f"    _set_{name}(self, {name})")
    source = f"def __init__(self, {', '.join(signature)}):\n" + "\n".join(body or ["    pass"])
    exec(source, namespace)  # as dataclasses itself writes __init__
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
