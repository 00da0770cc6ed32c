"""The binary Ion structure check: it passes everything amazon-ion writes, and refuses
damaged lengths before the C extension can loop on them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from amazon.ion import simpleion
from amazon.ion.simple_types import IonPyInt
from hypothesis import given, settings
from hypothesis import strategies as st

from lakebox.errors import DataError
from lakebox.formats.ion_binary import IonStructureError, check_binary_ion, is_binary_ion

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False)
    | st.decimals(allow_nan=False, allow_infinity=False, places=3)
    | st.text(max_size=40)
    | st.binary(max_size=300)
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(st.lists(_values, min_size=1, max_size=6))
def test_everything_amazon_ion_writes_passes(values: list[Any]) -> None:
    data = simpleion.dumps(values, binary=True, sequence_as_stream=True)
    assert is_binary_ion(data)
    check_binary_ion(data)


def test_annotations_typed_nulls_and_long_values_pass() -> None:
    note = IonPyInt.from_value(simpleion.IonType.INT, 5, annotations=("a", "b"))
    doc = {"n": note, "d": Decimal("12345678901234567890.5"), "s": "x" * 500, "z": None}
    check_binary_ion(simpleion.dumps(doc, binary=True))


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"\xe0\x01\x00\xea\x2e\x10", "length field runs past"),  # VarUInt never ends
        (b"\xe0\x01\x00\xea\x84abc", "past the end"),  # a 4-byte string holding 3
        (b"\xe0\x01\x00\xea\xd4\x8a\x85abcd", "past the end"),  # a child longer than its struct
        (b"\xe0\x01\x00\xea\xf0", "reserved type code"),
        (b"\xe0\x01\x00\xea\xe2\x81\x84", "too short"),
        (b"\xe0\x01\x00\xea\xef", "cannot be null"),
    ],
)
def test_damaged_lengths_are_refused_with_where(data: bytes, why: str) -> None:
    with pytest.raises(IonStructureError, match=why):
        check_binary_ion(data)


def test_good_prefix_ends_at_the_last_whole_value() -> None:
    good = simpleion.dumps([1, 2], binary=True, sequence_as_stream=True)
    with pytest.raises(IonStructureError) as info:
        check_binary_ion(good + b"\x84abc")
    assert info.value.good_prefix == len(good)


@pytest.fixture
def session(lake_session: Any) -> Any:
    return lake_session


@pytest.mark.parametrize("ignore", [False, True])
def test_a_damaged_binary_file_is_a_data_error_or_its_good_values(
    session: Any, ignore: bool
) -> None:
    good = simpleion.dumps([{"id": 1}, {"id": 2}], binary=True, sequence_as_stream=True)
    session.lake.storage.write_bytes("s3://ion/t/bad.ion", good + b"\xd4\x8a\x85abcd")
    session.sql(
        "CREATE EXTERNAL TABLE t (id int) ROW FORMAT SERDE 'com.amazon.ionhiveserde.IonHiveSerDe' "
        f"WITH SERDEPROPERTIES ('ion.ignore_malformed' = '{str(ignore).lower()}') STORED AS ION "
        "LOCATION 's3://ion/t/'"
    )
    if not ignore:
        with pytest.raises(DataError, match=r"malformed binary Ion .*bad\.ion"):
            session.sql("SELECT id FROM t").fetchall()
    else:
        assert sorted(session.sql("SELECT id FROM t").fetchall()) == [(1,), (2,)]


#: found by the fuzzing suite: a struct field names symbol 10, which the file's damaged
#: local symbol table does not define, so its name has no text
UNKNOWN_FIELD_SYMBOL = bytes.fromhex(
    "e00100eaee8e8183db87b98269649573636f7265de928a21018483616e6e8b48400400000000000000"
    "db8a21028484626f20628b0fde8f8a210384808b48c202a05f20000000"
)


def test_a_field_named_by_an_unknown_symbol_matches_no_column(session: Any) -> None:
    session.lake.storage.write_bytes("s3://ion/u/x.ion", UNKNOWN_FIELD_SYMBOL)
    session.sql(
        "CREATE EXTERNAL TABLE u (id int, score double) STORED AS ION LOCATION 's3://ion/u/'"
    )
    try:
        rows = session.sql("SELECT id, score FROM u").fetchall()
    except DataError as err:  # a lakebox error naming the file is fine too
        assert "x.ion" in str(err)
    else:
        assert all(len(r) == 2 for r in rows)
