from __future__ import annotations

import datetime as dt
import gzip
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from amazon.ion import simpleion

from lakebox.engine.duckdb.formats import ion as ion_module
from lakebox.engine.duckdb.formats.avro import BATCH_ROWS
from lakebox.engine.duckdb.formats.base import reader_for
from lakebox.engine.duckdb.formats.ion import IonReader
from lakebox.errors import DataError, InvalidRequestError, UnsupportedError
from lakebox.formats.ion import Step, parse_path
from lakebox.formats.plugins import ION_INPUT, ION_SERDE
from lakebox.storage import Storage

try:
    from .binary_helpers import local_path, make_table, scan
except ImportError:
    from binary_helpers import local_path, make_table, scan  # type: ignore[no-redef]

EXPORT = "s3://lake/exports/AWSDynamoDB/01700000000000-abcdef/"
DATA = EXPORT + "data/"


def dynamodb_item(i: int) -> str:
    """One line of a DynamoDB export in Ion, numbers as decimals, sets annotated."""
    return (
        f"$ion_1_0 {{Item:{{id:{1234567890123456 + i}.,amount:{i}.25,"
        f'Name:"user {i}",tags:$dynamodb_SS::["a","b{i}"],'
        f"created:2024-01-0{1 + i % 9}T10:00:00.000-02:00,"
        f"blob:{{{{aGVsbG8=}}}},active:{'true' if i % 2 else 'false'}}}}}"
    )


def write_export(storage: Storage, files: int, rows: int, binary: bool = False) -> None:
    for n in range(files):
        text = "\n".join(dynamodb_item(n * rows + i) for i in range(rows)) + "\n"
        payload = text.encode()
        if binary:
            values = simpleion.loads(payload, single_value=False)
            payload = simpleion.dumps(values, binary=True, sequence_as_stream=True)
        local_path(storage, f"{DATA}part-{n}.ion.gz").write_bytes(gzip.compress(payload))
    storage.write_bytes(EXPORT + "manifest-summary.json", b"{}")


def export_table(columns: list[tuple[str, str]], **props: str) -> Any:
    return make_table(columns, ION_SERDE, ION_INPUT, serde_params=props, location=DATA)


def write_ion(storage: Storage, name: str, text: str, binary: bool = False) -> None:
    payload = text.encode()
    if binary:
        payload = simpleion.dumps(
            simpleion.loads(payload, single_value=False), binary=True, sequence_as_stream=True
        )
    local_path(storage, "s3://lake/tbl/" + name).write_bytes(payload)


def test_c_extension_is_in_use() -> None:
    assert ion_module.C_EXTENSION and simpleion.c_ext


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_dynamodb_export_keeps_every_digit(storage: Storage, tmp_path: Path, binary: bool) -> None:
    write_export(storage, files=2, rows=3, binary=binary)
    table = export_table(
        [
            ("id", "decimal"),
            ("amount", "decimal(10,2)"),
            ("name", "string"),
            ("tags", "array<string>"),
            ("created", "timestamp"),
            ("blob", "binary"),
            ("active", "boolean"),
        ],
        **{
            f"ion.{c}.path_extractor": f"(Item {c})"
            for c in ("id", "amount", "name", "tags", "created", "blob", "active")
        },
    )
    rows = sorted(scan(storage, tmp_path, table).rows(), key=lambda r: r["id"])
    assert [r["id"] for r in rows] == [Decimal(1234567890123456 + i) for i in range(6)]
    assert rows[5] == {
        "id": Decimal("1234567890123461"),
        "amount": Decimal("5.25"),
        "name": "user 5",
        "tags": ["a", "b5"],
        "created": dt.datetime(2024, 1, 6, 12, 0),
        "blob": b"hello",
        "active": True,
    }


def test_item_as_struct_column(storage: Storage, tmp_path: Path) -> None:
    write_export(storage, files=1, rows=2)
    table = export_table([("item", "struct<id:decimal(38,0),name:string,tags:array<string>>")])
    assert scan(storage, tmp_path, table).column("item") == [
        {"id": Decimal("1234567890123456"), "name": "user 0", "tags": ["a", "b0"]},
        {"id": Decimal("1234567890123457"), "name": "user 1", "tags": ["a", "b1"]},
    ]


def test_id_as_string_and_bigint(storage: Storage, tmp_path: Path) -> None:
    write_export(storage, files=1, rows=1)
    table = export_table(
        [("s", "string"), ("b", "bigint"), ("d", "double")],
        **{f"ion.{c}.path_extractor": "(Item id)" for c in ("s", "b", "d")},
    )
    assert scan(storage, tmp_path, table).rows() == [
        {"s": "1234567890123456", "b": 1234567890123456, "d": 1234567890123456.0}
    ]


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_columns_by_field_name_case_insensitive(
    storage: Storage, tmp_path: Path, binary: bool
) -> None:
    write_ion(
        storage,
        "a.ion",
        '{UserId: 1, Kind: click, score: 2.5e0, extra: "x"}\n{userid: 2, kind: "view"}\n'
        "{UserId: null, Kind: null.symbol}",
        binary,
    )
    table = make_table(
        [("userid", "int"), ("kind", "string"), ("score", "double"), ("absent", "date")],
        ION_SERDE,
    )
    assert scan(storage, tmp_path, table).rows() == [
        {"userid": 1, "kind": "click", "score": 2.5, "absent": None},
        {"userid": 2, "kind": "view", "score": None, "absent": None},
        {"userid": None, "kind": None, "score": None, "absent": None},
    ]


def test_case_sensitive_path_extraction(storage: Storage, tmp_path: Path) -> None:
    write_ion(storage, "a.ion", "{Name: upper, name: lower}\n{NAME: only_upper}")
    columns = [("n", "string")]
    sensitive = make_table(
        columns,
        ION_SERDE,
        serde_params={
            "ion.n.path_extractor": "(name)",
            "ion.path_extractor.case_sensitive": "true",
        },
    )
    assert scan(storage, tmp_path, sensitive).column("n") == ["lower", None]
    insensitive = make_table(columns, ION_SERDE, serde_params={"ion.n.path_extractor": "(name)"})
    assert scan(storage, tmp_path, insensitive).column("n") == ["lower", "only_upper"]


def test_search_paths_index_wildcard_and_annotations(storage: Storage, tmp_path: Path) -> None:
    write_ion(storage, "a.ion", '{foo: ["foo1", "foo2"], bar: "plain", bar: A::"annotated"}')
    paths = {"first": "(foo 0)", "second_field": "(1)", "annotated": "(A::bar)", "any": "(*)"}
    table = make_table(
        [
            ("first", "string"),
            ("second_field", "string"),
            ("annotated", "string"),
            ("any", "array<string>"),
        ],
        ION_SERDE,
        serde_params={f"ion.{c}.path_extractor": p for c, p in paths.items()},
    )
    row = scan(storage, tmp_path, table).rows()[0]
    assert row["first"] == "foo1"
    assert row["annotated"] == "annotated"
    assert row["any"] == ["foo1", "foo2"]
    # the path extractors page: (1) is the second field, the first of the two named bar
    assert row["second_field"] == "plain"


def test_annotated_field_before_a_plain_one_of_the_same_name(
    storage: Storage, tmp_path: Path
) -> None:
    # a dict would keep only the last bar and lose the annotated one
    write_ion(storage, "a.ion", '{bar: A::"annotated", bar: "plain", s: {x: 1, x: 2}}')
    table = make_table(
        [("annotated", "string"), ("s", "struct<x:int>")],
        ION_SERDE,
        serde_params={"ion.annotated.path_extractor": "(A::bar)"},
    )
    row = scan(storage, tmp_path, table).rows()[0]
    assert row["annotated"] == "annotated"
    assert row["s"] == {"x": 2}  # a struct column keeps a repeated field's last value


def test_nested_structs_maps_and_lists(storage: Storage, tmp_path: Path) -> None:
    write_ion(
        storage,
        "a.ion",
        "{identification: {Name: 'John', license: \"XX\"}, alias: Johnny, "
        "points: [1, 2, 3], geo: {Lat: 1.5, lon: 2.5e0}}\n{alias: null}",
    )
    table = make_table(
        [
            ("identification", "map<string,string>"),
            ("alias", "string"),
            ("points", "array<bigint>"),
            ("geo", "struct<lat:double,lon:double>"),
        ],
        ION_SERDE,
    )
    first, second = scan(storage, tmp_path, table).rows()
    assert first == {
        "identification": [("Name", "John"), ("license", "XX")],
        "alias": "Johnny",
        "points": [1, 2, 3],
        "geo": {"lat": 1.5, "lon": 2.5},
    }
    assert second == {"identification": None, "alias": None, "points": None, "geo": None}


def test_overflow_fails_by_default_and_wraps_when_allowed(storage: Storage, tmp_path: Path) -> None:
    write_ion(storage, "a.ion", '{n: 40000, s: "123456789"}')
    columns = [("n", "smallint"), ("s", "varchar(5)")]
    with pytest.raises(DataError, match=r"column n.*a\.ion"):
        scan(storage, tmp_path, make_table(columns, ION_SERDE))
    relaxed = make_table(columns, ION_SERDE, serde_params={"ion.fail_on_overflow": "false"})
    assert scan(storage, tmp_path, relaxed).rows() == [{"n": -25536, "s": "12345"}]
    per_column = make_table(
        columns,
        ION_SERDE,
        serde_params={"ion.n.fail_on_overflow": "false", "ion.s.fail_on_overflow": "false"},
    )
    assert scan(storage, tmp_path, per_column).rows() == [{"n": -25536, "s": "12345"}]


def test_big_decimal_beyond_38_digits_fails(storage: Storage, tmp_path: Path) -> None:
    write_ion(storage, "a.ion", "{id: " + "9" * 40 + ".}")
    with pytest.raises(DataError, match="decimal"):
        scan(storage, tmp_path, make_table([("id", "decimal")], ION_SERDE))


def test_malformed_ion_names_the_file(storage: Storage, tmp_path: Path) -> None:
    write_ion(storage, "good.ion", "{a: 1}")
    write_ion(storage, "bad.ion", "{a: 2}\n{a: 3")
    table = make_table([("a", "int")], ION_SERDE)
    with pytest.raises(DataError, match=r"after 1 values.*bad\.ion"):
        scan(storage, tmp_path, table)
    tolerant = make_table([("a", "int")], ION_SERDE, serde_params={"ion.ignore_malformed": "true"})
    assert sorted(scan(storage, tmp_path, tolerant).column("a")) == [1, 2]


def test_many_rows_and_count_without_columns(storage: Storage, tmp_path: Path) -> None:
    write_export(storage, files=3, rows=400)
    table = export_table([("id", "decimal")], **{"ion.id.path_extractor": "(Item id)"})
    result = scan(storage, tmp_path, table, columns=[])
    assert result.table.num_rows == 1200
    last = 1234567890123456 + 1199
    ids = scan(storage, tmp_path, table, where=f"id >= {last - 1}").column("id")
    assert sorted(ids) == [Decimal(last - 1), Decimal(last)]


@pytest.mark.parametrize(
    ("text", "steps"),
    [
        ("(Item id)", [Step(field="Item"), Step(field="id")]),
        ("(foo 0)", [Step(field="foo"), Step(index=0)]),
        ("(*)", [Step()]),
        ("()", []),
        ("(A::bar)", [Step(field="bar", annotations=("A",))]),
        ('("odd name")', [Step(field="odd name")]),
    ],
)
def test_parse_path(text: str, steps: list[Step]) -> None:
    assert parse_path(text, "test") == steps


@pytest.mark.parametrize(
    ("props", "error", "match"),
    [
        ({"ion.fail_on_overflow": "maybe"}, InvalidRequestError, "fail_on_overflow"),
        ({"ion.id.fail_on_overflow": "1"}, InvalidRequestError, "fail_on_overflow"),
        ({"ion.encoding": "JSON"}, InvalidRequestError, "ion.encoding"),
        ({"ion.id.path_extractor": "Item.id"}, InvalidRequestError, "s-expression"),
        ({"ion.id.path_extractor": "(a 1.5)"}, InvalidRequestError, "path components"),
        ({"ion.catalog.url": "https://x/c.10n"}, UnsupportedError, "catalog"),
    ],
)
def test_bad_properties_are_rejected(props: dict[str, str], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        IonReader().validate(make_table([("id", "int")], ION_SERDE, serde_params=props))


def test_registered_by_serde_and_input_format() -> None:
    assert isinstance(reader_for(make_table([("a", "int")], ION_SERDE)), IonReader)
    assert isinstance(reader_for(make_table([("a", "int")], None, ION_INPUT)), IonReader)


def test_overflow_in_a_column_not_read_does_not_fail(storage: Storage, tmp_path: Path) -> None:
    write_ion(storage, "a.ion", "{id: 1, n: 40000}\n{id: 2, n: 1}")
    table = make_table([("id", "int"), ("n", "smallint")], ION_SERDE)
    assert scan(storage, tmp_path, table, columns=["id"]).column("id") == [1, 2]
    with pytest.raises(DataError, match="column n"):
        scan(storage, tmp_path, table, columns=["n"])


def test_file_larger_than_one_batch(storage: Storage, tmp_path: Path) -> None:
    rows = BATCH_ROWS + 5
    write_ion(storage, "big.ion", "\n".join(f"{{a: {i}}}" for i in range(rows)))
    result = scan(storage, tmp_path, make_table([("a", "int")], ION_SERDE))
    assert result.table.num_rows == rows
    assert max(result.column("a")) == rows - 1
