"""A principal writes only what its policies allow: CTAS, INSERT INTO and UNLOAD need the
Glue calls and the S3 writes Athena makes for them with the caller's permissions, checked
before anything is written (docs/identity.md, "What a query needs")."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import lakebox
from lakebox.iam.errors import AccessDenied

GLUE = "arn:aws:glue:us-east-1:000000000000"


def _policy(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(actions: str | list[str], resources: str | list[str]) -> dict[str, object]:
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


#: what Athena needs to read ``people`` (and to look at ``sink``'s definition)
READ = _policy(
    _allow("athena:StartQueryExecution", "arn:aws:athena:us-east-1:000000000000:workgroup/primary"),
    _allow(
        ["glue:GetDatabase", "glue:GetTable"],
        [
            f"{GLUE}:catalog",
            f"{GLUE}:database/default",
            f"{GLUE}:table/default/people",
            f"{GLUE}:table/default/sink",
        ],
    ),
    _allow("s3:ListBucket", ["arn:aws:s3:::data", "arn:aws:s3:::out"]),
    _allow("s3:GetObject", "arn:aws:s3:::data/people/*"),
)
GLUE_WRITE = {
    "CTAS": _allow(
        "glue:CreateTable",
        [f"{GLUE}:catalog", f"{GLUE}:database/default", f"{GLUE}:table/default/made"],
    ),
    "INSERT": _allow(
        "glue:BatchCreatePartition",
        [f"{GLUE}:catalog", f"{GLUE}:database/default", f"{GLUE}:table/default/sink"],
    ),
}
S3_WRITE = {
    "CTAS": _allow("s3:PutObject", "arn:aws:s3:::out/made/*"),
    "INSERT": _allow("s3:PutObject", "arn:aws:s3:::data/sink/*"),
    "UNLOAD": _allow("s3:PutObject", "arn:aws:s3:::out/unloaded/*"),
}
STATEMENTS = {
    "CTAS": "CREATE TABLE made WITH (format = 'PARQUET', external_location = "
    "'s3://out/made/') AS SELECT id, name FROM people",
    "INSERT": "INSERT INTO sink SELECT id, name, 7 FROM people",
    "UNLOAD": "UNLOAD (SELECT id, name FROM people) TO 's3://out/unloaded/' "
    "WITH (format = 'PARQUET')",
}


def _files(home: Path) -> list[str]:
    return sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file())


@pytest.fixture
def admin(lake_home: Path) -> Iterator[lakebox.Session]:
    """``people`` (csv, 3 rows) and ``sink`` (partitioned by day, empty) in bucket data, an
    empty bucket out, and user ``writer`` allowed to read only."""
    people = lake_home / "data" / "people" / "p.csv"
    people.parent.mkdir(parents=True)
    people.write_bytes(b"1,ann\n2,bob\n3,cy\n")
    (lake_home / "out").mkdir()
    session = lakebox.connect(lake_home)
    session.sql("""CREATE EXTERNAL TABLE people (id int, name string)
                   ROW FORMAT DELIMITED FIELDS TERMINATED BY ','
                   LOCATION 's3://data/people/'""")
    session.sql("""CREATE EXTERNAL TABLE sink (id int, name string) PARTITIONED BY (day int)
                   STORED AS PARQUET LOCATION 's3://data/sink/'""")
    session.lake.iam.create_user("writer")
    session.lake.iam.put_user_policy("writer", "read", READ)
    try:
        yield session
    finally:
        session.lake.close()


@pytest.fixture
def writer(admin: lakebox.Session, lake_home: Path) -> Iterator[lakebox.Session]:
    session = lakebox.connect(lake_home, principal="writer")
    try:
        yield session
    finally:
        session.lake.close()


def _grant(admin: lakebox.Session, *statements: dict[str, object]) -> None:
    admin.lake.iam.put_user_policy("writer", "write", _policy(*statements))


@pytest.mark.parametrize("kind", sorted(STATEMENTS))
def test_a_reader_cannot_write_and_nothing_is_written(
    admin: lakebox.Session, writer: lakebox.Session, lake_home: Path, kind: str
) -> None:
    assert writer.sql("SELECT count(*) FROM people").fetchall() == [(3,)]  # reads are fine
    before, tables = _files(lake_home), admin.tables()
    glue = GLUE_WRITE.get(kind)
    if glue is not None:  # first the catalog change is refused
        with pytest.raises(AccessDenied) as info:
            writer.sql(STATEMENTS[kind])
        assert f"is not authorized to perform: {glue['Action']}" in str(info.value)
        assert str(info.value).startswith("Insufficient permissions to execute the query. ")
        _grant(admin, glue)
    # then the objects
    with pytest.raises(AccessDenied) as info:
        writer.sql(STATEMENTS[kind])
    assert "is not authorized to perform: s3:PutObject on resource: " in str(info.value)
    assert str(info.value).startswith("Permission denied on S3 path: s3://")
    assert _files(lake_home) == before
    assert admin.tables() == tables
    assert admin.sql("SELECT count(*) FROM sink").fetchall() == [(0,)]


@pytest.mark.parametrize("kind", sorted(STATEMENTS))
def test_a_writer_with_the_right_policy_writes(
    admin: lakebox.Session, writer: lakebox.Session, lake_home: Path, kind: str
) -> None:
    granted = [S3_WRITE[kind]]
    if kind in GLUE_WRITE:
        granted.append(GLUE_WRITE[kind])
    _grant(admin, *granted)
    writer.sql(STATEMENTS[kind])
    if kind == "CTAS":
        assert admin.sql("SELECT count(*) FROM made").fetchall() == [(3,)]
    elif kind == "INSERT":
        assert admin.sql("SELECT count(*), min(day) FROM sink").fetchall() == [(3, 7)]
    else:
        assert any(p.is_file() for p in (lake_home / "out" / "unloaded").rglob("*"))


def test_a_partitioned_ctas_needs_batch_create_partition(
    admin: lakebox.Session, writer: lakebox.Session
) -> None:
    _grant(admin, S3_WRITE["CTAS"], GLUE_WRITE["CTAS"])
    sql = (
        "CREATE TABLE made WITH (format = 'PARQUET', external_location = 's3://out/made/', "
        "partitioned_by = ARRAY['name']) AS SELECT id, name FROM people"
    )
    with pytest.raises(AccessDenied, match="glue:BatchCreatePartition"):
        writer.sql(sql)
    assert "made" not in admin.tables()


def test_the_local_admin_is_not_checked(admin: lakebox.Session) -> None:
    admin.sql(STATEMENTS["CTAS"])
    assert admin.sql("SELECT count(*) FROM made").fetchall() == [(3,)]


def test_drop_database_cascade_needs_delete_table_on_its_tables(
    admin: lakebox.Session, writer: lakebox.Session
) -> None:
    admin.sql("CREATE DATABASE scratch")
    admin.sql("CREATE EXTERNAL TABLE scratch.t (id int) LOCATION 's3://out/t/'")
    database = [f"{GLUE}:catalog", f"{GLUE}:database/scratch"]
    descendants = [f"{GLUE}:table/scratch/*", f"{GLUE}:userDefinedFunction/scratch/*"]
    _grant(admin, _allow("glue:DeleteDatabase", database))
    # a delete needs its descendants: the database's tables and functions
    with pytest.raises(AccessDenied, match=r"glue:DeleteDatabase on resource: .*table/scratch/\*"):
        writer.sql("DROP DATABASE scratch CASCADE")
    _grant(admin, _allow("glue:DeleteDatabase", database + descendants))
    with pytest.raises(AccessDenied, match=r"glue:DeleteTable on resource: .*table/scratch/\*"):
        writer.sql("DROP DATABASE scratch CASCADE")
    assert admin.tables("scratch") == ["t"]
    _grant(
        admin,
        _allow("glue:DeleteDatabase", database + descendants),
        _allow("glue:DeleteTable", descendants[0]),
    )
    writer.sql("DROP DATABASE scratch CASCADE")
    assert "scratch" not in [r[0] for r in admin.sql("SHOW DATABASES").fetchall()]


def test_altering_a_table_needs_reading_its_definition(
    admin: lakebox.Session, writer: lakebox.Session
) -> None:
    admin.sql("CREATE EXTERNAL TABLE other (id int) LOCATION 's3://out/other/'")
    other = [f"{GLUE}:catalog", f"{GLUE}:database/default", f"{GLUE}:table/default/other"]
    _grant(admin, _allow(["glue:UpdateTable", "glue:DeleteTable"], other))
    for sql in ("ALTER TABLE other ADD COLUMNS (name string)", "DROP TABLE other"):
        with pytest.raises(AccessDenied, match=r"glue:GetTable on resource: .*table/default/other"):
            writer.sql(sql)
    assert [c.name for c in admin.lake.catalog.get_table("default", "other").columns] == ["id"]
    _grant(admin, _allow(["glue:UpdateTable", "glue:DeleteTable", "glue:GetTable"], other))
    writer.sql("ALTER TABLE other ADD COLUMNS (name string)")
    writer.sql("DROP TABLE other")
    assert "other" not in admin.tables()


def test_a_kept_plan_serves_a_principal_and_is_authorized_again(
    admin: lakebox.Session, writer: lakebox.Session
) -> None:
    admin.sql(STATEMENTS["CTAS"])  # a Parquet table: its plan is kept
    made = [f"{GLUE}:catalog", f"{GLUE}:database/default", f"{GLUE}:table/default/made"]
    _grant(
        admin,
        _allow(["glue:GetDatabase", "glue:GetTable"], made),
        _allow("s3:GetObject", "arn:aws:s3:::out/made/*"),
    )
    sql = "SELECT count(*) FROM made"
    assert writer.sql(sql).fetchall() == [(3,)]
    hits = writer.lake.plans.hits
    assert writer.sql(sql).fetchall() == [(3,)]
    assert writer.lake.plans.hits == hits + 1  # served from its kept plan
    # a revoked permission applies to the next statement, kept plan or not
    admin.lake.iam.put_user_policy(
        "writer",
        "deny",
        _policy({"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::out/*"}),
    )
    with pytest.raises(AccessDenied, match=r"Permission denied on S3 path: s3://out/made/"):
        writer.sql(sql)
    assert writer.lake.plans.hits == hits + 2  # refused on the kept plan's checks
    admin.lake.iam.delete_user_policy("writer", "deny")
    _grant(admin, _allow("s3:GetObject", "arn:aws:s3:::out/made/*"))  # no GetTable now
    with pytest.raises(AccessDenied, match=r"glue:GetTable on resource: .*table/default/made"):
        writer.sql(sql)
