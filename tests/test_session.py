"""The Python API: connect, sql, results with Athena types, scripts, errors."""

from __future__ import annotations

import decimal
from pathlib import Path

import pyarrow as pa
import pytest

import lakebox
from lakebox.errors import DataError, EntityNotFoundError, SemanticError, SqlSyntaxError


def _write(home: Path, uri: str, data: bytes) -> None:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    path = home / bucket / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@pytest.fixture
def lake(lake_home: Path) -> lakebox.Session:
    _write(
        lake_home,
        "s3://data/people/p.csv",
        b"id,name,score,joined\n1,ann,1.5,2024-01-02\n2,bob,\\N,2024-02-03\n3,cy,7,bad\n",
    )
    session = lakebox.connect(lake_home)
    session.sql("""CREATE EXTERNAL TABLE people (id int, name string, score double, joined date)
                   ROW FORMAT DELIMITED FIELDS TERMINATED BY ','
                   LOCATION 's3://data/people/'
                   TBLPROPERTIES ('skip.header.line.count'='1')""")
    return session


def test_result_exposes_rows_names_athena_types_and_arrow(lake: lakebox.Session) -> None:
    result = lake.sql("SELECT id, upper(name) AS Name, score, joined FROM people ORDER BY id")
    assert result.columns == ["id", "name", "score", "joined"]
    assert result.types == ["integer", "varchar", "double", "date"]
    rows = result.fetchall()
    assert [r[:3] for r in rows] == [(1, "ANN", 1.5), (2, "BOB", None), (3, "CY", 7.0)]
    assert rows[2][3] is None  # 'bad' is not a date: NULL, as Hive reads it
    assert isinstance(result.to_arrow(), pa.Table)
    assert result.to_arrow().num_rows == 3


def test_unaliased_expressions_are_named_like_athena(lake: lakebox.Session) -> None:
    result = lake.sql("SELECT count(*), max(id) + 1, name FROM people GROUP BY name ORDER BY 3")
    assert result.columns == ["_col0", "_col1", "name"]


def test_decimal_literals_keep_every_digit(lake: lakebox.Session) -> None:
    result = lake.sql("SELECT CAST('12345678901234567890123456789012345678' AS decimal(38,0))")
    assert result.fetchall() == [(decimal.Decimal("12345678901234567890123456789012345678"),)]
    assert result.types == ["decimal(38,0)"]


def test_integer_sums_stay_bigint(lake: lakebox.Session) -> None:
    result = lake.sql("SELECT sum(id) AS s FROM people")
    assert result.types == ["bigint"] and result.fetchall() == [(6,)]


def test_use_switches_the_current_database(lake: lakebox.Session) -> None:
    lake.sql("CREATE DATABASE sales")
    lake.sql("USE sales")
    assert lake.database == "sales"
    with pytest.raises(SemanticError, match=r"sales\.people"):
        lake.sql("SELECT * FROM people")
    assert lake.sql("SELECT count(*) FROM default.people").fetchall() == [(3,)]
    with pytest.raises(EntityNotFoundError):
        lake.sql("USE nowhere")


def test_syntax_error_names_line_and_column(lake: lakebox.Session) -> None:
    with pytest.raises(SqlSyntaxError) as info:
        lake.sql("SELECT id,\n  name\nFORM people")
    assert (info.value.line, info.value.column) == (3, 6)
    assert str(info.value).startswith("line 3:6:")


def test_script_runs_statement_by_statement_and_names_the_failing_one(
    lake: lakebox.Session,
) -> None:
    script = """
    CREATE DATABASE IF NOT EXISTS s1; -- a comment with ; inside
    CREATE EXTERNAL TABLE s1.t (x string) LOCATION 's3://data/people/';
    SELECT 'a;b' AS v;
    SELECT * FROM s1.missing;
    SELECT 1;
    """
    with pytest.raises(SemanticError, match="line 5") as info:
        lake.execute_script(script)
    assert "s1.missing" in str(info.value)
    assert lake.lake.catalog.table_exists("s1", "t")


def test_more_than_one_statement_in_sql_is_refused(lake: lakebox.Session) -> None:
    with pytest.raises(SemanticError, match="2 statements"):
        lake.sql("SELECT 1; SELECT 2")


def test_malformed_json_file_is_named_with_its_line(lake: lakebox.Session, lake_home: Path) -> None:
    _write(lake_home, "s3://data/ev/a.json", b'{"a": 1}\n{"a": 2}\n{"a": \n')
    lake.sql(
        "CREATE EXTERNAL TABLE ev (a int) "
        "ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe' "
        "LOCATION 's3://data/ev/'"
    )
    with pytest.raises(DataError) as info:
        lake.sql("SELECT sum(a) FROM ev")
    assert "s3://data/ev/a.json" in str(info.value)
    assert info.value.line == 3


def test_failed_ddl_leaves_the_catalog_unchanged(lake: lakebox.Session) -> None:
    lake.sql("CREATE EXTERNAL TABLE pt (a int) PARTITIONED BY (d string) LOCATION 's3://data/pt/'")
    lake.sql("ALTER TABLE pt ADD PARTITION (d='1')")
    with pytest.raises(lakebox.LakeboxError):
        lake.sql("ALTER TABLE pt ADD PARTITION (d='2') PARTITION (d='1')")
    assert lake.sql("SHOW PARTITIONS pt").fetchall() == [("d=1",)]


def test_two_sessions_share_one_lake(lake_home: Path, lake: lakebox.Session) -> None:
    other = lakebox.connect(lake_home)
    other.sql("CREATE DATABASE shared_db")
    assert "shared_db" in [r[0] for r in lake.sql("SHOW DATABASES").fetchall()]


def test_connect_can_refuse_to_create_a_lake(tmp_path: Path) -> None:
    from lakebox.errors import LakeNotFoundError

    home = tmp_path / "none"
    with pytest.raises(LakeNotFoundError, match=f"no lake at {home}: create one with"):
        lakebox.connect(home, create=False)
    assert not home.exists()
    session = lakebox.connect(home)  # the Python API creates by default
    session.lake.close()
    lakebox.connect(home, create=False).lake.close()
