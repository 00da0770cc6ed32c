"""``lakebox lf ...``: Lake Formation for the lake, as its local administrator: data lake
settings, grants, registered locations, LF-tags and data cells filters.

Every command builds the Lake Formation API's request and answers it through the same
operation table the server does (``lakebox.api.lakeformation``), so a value the API
refuses is refused here with the same message. ``--json`` prints the API's answer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from lakebox.cli.support import GuardedGroup, guard, lakehouse, read_json_object

lf_app = typer.Typer(
    help="Lake Formation: settings, grants, locations, LF-tags and data cells filters.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=GuardedGroup,
)
settings_app = typer.Typer(
    help="Data lake settings: admins and default permissions.",
    no_args_is_help=True,
    cls=GuardedGroup,
)
tags_app = typer.Typer(
    help="LF-tags: keys with allowed values, assigned to resources.",
    no_args_is_help=True,
    cls=GuardedGroup,
)
filters_app = typer.Typer(
    help="Data cells filters: a row filter and a column list on a table.",
    no_args_is_help=True,
    cls=GuardedGroup,
)
lf_app.add_typer(settings_app, name="settings")
lf_app.add_typer(tags_app, name="tags")
lf_app.add_typer(filters_app, name="filters")

HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", envvar="LAKEBOX_HOME", help="Lake folder (default ./.lakebox)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the API's JSON answer.")]
DbOpt = Annotated[str | None, typer.Option("--database", "-d", help="Database name.")]
TableOpt = Annotated[str | None, typer.Option("--table", "-t", help="Table name.")]
ColumnsOpt = Annotated[
    str | None, typer.Option("--columns", help="Only these columns (comma-separated).")
]
ExcludeOpt = Annotated[
    str | None,
    typer.Option("--exclude-columns", help="Every column but these (comma-separated)."),
]


def _call(home: Path | None, operation: str, request: dict[str, Any]) -> dict[str, Any]:
    """Answer ``operation`` of Lake Formation's API as the lake's local administrator."""
    from lakebox.api import dispatch
    from lakebox.api.context import ServiceContext

    lake = guard(lambda: lakehouse(home, create=False))
    context = ServiceContext(
        account_id=lake.config.account_id,
        region=lake.config.region,
        provider=lambda name: getattr(lake, name),
    )
    return guard(lambda: dispatch("lakeformation", operation, request, context))


def _echo(doc: Any) -> None:
    typer.echo(json.dumps(doc, indent=2, default=str))


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _location(text: str) -> str:
    """``s3://bucket/prefix`` or ``arn:aws:s3:::bucket/prefix`` -> the ARN."""
    if text.startswith("s3://"):
        return "arn:aws:s3:::" + text[len("s3://") :].rstrip("/")
    return text


def _principal(text: str) -> dict[str, str]:
    return {"DataLakePrincipalIdentifier": text}


def _resource(
    *,
    catalog: bool,
    database: str | None,
    table: str | None,
    all_tables: bool,
    columns: str | None,
    exclude: str | None,
    filter_name: str | None,
    location: str | None,
    tag_key: str | None,
    tag_values: str | None,
    expression: list[str] | None,
    resource_type: str | None,
) -> dict[str, Any]:
    """The API's Resource from the command's options (the API checks that exactly one
    kind is named)."""
    if catalog:
        return {"Catalog": {}}
    if location:
        return {"DataLocation": {"ResourceArn": _location(location)}}
    if tag_key:
        return {"LFTag": {"TagKey": tag_key, "TagValues": _split(tag_values) or ["*"]}}
    if expression:
        return {
            "LFTagPolicy": {
                "ResourceType": (resource_type or "TABLE").upper(),
                "Expression": [_expression_item(e) for e in expression],
            }
        }
    if filter_name:
        return {
            "DataCellsFilter": {"DatabaseName": database, "TableName": table, "Name": filter_name}
        }
    if columns is not None or exclude is not None:
        twc: dict[str, Any] = {"DatabaseName": database, "Name": table}
        if columns is not None:
            twc["ColumnNames"] = _split(columns)
        else:
            twc["ColumnWildcard"] = {"ExcludedColumnNames": _split(exclude)}
        return {"TableWithColumns": twc}
    if table or all_tables:
        body: dict[str, Any] = {"DatabaseName": database}
        if all_tables:
            body["TableWildcard"] = {}
        else:
            body["Name"] = table
        return {"Table": body}
    if database:
        return {"Database": {"Name": database}}
    raise typer.BadParameter(
        "name a resource: --catalog, --database [--table | --all-tables] [--columns | "
        "--exclude-columns | --filter], --location, --tag-key or --tag-expression"
    )


def _expression_item(text: str) -> dict[str, Any]:
    key, sep, values = text.partition("=")
    if not sep or not key.strip():
        raise typer.BadParameter(f"a tag expression is KEY=VALUE[,VALUE...], not {text!r}")
    return {"TagKey": key.strip(), "TagValues": _split(values)}


CatalogOpt = Annotated[bool, typer.Option("--catalog", help="The catalog itself.")]
AllTablesOpt = Annotated[bool, typer.Option("--all-tables", help="Every table of --database.")]
FilterOpt = Annotated[str | None, typer.Option("--filter", help="A data cells filter's name.")]
LocationOpt = Annotated[str | None, typer.Option("--location", help="A registered S3 location.")]
TagKeyOpt = Annotated[str | None, typer.Option("--tag-key", help="An LF-tag key.")]
TagValuesOpt = Annotated[
    str | None, typer.Option("--tag-values", help="Values of --tag-key (default: *).")
]
ExpressionOpt = Annotated[
    list[str] | None,
    typer.Option("--tag-expression", help="KEY=V1,V2 (repeat: AND across keys)."),
]
ResourceTypeOpt = Annotated[
    str | None,
    typer.Option("--resource-type", help="DATABASE or TABLE, for --tag-expression."),
]
PermsOpt = Annotated[
    str,
    typer.Option("--permissions", "-p", help="Comma-separated: SELECT,DESCRIBE,ALL,..."),
]
GrantableOpt = Annotated[
    str | None,
    typer.Option("--grantable", help="Permissions the grantee may grant on (comma-separated)."),
]
PrincipalArg = Annotated[
    str,
    typer.Argument(
        metavar="PRINCIPAL",
        help="IAM user or role ARN, account id, or IAM_ALLOWED_PRINCIPALS.",
    ),
]


def _grant_or_revoke(
    operation: str,
    principal: str,
    permissions: str,
    grantable: str | None,
    resource: dict[str, Any],
    home: Path | None,
) -> None:
    request: dict[str, Any] = {
        "Principal": _principal(principal),
        "Resource": resource,
        "Permissions": _split(permissions),
    }
    if grantable:
        request["PermissionsWithGrantOption"] = _split(grantable)
    _call(home, operation, request)
    verb = "granted to" if operation == "GrantPermissions" else "revoked from"
    typer.echo(f"{', '.join(_split(permissions))} {verb} {principal}")


@lf_app.command("grant")
def grant(
    principal: PrincipalArg,
    permissions: PermsOpt,
    database: DbOpt = None,
    table: TableOpt = None,
    all_tables: AllTablesOpt = False,
    columns: ColumnsOpt = None,
    exclude_columns: ExcludeOpt = None,
    filter_name: FilterOpt = None,
    catalog: CatalogOpt = False,
    location: LocationOpt = None,
    tag_key: TagKeyOpt = None,
    tag_values: TagValuesOpt = None,
    tag_expression: ExpressionOpt = None,
    resource_type: ResourceTypeOpt = None,
    grantable: GrantableOpt = None,
    home: HomeOpt = None,
) -> None:
    """Grant permissions on a resource (GrantPermissions)."""
    resource = _resource(
        catalog=catalog,
        database=database,
        table=table,
        all_tables=all_tables,
        columns=columns,
        exclude=exclude_columns,
        filter_name=filter_name,
        location=location,
        tag_key=tag_key,
        tag_values=tag_values,
        expression=tag_expression,
        resource_type=resource_type,
    )
    _grant_or_revoke("GrantPermissions", principal, permissions, grantable, resource, home)


@lf_app.command("revoke")
def revoke(
    principal: PrincipalArg,
    permissions: PermsOpt,
    database: DbOpt = None,
    table: TableOpt = None,
    all_tables: AllTablesOpt = False,
    columns: ColumnsOpt = None,
    exclude_columns: ExcludeOpt = None,
    filter_name: FilterOpt = None,
    catalog: CatalogOpt = False,
    location: LocationOpt = None,
    tag_key: TagKeyOpt = None,
    tag_values: TagValuesOpt = None,
    tag_expression: ExpressionOpt = None,
    resource_type: ResourceTypeOpt = None,
    grantable: GrantableOpt = None,
    home: HomeOpt = None,
) -> None:
    """Revoke permissions on a resource (RevokePermissions)."""
    resource = _resource(
        catalog=catalog,
        database=database,
        table=table,
        all_tables=all_tables,
        columns=columns,
        exclude=exclude_columns,
        filter_name=filter_name,
        location=location,
        tag_key=tag_key,
        tag_values=tag_values,
        expression=tag_expression,
        resource_type=resource_type,
    )
    _grant_or_revoke("RevokePermissions", principal, permissions, grantable, resource, home)


def _describe(resource: dict[str, Any]) -> str:
    kind, body = next(iter(resource.items()))
    if kind == "Catalog":
        return "catalog"
    if kind == "Database":
        return f"database {body['Name']}"
    if kind == "Table":
        return f"table {body['DatabaseName']}.{body.get('Name', '*')}"
    if kind == "TableWithColumns":
        if "ColumnNames" in body:
            cols = ",".join(body["ColumnNames"])
        else:
            cols = "* except " + (",".join(body["ColumnWildcard"]["ExcludedColumnNames"]) or "-")
        return f"columns {body['DatabaseName']}.{body['Name']}({cols})"
    if kind == "DataLocation":
        return f"location {body['ResourceArn']}"
    if kind == "DataCellsFilter":
        return f"filter {body['DatabaseName']}.{body['TableName']}:{body['Name']}"
    if kind == "LFTag":
        return f"tag {body['TagKey']}={','.join(body['TagValues'])}"
    expr = " AND ".join(f"{e['TagKey']}={','.join(e['TagValues'])}" for e in body["Expression"])
    return f"{body['ResourceType'].lower()}s where {expr}"


@lf_app.command("list-permissions")
def list_permissions(
    principal: Annotated[
        str | None,
        typer.Option("--principal", help="Only this principal (with --database)."),
    ] = None,
    database: DbOpt = None,
    table: TableOpt = None,
    resource_type: Annotated[
        str | None,
        typer.Option("--resource-type", help="CATALOG, DATABASE, TABLE, DATA_LOCATION, ..."),
    ] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The grants (ListPermissions), of one principal or resource if asked."""
    request: dict[str, Any] = {"MaxResults": 1000}
    if principal:
        request["Principal"] = _principal(principal)
    if resource_type:
        request["ResourceType"] = resource_type.upper()
    if table:
        request["Resource"] = {"Table": {"DatabaseName": database, "Name": table}}
    elif database:
        request["Resource"] = {"Database": {"Name": database}}
    rows: list[dict[str, Any]] = []
    while True:
        page = _call(home, "ListPermissions", request)
        rows += page["PrincipalResourcePermissions"]
        if "NextToken" not in page:
            break
        request["NextToken"] = page["NextToken"]
    if as_json:
        _echo({"PrincipalResourcePermissions": rows})
        return
    for row in rows:
        grantable = row.get("PermissionsWithGrantOption") or []
        extra = f" (grantable: {','.join(grantable)})" if grantable else ""
        typer.echo(
            f"{row['Principal']['DataLakePrincipalIdentifier']}  "
            f"{','.join(row['Permissions'])}  {_describe(row['Resource'])}{extra}"
        )


# -- settings --------------------------------------------------------------------------------


@settings_app.command("get")
def settings_get(home: HomeOpt = None) -> None:
    """Print the data lake settings (GetDataLakeSettings) as JSON."""
    _echo(_call(home, "GetDataLakeSettings", {})["DataLakeSettings"])


@settings_app.command("put")
def settings_put(
    admin: Annotated[
        list[str] | None, typer.Option("--admin", help="A data lake admin's ARN (repeat).")
    ] = None,
    read_only_admin: Annotated[
        list[str] | None,
        typer.Option("--read-only-admin", help="A read-only admin's ARN (repeat)."),
    ] = None,
    no_iam_defaults: Annotated[
        bool,
        typer.Option(
            "--no-iam-defaults",
            help="Lake Formation decides for new databases and tables (no "
            "IAM_ALLOWED_PRINCIPALS grant).",
        ),
    ] = False,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="A DataLakeSettings JSON document instead of options."),
    ] = None,
    home: HomeOpt = None,
) -> None:
    """Replace the data lake settings (PutDataLakeSettings)."""
    if file is not None:
        doc = guard(lambda: read_json_object(file, "settings file"))
    else:
        defaults = (
            [
                {
                    "Principal": _principal("IAM_ALLOWED_PRINCIPALS"),
                    "Permissions": ["ALL"],
                }
            ]
            if not no_iam_defaults
            else []
        )
        doc = {
            "DataLakeAdmins": [_principal(a) for a in admin or []],
            "ReadOnlyAdmins": [_principal(a) for a in read_only_admin or []],
            "CreateDatabaseDefaultPermissions": defaults,
            "CreateTableDefaultPermissions": defaults,
        }
    _call(home, "PutDataLakeSettings", {"DataLakeSettings": doc})
    typer.echo("data lake settings saved")


# -- locations -------------------------------------------------------------------------------


@lf_app.command("register")
def register(
    location: Annotated[str, typer.Argument(help="s3://bucket/prefix or its ARN.")],
    role_arn: Annotated[
        str | None,
        typer.Option("--role-arn", help="The role that reads it (default: service role)."),
    ] = None,
    hybrid: Annotated[
        bool, typer.Option("--hybrid", help="Hybrid access mode (opted-in principals only).")
    ] = False,
    home: HomeOpt = None,
) -> None:
    """Put a location under Lake Formation (RegisterResource)."""
    request: dict[str, Any] = {"ResourceArn": _location(location), "HybridAccessEnabled": hybrid}
    if role_arn:
        request["RoleArn"] = role_arn
    else:
        request["UseServiceLinkedRole"] = True
    _call(home, "RegisterResource", request)
    typer.echo(f"registered {_location(location)}")


@lf_app.command("deregister")
def deregister(
    location: Annotated[str, typer.Argument(help="s3://bucket/prefix or its ARN.")],
    home: HomeOpt = None,
) -> None:
    """Take a location out of Lake Formation (DeregisterResource)."""
    _call(home, "DeregisterResource", {"ResourceArn": _location(location)})
    typer.echo(f"deregistered {_location(location)}")


@lf_app.command("list-resources")
def list_resources(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """The registered locations (ListResources)."""
    rows = _call(home, "ListResources", {"MaxResults": 1000})["ResourceInfoList"]
    if as_json:
        _echo({"ResourceInfoList": rows})
        return
    for row in rows:
        hybrid = "  hybrid" if row.get("HybridAccessEnabled") else ""
        typer.echo(f"{row['ResourceArn']}  {row['RoleArn']}{hybrid}")


# -- LF-tags ---------------------------------------------------------------------------------


@tags_app.command("create")
def tags_create(
    key: Annotated[str, typer.Argument(help="The tag key.")],
    values: Annotated[list[str], typer.Argument(help="Its allowed values.")],
    home: HomeOpt = None,
) -> None:
    """Create an LF-tag (CreateLFTag)."""
    _call(home, "CreateLFTag", {"TagKey": key, "TagValues": values})
    typer.echo(f"LF-tag {key} created")


@tags_app.command("list")
def tags_list(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """The LF-tags and their values (ListLFTags)."""
    rows = _call(home, "ListLFTags", {"MaxResults": 1000})["LFTags"]
    if as_json:
        _echo({"LFTags": rows})
        return
    for row in rows:
        typer.echo(f"{row['TagKey']}: {', '.join(row['TagValues'])}")


def _tag_resource(database: str | None, table: str | None, columns: str | None) -> dict[str, Any]:
    if not database:
        raise typer.BadParameter("name the resource with --database [--table [--columns]]")
    if columns:
        return {
            "TableWithColumns": {
                "DatabaseName": database,
                "Name": table,
                "ColumnNames": _split(columns),
            }
        }
    if table:
        return {"Table": {"DatabaseName": database, "Name": table}}
    return {"Database": {"Name": database}}


def _tag_failures(answer: dict[str, Any]) -> None:
    failures = answer.get("Failures") or []
    for failure in failures:
        typer.echo(f"error: {failure['Error']['ErrorMessage']}", err=True)
    if failures:
        raise typer.Exit(1)


@tags_app.command("assign")
def tags_assign(
    pairs: Annotated[list[str], typer.Argument(metavar="KEY=VALUE...", help="Tags to assign.")],
    database: DbOpt = None,
    table: TableOpt = None,
    columns: ColumnsOpt = None,
    home: HomeOpt = None,
) -> None:
    """Assign LF-tags to a database, table or columns (AddLFTagsToResource)."""
    tags = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise typer.BadParameter(f"give tags as KEY=VALUE, not {pair!r}")
        tags.append({"TagKey": key, "TagValues": [value]})
    answer = _call(
        home,
        "AddLFTagsToResource",
        {"Resource": _tag_resource(database, table, columns), "LFTags": tags},
    )
    _tag_failures(answer)
    typer.echo("LF-tags assigned")


@tags_app.command("remove")
def tags_remove(
    keys: Annotated[list[str], typer.Argument(metavar="KEY...", help="Tag keys to remove.")],
    database: DbOpt = None,
    table: TableOpt = None,
    columns: ColumnsOpt = None,
    home: HomeOpt = None,
) -> None:
    """Remove LF-tags from a database, table or columns (RemoveLFTagsFromResource)."""
    tags = [{"TagKey": key, "TagValues": []} for key in keys]
    answer = _call(
        home,
        "RemoveLFTagsFromResource",
        {"Resource": _tag_resource(database, table, columns), "LFTags": tags},
    )
    _tag_failures(answer)
    typer.echo("LF-tags removed")


# -- data cells filters ------------------------------------------------------------------------


@filters_app.command("create")
def filters_create(
    name: Annotated[str, typer.Argument(help="The filter's name.")],
    database: DbOpt = None,
    table: TableOpt = None,
    row_filter: Annotated[
        str | None,
        typer.Option("--row-filter", help="A WHERE condition, e.g. \"region = 'west'\"."),
    ] = None,
    columns: ColumnsOpt = None,
    exclude_columns: ExcludeOpt = None,
    home: HomeOpt = None,
) -> None:
    """Create a data cells filter (CreateDataCellsFilter); every row and column unless
    told otherwise."""
    data: dict[str, Any] = {
        "DatabaseName": database,
        "TableName": table,
        "Name": name,
        "RowFilter": {"FilterExpression": row_filter} if row_filter else {"AllRowsWildcard": {}},
    }
    if columns is not None:
        data["ColumnNames"] = _split(columns)
    else:
        data["ColumnWildcard"] = {"ExcludedColumnNames": _split(exclude_columns)}
    _call(home, "CreateDataCellsFilter", {"TableData": data})
    typer.echo(f"data cells filter {name} created")


@filters_app.command("list")
def filters_list(
    database: DbOpt = None, table: TableOpt = None, home: HomeOpt = None, as_json: JsonOpt = False
) -> None:
    """The data cells filters, of one table if asked (ListDataCellsFilter)."""
    request: dict[str, Any] = {"MaxResults": 1000}
    if database:
        request["Table"] = (
            {"DatabaseName": database, "Name": table}
            if table
            else {"DatabaseName": database, "TableWildcard": {}}
        )
    rows = _call(home, "ListDataCellsFilter", request)["DataCellsFilters"]
    if as_json:
        _echo({"DataCellsFilters": rows})
        return
    for row in rows:
        rows_text = row["RowFilter"].get("FilterExpression") or "all rows"
        if "ColumnNames" in row:
            cols = ",".join(row["ColumnNames"])
        else:
            excluded = row["ColumnWildcard"]["ExcludedColumnNames"]
            cols = "all columns" + (f" but {','.join(excluded)}" if excluded else "")
        typer.echo(f"{row['DatabaseName']}.{row['TableName']}:{row['Name']}  {rows_text}  {cols}")


@filters_app.command("delete")
def filters_delete(
    name: Annotated[str, typer.Argument(help="The filter's name.")],
    database: DbOpt = None,
    table: TableOpt = None,
    home: HomeOpt = None,
) -> None:
    """Delete a data cells filter (DeleteDataCellsFilter)."""
    _call(
        home,
        "DeleteDataCellsFilter",
        {"DatabaseName": database, "TableName": table, "Name": name},
    )
    typer.echo(f"data cells filter {name} deleted")
