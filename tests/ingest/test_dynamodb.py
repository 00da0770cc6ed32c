"""DynamoDB attribute values and the catalog types of exported attributes."""

from __future__ import annotations

import decimal

import pytest

from lakebox.errors import InvalidRequestError
from lakebox.ingest.dynamodb import (
    TypeInference,
    is_typed_item,
    json_shape,
    to_typed,
    typed_to_python,
)

BIG = "12345678901234567890123456789012345678"


@pytest.mark.parametrize(
    ("value", "typed"),
    [
        ("a", {"S": "a"}),
        (1, {"N": "1"}),
        (decimal.Decimal("1.500"), {"N": "1.5"}),
        (decimal.Decimal("1E+2"), {"N": "100"}),
        (decimal.Decimal(BIG), {"N": BIG}),
        (True, {"BOOL": True}),
        (None, {"NULL": True}),
        (b"\x01", {"B": b"\x01"}),
        ({"b", "a"}, {"SS": ["a", "b"]}),
        ({2, 1}, {"NS": ["1", "2"]}),
        ([1, "x"], {"L": [{"N": "1"}, {"S": "x"}]}),
        ({"k": {"n": 1}}, {"M": {"k": {"M": {"n": {"N": "1"}}}}}),
    ],
)
def test_to_typed(value: object, typed: dict[str, object]) -> None:
    assert to_typed(value) == typed


def test_typed_round_trip_keeps_every_digit() -> None:
    assert typed_to_python(to_typed(decimal.Decimal(BIG))) == decimal.Decimal(BIG)


@pytest.mark.parametrize(
    "value", [float("nan"), decimal.Decimal(BIG + "1"), set(), {1, "a"}, object()]
)
def test_unstorable_values_are_rejected(value: object) -> None:
    with pytest.raises(InvalidRequestError):
        to_typed(value)


def test_is_typed_item() -> None:
    assert is_typed_item({"id": {"N": "1"}, "x": {"S": "a"}})
    assert not is_typed_item({"id": 1})
    assert not is_typed_item({"id": {"N": "1", "S": "x"}})


def test_inference_widens_decimal_scale_and_reports_conflicts() -> None:
    inf = TypeInference()
    inf.add({"a": {"N": "1"}, "b": {"S": "x"}, "m": {"M": {"p": {"N": "1"}}}})
    inf.add({"a": {"N": "1.25"}, "b": {"N": "2"}, "m": {"M": {"q": {"S": "s"}}}})
    assert inf.final_types() == {
        "a": "decimal(38,2)",
        "b": "string",
        "m": "struct<p:decimal(38,0),q:string>",
    }
    assert inf.conflicts == {"b": {"string", "decimal"}}


def test_json_shape_of_mixed_attribute_is_a_union_struct() -> None:
    inf = TypeInference(shape=True)
    inf.add({"a": {"N": "1"}})
    inf.add({"a": {"S": "x"}})
    assert inf.types == {"a": "struct<n:string,s:string>"}
    assert json_shape({"L": [{"S": "a"}]}) == "struct<l:array<struct<s:string>>>"


def test_decimal_precision_covers_whole_digits_and_scale() -> None:
    inf = TypeInference()
    inf.add({"a": {"N": BIG}, "b": {"NS": ["1.5", "22"]}})
    inf.add({"a": {"N": "0.25"}})
    assert inf.final_types() == {"a": "decimal(38,0)", "b": "array<decimal(38,1)>"}
    assert "needs more than 38 digits" in next(iter(inf.conflicts["a"]))
