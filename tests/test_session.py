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


# -- acting as a principal (docs/identity.md, "Acting as a principal from Python and the CLI")


def _policy(*statements: dict[str, object]) -> str:
    import json

    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


#: what Athena needs to read the ``people`` table of the lake's default database
READ_PEOPLE = _policy(
    {
        "Effect": "Allow",
        "Action": "athena:StartQueryExecution",
        "Resource": "arn:aws:athena:us-east-1:000000000000:workgroup/primary",
    },
    {
        "Effect": "Allow",
        "Action": ["glue:GetDatabase", "glue:GetTable"],
        "Resource": [
            "arn:aws:glue:us-east-1:000000000000:catalog",
            "arn:aws:glue:us-east-1:000000000000:database/default",
            "arn:aws:glue:us-east-1:000000000000:table/default/people",
        ],
    },
    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::data"},
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/people/*"},
)


@pytest.fixture
def people_lake(lake: lakebox.Session) -> lakebox.Session:
    """The ``people`` lake with users ``analyst`` (may read people), ``nobody`` (no
    policies) and an access key for ``analyst``."""
    iam = lake.lake.iam
    iam.create_user("analyst")
    iam.create_user("nobody")
    iam.put_user_policy("analyst", "read-people", READ_PEOPLE)
    return lake


def test_connect_acts_as_the_local_admin_by_default(lake: lakebox.Session) -> None:
    assert lake.principal.is_local_admin
    assert lake.sql("SELECT invoker_principal()").fetchall() == [
        ("arn:aws:iam::000000000000:root",)
    ]


def test_connect_as_a_named_user_reads_what_its_policies_allow(
    people_lake: lakebox.Session, lake_home: Path
) -> None:
    session = lakebox.connect(lake_home, principal="analyst")
    try:
        assert session.principal.arn == "arn:aws:iam::000000000000:user/analyst"
        assert session.sql("SELECT count(*) FROM people").fetchall() == [(3,)]
        # the same again: a non-admin's statements are authorized each time, never served
        # from a kept plan
        assert session.sql("SELECT count(*) FROM people").fetchall() == [(3,)]
    finally:
        session.lake.close()


def test_connect_as_a_user_without_policies_is_refused_naming_action_and_resource(
    people_lake: lakebox.Session, lake_home: Path
) -> None:
    from lakebox.iam.errors import AccessDenied

    session = lakebox.connect(lake_home, principal="arn:aws:iam::000000000000:user/nobody")
    try:
        with pytest.raises(AccessDenied) as info:
            session.sql("SELECT * FROM people")
        assert "user/nobody is not authorized to perform: athena:StartQueryExecution" in str(
            info.value
        )
    finally:
        session.lake.close()


def test_a_revoked_or_denied_read_is_refused_at_once(
    people_lake: lakebox.Session, lake_home: Path
) -> None:
    from lakebox.iam.errors import AccessDenied

    session = lakebox.connect(lake_home, principal="analyst")
    try:
        assert session.sql("SELECT count(*) FROM people").fetchall() == [(3,)]
        people_lake.lake.iam.put_user_policy(
            "analyst",
            "no-csv",
            _policy(
                {
                    "Effect": "Deny",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::data/*/p.csv",
                }
            ),
        )
        with pytest.raises(
            AccessDenied, match=r"Permission denied on S3 path: s3://data/people/p\.csv"
        ):
            session.sql("SELECT count(*) FROM people")
    finally:
        session.lake.close()


def test_views_need_the_tables_under_them(people_lake: lakebox.Session, lake_home: Path) -> None:
    from lakebox.iam.errors import AccessDenied

    people_lake.sql("CREATE VIEW top AS SELECT name FROM people WHERE id = 1")
    iam = people_lake.lake.iam
    iam.put_user_policy(
        "nobody",
        "view-only",
        _policy(
            {
                "Effect": "Allow",
                "Action": ["glue:GetDatabase", "glue:GetTable", "athena:StartQueryExecution"],
                "Resource": [
                    "arn:aws:athena:us-east-1:000000000000:workgroup/primary",
                    "arn:aws:glue:us-east-1:000000000000:catalog",
                    "arn:aws:glue:us-east-1:000000000000:database/default",
                    "arn:aws:glue:us-east-1:000000000000:table/default/top",
                ],
            }
        ),
    )
    session = lakebox.connect(lake_home, principal="nobody")
    try:
        with pytest.raises(
            AccessDenied, match=r"glue:GetTable on resource: .*table/default/people"
        ):
            session.sql("SELECT * FROM top")
    finally:
        session.lake.close()


def test_connect_with_keys_checks_them_with_the_lake_iam(
    people_lake: lakebox.Session, lake_home: Path
) -> None:
    from lakebox.iam.sigv4 import AuthError

    key = people_lake.lake.iam.create_access_key("analyst")
    session = lakebox.connect(lake_home, credentials=(key.key.access_key_id, key.secret_access_key))
    try:
        assert session.principal.arn.endswith(":user/analyst")
    finally:
        session.lake.close()
    with pytest.raises(AuthError, match="SignatureDoesNotMatch") as info:
        lakebox.connect(lake_home, credentials=(key.key.access_key_id, "not-the-secret"))
    assert info.value.code == "SignatureDoesNotMatch"
    with pytest.raises(AuthError, match="InvalidClientTokenId"):
        lakebox.connect(lake_home, credentials=("AKIAUNKNOWNUNKNOWN00", "x" * 40))


def test_connect_with_a_profile_reads_the_credentials_file(
    people_lake: lakebox.Session, lake_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = people_lake.lake.iam.create_access_key("analyst")
    creds = tmp_path / "credentials"
    creds.write_text(
        f"[analyst]\naws_access_key_id = {key.key.access_key_id}\n"
        f"aws_secret_access_key = {key.secret_access_key}\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    session = lakebox.connect(lake_home, profile="analyst")
    try:
        assert session.sql("SELECT count(*) FROM people").fetchall() == [(3,)]
    finally:
        session.lake.close()


def test_connect_as_an_unknown_principal_is_a_clear_error(
    people_lake: lakebox.Session, lake_home: Path
) -> None:
    from lakebox.iam.errors import IamError

    with pytest.raises(IamError, match="no user or role named 'ghost'"):
        lakebox.connect(lake_home, principal="ghost")
    with pytest.raises(IamError, match="give one of"):
        lakebox.connect(lake_home, principal="analyst", profile="x")


def test_another_accounts_principal_reads_nothing_of_this_lake(
    people_lake: lakebox.Session, lake_home: Path
) -> None:
    from lakebox.iam.errors import AccessDenied

    iam = people_lake.lake.iam
    iam.create_account("111111111111")
    iam.create_user("outsider", account_id="111111111111")
    iam.put_user_policy(
        "outsider",
        "everything",
        _policy({"Effect": "Allow", "Action": "*", "Resource": "*"}),
        account_id="111111111111",
    )
    session = lakebox.connect(lake_home, principal="arn:aws:iam::111111111111:user/outsider")
    try:
        with pytest.raises(AccessDenied, match="belongs to another account"):
            session.sql("SELECT * FROM people")
    finally:
        session.lake.close()


def test_ddl_needs_the_glue_action_it_amounts_to(
    people_lake: lakebox.Session, lake_home: Path
) -> None:
    from lakebox.iam.errors import AccessDenied

    session = lakebox.connect(lake_home, principal="analyst")
    try:
        with pytest.raises(AccessDenied, match=r"glue:DeleteTable on resource: .*catalog"):
            session.sql("DROP TABLE people")
        with pytest.raises(AccessDenied, match="glue:CreateDatabase"):
            session.sql("CREATE DATABASE mine")
        assert [c[0] for c in session.sql("DESCRIBE people").fetchall()][:2] == ["id", "name"]
    finally:
        session.lake.close()
    assert people_lake.tables() == ["people"]
