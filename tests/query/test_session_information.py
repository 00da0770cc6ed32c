"""Session information functions answer from the statement's session: ``current_schema`` is
its database, ``invoker_principal()`` its caller's ARN, and a cached plan never carries one
session's values into another."""

from __future__ import annotations

from lakebox.config import LakeConfig
from lakebox.principal import Principal
from lakebox.session import Lake

QUERY = "SELECT current_schema, invoker_principal(), current_catalog"


def test_session_values_follow_the_session(config: LakeConfig) -> None:
    lake = Lake(config)
    lake.session().sql("CREATE DATABASE sales")
    analyst = Principal("111122223333", "arn:aws:iam::111122223333:role/Analyst", "role")
    first = lake.session().sql(QUERY)
    second = lake.session(database="sales", principal=analyst).sql(QUERY)
    assert first.table.column_names == ["_col0", "_col1", "_col2"]
    assert first.table.to_pylist() == [
        {"_col0": "default", "_col1": "arn:aws:iam::000000000000:root", "_col2": "awsdatacatalog"}
    ]
    assert second.table.to_pylist() == [
        {"_col0": "sales", "_col1": analyst.arn, "_col2": "awsdatacatalog"}
    ]


def test_quoted_current_schema_is_a_column(config: LakeConfig) -> None:
    lake = Lake(config)
    result = lake.session().sql('SELECT "current_schema" FROM (VALUES 7) t("current_schema")')
    assert result.table.to_pylist() == [{"current_schema": 7}]
