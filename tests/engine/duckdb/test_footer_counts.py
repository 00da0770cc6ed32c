"""``count(*)`` of a Parquet table from the files' footers (``footer_counts``): the same
answer as DuckDB counting the same files, for files written by several writers, and the
usual path (with DuckDB's own errors) for every other shape or file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lakebox
from lakebox.engine.duckdb.footer_counts import _rows
from lakebox.errors import DataError
from lakebox.query.service import QueryService

TABLE = "CREATE EXTERNAL TABLE t (id bigint, name string) STORED AS PARQUET LOCATION 's3://b/t/'"


def _pyarrow(folder: Path, n: int, rows: int) -> None:
    ids = pa.array(range(n * 1000, n * 1000 + rows), pa.int64())
    names = pa.array([f"n{i}" if i % 3 else None for i in range(rows)], pa.string())
    # several row groups a file, so a count must add them up
    pq.write_table(pa.table({"id": ids, "name": names}), folder / f"p{n}.parquet", row_group_size=7)


def _duckdb(folder: Path, n: int, rows: int) -> None:
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT i::BIGINT AS id, 'n' || i AS name FROM range({rows}) t(i)) "
        f"TO '{folder / f'd{n}.parquet'}' (FORMAT parquet, ROW_GROUP_SIZE 2048)"
    )
    con.close()


WRITERS = {"pyarrow": _pyarrow, "duckdb": _duckdb}


def _duckdb_count(folder: Path) -> int:
    files = sorted(str(p) for p in folder.iterdir() if p.stat().st_size)
    if not files:
        return 0
    con = duckdb.connect()
    try:
        return int(con.execute("SELECT count(*) FROM read_parquet(?)", [files]).fetchall()[0][0])
    finally:
        con.close()


def _footers_bytes(folder: Path) -> int:
    """What reading the footers costs, by pyarrow's account: each footer and its 8-byte
    trailer (length and magic)."""
    return sum(
        pq.ParquetFile(p).metadata.serialized_size + 8 for p in folder.iterdir() if p.stat().st_size
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "b" / "t"
    path.mkdir(parents=True)
    return path


@pytest.mark.parametrize("writer", sorted(WRITERS))
@pytest.mark.parametrize("sizes", [[0], [1], [5, 0, 23], [5000, 3, 17, 2048]])
def test_count_star_is_duckdbs_count_and_scans_only_the_footers(
    tmp_path: Path, folder: Path, writer: str, sizes: list[int]
) -> None:
    for n, rows in enumerate(sizes):
        WRITERS[writer](folder, n, rows)
    (folder / "empty.parquet").write_bytes(b"")  # an empty object holds no rows
    service = QueryService(lakebox.connect(tmp_path).lake)
    try:
        service.run(TABLE)
        qe, result = service.run("SELECT count(*) FROM t")
        assert qe.state == "SUCCEEDED", qe.state_change_reason
        assert result is not None
        assert result.fetchall() == [(_duckdb_count(folder),)]
        assert result.columns == ["_col0"] and result.types == ["bigint"]
        # the footers alone were read: their bytes, not the files'
        assert qe.data_scanned_bytes == _footers_bytes(folder)
    finally:
        service.close()
        service.lake.close()


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT count(*) AS n, count(1) AS m FROM t", [(40, 40)]),
        ("SELECT COUNT('x') FROM t", [(40,)]),
        # shapes that read rows: the usual path, the right answers
        ("SELECT count(name) FROM t", [(26,)]),
        ("SELECT count(DISTINCT name) FROM t", [(13,)]),
        ("SELECT count(*) FROM t WHERE id >= 1010", [(10,)]),
        ("SELECT count(*) FROM t GROUP BY id % 2 ORDER BY 1", [(20,), (20,)]),
        ("SELECT count(*) FROM t LIMIT 0", []),
        ("SELECT count(*) FROM t HAVING count(*) > 100", []),
        ("SELECT count(*) + 1 FROM t", [(41,)]),
        ("SELECT count(NULL) FROM t", [(0,)]),
        ("SELECT count(*) FROM t a JOIN t b ON a.id = b.id", [(40,)]),
        ('SELECT count(*), "$path" FROM t GROUP BY 2 ORDER BY 2 LIMIT 1', None),
    ],
)
def test_only_a_plain_row_count_is_answered_from_footers(
    tmp_path: Path, folder: Path, sql: str, expected: list[tuple[int, ...]] | None
) -> None:
    _pyarrow(folder, 0, 20)
    _pyarrow(folder, 1, 20)
    session = lakebox.connect(tmp_path)
    try:
        session.sql(TABLE)
        rows = session.sql(sql).fetchall()
        if expected is None:
            assert rows[0][0] == 20
        else:
            assert rows == expected
    finally:
        session.lake.close()


def test_a_partitioned_table_counts_the_partitions_it_reads(tmp_path: Path) -> None:
    root = tmp_path / "b" / "p"
    for day in ("2024-01-01", "2024-01-02"):
        (root / f"dt={day}").mkdir(parents=True)
        _pyarrow(root / f"dt={day}", 0, 9 if day.endswith("1") else 4)
    session = lakebox.connect(tmp_path)
    try:
        session.sql(
            "CREATE EXTERNAL TABLE p (id bigint, name string) PARTITIONED BY (dt date) "
            "STORED AS PARQUET LOCATION 's3://b/p/'"
        )
        session.sql("MSCK REPAIR TABLE p")
        assert session.sql("SELECT count(*) FROM p").fetchall() == [(13,)]
        assert session.sql("SELECT count(*) FROM p WHERE dt = DATE '2024-01-02'").fetchall() == [
            (4,)
        ]
    finally:
        session.lake.close()


def test_a_file_that_is_not_parquet_fails_as_duckdb_reads_it(tmp_path: Path, folder: Path) -> None:
    _pyarrow(folder, 0, 5)
    (folder / "notes.parquet").write_text("id,name\n1,a\n")
    session = lakebox.connect(tmp_path)
    try:
        session.sql(TABLE)
        with pytest.raises(DataError) as info:
            session.sql("SELECT count(*) FROM t").fetchall()
        assert "notes.parquet" in str(info.value)
    finally:
        session.lake.close()


def test_a_changed_file_is_counted_again(tmp_path: Path, folder: Path) -> None:
    """A count kept with a reusable plan follows the files (the plan's listing
    dependency)."""
    _pyarrow(folder, 0, 5)
    session = lakebox.connect(tmp_path)
    try:
        session.sql(TABLE)
        assert session.sql("SELECT count(*) FROM t").fetchall() == [(5,)]
        assert session.sql("SELECT count(*) FROM t").fetchall() == [(5,)]
        _pyarrow(folder, 0, 8)  # rewritten in place
        _pyarrow(folder, 1, 2)
        assert session.sql("SELECT count(*) FROM t").fetchall() == [(10,)]
    finally:
        session.lake.close()


def test_real_footers_give_their_row_count(folder: Path) -> None:
    _pyarrow(folder, 0, 123)
    path = folder / "p0.parquet"
    data = path.read_bytes()
    length = int.from_bytes(data[-8:-4], "little")
    assert _rows(data[-8 - length : -8]) == 123


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_give_a_count_or_none_never_an_error(data: bytes) -> None:
    found = _rows(data)
    assert found is None or found >= 0


def _footer_of_77_rows() -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"id": pa.array(range(77), pa.int64())}), sink)
    data = sink.getvalue().to_pybytes()
    length = int.from_bytes(data[-8:-4], "little")
    return data[-8 - length : -8]


FOOTER_77 = _footer_of_77_rows()


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(FOOTER_77)))
def test_a_footer_cut_short_gives_none_or_its_count(cut: int) -> None:
    """Every prefix of a real footer: its count once the field is whole, else None."""
    assert _rows(FOOTER_77[:cut]) in (None, 77)
    assert _rows(FOOTER_77) == 77
