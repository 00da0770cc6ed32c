"""Result files are written a slice of rows at a time, with the same bytes as rendering the
whole result at once: one header, every value quoted as Athena does, NULL left empty."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lakebox.config import LakeConfig
from lakebox.query import results
from lakebox.storage import Storage

_RENDER = results.athena_columns


def _whole(table: pa.Table) -> bytes:
    """The result rendered at once, as result files were written before."""
    buf = io.BytesIO()
    pacsv.write_csv(_RENDER(table), buf, pacsv.WriteOptions(quoting_style="all_valid"))
    return buf.getvalue()


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    config = LakeConfig.from_env(home=tmp_path / "lake")
    config.open_home(create=True)
    store = Storage(config)
    store.ensure_bucket("out")
    return store


@pytest.mark.parametrize("rows", [0, 1, 5, 7])
def test_a_result_written_in_slices_is_the_result_rendered_at_once(
    storage: Storage, monkeypatch: pytest.MonkeyPatch, rows: int
) -> None:
    monkeypatch.setattr(results, "WRITE_BATCH_ROWS", 2)
    table = pa.table(
        {
            "id": pa.array(range(rows), pa.int64()),
            "name": pa.array([None if i == 3 else f'n "{i}"' for i in range(rows)]),
            "score": pa.array([i / 4 for i in range(rows)], pa.float64()),
            "at": pa.array(
                [dt.datetime(2024, 3, 1, 10, 0, i, 5000) for i in range(rows)], pa.timestamp("us")
            ),
            "tags": pa.array([[f"t{i}"] * (i % 3) for i in range(rows)], pa.list_(pa.string())),
        }
    )
    rendered: list[int] = []
    render = results.athena_columns

    def spy(part: pa.Table) -> pa.Table:
        rendered.append(part.num_rows)
        return render(part)

    monkeypatch.setattr(results, "athena_columns", spy)
    uri = "s3://out/q.csv"
    results.write_results(storage, uri, table, "DML")
    assert max(rendered) <= 2, "a whole result was rendered at once"
    written = storage.read_bytes(uri)
    assert written == _whole(table)
    lines = written.decode().splitlines()
    assert lines[0] == '"id","name","score","at","tags"' and len(lines) == rows + 1
    assert json.loads(storage.read_bytes(uri + ".metadata"))["rowCount"] == rows


_TEXT = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(['"', ",", "\n", ""])
_INT_TYPES = [pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint64()]


@st.composite
def _plain_tables(draw: st.DrawFn) -> pa.Table:
    rows = draw(st.integers(0, 6))
    columns: dict[str, pa.Array] = {}
    for i in range(draw(st.integers(1, 4))):
        name = draw(_TEXT) + f"#{i}"  # unique names, with quotes and commas among them
        if draw(st.booleans()):
            typ = draw(st.sampled_from(_INT_TYPES))
            lo, hi = (
                (0, 2 ** (typ.bit_width) - 1)
                if pa.types.is_unsigned_integer(typ)
                else (
                    -(2 ** (typ.bit_width - 1)),
                    2 ** (typ.bit_width - 1) - 1,
                )
            )
            values = draw(st.lists(st.none() | st.integers(lo, hi), min_size=rows, max_size=rows))
            columns[name] = pa.array(values, typ)
        else:
            values = draw(st.lists(st.none() | _TEXT, min_size=rows, max_size=rows))
            columns[name] = pa.array(
                values, draw(st.sampled_from([pa.string(), pa.large_string()]))
            )
    return pa.table(columns)


@settings(max_examples=300, deadline=None)
@given(_plain_tables())
def test_a_few_rows_of_integers_and_strings_are_rendered_as_arrow_renders_them(
    table: pa.Table,
) -> None:
    buf = io.BytesIO()
    results.write_csv(table, buf)  # Arrow's CSV writer, as larger results are written
    assert results._plain_csv(table) == buf.getvalue()


def test_other_column_types_are_left_to_arrows_writer() -> None:
    for column in (
        pa.array([1.5]),
        pa.array([True]),
        pa.array([dt.date(2024, 1, 2)]),
        pa.array(["a"]).dictionary_encode(),
    ):
        assert results._plain_csv(pa.table({"c": column})) is None
