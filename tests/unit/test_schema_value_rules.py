"""Wire contracts: one rule set for field values (ids and texts, money, quantities, times),
in the models and the JSON Schema files alike."""

from __future__ import annotations

import re
import sys
import unicodedata
from decimal import Decimal

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from schemas.codec import decode_event
from schemas.events import (
    ResellerOnboarded,
    SaleReported,
)
from schemas.jsonschema import SCHEMA_DIR
from schemas.types import (
    MAX_QUANTITY,
    MONEY_PATTERN,
    Money,
    Price,
    money_problem,
    price_problem,
    visible,
)
from tests.unit.event_samples import SAMPLES, raw, rejected, sale

# --- one rule set for field values (ids and texts, money, quantities, times) -----------

#: every character the Unicode database of this Python calls a control (Cc), a format
#: character (Cf) or a line / paragraph separator (Zl, Zp)
INVISIBLE_CHARS = [
    chr(code)
    for code in range(sys.maxunicode + 1)
    if unicodedata.category(chr(code)) in ("Cc", "Cf", "Zl", "Zp")
]


@pytest.mark.parametrize(
    ("event_type", "field"),
    [
        ("SaleReported", "transaction_id"),
        ("SaleReported", "end_customer"),
        ("SaleReported", "source_ref"),
        ("ResellerOnboarded", "name"),
        ("ProductDefined", "description"),
        ("LineRejected", "detail"),
    ],
)
@pytest.mark.parametrize(
    "char", ["\x00", "\t", "\r", "\n", "\x85", "\u200b", "\u200f", "\u2028", "\u2029", "\ufeff"]
)
def test_ids_and_texts_refuse_control_and_invisible_characters(
    event_type: str, field: str, char: str
) -> None:
    error = rejected({**SAMPLES[event_type], field: f"RM-{char}1"})
    assert error.reason == "schema_violation"
    assert error.detail.startswith(f"{event_type}.{field}: ")
    assert f"contains U+{ord(char):04X}" in error.detail
    assert "control and invisible characters are not allowed" in error.detail


def test_the_nul_of_the_issue_is_refused_naming_the_field() -> None:
    error = rejected(sale(transaction_id="RM-NUL\u0000"))
    assert error.detail == (
        "SaleReported.transaction_id: 'RM-NUL\\x00': contains U+0000 (a control character) at "
        "position 7: control and invisible characters are not allowed"
    )


def test_every_invisible_character_is_refused_by_the_models_and_the_json_schema() -> None:
    assert len(INVISIBLE_CHARS) > 200  # C0, C1 and the format characters
    files = {
        name: orjson.loads((SCHEMA_DIR / f"{name}.v1.json").read_text(encoding="utf-8"))
        for name in ("SaleReported", "ResellerOnboarded")
    }
    id_pattern = re.compile(files["SaleReported"]["properties"]["reseller_id"]["pattern"])
    text_pattern = re.compile(files["ResellerOnboarded"]["properties"]["name"]["pattern"])
    for char in INVISIBLE_CHARS:
        value = f"A{char}B"
        assert id_pattern.search(value) is None and text_pattern.search(value) is None, hex(
            ord(char)
        )
        for model, field in ((SaleReported, "reseller_id"), (ResellerOnboarded, "name")):
            data = {**SAMPLES[model.__name__], field: value}
            with pytest.raises(ValidationError):
                model.model_validate(data)


@pytest.mark.parametrize("good", ["Café Noël", "D-01/ü", "東京 1", "Rugged 🚀 Router", "a b"])
def test_visible_text_stays_accepted(good: str) -> None:
    assert decode_event(raw(sale(reseller_id=good))).reseller_id == good  # type: ignore[attr-defined]
    named = dict(SAMPLES["ResellerOnboarded"], name=f" {good} ")
    assert decode_event(raw(named)).name == f" {good} "  # type: ignore[attr-defined]


def test_visible_escapes_what_a_text_may_not_hold() -> None:
    assert visible("a\x00b\n\u200b\U000e0041 ü") == "a\\x00b\\n\\u200b\\U000e0041 ü"
    assert decode_event(raw(dict(SAMPLES["LineRejected"], detail=visible("x\ty"))))


@pytest.mark.parametrize(
    ("event_type", "field"),
    [
        ("SaleReported", "unit_price"),
        ("ShipmentRecorded", "unit_price"),
        ("PriceChanged", "distributor_cost"),
        ("PriceChanged", "floor_price"),
    ],
)
@pytest.mark.parametrize("amount", ["-0.01", "-12", -1])
def test_prices_and_costs_are_never_negative(event_type: str, field: str, amount: object) -> None:
    error = rejected({**SAMPLES[event_type], field: amount})
    assert error.detail.startswith(f"{event_type}.{field}: ")
    assert "is negative" in error.detail
    assert decode_event(raw({**SAMPLES[event_type], field: "0"}))


@pytest.mark.parametrize("written", ["1e3", "1E3", "1.5e-2", "+5", " 5", "5 ", "1,000", "5."])
def test_money_strings_are_plain_decimals_only(written: str) -> None:
    error = rejected(sale(unit_price=written))
    assert error.detail.startswith("SaleReported.unit_price: ")
    assert "plain decimal" in error.detail and repr(written) in error.detail
    program = dict(SAMPLES["RebateProgramDefined"], growth_baseline=written)
    assert "RebateProgramDefined.growth_baseline" in rejected(program).detail


def test_money_as_integers_and_signed_money_stay_accepted() -> None:
    assert decode_event(raw(sale(unit_price=1000))).unit_price == Decimal(1000)  # type: ignore[attr-defined]
    program = decode_event(raw(dict(SAMPLES["RebateProgramDefined"], growth_baseline="-10.5")))
    assert program.growth_baseline == Decimal("-10.5")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("event_type", "field", "low"),
    [
        ("SaleReported", "quantity", -MAX_QUANTITY),
        ("ShipmentRecorded", "quantity", -MAX_QUANTITY),
        ("InventoryCounted", "on_hand", -MAX_QUANTITY),
        ("ReportSubmitted", "line_count", 0),
    ],
)
def test_quantities_and_counts_are_bounded(event_type: str, field: str, low: int) -> None:
    for fine in (low, MAX_QUANTITY):
        assert decode_event(raw({**SAMPLES[event_type], field: fine}))
    for wrong in (low - 1, MAX_QUANTITY + 1):
        assert f"{event_type}.{field}" in rejected({**SAMPLES[event_type], field: wrong}).detail


def test_json_schema_files_say_the_same_about_money_and_quantities() -> None:
    schema = orjson.loads((SCHEMA_DIR / "SaleReported.v1.json").read_text(encoding="utf-8"))
    properties = schema["properties"]
    assert (properties["quantity"]["minimum"], properties["quantity"]["maximum"]) == (
        -MAX_QUANTITY,
        MAX_QUANTITY,
    )
    price_text, price_integer = properties["unit_price"]["anyOf"]
    assert price_integer == {"type": "integer", "minimum": 0}
    price = re.compile(price_text["pattern"])
    assert [bool(price.search(text)) for text in ("12.50", "7", "1e3", "-1", "1.0000001")] == [
        True,
        True,
        False,
        False,
        False,
    ]


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-05:00"], ids=["year1", "year9999"]
)
@pytest.mark.parametrize("field", ["sold_at", "occurred_at"])
def test_a_time_that_overflows_utc_is_a_schema_violation(field: str, moment: str) -> None:
    error = rejected(sale(**{field: moment}))
    assert error.reason == "schema_violation"
    assert error.detail == (
        f"SaleReported.{field}: Value error, {moment} is out of range once converted to UTC"
    )


AMOUNT_INPUTS = st.one_of(
    st.from_regex(r"-?[0-9]{1,4}(\.[0-9]{0,8})?", fullmatch=True),
    st.decimals(allow_nan=False, allow_infinity=False, places=8).map(str),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.integers(-(10**20), 10**20),
)


@settings(max_examples=300)
@given(AMOUNT_INPUTS)
def test_money_and_price_take_what_their_rules_take(value: object) -> None:
    """A text the pattern takes, an integer or a Decimal is money (a price) exactly when
    money_problem (price_problem) finds nothing, and then it is that amount, as written."""
    for kind, rule in ((Money, money_problem), (Price, price_problem)):
        written = not isinstance(value, str) or re.fullmatch(MONEY_PATTERN, value) is not None
        expected = Decimal(value) if written else None  # type: ignore[arg-type]
        if expected is not None and rule(expected) is not None:
            expected = None
        try:
            amount = TypeAdapter(kind).validate_python(value)
        except ValidationError:
            amount = None
        assert repr(amount) == repr(expected), (kind, value)
