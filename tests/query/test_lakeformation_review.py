"""Holes a security review found in Lake Formation's enforcement (issue 16), each pinned
by the case that reproduced it: another principal reading a query's results, a creator
record outliving the object it was made for, and a cascade dropping tables its caller
may not drop. Set up by ``test_lakeformation_enforcement``'s ``lf`` fixture."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import lakebox
from lakebox.governance.model import Resource
from lakebox.iam.errors import AccessDenied
from lakebox.principal import Principal

from . import test_lakeformation_enforcement as enforcement
from .test_lakeformation_enforcement import ANALYST, LF, A, as_

#: the lake the enforcement tests set up (``enforcement.lf``'s docstring)
lf = enforcement.lf

SALES_COLUMNS = (
    "(shop_id int, item_id int, region string, price double, secret string) "
    "ROW FORMAT DELIMITED FIELDS TERMINATED BY ','"
)


# -- DROP DATABASE ... CASCADE ----------------------------------------------------------
def test_a_cascade_needs_drop_on_every_table_it_drops(lf: LF) -> None:
    """The database's creator holds DROP on the database, not on a table the admin made
    in it: the cascade would drop that table too, so it is refused (Lake Formation asks
    for DROP on each table)."""
    admin, perms = lf
    analyst = as_(admin)
    perms.grant(ANALYST, Resource("CATALOG", A), "CREATE_DATABASE")
    analyst.sql("CREATE DATABASE mine")
    analyst.sql("CREATE EXTERNAL TABLE mine.t (a int) LOCATION 's3://out/t/'")
    admin.sql(f"CREATE EXTERNAL TABLE mine.adm {SALES_COLUMNS} LOCATION 's3://data/sales/'")
    with pytest.raises(AccessDenied, match=r"Insufficient Lake Formation permission\(s\).*adm"):
        analyst.sql("DROP DATABASE mine CASCADE")
    assert admin.lake.catalog.table_exists("mine", "adm")
    assert admin.lake.catalog.table_exists("mine", "t")
    perms.grant(ANALYST, Resource("TABLE", A, database="mine", table="adm"), "DROP")
    analyst.sql("DROP DATABASE mine CASCADE")
    assert not admin.lake.catalog.database_exists("mine")


def test_glue_delete_database_needs_drop_on_every_table(lf: LF) -> None:
    """Glue's DeleteDatabase deletes the tables in it: the same rule at the Glue door."""
    from lakebox.api.base import AwsError

    admin, perms = lf
    perms.grant(ANALYST, Resource("CATALOG", A), "CREATE_DATABASE")
    as_(admin).sql("CREATE DATABASE mine")
    admin.sql(f"CREATE EXTERNAL TABLE mine.adm {SALES_COLUMNS} LOCATION 's3://data/sales/'")
    glue = _glue_door(admin, ANALYST)
    with pytest.raises(AwsError, match=r"Insufficient Lake Formation permission\(s\) on mine.adm"):
        glue("DeleteDatabase", {"Name": "mine"})
    assert admin.lake.catalog.table_exists("mine", "adm")
    perms.grant(ANALYST, Resource("TABLE", A, database="mine", table="adm"), "DROP")
    glue("DeleteDatabase", {"Name": "mine"})
    assert not admin.lake.catalog.database_exists("mine")


def _glue_door(admin: lakebox.Session, who: Principal) -> Callable[[str, dict[str, Any]], Any]:
    """Glue's API as the server dispatches it, for ``who``, over the lake's own Lake
    Formation."""
    from lakebox.api import dispatch
    from lakebox.api.context import ServiceContext

    lake = admin.lake
    ctx = ServiceContext(
        principal=who,
        account_id=A,
        region=lake.config.region,
        services={
            "catalog": lake.catalog,
            "storage": lake.storage,
            "queries": lake.queries,
            "lakeformation": lake.lakeformation,
        },
        request_id="req-review",
    )
    return lambda operation, request: dispatch("glue", operation, request, ctx)
