"""Lake Formation over a real ``lakebox serve`` with boto3: settings, grants and their
listing, registered locations, LF-tags and data cells filters, with AWS's error codes and
Lake Formation's own authorization (only admins or grant-option holders grant)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lakebox.lakehouse import Lakehouse
from server.conftest import ClientFactory, Served, aws_cli

pytestmark = pytest.mark.xdist_group("server")

ACCOUNT = "000000000000"
ANALYST = f"arn:aws:iam::{ACCOUNT}:user/lf-analyst"
LEADER = f"arn:aws:iam::{ACCOUNT}:user/lf-leader"
IAP = {"DataLakePrincipalIdentifier": "IAM_ALLOWED_PRINCIPALS"}


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _principal(arn: str) -> dict[str, str]:
    return {"DataLakePrincipalIdentifier": arn}


@pytest.fixture(scope="module")
def catalog(client: ClientFactory) -> None:
    glue = client("glue")
    glue.create_database(DatabaseInput={"Name": "lf_shop", "LocationUri": "s3://lf-bucket/shop/"})
    glue.create_table(
        DatabaseName="lf_shop",
        TableInput={
            "Name": "sales",
            "StorageDescriptor": {
                "Columns": [
                    {"Name": "shop_id", "Type": "int"},
                    {"Name": "price", "Type": "double"},
                    {"Name": "region", "Type": "string"},
                ],
                "Location": "s3://lf-bucket/shop/sales/",
            },
            "TableType": "EXTERNAL_TABLE",
        },
    )


def _user(lake: Lakehouse, name: str, policy: dict[str, Any] | None) -> tuple[str, str]:
    lake.iam.create_user(name, account_id=ACCOUNT)
    if policy is not None:
        lake.iam.put_user_policy(name, "p", json.dumps(policy), account_id=ACCOUNT)
    made = lake.iam.create_access_key(name, account_id=ACCOUNT)
    return made.key.access_key_id, made.secret_access_key


LF_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "lakeformation:*", "Resource": "*"}],
}


def test_settings_default_to_iam_allowed_principals_and_round_trip(client: ClientFactory) -> None:
    lf = client("lakeformation")
    settings = lf.get_data_lake_settings()["DataLakeSettings"]
    assert settings["DataLakeAdmins"] == []
    assert settings["CreateDatabaseDefaultPermissions"] == [
        {"Principal": IAP, "Permissions": ["ALL"]}
    ]
    assert settings["CreateTableDefaultPermissions"] == [{"Principal": IAP, "Permissions": ["ALL"]}]
    lf.put_data_lake_settings(
        DataLakeSettings={
            "DataLakeAdmins": [_principal(LEADER)],
            "CreateDatabaseDefaultPermissions": [],
            "CreateTableDefaultPermissions": [],
        }
    )
    settings = lf.get_data_lake_settings()["DataLakeSettings"]
    assert settings["DataLakeAdmins"] == [_principal(LEADER)]
    assert settings["CreateTableDefaultPermissions"] == []
    # a database made before the change holds IAMAllowedPrincipals' ALL; one made after
    # holds the new (empty) defaults
    glue = client("glue")
    assert any(
        r["Principal"] == IAP and r["Permissions"] == ["ALL"]
        for r in lf.list_permissions(Resource={"Database": {"Name": "default"}})[
            "PrincipalResourcePermissions"
        ]
    )
    glue.create_database(DatabaseInput={"Name": "lf_after"})
    assert (
        lf.list_permissions(Resource={"Database": {"Name": "lf_after"}})[
            "PrincipalResourcePermissions"
        ]
        == []
    )
    with pytest.raises(ClientError) as exc:
        lf.put_data_lake_settings(DataLakeSettings={"DataLakeAdmins": [IAP]})
    assert _code(exc) == "InvalidInputException"
    with pytest.raises(ClientError) as exc:
        lf.get_data_lake_settings(CatalogId="123456789012")
    assert _code(exc) == "InvalidInputException"


def test_grant_list_and_revoke(client: ClientFactory, catalog: None) -> None:
    lf = client("lakeformation")
    columns = {
        "TableWithColumns": {"DatabaseName": "lf_shop", "Name": "sales", "ColumnNames": ["shop_id"]}
    }
    lf.grant_permissions(Principal=_principal(ANALYST), Resource=columns, Permissions=["SELECT"])
    table = {"Table": {"DatabaseName": "lf_shop", "Name": "sales"}}
    listed = lf.list_permissions(Principal=_principal(ANALYST), Resource=table)
    rows = listed["PrincipalResourcePermissions"]
    assert [(r["Resource"], r["Permissions"]) for r in rows] == [
        (
            {
                "TableWithColumns": {
                    "CatalogId": ACCOUNT,
                    "DatabaseName": "lf_shop",
                    "Name": "sales",
                    "ColumnNames": ["shop_id"],
                }
            },
            ["SELECT"],
        )
    ]
    lf.revoke_permissions(Principal=_principal(ANALYST), Resource=columns, Permissions=["SELECT"])
    with pytest.raises(ClientError) as exc:
        lf.revoke_permissions(
            Principal=_principal(ANALYST), Resource=columns, Permissions=["SELECT"]
        )
    assert _code(exc) == "InvalidInputException"
    assert "No permissions revoked" in str(exc.value)


def test_list_permissions_pages(client: ClientFactory, catalog: None) -> None:
    lf = client("lakeformation")
    for name in ("a", "b", "c"):
        lf.grant_permissions(
            Principal=_principal(f"arn:aws:iam::{ACCOUNT}:user/page-{name}"),
            Resource={"Database": {"Name": "lf_shop"}},
            Permissions=["DESCRIBE"],
        )
    seen = []
    token: dict[str, str] = {}
    while True:
        page = lf.list_permissions(ResourceType="DATABASE", MaxResults=1, **token)
        seen += page["PrincipalResourcePermissions"]
        if "NextToken" not in page:
            break
        token = {"NextToken": page["NextToken"]}
    names = {r["Principal"]["DataLakePrincipalIdentifier"] for r in seen}
    assert {f"arn:aws:iam::{ACCOUNT}:user/page-{n}" for n in "abc"} <= names
    everything = lf.list_permissions(ResourceType="DATABASE")["PrincipalResourcePermissions"]
    assert len(everything) == len(seen)
    with pytest.raises(ClientError) as exc:
        lf.list_permissions(NextToken="forged")
    assert _code(exc) == "InvalidInputException"


def test_invalid_grants_answer_aws_codes(client: ClientFactory, catalog: None) -> None:
    lf = client("lakeformation")
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {
                "Principal": _principal(ANALYST),
                "Resource": {"Table": {"DatabaseName": "lf_shop", "Name": "missing"}},
                "Permissions": ["SELECT"],
            },
            "EntityNotFoundException",
        ),
        (
            {
                "Principal": _principal(ANALYST),
                "Resource": {"DataLocation": {"ResourceArn": "arn:aws:s3:::nowhere/x"}},
                "Permissions": ["DATA_LOCATION_ACCESS"],
            },
            "InvalidInputException",
        ),
        (
            {
                "Principal": _principal(ANALYST),
                "Resource": {
                    "TableWithColumns": {
                        "DatabaseName": "lf_shop",
                        "Name": "sales",
                        "ColumnWildcard": {"ExcludedColumnNames": ["price"]},
                    }
                },
                "Permissions": ["SELECT"],
                "PermissionsWithGrantOption": ["SELECT"],
            },
            "InvalidInputException",
        ),
        (
            {
                "Principal": _principal("not-a-principal"),
                "Resource": {"Database": {"Name": "lf_shop"}},
                "Permissions": ["DESCRIBE"],
            },
            "InvalidInputException",
        ),
        (
            {
                "Principal": _principal(ANALYST),
                "Resource": {"Database": {"Name": "lf_shop"}},
                "Permissions": ["SELECT"],
            },
            "InvalidInputException",
        ),
        (
            {
                "Principal": _principal(ANALYST),
                "Resource": {"Database": {"Name": "lf_shop"}, "Catalog": {}},
                "Permissions": ["DESCRIBE"],
            },
            "InvalidInputException",
        ),
    ]
    for request, code in cases:
        with pytest.raises(ClientError) as exc:
            lf.grant_permissions(**request)
        assert _code(exc) == code, (request, exc.value)


def test_batch_grant_reports_failures_per_entry(client: ClientFactory, catalog: None) -> None:
    lf = client("lakeformation")
    answer = lf.batch_grant_permissions(
        Entries=[
            {
                "Id": "1",
                "Principal": _principal(ANALYST),
                "Resource": {"Database": {"Name": "lf_shop"}},
                "Permissions": ["DESCRIBE"],
            },
            {
                "Id": "2",
                "Principal": _principal(ANALYST),
                "Resource": {"Database": {"Name": "no_such_db"}},
                "Permissions": ["DESCRIBE"],
            },
        ]
    )
    assert [(f["RequestEntry"]["Id"], f["Error"]["ErrorCode"]) for f in answer["Failures"]] == [
        ("2", "EntityNotFoundException")
    ]
    answer = lf.batch_revoke_permissions(
        Entries=[
            {
                "Id": "1",
                "Principal": _principal(ANALYST),
                "Resource": {"Database": {"Name": "lf_shop"}},
                "Permissions": ["DESCRIBE"],
            }
        ]
    )
    assert answer["Failures"] == []


def test_only_admins_and_grant_holders_grant(
    client: ClientFactory, lake: Lakehouse, catalog: None
) -> None:
    nobody = client("lakeformation", *_user(lake, "lf-nobody", None))
    with pytest.raises(ClientError) as exc:
        nobody.get_data_lake_settings()
    assert _code(exc) == "AccessDeniedException"  # IAM: no lakeformation:* at all
    iam_only = client("lakeformation", *_user(lake, "lf-iam-only", LF_ALL))
    request = {
        "Principal": _principal(ANALYST),
        "Resource": {"Table": {"DatabaseName": "lf_shop", "Name": "sales"}},
        "Permissions": ["SELECT"],
    }
    with pytest.raises(ClientError) as exc:
        iam_only.grant_permissions(**request)
    assert _code(exc) == "AccessDeniedException"  # Lake Formation: not an admin
    with pytest.raises(ClientError) as exc:
        iam_only.put_data_lake_settings(
            DataLakeSettings={
                "DataLakeAdmins": [_principal(f"arn:aws:iam::{ACCOUNT}:user/lf-iam-only")]
            }
        )
    assert _code(exc) == "AccessDeniedException"
    # given the grant option by an admin, it may grant onwards
    client("lakeformation").grant_permissions(
        Principal=_principal(f"arn:aws:iam::{ACCOUNT}:user/lf-iam-only"),
        Resource=request["Resource"],
        Permissions=["SELECT"],
        PermissionsWithGrantOption=["SELECT"],
    )
    iam_only.grant_permissions(**request)


def test_registered_locations(client: ClientFactory) -> None:
    lf = client("lakeformation")
    arn = "arn:aws:s3:::lf-bucket/shop"
    lf.register_resource(ResourceArn=arn, UseServiceLinkedRole=True)
    info = lf.describe_resource(ResourceArn=arn)["ResourceInfo"]
    assert (
        info["ResourceArn"] == arn and "AWSServiceRoleForLakeFormationDataAccess" in info["RoleArn"]
    )
    with pytest.raises(ClientError) as exc:
        lf.register_resource(ResourceArn=arn, UseServiceLinkedRole=True)
    assert _code(exc) == "AlreadyExistsException"
    role = f"arn:aws:iam::{ACCOUNT}:role/LakeFormationRole"
    lf.update_resource(ResourceArn=arn, RoleArn=role, HybridAccessEnabled=True)
    listed = lf.list_resources()["ResourceInfoList"]
    assert [(r["ResourceArn"], r["RoleArn"], r["HybridAccessEnabled"]) for r in listed] == [
        (arn, role, True)
    ]
    lf.grant_permissions(
        Principal=_principal(LEADER),
        Resource={"DataLocation": {"ResourceArn": arn}},
        Permissions=["DATA_LOCATION_ACCESS"],
    )
    found = lf.get_effective_permissions_for_path(ResourceArn=arn)["Permissions"]
    assert any(p["Principal"] == _principal(LEADER) for p in found)
    with pytest.raises(ClientError) as exc:
        lf.register_resource(
            ResourceArn="arn:aws:s3:::lakebox-query-results", UseServiceLinkedRole=True
        )
    assert _code(exc) == "InvalidInputException"
    with pytest.raises(ClientError) as exc:
        lf.register_resource(ResourceArn="s3://lf-bucket/x", UseServiceLinkedRole=True)
    assert _code(exc) == "InvalidInputException"
    lf.deregister_resource(ResourceArn=arn)
    with pytest.raises(ClientError) as exc:
        lf.describe_resource(ResourceArn=arn)
    assert _code(exc) == "EntityNotFoundException"


def test_lf_tags_on_resources(client: ClientFactory, catalog: None) -> None:
    lf = client("lakeformation")
    lf.create_lf_tag(TagKey="role", TagValues=["analyst", "leader"])
    assert lf.get_lf_tag(TagKey="role")["TagValues"] == ["analyst", "leader"]
    lf.update_lf_tag(TagKey="role", TagValuesToAdd=["admin"])
    assert "admin" in lf.get_lf_tag(TagKey="role")["TagValues"]
    assert "role" in [t["TagKey"] for t in lf.list_lf_tags()["LFTags"]]
    with pytest.raises(ClientError) as exc:
        lf.create_lf_tag(TagKey="role", TagValues=["x"])
    assert _code(exc) == "AlreadyExistsException"
    answer = lf.add_lf_tags_to_resource(
        Resource={"Database": {"Name": "lf_shop"}},
        LFTags=[{"TagKey": "role", "TagValues": ["leader"]}],
    )
    assert answer["Failures"] == []
    answer = lf.add_lf_tags_to_resource(
        Resource={
            "TableWithColumns": {
                "DatabaseName": "lf_shop",
                "Name": "sales",
                "ColumnNames": ["price"],
            }
        },
        LFTags=[{"TagKey": "role", "TagValues": ["analyst"]}],
    )
    assert answer["Failures"] == []
    bad = lf.add_lf_tags_to_resource(
        Resource={"Table": {"DatabaseName": "lf_shop", "Name": "sales"}},
        LFTags=[{"TagKey": "role", "TagValues": ["nope"]}],
    )
    assert bad["Failures"][0]["Error"]["ErrorCode"] == "InvalidInputException"
    tags = lf.get_resource_lf_tags(Resource={"Table": {"DatabaseName": "lf_shop", "Name": "sales"}})
    assert tags["LFTagOnDatabase"][0]["TagValues"] == ["leader"]
    assert tags["LFTagsOnTable"][0]["TagValues"] == ["leader"]  # inherited
    by_column = {c["Name"]: c["LFTags"][0]["TagValues"] for c in tags["LFTagsOnColumns"]}
    assert by_column == {"shop_id": ["leader"], "price": ["analyst"], "region": ["leader"]}
    found = lf.search_tables_by_lf_tags(Expression=[{"TagKey": "role", "TagValues": ["analyst"]}])
    assert [t["Table"]["Name"] for t in found["TableList"]] == ["sales"]
    found = lf.search_databases_by_lf_tags(Expression=[{"TagKey": "role", "TagValues": ["leader"]}])
    assert [d["Database"]["Name"] for d in found["DatabaseList"]] == ["lf_shop"]
    lf.remove_lf_tags_from_resource(
        Resource={"Database": {"Name": "lf_shop"}},
        LFTags=[{"TagKey": "role", "TagValues": ["leader"]}],
    )
    with pytest.raises(ClientError) as exc:
        lf.update_lf_tag(TagKey="role", TagValuesToDelete=["analyst"])
    assert _code(exc) == "InvalidInputException"  # still on the price column
    with pytest.raises(ClientError) as exc:
        lf.get_lf_tag(TagKey="missing")
    assert _code(exc) == "EntityNotFoundException"


def test_data_cells_filters(client: ClientFactory, catalog: None) -> None:
    lf = client("lakeformation")
    data = {
        "TableCatalogId": ACCOUNT,
        "DatabaseName": "lf_shop",
        "TableName": "sales",
        "Name": "west_only",
        "RowFilter": {"FilterExpression": "region = 'west'"},
        "ColumnWildcard": {"ExcludedColumnNames": ["price"]},
    }
    lf.create_data_cells_filter(TableData=data)
    got = lf.get_data_cells_filter(
        TableCatalogId=ACCOUNT, DatabaseName="lf_shop", TableName="sales", Name="west_only"
    )["DataCellsFilter"]
    assert got["RowFilter"] == {"FilterExpression": "region = 'west'"}
    assert got["ColumnWildcard"] == {"ExcludedColumnNames": ["price"]}
    with pytest.raises(ClientError) as exc:
        lf.create_data_cells_filter(TableData=data)
    assert _code(exc) == "AlreadyExistsException"
    lf.update_data_cells_filter(TableData={**data, "RowFilter": {"AllRowsWildcard": {}}})
    listed = lf.list_data_cells_filter(Table={"DatabaseName": "lf_shop", "Name": "sales"})
    assert [f["RowFilter"] for f in listed["DataCellsFilters"]] == [{"AllRowsWildcard": {}}]
    lf.grant_permissions(
        Principal=_principal(ANALYST),
        Resource={
            "DataCellsFilter": {
                "TableCatalogId": ACCOUNT,
                "DatabaseName": "lf_shop",
                "TableName": "sales",
                "Name": "west_only",
            }
        },
        Permissions=["SELECT"],
    )
    for bad in ("sleep(10) > 0", "(SELECT 1) = 1", "no_column = 1"):
        with pytest.raises(ClientError) as exc:
            lf.create_data_cells_filter(
                TableData={**data, "Name": "bad", "RowFilter": {"FilterExpression": bad}}
            )
        assert _code(exc) == "InvalidInputException", bad
    lf.delete_data_cells_filter(
        TableCatalogId=ACCOUNT, DatabaseName="lf_shop", TableName="sales", Name="west_only"
    )
    with pytest.raises(ClientError) as exc:
        lf.get_data_cells_filter(
            TableCatalogId=ACCOUNT, DatabaseName="lf_shop", TableName="sales", Name="west_only"
        )
    assert _code(exc) == "EntityNotFoundException"


def test_aws_cli_lakeformation(served: Served) -> None:
    proc = aws_cli(served, "lakeformation", "get-data-lake-settings")
    assert proc.returncode == 0, proc.stderr
    assert "DataLakeSettings" in json.loads(proc.stdout)


def test_changes_and_refusals_are_in_the_access_log(
    client: ClientFactory, lake: Lakehouse, catalog: None
) -> None:
    refused = client(
        "lakeformation",
        *_user(lake, "lf-audited", {**LF_ALL}),
    )
    with pytest.raises(ClientError):
        refused.grant_permissions(
            Principal=_principal(ANALYST),
            Resource={"Database": {"Name": "lf_shop"}},
            Permissions=["DESCRIBE"],
        )
    client("lakeformation").grant_permissions(
        Principal=_principal(ANALYST),
        Resource={"Database": {"Name": "lf_shop"}},
        Permissions=["DESCRIBE"],
    )
    rows = (
        lake.session()
        .sql(
            "SELECT principal, allowed FROM lakebox_audit.access_log "
            "WHERE action = 'lakeformation:GrantPermissions' AND resource LIKE '%lf_shop%'"
        )
        .fetchall()
    )
    assert (f"arn:aws:iam::{ACCOUNT}:user/lf-audited", False) in rows
    assert any(allowed for _, allowed in rows)


def test_hybrid_access_opt_ins(client: ClientFactory, catalog: None) -> None:
    lf = client("lakeformation")
    table = {"Table": {"DatabaseName": "lf_shop", "Name": "sales"}}
    lf.create_lake_formation_opt_in(Principal=_principal(ANALYST), Resource=table)
    listed = lf.list_lake_formation_opt_ins(Principal=_principal(ANALYST))
    assert [i["Resource"]["Table"]["Name"] for i in listed["LakeFormationOptInsInfoList"]] == [
        "sales"
    ]
    lf.delete_lake_formation_opt_in(Principal=_principal(ANALYST), Resource=table)
    with pytest.raises(ClientError) as exc:
        lf.delete_lake_formation_opt_in(Principal=_principal(ANALYST), Resource=table)
    assert _code(exc) == "EntityNotFoundException"
    with pytest.raises(ClientError) as exc:
        lf.create_lake_formation_opt_in(Principal=_principal(ANALYST), Resource={"Catalog": {}})
    assert _code(exc) == "InvalidInputException"
