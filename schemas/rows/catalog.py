"""Catalog rows: the products."""

from __future__ import annotations

from pydantic import Field

from schemas.rows.base import RowModel, Sku


class ProductRow(RowModel):
    """A product of the catalog."""

    identified_by = ("sku",)

    sku: Sku
    base_unit: str = Field(description="The unit quantities are counted in.")
    unit_conversions: dict[str, int] = Field(description="Base units per other unit.")
    identifiers: dict[str, str] = Field(description="Other identifiers (GTIN, UPC, ...).")
