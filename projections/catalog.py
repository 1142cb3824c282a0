"""The product catalog: turns the item and unit a sender used into sku + base units.

Distributors name items as they know them (the vendor SKU, a UPC, a vendor or
manufacturer part number) and count in cases or boxes. `ProductDefined` events teach
the catalog every identifier and unit conversion; a line naming an item or a unit the
catalog does not know is rejected with `unknown_sku` / `unknown_unit`, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from projections.keyvalue import KeyValue
from projections.positions import Position, advance
from schemas.events import InventoryCounted, ProductDefined, SaleReported, ShipmentRecorded

Movement = SaleReported | ShipmentRecorded | InventoryCounted

UNKNOWN_SKU = "unknown_sku"
UNKNOWN_UNIT = "unknown_unit"


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    base_unit: str
    #: unit -> base units in one of it (the base unit itself is 1)
    conversions: dict[str, int] = field(default_factory=dict)
    #: kind (upc, vendor_part, manufacturer_part) -> identifier
    identifiers: dict[str, str] = field(default_factory=dict)
    applied: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "base": self.base_unit,
            "conv": self.conversions,
            "ids": self.identifiers,
            "applied": self.applied,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Product:
        return cls(data["sku"], data["base"], data["conv"], data["ids"], data["applied"])

    def base_units(self, quantity: int, unit: str | None) -> int | None:
        """`quantity` of `unit` in base units; None when the unit is unknown."""
        if unit is None or unit == self.base_unit:
            return quantity
        factor = self.conversions.get(unit)
        return None if factor is None else quantity * factor


@dataclass(frozen=True, slots=True)
class IdentifierAlias:
    """An identifier (UPC, part number) that names a SKU."""

    identifier: str
    sku: str
    applied: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.identifier, "sku": self.sku, "applied": self.applied}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IdentifierAlias:
        return cls(data["id"], data["sku"], data["applied"])


def define_product(
    existing: Product | None, event: ProductDefined, position: Position | None
) -> Product:
    """The product as the latest definition states it (a redefinition replaces the last)."""
    applied = advance(existing.applied if existing else {}, position)
    if applied is None:
        assert existing is not None  # an empty map has applied nothing
        return existing
    identifiers = {
        kind: value
        for kind, value in event.identifiers.model_dump(exclude_none=True).items()
        if isinstance(value, str)
    }
    return Product(event.sku, event.base_unit, dict(event.unit_conversions), identifiers, applied)


def alias(
    existing: IdentifierAlias | None, identifier: str, sku: str, position: Position | None
) -> IdentifierAlias:
    applied = advance(existing.applied if existing else {}, position)
    if applied is None:
        assert existing is not None  # an empty map has applied nothing
        return existing
    return replace(existing or IdentifierAlias(identifier, sku), sku=sku, applied=applied)


def resolve(
    products: KeyValue[Product], aliases: KeyValue[IdentifierAlias], item: str
) -> Product | None:
    """The product an item names: its SKU first, then any identifier the catalog knows."""
    product = products.get(item)
    if product is None:
        named = aliases.get(item)
        product = products.get(named.sku) if named is not None else None
    return product


def normalize(
    products: KeyValue[Product], aliases: KeyValue[IdentifierAlias], event: Movement
) -> Movement | tuple[str, str]:
    """The event in sku + base units, or (reason, detail) when the catalog cannot say."""
    product = resolve(products, aliases, event.sku)
    if product is None:
        return UNKNOWN_SKU, f"sku: {event.sku!r} is not a known SKU, UPC or part number"
    quantity_field = "on_hand" if isinstance(event, InventoryCounted) else "quantity"
    quantity = getattr(event, quantity_field)
    base = product.base_units(quantity, event.unit)
    if base is None:
        known = ", ".join(sorted({product.base_unit, *product.conversions}))
        return UNKNOWN_UNIT, f"unit: {event.unit!r} is not a unit of {product.sku} (known: {known})"
    if product.sku == event.sku and base == quantity:
        return event if event.unit is None else event.model_copy(update={"unit": None})
    update: dict[str, Any] = {"sku": product.sku, quantity_field: base, "unit": None}
    if not isinstance(event, InventoryCounted) and base != quantity:
        update["unit_price"] = event.unit_price * quantity / base  # price per base unit
    return event.model_copy(update=update)
