"""Lake Formation at Glue's catalog API and Athena's metadata API (the API layer, as the
server and the Python API dispatch it), against a small implementation of the permissions
contract (``lf_toy``): what is listed, what is refused and with which error, which columns
GetTable shows, and that every decision is recorded with the request's id."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from api.helpers import call
from api.lf_toy import ToyPermissions
from lakebox.api import AwsError, dispatch
from lakebox.api.context import ServiceContext
from lakebox.catalog.model import Column, Database, Partition, Table
from lakebox.catalog.visibility import Visibility
from lakebox.lakehouse import Lake
from lakebox.principal import Principal
from lakebox.query.service import QueryService

ACCOUNT = "000000000000"
ANALYST = f"arn:aws:iam::{ACCOUNT}:user/analyst"
BUCKET_A = "s3://bucket-a/"


@pytest.fixture
def lf() -> ToyPermissions:
    return ToyPermissions(registered=[BUCKET_A])


@pytest.fixture
def seeded(lake: Lake) -> Lake:
    catalog = lake.catalog
    catalog.create_database(Database("sales_db"))
    catalog.create_database(Database("hr"))
    sales = Table(
        "sales_db",
        "sales",
        columns=[
            Column("shop_id", "int"),
            Column("price", "double"),
            Column("payment_id", "string"),
        ],
        partition_keys=[Column("dt", "string"), Column("region", "string")],
        location=BUCKET_A + "sales/",
    )
    catalog.create_table(sales)
    catalog.add_partitions(
        [Partition("sales_db", "sales", ["2024-01-01", "eu"], BUCKET_A + "sales/dt=2024-01-01/")]
    )
    catalog.create_table(
        Table("sales_db", "secret", columns=[Column("ssn", "string")], location=BUCKET_A + "s/")
    )
    catalog.create_table(Table("hr", "salaries", columns=[Column("pay", "int")]))
    return lake


@pytest.fixture
def analyst(seeded: Lake, lf: ToyPermissions) -> ServiceContext:
    queries = QueryService(seeded)
    return ServiceContext(
        principal=Principal(ACCOUNT, ANALYST, "user"),
        account_id=ACCOUNT,
        region=seeded.config.region,
        services={
            "catalog": seeded.catalog,
            "storage": seeded.storage,
            "queries": queries,
            "lakeformation": lf,
        },
        request_id="req-1",
    )


def glue(ctx: ServiceContext, operation: str, **request: Any) -> Any:
    """The call as boto3 would make it: the request and the answer are checked against
    botocore's shapes."""
    return call(ctx, "glue", operation, request)


def denied(ctx: ServiceContext, service: str, operation: str, request: dict[str, Any]) -> str:
    with pytest.raises(AwsError) as err:
        dispatch(service, operation, request, ctx)
    assert err.value.code == "AccessDeniedException", str(err.value)
    return str(err.value)


def test_an_analyst_without_grants_sees_no_database_and_no_table(
    analyst: ServiceContext, lf: ToyPermissions
) -> None:
    assert glue(analyst, "GetDatabases")["DatabaseList"] == []
    message = denied(analyst, "glue", "GetDatabase", {"Name": "sales_db"})
    assert message == "Insufficient Lake Formation permission(s) on sales_db"
    denied(analyst, "glue", "GetTables", {"DatabaseName": "sales_db"})
    denied(analyst, "glue", "GetTable", {"DatabaseName": "sales_db", "Name": "sales"})
    refused = [d for d in lf.decisions if not d.allowed]
    assert {d.action for d in refused} >= {"glue:GetDatabases", "glue:GetDatabase"}
    assert all(d.request_id == "req-1" and d.principal == ANALYST for d in lf.decisions)


def test_describe_on_the_database_shows_it_but_no_table(
    analyst: ServiceContext, lf: ToyPermissions
) -> None:
    lf.grant(ANALYST, "sales_db", "DESCRIBE")
    names = [d["Name"] for d in glue(analyst, "GetDatabases")["DatabaseList"]]
    assert names == ["sales_db"]
    assert glue(analyst, "GetDatabase", Name="sales_db")["Database"]["Name"] == "sales_db"
    assert glue(analyst, "GetTables", DatabaseName="sales_db")["TableList"] == []
    allowed = {(d.action, d.resource) for d in lf.decisions if d.allowed}
    assert {("glue:GetDatabases", "catalog"), ("glue:GetDatabase", "sales_db")} <= allowed
    hidden = {(d.action, d.resource) for d in lf.decisions if not d.allowed}
    assert ("glue:GetTables", "sales_db.sales") in hidden


def test_a_granted_table_is_listed_with_only_its_granted_columns(
    analyst: ServiceContext, lf: ToyPermissions
) -> None:
    lf.grant(ANALYST, "sales_db.sales", "SELECT", columns={"shop_id", "price", "dt"})
    tables = glue(analyst, "GetTables", DatabaseName="sales_db")["TableList"]
    assert [t["Name"] for t in tables] == ["sales"]
    got = glue(analyst, "GetTable", DatabaseName="sales_db", Name="sales")["Table"]
    for table in (tables[0], got):
        assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["shop_id", "price"]
        assert [c["Name"] for c in table["PartitionKeys"]] == ["dt"]
    # the other table of the database stays hidden
    denied(analyst, "glue", "GetTable", {"DatabaseName": "sales_db", "Name": "secret"})
    # partitions (their values name the hidden key region: DESCRIBE is needed too), with
    # their columns filtered as well
    lf.grant(ANALYST, "sales_db.sales", "DESCRIBE")
    parts = glue(analyst, "GetPartitions", DatabaseName="sales_db", TableName="sales")
    [part] = parts["Partitions"]
    assert [c["Name"] for c in part["StorageDescriptor"]["Columns"]] == ["shop_id", "price"]


def test_describe_without_select_shows_the_tables_definition(
    analyst: ServiceContext, lf: ToyPermissions
) -> None:
    lf.grant(ANALYST, "sales_db.sales", "DESCRIBE")
    got = glue(analyst, "GetTable", DatabaseName="sales_db", Name="sales")["Table"]
    assert len(got["StorageDescriptor"]["Columns"]) == 3 and len(got["PartitionKeys"]) == 2
    # SELECT on some columns besides: only those
    lf.grant(ANALYST, "sales_db.sales", "SELECT", columns={"price"})
    got = glue(analyst, "GetTable", DatabaseName="sales_db", Name="sales")["Table"]
    assert [c["Name"] for c in got["StorageDescriptor"]["Columns"]] == ["price"]


def test_reading_partitions_needs_select_or_describe(
    analyst: ServiceContext, lf: ToyPermissions
) -> None:
    lf.grant(ANALYST, "sales_db.sales", "ALTER")
    request = {"DatabaseName": "sales_db", "TableName": "sales"}
    assert denied(analyst, "glue", "GetPartitions", request).endswith("on sales_db.sales")
    denied(
        analyst,
        "glue",
        "GetPartition",
        {**request, "PartitionValues": ["2024-01-01", "eu"]},
    )
    denied(
        analyst,
        "glue",
        "BatchGetPartition",
        {**request, "PartitionsToGet": [{"Values": ["2024-01-01", "eu"]}]},
    )
    lf.grant(ANALYST, "sales_db.sales", "DESCRIBE")
    assert len(glue(analyst, "GetPartitions", **request)["Partitions"]) == 1


def test_creating_a_database_needs_create_database_and_makes_the_creator_its_owner(
    analyst: ServiceContext, lf: ToyPermissions, seeded: Lake
) -> None:
    request = {"DatabaseInput": {"Name": "mine"}}
    denied(analyst, "glue", "CreateDatabase", request)
    assert not seeded.catalog.database_exists("mine")
    lf.creators.add(ANALYST)
    glue(analyst, "CreateDatabase", **request)
    assert lf.database_permissions(analyst.principal, "mine")
    # the creator may create a table in it over an unregistered location
    glue(
        analyst,
        "CreateTable",
        DatabaseName="mine",
        TableInput={"Name": "t", "StorageDescriptor": {"Location": "s3://open-bucket/t/"}},
    )
    assert glue(analyst, "GetTable", DatabaseName="mine", Name="t")["Table"]["Name"] == "t"


def test_a_database_over_a_registered_location_needs_data_location_access(
    analyst: ServiceContext, lf: ToyPermissions, seeded: Lake
) -> None:
    lf.creators.add(ANALYST)
    request = {"DatabaseInput": {"Name": "over_a", "LocationUri": BUCKET_A + "x/"}}
    assert denied(analyst, "glue", "CreateDatabase", request).endswith(BUCKET_A + "x/")
    assert not seeded.catalog.database_exists("over_a")


def test_creating_a_table_needs_create_table_and_location_access(
    analyst: ServiceContext, lf: ToyPermissions, seeded: Lake
) -> None:
    table = {
        "Name": "new_sales",
        "StorageDescriptor": {
            "Columns": [{"Name": "a", "Type": "int"}],
            "Location": BUCKET_A + "new_sales/",
        },
    }
    lf.grant(ANALYST, "sales_db", "DESCRIBE")
    message = denied(
        analyst, "glue", "CreateTable", {"DatabaseName": "sales_db", "TableInput": table}
    )
    assert message == "Insufficient Lake Formation permission(s) on sales_db"
    lf.grant(ANALYST, "sales_db", "CREATE_TABLE")
    message = denied(
        analyst, "glue", "CreateTable", {"DatabaseName": "sales_db", "TableInput": table}
    )
    assert message == f"Insufficient Lake Formation permission(s) on {BUCKET_A}new_sales/"
    assert not seeded.catalog.table_exists("sales_db", "new_sales")
    lf.location_grants.add((ANALYST, BUCKET_A))
    glue(analyst, "CreateTable", DatabaseName="sales_db", TableInput=table)
    # the creator holds every permission on the table it made
    got = glue(analyst, "GetTable", DatabaseName="sales_db", Name="new_sales")["Table"]
    assert [c["Name"] for c in got["StorageDescriptor"]["Columns"]] == ["a"]


def test_altering_and_dropping_tables_and_databases(
    analyst: ServiceContext, lf: ToyPermissions, seeded: Lake
) -> None:
    lf.grant(ANALYST, "sales_db.sales", "SELECT")
    table_input = {
        "Name": "sales",
        "StorageDescriptor": {
            "Columns": [{"Name": "shop_id", "Type": "int"}],
            "Location": BUCKET_A + "sales/",
        },
        "PartitionKeys": [{"Name": "dt", "Type": "string"}, {"Name": "region", "Type": "string"}],
    }
    update = {"DatabaseName": "sales_db", "TableInput": table_input}
    denied(analyst, "glue", "UpdateTable", update)
    lf.grant(ANALYST, "sales_db.sales", "ALTER")
    glue(analyst, "UpdateTable", **update)
    # moving the table to another registered place needs location access there
    moved = {**table_input, "StorageDescriptor": {"Location": BUCKET_A + "elsewhere/"}}
    denied(analyst, "glue", "UpdateTable", {"DatabaseName": "sales_db", "TableInput": moved})
    assert seeded.catalog.get_table("sales_db", "sales").location == BUCKET_A + "sales/"
    # DROP
    denied(analyst, "glue", "DeleteTable", {"DatabaseName": "sales_db", "Name": "sales"})
    lf.grant(ANALYST, "sales_db.sales", "DROP")
    glue(analyst, "DeleteTable", DatabaseName="sales_db", Name="sales")
    assert not seeded.catalog.table_exists("sales_db", "sales")
    lf.grant(ANALYST, "hr", "DESCRIBE")
    denied(analyst, "glue", "DeleteDatabase", {"Name": "hr"})
    denied(analyst, "glue", "UpdateDatabase", {"Name": "hr", "DatabaseInput": {"Name": "hr"}})
    assert seeded.catalog.database_exists("hr")
    lf.grant(ANALYST, "hr", "DROP")
    # DeleteDatabase deletes its tables too: each needs DROP of its own
    message = denied(analyst, "glue", "DeleteDatabase", {"Name": "hr"})
    assert message.endswith("on hr.salaries"), message
    assert seeded.catalog.database_exists("hr")
    lf.grant(ANALYST, "hr.salaries", "DROP")
    glue(analyst, "DeleteDatabase", Name="hr")
    assert not seeded.catalog.database_exists("hr")


def test_partition_writes(analyst: ServiceContext, lf: ToyPermissions, seeded: Lake) -> None:
    lf.grant(ANALYST, "sales_db.sales", "SELECT")
    where = {"DatabaseName": "sales_db", "TableName": "sales"}
    new = {"Values": ["2024-01-02", "eu"], "StorageDescriptor": {}}
    denied(analyst, "glue", "CreatePartition", {**where, "PartitionInput": new})
    denied(analyst, "glue", "BatchCreatePartition", {**where, "PartitionInputList": [new]})
    values = {"PartitionValues": ["2024-01-01", "eu"]}
    denied(analyst, "glue", "DeletePartition", {**where, **values})
    denied(
        analyst,
        "glue",
        "BatchDeletePartition",
        {**where, "PartitionsToDelete": [{"Values": ["2024-01-01", "eu"]}]},
    )
    denied(
        analyst,
        "glue",
        "UpdatePartition",
        {**where, "PartitionValueList": ["2024-01-01", "eu"], "PartitionInput": new},
    )
    assert len(seeded.catalog.get_partitions("sales_db", "sales")) == 1
    lf.grant(ANALYST, "sales_db.sales", "INSERT")
    glue(analyst, "CreatePartition", **where, PartitionInput=new)
    # a partition pointing at another registered place: location access there
    stray = {"Values": ["2024-01-03", "eu"], "StorageDescriptor": {"Location": BUCKET_A + "s/"}}
    denied(analyst, "glue", "CreatePartition", {**where, "PartitionInput": stray})
    lf.grant(ANALYST, "sales_db.sales", "DELETE")
    glue(analyst, "DeletePartition", **where, **values)
    assert [p.values for p in seeded.catalog.get_partitions("sales_db", "sales")] == [
        ["2024-01-02", "eu"]
    ]


def test_governance_off_changes_nothing(analyst: ServiceContext, lf: ToyPermissions) -> None:
    lf.active = False
    assert {d["Name"] for d in glue(analyst, "GetDatabases")["DatabaseList"]} >= {"sales_db", "hr"}
    got = glue(analyst, "GetTable", DatabaseName="sales_db", Name="sales")["Table"]
    assert len(got["StorageDescriptor"]["Columns"]) == 3
    glue(analyst, "DeleteTable", DatabaseName="sales_db", Name="secret")
    assert lf.decisions == []


def test_athena_metadata_is_filtered_the_same_way(
    analyst: ServiceContext, lf: ToyPermissions
) -> None:
    athena = {"CatalogName": "AwsDataCatalog"}
    assert dispatch("athena", "ListDatabases", athena, analyst)["DatabaseList"] == []
    lf.grant(ANALYST, "sales_db.sales", "SELECT", columns={"price", "region"})
    names = [
        d["Name"] for d in dispatch("athena", "ListDatabases", athena, analyst)["DatabaseList"]
    ]
    assert names == ["sales_db"]
    listed = dispatch(
        "athena", "ListTableMetadata", {**athena, "DatabaseName": "sales_db"}, analyst
    )["TableMetadataList"]
    assert [t["Name"] for t in listed] == ["sales"]
    meta = dispatch(
        "athena",
        "GetTableMetadata",
        {**athena, "DatabaseName": "sales_db", "TableName": "sales"},
        analyst,
    )["TableMetadata"]
    for table in (listed[0], meta):
        assert [c["Name"] for c in table["Columns"]] == ["price"]
        assert [c["Name"] for c in table["PartitionKeys"]] == ["region"]
    with pytest.raises(AwsError) as err:
        dispatch(
            "athena",
            "GetTableMetadata",
            {**athena, "DatabaseName": "sales_db", "TableName": "secret"},
            analyst,
        )
    assert "secret" in str(err.value) and err.value.code == "MetadataException"
    with pytest.raises(AwsError):
        dispatch("athena", "GetDatabase", {**athena, "DatabaseName": "hr"}, analyst)


def test_search_tables_finds_only_what_the_caller_may_see(
    analyst: ServiceContext, lf: ToyPermissions
) -> None:
    def search(**request: Any) -> list[str]:
        found = glue(analyst, "SearchTables", **request)["TableList"]
        return [f"{t['DatabaseName']}.{t['Name']}" for t in found]

    assert search() == []
    lf.grant(ANALYST, "sales_db.sales", "SELECT", columns={"shop_id", "dt"})
    lf.grant(ANALYST, "hr.salaries", "DESCRIBE")
    assert search() == ["hr.salaries", "sales_db.sales"]
    # a column the caller may not select is not searched
    assert search(SearchText="shop_id") == ["sales_db.sales"]
    assert search(SearchText="payment") == []
    assert search(SearchText="ssn") == []  # a column of a table it cannot see
    assert search(Filters=[{"Key": "DatabaseName", "Value": "hr"}]) == ["hr.salaries"]
    sorted_desc = search(SortCriteria=[{"FieldName": "Name", "Sort": "DESC"}])
    assert sorted_desc == ["sales_db.sales", "hr.salaries"]
    first = glue(analyst, "SearchTables", MaxResults=1)
    assert len(first["TableList"]) == 1
    rest = glue(analyst, "SearchTables", MaxResults=1, NextToken=first["NextToken"])
    assert [t["Name"] for t in rest["TableList"]] == ["sales"]
    assert "NextToken" not in rest
    [found] = glue(analyst, "SearchTables", SearchText="shop_id")["TableList"]
    assert [c["Name"] for c in found["StorageDescriptor"]["Columns"]] == ["shop_id"]


def test_table_versions_follow_the_same_rules(analyst: ServiceContext, lf: ToyPermissions) -> None:
    request = {"DatabaseName": "sales_db", "TableName": "sales"}
    denied(analyst, "glue", "GetTableVersions", request)
    denied(analyst, "glue", "GetTableVersion", request)
    lf.grant(ANALYST, "sales_db.sales", "SELECT", columns={"price"})
    [version] = glue(analyst, "GetTableVersions", **request)["TableVersions"]
    assert [c["Name"] for c in version["Table"]["StorageDescriptor"]["Columns"]] == ["price"]
    one = glue(analyst, "GetTableVersion", **request, VersionId=version["VersionId"])
    assert one["TableVersion"]["VersionId"] == version["VersionId"]
    with pytest.raises(AwsError) as err:
        glue(analyst, "GetTableVersion", **request, VersionId="999")
    assert err.value.code == "EntityNotFoundException"


class _LakeFormationListing(Visibility):
    """A visibility policy that also hides by Lake Formation (as the query path's does):
    the Glue door must still answer AccessDeniedException, not EntityNotFoundException."""

    def __init__(self, lf: ToyPermissions) -> None:
        self.lf = lf

    def databases(self, principal: Principal, databases: Iterable[Database]) -> list[Database]:
        return [d for d in databases if self.lf.can_see_database(principal, d.name)]

    def tables(self, principal: Principal, tables: Iterable[Table]) -> list[Table]:
        return [t for t in tables if self.lf.can_see_table(principal, t)]


def test_lake_formations_answer_comes_before_a_listing_policys(
    analyst: ServiceContext, lf: ToyPermissions
) -> None:
    analyst.services["visibility"] = _LakeFormationListing(lf)
    denied(analyst, "glue", "GetDatabase", {"Name": "sales_db"})
    lf.grant(ANALYST, "sales_db", "DESCRIBE")
    message = denied(analyst, "glue", "GetTable", {"DatabaseName": "sales_db", "Name": "secret"})
    assert message == "Insufficient Lake Formation permission(s) on sales_db.secret"
    with pytest.raises(AwsError) as err:
        glue(analyst, "GetTable", DatabaseName="sales_db", Name="no_such_table")
    assert err.value.code == "EntityNotFoundException"


def test_partition_values_do_not_show_what_a_restricted_select_hides(
    analyst: ServiceContext, lf: ToyPermissions
) -> None:
    """The partition key ``region`` is hidden from the analyst's SELECT: the values of
    partitions (and their locations) would show it, so they are refused, unless the
    analyst holds DESCRIBE (the metadata permission)."""
    where = {"DatabaseName": "sales_db", "TableName": "sales"}
    lf.grant(ANALYST, "sales_db.sales", "SELECT", columns={"shop_id", "dt"})
    message = denied(analyst, "glue", "GetPartitions", where)
    assert message == "Insufficient Lake Formation permission(s) on sales_db.sales"
    values = {"PartitionValues": ["2024-01-01", "eu"]}
    denied(analyst, "glue", "GetPartition", {**where, **values})
    lf.grant(ANALYST, "sales_db.sales", "DESCRIBE")
    assert len(glue(analyst, "GetPartitions", **where)["Partitions"]) == 1


@pytest.mark.parametrize("spelling", ["s3a", "s3n", "file", "path"])
def test_a_registered_location_cannot_be_named_around(
    analyst: ServiceContext, lf: ToyPermissions, seeded: Lake, spelling: str
) -> None:
    """The same files under another name (``s3a://``, a local path into the bucket) are
    still the registered location."""
    home = seeded.config.home
    location = {
        "s3a": "s3a://bucket-a/secret/",
        "s3n": "s3n://bucket-a/secret/",
        "file": f"file://{home}/bucket-a/secret/",
        "path": f"{home}/bucket-a/secret/",
    }[spelling]
    lf.grant(ANALYST, "sales_db", "CREATE_TABLE")
    table = {"Name": "peek", "StorageDescriptor": {"Location": location}}
    message = denied(
        analyst, "glue", "CreateTable", {"DatabaseName": "sales_db", "TableInput": table}
    )
    assert message == "Insufficient Lake Formation permission(s) on s3://bucket-a/secret/"
    assert not seeded.catalog.table_exists("sales_db", "peek")


def test_the_python_api_enforces_the_lakes_own_lake_formation(seeded: Lake) -> None:
    """A context made from the lake (``provider``), as a program using the Python API
    makes one, reaches the lake's real Lake Formation service: the same answers as the
    server's."""
    from lakebox.governance.model import IAM_ALLOWED_PRINCIPALS, Resource
    from lakebox.principal import LOCAL_ADMIN

    lf = seeded.lakeformation
    for name in ("sales", "secret"):
        table = Resource("TABLE", ACCOUNT, database="sales_db", table=name)
        lf.revoke(LOCAL_ADMIN, IAM_ALLOWED_PRINCIPALS, table, ["ALL"])
    lf.grant(
        LOCAL_ADMIN,
        ANALYST,
        Resource(
            "TABLE_WITH_COLUMNS", ACCOUNT, database="sales_db", table="sales", columns=("price",)
        ),
        ["SELECT"],
    )
    ctx = ServiceContext(
        principal=Principal(ACCOUNT, ANALYST, "user"),
        account_id=ACCOUNT,
        region=seeded.config.region,
        provider=lambda name: getattr(seeded, name),
    )
    tables = glue(ctx, "GetTables", DatabaseName="sales_db")["TableList"]
    assert [t["Name"] for t in tables] == ["sales"]
    assert [c["Name"] for c in tables[0]["StorageDescriptor"]["Columns"]] == ["price"]
    message = denied(ctx, "glue", "GetTable", {"DatabaseName": "sales_db", "Name": "secret"})
    assert message == "Insufficient Lake Formation permission(s) on sales_db.secret"


def test_a_projection_template_is_checked_like_a_location(
    analyst: ServiceContext, lf: ToyPermissions, seeded: Lake
) -> None:
    """Partition projection reads its partitions where ``storage.location.template``
    says: a table over an unregistered location whose template points into a registered
    one needs DATA_LOCATION_ACCESS there, at CreateTable and at UpdateTable."""
    lf.grant(ANALYST, "sales_db", "CREATE_TABLE")
    projection = {
        "projection.enabled": "true",
        "projection.p.type": "enum",
        "projection.p.values": "secret",
        "storage.location.template": "s3://bucket-a/${p}/",
    }

    def table(parameters: dict[str, str]) -> dict[str, Any]:
        return {
            "Name": "proj",
            "StorageDescriptor": {
                "Columns": [{"Name": "ssn", "Type": "string"}],
                "Location": "s3://bucket-b/proj/",
            },
            "PartitionKeys": [{"Name": "p", "Type": "string"}],
            "Parameters": parameters,
        }

    request = {"DatabaseName": "sales_db", "TableInput": table(projection)}
    message = denied(analyst, "glue", "CreateTable", request)
    assert message == "Insufficient Lake Formation permission(s) on s3://bucket-a/"
    assert not seeded.catalog.table_exists("sales_db", "proj")
    glue(analyst, "CreateTable", DatabaseName="sales_db", TableInput=table({}))
    message = denied(analyst, "glue", "UpdateTable", request)
    assert message == "Insufficient Lake Formation permission(s) on s3://bucket-a/"
    assert (
        "storage.location.template" not in seeded.catalog.get_table("sales_db", "proj").parameters
    )
