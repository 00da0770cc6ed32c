"""Lake Formation's rules (AWS_FACTS section 2), one test per rule, on a real lake: the
store in its SQLite file, the catalog, the evaluation the enforcers ask."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakebox.catalog.model import VIRTUAL_VIEW, Column, Database, Table
from lakebox.config import LakeConfig
from lakebox.governance.errors import AccessDeniedLF, AlreadyExists, EntityNotFound, InvalidInput
from lakebox.governance.model import (
    IAM_ALLOWED_PRINCIPALS,
    DataCellsFilter,
    DataLakeSettings,
    PrincipalPermissions,
    Resource,
    check_expression,
    check_tag_values,
)
from lakebox.governance.service import LakeFormationService
from lakebox.iam.errors import AccessDenied
from lakebox.lakehouse import Lakehouse
from lakebox.principal import LOCAL_ADMIN, Principal

A = "000000000000"
OTHER = "123456789012"


def user(name: str, account: str = A) -> Principal:
    return Principal(account, f"arn:aws:iam::{account}:user/{name}")


ADMIN = user("datalake_admin")
LEADER = user("project_leader")
ANALYST = user("data_analyst")
SALES = user("salesperson")
READER = user("auditor")


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lakehouse]:
    opened = Lakehouse.open(LakeConfig(home=tmp_path / "lake"))
    opened.catalog.create_database(Database("shop", location="s3://bucket-a/shop/"))
    opened.catalog.create_table(
        Table(
            "shop",
            "sales",
            columns=[
                Column("shop_id", "int"),
                Column("item_id", "int"),
                Column("price", "double"),
                Column("payment_id", "string"),
                Column("region", "string"),
                Column("tags", "array<string>"),
            ],
            partition_keys=[Column("date", "string")],
            location="s3://bucket-a/shop/sales/",
        )
    )
    try:
        yield opened
    finally:
        opened.close()


def table(lake: Lakehouse, name: str = "sales", db: str = "shop") -> Table:
    return lake.catalog.get_table(db, name)


def governed(lake: Lakehouse) -> LakeFormationService:
    """A lake whose admin turned the default mode off (AWS's first steps): admins named,
    no default permissions for new objects, IAMAllowedPrincipals revoked on shop.sales
    and on the shop database."""
    lf = lake.lakeformation
    lf.put_settings(
        LOCAL_ADMIN,
        DataLakeSettings(
            admins=(ADMIN.arn,),
            read_only_admins=(READER.arn,),
            create_database_default=(),
            create_table_default=(),
        ),
    )
    lf.revoke(ADMIN, IAM_ALLOWED_PRINCIPALS, tbl("sales"), ["ALL"])
    lf.revoke(ADMIN, IAM_ALLOWED_PRINCIPALS, Resource("DATABASE", A, database="shop"), ["ALL"])
    return lf


def tbl(name: str, db: str = "shop") -> Resource:
    return Resource("TABLE", A, database=db, table=name)


def policy(rtype: str, **expression: list[str]) -> Resource:
    expr = check_expression([{"TagKey": k, "TagValues": v} for k, v in expression.items()])
    return Resource("LF_TAG_POLICY", A, resource_type=rtype, expression=expr)


# -- default mode ------------------------------------------------------------------------------


def test_a_lake_that_never_turned_governance_on_allows_everything(lake: Lakehouse) -> None:
    lf = lake.lakeformation
    assert lf.active is False
    assert lf.get_settings().create_table_default == (
        PrincipalPermissions(IAM_ALLOWED_PRINCIPALS, ("ALL",)),
    )
    assert lf.table_view(ANALYST, table(lake)).unrestricted
    assert lf.can_create_database(ANALYST)
    # a creator reported under the default settings keeps the lake in default mode
    lf.note_created(ANALYST, "shop", "sales")
    assert lf.active is False


def test_iam_allowed_principals_means_iam_alone_decides(lake: Lakehouse) -> None:
    lf = lake.lakeformation
    lf.put_settings(LOCAL_ADMIN, DataLakeSettings(admins=(ADMIN.arn,)))
    assert lf.active  # settings changed
    # shop.sales still holds IAMAllowedPrincipals' ALL (implicitly: made before governance)
    assert lf.table_view(ANALYST, table(lake)).unrestricted
    assert "DROP" in lf.table_permissions(ANALYST, table(lake))
    # another account's principal gets nothing from IAMAllowedPrincipals
    assert lf.table_permissions(user("x", OTHER), table(lake)) == frozenset()
    # revoked: the analyst now holds nothing
    lf.revoke(ADMIN, IAM_ALLOWED_PRINCIPALS, tbl("sales"), ["ALL"])
    assert lf.table_permissions(ANALYST, table(lake)) == frozenset()
    assert not lf.can_see_table(ANALYST, table(lake))
    with pytest.raises(AccessDenied):
        lf.table_view(ANALYST, table(lake))


def test_default_permissions_are_applied_to_new_objects(lake: Lakehouse) -> None:
    lf = governed(lake)
    lake.catalog.create_table(Table("shop", "fresh", columns=[Column("a", "int")]))
    lf.note_created(LEADER, "shop", "fresh")
    fresh = table(lake, "fresh")
    assert lf.table_permissions(ANALYST, fresh) == frozenset()  # defaults emptied
    assert lf.table_view(LEADER, fresh).unrestricted  # the creator holds ALL
    lf.put_settings(
        ADMIN,
        DataLakeSettings(
            admins=(ADMIN.arn,),
            create_database_default=(),
            create_table_default=(PrincipalPermissions(ANALYST.arn, ("SELECT",)),),
        ),
    )
    lake.catalog.create_table(Table("shop", "fresher", columns=[Column("a", "int")]))
    lf.note_created(LEADER, "shop", "fresher")
    assert lf.table_permissions(ANALYST, table(lake, "fresher")) == {"SELECT"}


def test_hybrid_access_opted_in_principals_follow_grants(lake: Lakehouse) -> None:
    lf = lake.lakeformation
    lf.put_settings(LOCAL_ADMIN, DataLakeSettings(admins=(ADMIN.arn,)))
    lf.register(
        ADMIN,
        "arn:aws:s3:::bucket-a/shop",
        role_arn=f"arn:aws:iam::{A}:role/lf",
        hybrid_access=True,
    )
    assert lf.table_view(ANALYST, table(lake)).unrestricted  # IAM decides
    lf.opt_in(ADMIN, ANALYST.arn, "shop", "sales")
    with pytest.raises(AccessDenied):
        lf.table_view(ANALYST, table(lake))  # opted in: grants decide, and it has none
    assert lf.table_view(LEADER, table(lake)).unrestricted  # not opted in
    lf.grant(ADMIN, ANALYST.arn, tbl("sales"), ["SELECT"])
    assert lf.table_view(ANALYST, table(lake)).unrestricted


# -- admins and creators -----------------------------------------------------------------------


def test_admins_describe_everything_but_do_not_drop_or_read_others_objects(
    lake: Lakehouse,
) -> None:
    lf = governed(lake)
    sales = table(lake)
    assert lf.table_permissions(ADMIN, sales) == {"DESCRIBE"}
    assert lf.database_permissions(ADMIN, "shop") == {"DESCRIBE"}
    with pytest.raises(AccessDenied):
        lf.table_view(ADMIN, sales)
    assert lf.can_create_database(ADMIN)
    # they may grant themselves more
    lf.grant(ADMIN, ADMIN.arn, tbl("sales"), ["SELECT", "DROP"])
    assert {"SELECT", "DROP", "DESCRIBE"} <= lf.table_permissions(ADMIN, sales)


def test_read_only_admins_describe_but_cannot_grant(lake: Lakehouse) -> None:
    lf = governed(lake)
    assert lf.table_permissions(READER, table(lake)) == {"DESCRIBE"}
    with pytest.raises(AccessDeniedLF):
        lf.grant(READER, ANALYST.arn, tbl("sales"), ["SELECT"])
    with pytest.raises(AccessDeniedLF):
        lf.put_settings(READER, DataLakeSettings(admins=(READER.arn,)))


def test_creators_hold_all_on_what_they_made(lake: Lakehouse) -> None:
    lf = governed(lake)
    lake.catalog.create_database(Database("leader_db"))
    lf.note_created(LEADER, "leader_db")
    assert lf.database_permissions(LEADER, "leader_db") == {
        "ALTER",
        "CREATE_TABLE",
        "DESCRIBE",
        "DROP",
    }
    lake.catalog.create_table(Table("leader_db", "t", columns=[Column("a", "int")]))
    lf.note_created(ANALYST, "leader_db", "t")
    t = table(lake, "t", "leader_db")
    assert lf.table_permissions(ANALYST, t) == {
        "ALTER",
        "DELETE",
        "DESCRIBE",
        "DROP",
        "INSERT",
        "SELECT",
    }
    # the database's creator holds nothing on a table another made in it
    assert lf.table_permissions(LEADER, t) == frozenset()
    # the table's creator may see the database
    assert lf.database_permissions(ANALYST, "leader_db") == {"DESCRIBE"}
    # and the creator may grant on it without being an admin
    lf.grant(ANALYST, SALES.arn, Resource("TABLE", A, database="leader_db", table="t"), ["SELECT"])
    assert lf.table_permissions(SALES, t) == {"SELECT"}


def test_catalog_create_database_is_revocable(lake: Lakehouse) -> None:
    lf = governed(lake)
    assert lf.can_create_database(ANALYST)  # IAMAllowedPrincipals holds CREATE_DATABASE
    lf.revoke(ADMIN, IAM_ALLOWED_PRINCIPALS, Resource("CATALOG", A), ["CREATE_DATABASE"])
    assert not lf.can_create_database(ANALYST)
    lf.grant(ADMIN, LEADER.arn, Resource("CATALOG", A), ["CREATE_DATABASE"])
    assert lf.can_create_database(LEADER)
    assert not lf.can_create_database(ANALYST)


# -- grants ------------------------------------------------------------------------------------


def test_all_expands_to_its_members_and_revokes_member_by_member(lake: Lakehouse) -> None:
    lf = governed(lake)
    lf.grant(ADMIN, LEADER.arn, tbl("sales"), ["ALL"])
    assert lf.table_permissions(LEADER, table(lake)) == {
        "ALTER",
        "DELETE",
        "DESCRIBE",
        "DROP",
        "INSERT",
        "SELECT",
    }
    lf.revoke(ADMIN, LEADER.arn, tbl("sales"), ["DROP"])
    assert "DROP" not in lf.table_permissions(LEADER, table(lake))
    assert "SELECT" in lf.table_permissions(LEADER, table(lake))
    with pytest.raises(InvalidInput, match="No permissions revoked"):
        lf.revoke(ADMIN, LEADER.arn, tbl("sales"), ["DROP"])


def test_database_permissions_do_not_reach_its_tables(lake: Lakehouse) -> None:
    lf = governed(lake)
    lf.grant(ADMIN, ANALYST.arn, Resource("DATABASE", A, database="shop"), ["DESCRIBE"])
    assert lf.can_see_database(ANALYST, "shop")
    assert not lf.can_see_table(ANALYST, table(lake))


def test_table_wildcard_covers_every_table_of_the_database(lake: Lakehouse) -> None:
    lf = governed(lake)
    lf.grant(ADMIN, ANALYST.arn, tbl("*"), ["SELECT"])
    assert lf.table_view(ANALYST, table(lake)).unrestricted


def test_column_include_and_exclude_lists(lake: Lakehouse) -> None:
    lf = governed(lake)
    include = Resource(
        "TABLE_WITH_COLUMNS", A, database="shop", table="sales", columns=("shop_id", "price")
    )
    lf.grant(ADMIN, ANALYST.arn, include, ["SELECT"])
    view = lf.table_view(ANALYST, table(lake))
    assert view.columns == {"shop_id", "price"} and view.row_filter is None
    assert lf.table_permissions(ANALYST, table(lake)) == {"SELECT"}
    exclude = Resource(
        "TABLE_WITH_COLUMNS", A, database="shop", table="sales", excluded=("payment_id",)
    )
    lf.grant(ADMIN, LEADER.arn, exclude, ["SELECT"])
    assert lf.table_view(LEADER, table(lake)).columns == {
        "shop_id",
        "item_id",
        "price",
        "region",
        "tags",
        "date",
    }


def test_column_lists_take_select_only_and_grant_option_needs_an_include_list(
    lake: Lakehouse,
) -> None:
    lf = governed(lake)
    exclude = Resource("TABLE_WITH_COLUMNS", A, database="shop", table="sales", excluded=("price",))
    with pytest.raises(InvalidInput, match="include list"):
        lf.grant(ADMIN, ANALYST.arn, exclude, ["SELECT"], ["SELECT"])
    with pytest.raises(InvalidInput, match="cannot be granted"):
        lf.grant(ADMIN, ANALYST.arn, exclude, ["DROP"])
    with pytest.raises(InvalidInput, match="no column"):
        lf.grant(
            ADMIN,
            ANALYST.arn,
            Resource("TABLE_WITH_COLUMNS", A, database="shop", table="sales", columns=("nope",)),
            ["SELECT"],
        )


def test_permissions_are_checked_per_resource_kind(lake: Lakehouse) -> None:
    lf = governed(lake)
    with pytest.raises(InvalidInput):
        lf.grant(ADMIN, ANALYST.arn, Resource("DATABASE", A, database="shop"), ["SELECT"])
    with pytest.raises(InvalidInput):
        lf.grant(ADMIN, ANALYST.arn, tbl("sales"), ["CREATE_TABLE"])
    with pytest.raises(EntityNotFound):
        lf.grant(ADMIN, ANALYST.arn, tbl("missing"), ["SELECT"])
    with pytest.raises(EntityNotFound):
        lf.grant(ADMIN, ANALYST.arn, Resource("DATABASE", A, database="nodb"), ["DESCRIBE"])


def test_grant_option_lets_a_non_admin_grant_onwards(lake: Lakehouse) -> None:
    lf = governed(lake)
    with pytest.raises(AccessDeniedLF):
        lf.grant(LEADER, ANALYST.arn, tbl("sales"), ["SELECT"])
    lf.grant(ADMIN, LEADER.arn, tbl("sales"), ["SELECT", "DESCRIBE"], ["SELECT"])
    lf.grant(LEADER, ANALYST.arn, tbl("sales"), ["SELECT"])
    assert lf.table_permissions(ANALYST, table(lake)) == {"SELECT"}
    with pytest.raises(AccessDeniedLF):
        lf.grant(LEADER, ANALYST.arn, tbl("sales"), ["DESCRIBE"])  # no grant option on it


def test_account_grants_and_assumed_roles(lake: Lakehouse) -> None:
    lf = governed(lake)
    other = user("partner", OTHER)
    assert lf.table_permissions(other, table(lake)) == frozenset()
    lf.grant(ADMIN, OTHER, tbl("sales"), ["SELECT"])
    assert lf.table_view(other, table(lake)).unrestricted
    assert lf.table_permissions(ANALYST, table(lake)) == frozenset()  # not this account
    role = f"arn:aws:iam::{A}:role/etl"
    lf.grant(ADMIN, role, tbl("sales"), ["INSERT"])
    session = Principal(A, f"arn:aws:sts::{A}:assumed-role/etl/run-1", "assumed-role")
    assert lf.table_permissions(session, table(lake)) == {"INSERT"}


def test_principals_are_validated(lake: Lakehouse) -> None:
    lf = governed(lake)
    for bad in ("analyst", "arn:aws:iam::1:user/x", "arn:aws:s3:::bucket", "*"):
        with pytest.raises(InvalidInput, match="DataLakePrincipalIdentifier"):
            lf.grant(ADMIN, bad, tbl("sales"), ["SELECT"])
    with pytest.raises(InvalidInput, match="IAM_ALLOWED_PRINCIPALS"):
        lf.grant(
            ADMIN,
            IAM_ALLOWED_PRINCIPALS,
            Resource("LF_TAG", A, name="role", values=("analyst",)),
            ["ASSOCIATE"],
        )


# -- LF-tags -----------------------------------------------------------------------------------


def test_tag_policy_grants_follow_tags_and_column_overrides(lake: Lakehouse) -> None:
    """The seed scenario: the analyst reads sales once it is tagged role=analyst; when
    the table is re-tagged leader and two columns analyst, only those come back."""
    lf = governed(lake)
    lf.create_tag(ADMIN, "role", ["analyst", "leader"])
    lf.grant(ADMIN, ANALYST.arn, policy("TABLE", role=["analyst"]), ["SELECT", "DESCRIBE"])
    assert not lf.can_see_table(ANALYST, table(lake))
    lf.add_tags(ADMIN, tbl("sales"), [("role", ["analyst"])])
    assert lf.table_view(ANALYST, table(lake)).unrestricted
    assert lf.table_permissions(ANALYST, table(lake)) == {"SELECT", "DESCRIBE"}
    lf.add_tags(ADMIN, tbl("sales"), [("role", ["leader"])])  # one value per key: replaced
    cols = Resource(
        "TABLE_WITH_COLUMNS", A, database="shop", table="sales", columns=("shop_id", "price")
    )
    lf.add_tags(ADMIN, cols, [("role", ["analyst"])])
    view = lf.table_view(ANALYST, table(lake))
    assert view.columns == {"shop_id", "price"}
    assert lf.table_permissions(ANALYST, table(lake)) == {"SELECT"}  # the table does not match


def test_tables_inherit_database_tags_and_expressions_and_across_keys(lake: Lakehouse) -> None:
    lf = governed(lake)
    lf.create_tag(ADMIN, "level", ["public", "secret"])
    lf.create_tag(ADMIN, "team", ["sales", "hr"])
    lf.add_tags(ADMIN, Resource("DATABASE", A, database="shop"), [("level", ["public"])])
    # OR within a key
    lf.grant(ADMIN, ANALYST.arn, policy("TABLE", level=["public", "secret"]), ["SELECT"])
    assert lf.table_view(ANALYST, table(lake)).unrestricted  # inherited from the database
    # AND across keys
    lf.grant(ADMIN, LEADER.arn, policy("TABLE", level=["public"], team=["sales"]), ["SELECT"])
    assert not lf.can_see_table(LEADER, table(lake))
    lf.add_tags(ADMIN, tbl("sales"), [("team", ["sales"])])
    assert lf.can_see_table(LEADER, table(lake))
    # the table overrides the database's value
    lf.add_tags(ADMIN, tbl("sales"), [("level", ["secret"])])
    assert not lf.can_see_table(LEADER, table(lake))
    # a DATABASE tag policy gives database permissions only
    lf.grant(ADMIN, SALES.arn, policy("DATABASE", level=["public"]), ["DESCRIBE"])
    assert lf.database_permissions(SALES, "shop") == {"DESCRIBE"}
    assert not lf.can_see_table(SALES, table(lake))
    found = lf.search_tables(ADMIN, check_expression([{"TagKey": "team", "TagValues": ["sales"]}]))
    assert [t.name for t, _ in found] == ["sales"]
    assert lf.search_databases(
        ADMIN, check_expression([{"TagKey": "level", "TagValues": ["public"]}])
    ) == ["shop"]


def test_tag_rules_values_limits_and_deletion(lake: Lakehouse) -> None:
    lf = governed(lake)
    lf.create_tag(ADMIN, "role", ["analyst"])
    with pytest.raises(AlreadyExists):
        lf.create_tag(ADMIN, "role", ["x"])
    failures = lf.add_tags(ADMIN, tbl("sales"), [("role", ["leader"])])
    assert failures and failures[0][2] == "InvalidInputException"
    failures = lf.add_tags(ADMIN, tbl("sales"), [("role", ["analyst", "analyst2"])])
    assert failures and "exactly one value" in failures[0][3]
    for i in range(50):
        lf.create_tag(ADMIN, f"k{i}", ["v"])
    pairs: list[tuple[str, list[str]]] = [(f"k{i}", ["v"]) for i in range(50)]
    assert lf.add_tags(ADMIN, tbl("sales"), pairs) == []
    failures = lf.add_tags(ADMIN, tbl("sales"), [("role", ["analyst"])])
    assert failures and failures[0][2] == "ResourceNumberLimitExceededException"
    lf.grant(ADMIN, ANALYST.arn, policy("TABLE", role=["analyst"]), ["SELECT"])
    with pytest.raises(InvalidInput, match="used in a grant"):
        lf.delete_tag(ADMIN, "role")
    with pytest.raises(AccessDeniedLF):
        lf.create_tag(ANALYST, "mine", ["x"])


# -- data cells filters -------------------------------------------------------------------------


def test_data_cells_filter_limits_rows_and_columns(lake: Lakehouse) -> None:
    lf = governed(lake)
    lf.create_filter(
        ADMIN,
        DataCellsFilter("shop", "sales", "west", "region = 'west'", None, ("payment_id",)),
    )
    res = Resource("DATA_CELLS_FILTER", A, database="shop", table="sales", name="west")
    lf.grant(ADMIN, SALES.arn, res, ["SELECT"])
    view = lf.table_view(SALES, table(lake))
    assert view.row_filter == "(region = 'west')"
    assert view.columns is not None and "payment_id" not in view.columns
    assert lf.table_permissions(SALES, table(lake)) == {"SELECT"}


def test_several_filters_combine_cell_by_cell(lake: Lakehouse) -> None:
    """Two filters: rows of west with shop_id, rows of east with price. The union shows
    both columns over both regions' rows, but shop_id only in west rows and price only in
    east rows (Lake Formation's cell-level union: no cell that no filter grants)."""
    lf = governed(lake)
    lf.create_filter(
        ADMIN, DataCellsFilter("shop", "sales", "w", "region = 'west'", ("shop_id",), None)
    )
    lf.create_filter(
        ADMIN, DataCellsFilter("shop", "sales", "e", "region = 'east'", ("price",), None)
    )
    for name in ("w", "e"):
        lf.grant(
            ADMIN,
            SALES.arn,
            Resource("DATA_CELLS_FILTER", A, database="shop", table="sales", name=name),
            ["SELECT"],
        )
    view = lf.table_view(SALES, table(lake))
    assert view.row_filter == "(region = 'east') OR (region = 'west')"
    assert view.columns == {"shop_id", "price"}
    assert view.column_filters == (
        ("price", "(region = 'east')"),
        ("shop_id", "(region = 'west')"),
    )
    # an unfiltered grant of item_id lifts the row filter; the filtered columns stay so
    lf.grant(
        ADMIN,
        SALES.arn,
        Resource("TABLE_WITH_COLUMNS", A, database="shop", table="sales", columns=("item_id",)),
        ["SELECT"],
    )
    view = lf.table_view(SALES, table(lake))
    assert view.row_filter is None
    assert view.columns == {"shop_id", "price", "item_id"}
    assert dict(view.column_filters) == {
        "price": "(region = 'east')",
        "shop_id": "(region = 'west')",
    }
    # the same rows for every grant need no column condition
    lf.revoke(
        ADMIN,
        SALES.arn,
        Resource("TABLE_WITH_COLUMNS", A, database="shop", table="sales", columns=("item_id",)),
        ["SELECT"],
    )
    lf.update_filter(
        ADMIN, DataCellsFilter("shop", "sales", "e", "region = 'west'", ("price",), None)
    )
    view = lf.table_view(SALES, table(lake))
    assert view.row_filter == "(region = 'west')" and view.column_filters == ()


def test_filter_expressions_are_the_partiql_subset(lake: Lakehouse) -> None:
    lf = governed(lake)
    good = [
        "region = 'west' AND price > 10",
        "shop_id IN (1, 2) OR item_id BETWEEN 1 AND 3",
        "payment_id LIKE 'p%' OR payment_id IS NULL",
        "NOT (region <> 'west')",
    ]
    for i, expr in enumerate(good):
        lf.create_filter(ADMIN, DataCellsFilter("shop", "sales", f"g{i}", expr, None, ()))
    bad = {
        "tags[1] = 'x'": "not allowed",
        "cardinality(tags) > 0": "not allowed",
        "contains(tags, 'x')": "not allowed",
        "price / 0 > 1": "not allowed",
        "shop_id IN (SELECT 1)": "not allowed",
        "nope = 1": "does not have",
        "region = ": "does not parse",
    }
    for expr, why in bad.items():
        with pytest.raises(InvalidInput, match=why):
            lf.create_filter(ADMIN, DataCellsFilter("shop", "sales", "bad", expr, None, ()))
    lake.catalog.create_table(
        Table(
            "shop",
            "v",
            columns=[Column("a", "int")],
            table_type=VIRTUAL_VIEW,
            view_original_text="SELECT 1 AS a",
        )
    )
    with pytest.raises(InvalidInput, match="view"):
        lf.create_filter(ADMIN, DataCellsFilter("shop", "v", "f", None, None, ()))


def test_at_most_ten_filters_per_principal_and_table(lake: Lakehouse) -> None:
    lf = governed(lake)
    for i in range(11):
        lf.create_filter(
            ADMIN, DataCellsFilter("shop", "sales", f"f{i}", f"shop_id = {i}", None, ())
        )
    for i in range(10):
        lf.grant(
            ADMIN,
            SALES.arn,
            Resource("DATA_CELLS_FILTER", A, database="shop", table="sales", name=f"f{i}"),
            ["SELECT"],
        )
    with pytest.raises(InvalidInput, match="10 data cells filters"):
        lf.grant(
            ADMIN,
            SALES.arn,
            Resource("DATA_CELLS_FILTER", A, database="shop", table="sales", name="f10"),
            ["SELECT"],
        )


# -- locations ---------------------------------------------------------------------------------


def test_registered_locations_and_data_location_access(lake: Lakehouse) -> None:
    lf = governed(lake)
    arn = "arn:aws:s3:::bucket-a/shop"
    with pytest.raises(InvalidInput, match="not a registered location"):
        lf.grant(
            ADMIN, LEADER.arn, Resource("DATA_LOCATION", A, name=arn), ["DATA_LOCATION_ACCESS"]
        )
    assert lf.location_access(LEADER, "s3://bucket-a/shop/new/")  # unregistered: IAM decides
    lf.register(ADMIN, arn, use_service_linked_role=True)
    assert lf.governed_location("s3://bucket-a/shop/sales/")
    assert not lf.governed_location("s3://bucket-a/shopping/")
    assert not lf.governed_location("s3://bucket-b/x")
    assert not lf.location_access(LEADER, "s3://bucket-a/shop/new/")
    assert lf.location_access(ADMIN, "s3://bucket-a/shop/new/")  # admins: everywhere
    lf.grant(ADMIN, LEADER.arn, Resource("DATA_LOCATION", A, name=arn), ["DATA_LOCATION_ACCESS"])
    assert lf.location_access(LEADER, "s3://bucket-a/shop/new/")
    with pytest.raises(AlreadyExists):
        lf.register(ADMIN, arn, use_service_linked_role=True)
    with pytest.raises(AlreadyExists, match="overlaps"):
        lf.register(ADMIN, "arn:aws:s3:::bucket-a/shop/sales", use_service_linked_role=True)
    with pytest.raises(InvalidInput, match="query result"):
        lf.register(ADMIN, "arn:aws:s3:::lakebox-query-results", use_service_linked_role=True)
    with pytest.raises(AccessDeniedLF):
        lf.register(LEADER, "arn:aws:s3:::bucket-b", use_service_linked_role=True)
    lf.deregister(ADMIN, arn)
    assert lf.list_resources() == []
    with pytest.raises(EntityNotFound):
        lf.deregister(ADMIN, arn)


# -- versions, caching, audit -------------------------------------------------------------------


def test_changes_take_effect_across_processes_on_the_next_question(
    lake: Lakehouse, tmp_path: Path
) -> None:
    lf = governed(lake)
    other = LakeFormationService(
        lake.config.metadata_dir, lake.catalog, lake.storage, account_id=A, region="us-east-1"
    )
    try:
        before = lf.policy_version()
        assert not lf.can_see_table(ANALYST, table(lake))
        other.grant(ADMIN, ANALYST.arn, tbl("sales"), ["SELECT"])
        assert lf.policy_version() > before
        assert lf.can_see_table(ANALYST, table(lake))
        other.revoke(ADMIN, ANALYST.arn, tbl("sales"), ["SELECT"])
        assert not lf.can_see_table(ANALYST, table(lake))
    finally:
        other.close()


def test_evaluation_is_cheap(lake: Lakehouse) -> None:
    lf = governed(lake)
    lf.create_filter(ADMIN, DataCellsFilter("shop", "sales", "w", "region = 'west'", None, ()))
    lf.grant(
        ADMIN,
        SALES.arn,
        Resource("DATA_CELLS_FILTER", A, database="shop", table="sales", name="w"),
        ["SELECT"],
    )
    sales = table(lake)
    lf.table_view(SALES, sales)
    started = time.perf_counter()
    for _ in range(500):
        assert lf.active
        lf.table_view(SALES, sales)
        lf.table_permissions(SALES, sales)
    per_query = (time.perf_counter() - started) / 500
    assert per_query < 0.001, f"{per_query * 1e6:.0f} us per query's questions"


def test_audit_records_are_a_table_only_admins_read(lake: Lakehouse) -> None:
    lf = governed(lake)
    lf.record(SALES, "SELECT", "shop.sales", True, "q-1")
    lf.record(ANALYST, "SELECT", "shop.sales", False, "q-2")
    log = lake.catalog.get_table("lakebox_audit", "access_log")
    assert lf.table_view(ADMIN, log).unrestricted
    assert lf.table_view(READER, log).unrestricted
    assert not lf.can_see_table(ANALYST, log)
    rows = (
        lake.session()
        .sql(
            "SELECT principal, action, resource, allowed, request_id FROM lakebox_audit.access_log "
            "ORDER BY request_id"
        )
        .fetchall()
    )
    assert rows == [
        (SALES.arn, "SELECT", "shop.sales", True, "q-1"),
        (ANALYST.arn, "SELECT", "shop.sales", False, "q-2"),
    ]


def test_a_workgroups_result_location_cannot_be_registered(lake: Lakehouse) -> None:
    lf = governed(lake)
    lake.queries.create_work_group("team", output_location="s3://team-results/out/")
    with pytest.raises(InvalidInput, match="query result"):
        lf.register(ADMIN, "arn:aws:s3:::team-results", use_service_linked_role=True)
    lf.register(ADMIN, "arn:aws:s3:::team-data", use_service_linked_role=True)


def test_unreported_objects_hold_the_defaults_in_force_when_made(lake: Lakehouse) -> None:
    """A table no door reported (no note_created) is judged by the default permissions
    in force when the catalog made it: AWS's IAMAllowedPrincipals ALL before the admin
    changed the settings, the admin's defaults after."""
    lf = lake.lakeformation
    old = table(lake)  # made before any settings: IAMAllowedPrincipals holds ALL
    lf.put_settings(
        LOCAL_ADMIN,
        DataLakeSettings(
            admins=(ADMIN.arn,),
            create_database_default=(),
            create_table_default=(PrincipalPermissions(LEADER.arn, ("SELECT",)),),
        ),
    )
    time.sleep(0.01)
    lake.catalog.create_table(Table("shop", "later", columns=[Column("a", "int")]))
    later = table(lake, "later")
    assert lf.table_view(ANALYST, old).unrestricted
    assert lf.table_permissions(ANALYST, later) == frozenset()
    assert lf.table_permissions(LEADER, later) == {"SELECT"}
    listed = {
        (g.principal, g.resource.table)
        for g in lf.list_permissions(ADMIN, resource=tbl("*"))
        if g.resource.kind == "TABLE"
    }
    assert (IAM_ALLOWED_PRINCIPALS, "sales") in listed and (LEADER.arn, "later") in listed
    # revoking from an unreported table writes its defaults down first
    lf.revoke(ADMIN, LEADER.arn, tbl("later"), ["SELECT"])
    assert lf.table_permissions(LEADER, later) == frozenset()


def test_a_non_admin_lists_only_its_own_grants(lake: Lakehouse) -> None:
    lf = governed(lake)
    lf.grant(ADMIN, ANALYST.arn, tbl("sales"), ["SELECT"])
    lf.grant(ADMIN, LEADER.arn, tbl("sales"), ["DESCRIBE"], ["DESCRIBE"])
    seen = {g.principal for g in lf.list_permissions(ANALYST)}
    assert seen == {ANALYST.arn}
    assert {g.principal for g in lf.list_permissions(LEADER)} >= {ANALYST.arn, LEADER.arn}
    assert {g.principal for g in lf.list_permissions(ADMIN)} >= {ANALYST.arn, LEADER.arn}


def test_a_recreated_table_keeps_the_grants_made_on_its_name(lake: Lakehouse) -> None:
    """AWS: "if you define a resource with a particular ARN, then later delete, and
    recreate a resource with that same ARN, the resource maintains the permissions
    already granted" (GrantPermissions' Principal documentation)."""
    lf = governed(lake)
    lf.grant(ADMIN, ANALYST.arn, tbl("sales"), ["SELECT"])
    lake.catalog.drop_table("shop", "sales")
    lake.catalog.create_table(Table("shop", "sales", columns=[Column("shop_id", "int")]))
    lf.note_created(LEADER, "shop", "sales")
    assert lf.table_permissions(ANALYST, table(lake)) == {"SELECT"}
    assert "DROP" in lf.table_permissions(LEADER, table(lake))  # the new creator


def test_tag_creators_change_and_delete_their_tags(lake: Lakehouse) -> None:
    """AWS: "The LF-Tag creator gets implicit permission to update or remove any tag value
    from the LF-Tag and delete the LF-Tag"; one call gives at most 50 values."""
    lf = governed(lake)
    with pytest.raises(AccessDeniedLF):
        lf.create_tag(LEADER, "team", ["a"])
    lf.grant(ADMIN, LEADER.arn, Resource("CATALOG", A), ["CREATE_LF_TAG"])
    lf.create_tag(LEADER, "team", ["a"])
    lf.update_tag(LEADER, "team", add=["b"])
    with pytest.raises(AccessDeniedLF):
        lf.update_tag(ANALYST, "team", add=["c"])
    with pytest.raises(AccessDeniedLF):
        lf.delete_tag(ANALYST, "team")
    lf.delete_tag(LEADER, "team")
    with pytest.raises(InvalidInput, match="1 to 50 values"):
        check_tag_values([f"v{i}" for i in range(51)])


def test_filters_and_tags_are_described_only_to_who_may(lake: Lakehouse) -> None:
    lf = governed(lake)
    lf.create_filter(ADMIN, DataCellsFilter("shop", "sales", "w", "region = 'west'", None, ()))
    lf.create_tag(ADMIN, "role", ["analyst"])
    assert [f.name for f in lf.list_filters(caller=ANALYST)] == []
    assert [f.name for f in lf.list_filters(caller=ADMIN)] == ["w"]
    with pytest.raises(AccessDeniedLF):
        lf.get_tag("role", ANALYST)
    res = Resource("DATA_CELLS_FILTER", A, database="shop", table="sales", name="w")
    lf.grant(ADMIN, ANALYST.arn, res, ["SELECT"])
    assert [f.name for f in lf.list_filters(caller=ANALYST)] == ["w"]
    lf.grant(
        ADMIN, ANALYST.arn, Resource("LF_TAG", A, name="role", values=("analyst",)), ["DESCRIBE"]
    )
    assert lf.get_tag("role", ANALYST).values == ("analyst",)


def test_tagging_needs_associate_on_the_tag_and_alter_on_the_resource(lake: Lakehouse) -> None:
    lf = governed(lake)
    lf.create_tag(ADMIN, "tier", ["public"])
    with pytest.raises(AccessDeniedLF, match="ALTER"):
        lf.add_tags(LEADER, tbl("sales"), [("tier", ["public"])])
    lf.grant(ADMIN, LEADER.arn, tbl("sales"), ["ALTER"])
    with pytest.raises(AccessDeniedLF, match="ASSOCIATE"):
        lf.add_tags(LEADER, tbl("sales"), [("tier", ["public"])])
    lf.grant(
        ADMIN, LEADER.arn, Resource("LF_TAG", A, name="tier", values=("public",)), ["ASSOCIATE"]
    )
    assert lf.add_tags(LEADER, tbl("sales"), [("tier", ["public"])]) == []
    assert lf.remove_tags(LEADER, tbl("sales"), [("tier", [])]) == []


def test_a_role_that_created_a_table_owns_it_in_every_session(lake: Lakehouse) -> None:
    lf = governed(lake)
    first = Principal(A, f"arn:aws:sts::{A}:assumed-role/etl/run-1", "assumed-role")
    later = Principal(A, f"arn:aws:sts::{A}:assumed-role/etl/run-2", "assumed-role")
    lake.catalog.create_table(Table("shop", "etl_out", columns=[Column("a", "int")]))
    lf.note_created(first, "shop", "etl_out")
    assert "DROP" in lf.table_permissions(later, table(lake, "etl_out"))
    other = Principal(A, f"arn:aws:sts::{A}:assumed-role/other/run-1", "assumed-role")
    assert lf.table_permissions(other, table(lake, "etl_out")) == frozenset()


def test_row_filters_are_kept_as_canonical_text_without_comments(lake: Lakehouse) -> None:
    lf = governed(lake)
    made = lf.create_filter(
        ADMIN,
        DataCellsFilter("shop", "sales", "c", "region = 'west' -- ) OR (1 = 1", None, ()),
    )
    assert made.row_filter == "region = 'west'"
    lf.grant(
        ADMIN,
        SALES.arn,
        Resource("DATA_CELLS_FILTER", A, database="shop", table="sales", name="c"),
        ["SELECT"],
    )
    assert lf.table_view(SALES, table(lake)).row_filter == "(region = 'west')"
