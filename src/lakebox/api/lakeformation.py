"""Lake Formation's API (REST-JSON) over ``lakebox.governance``: permissions (Grant,
Revoke, their Batch forms, ListPermissions, GetEffectivePermissionsForPath), registered
locations (Register, Deregister, Describe, List, UpdateResource), data lake settings,
LF-tags (Create, Get, Update, Delete, List, Add / Remove / Get on resources, Search) and
data cells filters (Create, Get, Update, Delete, List).

Each operation is authorized as ``lakeformation:<Operation>`` on ``*`` (Lake Formation's
actions name no resource), then by Lake Formation's own rules in the service: only data
lake admins, or holders of the grant option, grant; only admins register locations and
change the settings. Every change (and every change Lake Formation refuses) is kept in
the access log, ``lakebox_audit.access_log``. Errors are Lake Formation's codes (``InvalidInputException``,
``EntityNotFoundException``, ``AlreadyExistsException``, ``AccessDeniedException``).
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any, Protocol

from lakebox import util
from lakebox.api.base import ApiContext, AwsError, Request, Response, ServiceApi, operations
from lakebox.errors import (
    AlreadyExistsError,
    EntityNotFoundError,
    InvalidRequestError,
    LakeboxError,
)
from lakebox.governance.errors import AccessDeniedLF, InvalidInput, LakeFormationError
from lakebox.governance.model import (
    RESOURCE_TYPES,
    DataCellsFilter,
    DataLakeSettings,
    Grant,
    Registration,
    Resource,
    check_catalog,
    check_expression,
    check_location_arn,
    check_name,
    check_permissions,
    check_principal,
    check_tag_key,
    check_tag_values,
)
from lakebox.iam.errors import AccessDenied

if TYPE_CHECKING:
    from lakebox.governance.service import LakeFormationService

INVALID = "InvalidInputException"


class LakeFormationContext(ApiContext, Protocol):
    @property
    def lakeformation(self) -> LakeFormationService: ...


def error_code(exc: LakeboxError) -> str:
    if isinstance(exc, LakeFormationError):
        return exc.code
    if isinstance(exc, AccessDenied):
        return "AccessDeniedException"
    if isinstance(exc, EntityNotFoundError):
        return "EntityNotFoundException"
    if isinstance(exc, AlreadyExistsError):
        return "AlreadyExistsException"
    if isinstance(exc, InvalidRequestError):
        return INVALID
    return "InternalServiceException"


def _lf(context: Any) -> LakeFormationService:
    service: LakeFormationService = context.lakeformation
    return service


def _catalog(request: Request, context: Any, member: str = "CatalogId") -> str:
    return check_catalog(request.get(member), _lf(context).account_id, member)


def _resource(value: Any, context: Any, where: str = "Resource") -> Resource:
    return Resource.from_aws(value, _lf(context).account_id, where)


def _page(request: Request, items: list[Any], key: str, limit: int = 1000) -> Response:
    size = request.get("MaxResults")
    if size is None:
        size = 100
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= limit:
        raise AwsError(INVALID, f"MaxResults must be an integer from 1 to {limit}")
    start = util.page_offset(request.get("NextToken"))
    if start is None:
        raise AwsError(INVALID, "NextToken is not a token lakebox gave")
    out: Response = {key: items[start : start + size]}
    if start + size < len(items):
        out["NextToken"] = util.page_token(start + size)
    return out


def _grant_entry(
    value: Any, context: Any, where: str
) -> tuple[str, Resource, list[str], list[str]]:
    """The members of one grant; ``where`` prefixes the member names in messages (the
    entry of a batch: ``Entries[2]``; nothing for a request's own members)."""
    at = f"{where}." if where else ""
    if not isinstance(value, dict):
        raise InvalidInput(f"{where or 'the request'} must be an object")
    if value.get("Condition"):
        raise InvalidInput(f"{at}Condition: lakebox does not support grant conditions")
    principal = check_principal(value.get("Principal"), f"{at}Principal")
    resource = _resource(value.get("Resource"), context, f"{at}Resource")
    perms = list(check_permissions(value.get("Permissions"), f"{at}Permissions"))
    grantable = list(
        check_permissions(
            value.get("PermissionsWithGrantOption"), f"{at}PermissionsWithGrantOption"
        )
    )
    return principal, resource, perms, grantable


def grant_permissions(request: Request, context: LakeFormationContext) -> Response:
    _catalog(request, context)
    principal, resource, perms, grantable = _grant_entry(request, context, "")
    if not perms:
        raise InvalidInput("Permissions must name at least one permission")
    _lf(context).grant(context.principal, principal, resource, perms, grantable)
    return {}


def revoke_permissions(request: Request, context: LakeFormationContext) -> Response:
    _catalog(request, context)
    principal, resource, perms, grantable = _grant_entry(request, context, "")
    if not perms and not grantable:
        raise InvalidInput("Permissions must name at least one permission")
    _lf(context).revoke(context.principal, principal, resource, perms, grantable)
    return {}


def _batch(request: Request, context: Any, *, revoke: bool) -> Response:
    _catalog(request, context)
    entries = request.get("Entries")
    if not isinstance(entries, list) or not entries or len(entries) > 20:
        raise InvalidInput("Entries must be a list of 1 to 20 entries")
    parsed: list[Any] = []
    for i, entry in enumerate(entries):
        try:
            if not isinstance(entry, dict) or not isinstance(entry.get("Id"), str):
                raise InvalidInput(f"Entries[{i}].Id is required")
            parsed.append(_grant_entry(entry, context, f"Entries[{i}]"))
        except LakeFormationError as err:
            parsed.append(err)
    failures = _lf(context).batch(context.principal, parsed, revoke=revoke)
    return {
        "Failures": [
            {
                "RequestEntry": entries[f.index] if isinstance(entries[f.index], dict) else {},
                "Error": {"ErrorCode": f.code, "ErrorMessage": f.message},
            }
            for f in failures
        ]
    }


def batch_grant_permissions(request: Request, context: LakeFormationContext) -> Response:
    return _batch(request, context, revoke=False)


def batch_revoke_permissions(request: Request, context: LakeFormationContext) -> Response:
    return _batch(request, context, revoke=True)


def _grant_out(grant: Grant) -> Response:
    out: Response = {
        "Principal": {"DataLakePrincipalIdentifier": grant.principal},
        "Resource": grant.resource.to_aws(),
        "Permissions": list(grant.permissions),
        "PermissionsWithGrantOption": list(grant.grantable),
    }
    if grant.updated:
        out["LastUpdated"] = grant.updated
    if grant.updated_by:
        out["LastUpdatedBy"] = grant.updated_by
    return out


def list_permissions(request: Request, context: LakeFormationContext) -> Response:
    _catalog(request, context)
    principal = None
    if request.get("Principal") is not None:
        principal = check_principal(request.get("Principal"))
    rtype = request.get("ResourceType")
    kinds = None
    if rtype is not None:
        if rtype not in RESOURCE_TYPES:
            raise InvalidInput(
                f"ResourceType {str(rtype)[:40]!r} is not one of {', '.join(RESOURCE_TYPES)}"
            )
        kinds = RESOURCE_TYPES[rtype]
    resource = None
    if request.get("Resource") is not None:
        resource = _resource(request.get("Resource"), context)
    if principal is not None and resource is None:
        raise InvalidInput("Resource is required when Principal is given")
    grants = _lf(context).list_permissions(
        context.principal,
        principal=principal,
        kinds=kinds,
        resource=resource,
        resource_type=rtype,
    )
    return _page(request, [_grant_out(g) for g in grants], "PrincipalResourcePermissions")


def get_effective_permissions_for_path(request: Request, context: LakeFormationContext) -> Response:
    _catalog(request, context)
    arn = check_location_arn(request.get("ResourceArn"))
    grants = _lf(context).effective_permissions_for_path(context.principal, arn)
    return _page(request, [_grant_out(g) for g in grants], "Permissions")


# -- locations ------------------------------------------------------------------------------


def _flag(request: Request, name: str) -> bool:
    value = request.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidInput(f"{name} must be true or false")
    return value


def register_resource(request: Request, context: LakeFormationContext) -> Response:
    for unsupported in ("WithPrivilegedAccess", "ExpectedResourceOwnerAccount"):
        if request.get(unsupported):
            raise InvalidInput(f"{unsupported}: lakebox does not support it")
    _lf(context).register(
        context.principal,
        check_location_arn(request.get("ResourceArn")),
        role_arn=request.get("RoleArn"),
        use_service_linked_role=_flag(request, "UseServiceLinkedRole"),
        hybrid_access=_flag(request, "HybridAccessEnabled"),
        with_federation=_flag(request, "WithFederation"),
    )
    return {}


def deregister_resource(request: Request, context: LakeFormationContext) -> Response:
    _lf(context).deregister(context.principal, check_location_arn(request.get("ResourceArn")))
    return {}


def _resource_info(reg: Registration) -> Response:
    return {
        "ResourceArn": reg.resource_arn,
        "RoleArn": reg.role_arn,
        "LastModified": reg.last_modified,
        "WithFederation": reg.with_federation,
        "HybridAccessEnabled": reg.hybrid_access,
    }


def describe_resource(request: Request, context: LakeFormationContext) -> Response:
    reg = _lf(context).describe_resource(check_location_arn(request.get("ResourceArn")))
    return {"ResourceInfo": _resource_info(reg)}


def list_resources(request: Request, context: LakeFormationContext) -> Response:
    conditions = request.get("FilterConditionList") or []
    regs = _lf(context).list_resources()
    for i, cond in enumerate(conditions):
        if not isinstance(cond, dict):
            raise InvalidInput(f"FilterConditionList[{i}] must be an object")
        field, op, values = (
            cond.get("Field"),
            cond.get("ComparisonOperator"),
            cond.get("StringValueList") or [],
        )
        if field not in ("RESOURCE_ARN", "ROLE_ARN"):
            raise InvalidInput(
                f"FilterConditionList[{i}].Field: lakebox filters on RESOURCE_ARN and ROLE_ARN"
            )
        if op not in ("EQ", "CONTAINS", "BEGINS_WITH"):
            raise InvalidInput(
                f"FilterConditionList[{i}].ComparisonOperator must be EQ, CONTAINS or BEGINS_WITH"
            )

        def keep(reg: Registration, field: Any = field, op: Any = op, values: Any = values) -> bool:
            text = reg.resource_arn if field == "RESOURCE_ARN" else reg.role_arn
            if op == "EQ":
                return text in values
            if op == "CONTAINS":
                return any(v in text for v in values)
            return any(text.startswith(v) for v in values)

        regs = [r for r in regs if keep(r)]
    return _page(request, [_resource_info(r) for r in regs], "ResourceInfoList")


def update_resource(request: Request, context: LakeFormationContext) -> Response:
    if not isinstance(request.get("RoleArn"), str):
        raise InvalidInput("RoleArn is required")
    hybrid = request.get("HybridAccessEnabled")
    federation = request.get("WithFederation")
    _lf(context).update_registration(
        context.principal,
        check_location_arn(request.get("ResourceArn")),
        role_arn=request["RoleArn"],
        hybrid_access=_flag(request, "HybridAccessEnabled") if hybrid is not None else None,
        with_federation=_flag(request, "WithFederation") if federation is not None else None,
    )
    return {}


def _opt_in_target(request: Request, context: Any) -> tuple[str, str, str]:
    if request.get("Condition"):
        raise InvalidInput("Condition: lakebox does not support opt-in conditions")
    principal = check_principal(request.get("Principal"))
    resource = _resource(request.get("Resource"), context)
    if resource.kind == "DATABASE":
        return principal, resource.database, "*"
    if resource.kind == "TABLE":
        return principal, resource.database, resource.table
    raise InvalidInput("Resource: hybrid access opt-ins name a Database or a Table")


def create_lake_formation_opt_in(request: Request, context: LakeFormationContext) -> Response:
    principal, db, table = _opt_in_target(request, context)
    _lf(context).opt_in(context.principal, principal, db, table)
    return {}


def delete_lake_formation_opt_in(request: Request, context: LakeFormationContext) -> Response:
    principal, db, table = _opt_in_target(request, context)
    _lf(context).opt_out(context.principal, principal, db, table)
    return {}


def list_lake_formation_opt_ins(request: Request, context: LakeFormationContext) -> Response:
    lf = _lf(context)
    wanted = check_principal(request["Principal"]) if request.get("Principal") else None
    items = []
    for principal, db, table in sorted(lf.policy().state.opt_ins):
        if wanted is not None and principal != wanted:
            continue
        resource = (
            {"Database": {"CatalogId": lf.account_id, "Name": db}}
            if table == "*"
            else {"Table": {"CatalogId": lf.account_id, "DatabaseName": db, "Name": table}}
        )
        items.append(
            {"Resource": resource, "Principal": {"DataLakePrincipalIdentifier": principal}}
        )
    return _page(request, items, "LakeFormationOptInsInfoList")


# -- settings -------------------------------------------------------------------------------


def put_data_lake_settings(request: Request, context: LakeFormationContext) -> Response:
    _catalog(request, context)
    settings = DataLakeSettings.from_aws(request.get("DataLakeSettings"))
    _lf(context).put_settings(context.principal, settings)
    return {}


def get_data_lake_settings(request: Request, context: LakeFormationContext) -> Response:
    _catalog(request, context)
    return {"DataLakeSettings": _lf(context).get_settings().to_aws()}


# -- LF-tags --------------------------------------------------------------------------------


def _tag_out(context: Any, key: str, values: Any) -> Response:
    return {"CatalogId": _lf(context).account_id, "TagKey": key, "TagValues": list(values)}


def create_lf_tag(request: Request, context: LakeFormationContext) -> Response:
    _catalog(request, context)
    key = check_tag_key(request.get("TagKey"))
    values = check_tag_values(request.get("TagValues"))
    _lf(context).create_tag(context.principal, key, values)
    return {}


def get_lf_tag(request: Request, context: LakeFormationContext) -> Response:
    _catalog(request, context)
    tag = _lf(context).get_tag(check_tag_key(request.get("TagKey")), context.principal)
    return _tag_out(context, tag.key, tag.values)


def update_lf_tag(request: Request, context: LakeFormationContext) -> Response:
    _catalog(request, context)
    add = request.get("TagValuesToAdd")
    delete = request.get("TagValuesToDelete")
    _lf(context).update_tag(
        context.principal,
        check_tag_key(request.get("TagKey")),
        add=check_tag_values(add, "TagValuesToAdd") if add else (),
        delete=check_tag_values(delete, "TagValuesToDelete") if delete else (),
    )
    return {}


def delete_lf_tag(request: Request, context: LakeFormationContext) -> Response:
    _catalog(request, context)
    _lf(context).delete_tag(context.principal, check_tag_key(request.get("TagKey")))
    return {}


def list_lf_tags(request: Request, context: LakeFormationContext) -> Response:
    _catalog(request, context)
    share = request.get("ResourceShareType")
    if share not in (None, "ALL", "FOREIGN"):
        raise InvalidInput("ResourceShareType must be ALL or FOREIGN")
    tags = [] if share == "FOREIGN" else _lf(context).list_tags(context.principal)
    return _page(request, [_tag_out(context, t.key, t.values) for t in tags], "LFTags")


def _pairs(request: Request) -> list[tuple[str, list[str]]]:
    items = request.get("LFTags")
    if not isinstance(items, list) or not items or len(items) > 50:
        raise InvalidInput("LFTags must be a list of 1 to 50 {TagKey, TagValues} pairs")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidInput(f"LFTags[{i}] must be an object")
        values = item.get("TagValues")
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise InvalidInput(f"LFTags[{i}].TagValues must be a list of strings")
        out.append((check_tag_key(item.get("TagKey"), f"LFTags[{i}].TagKey"), values))
    return out


def _tag_failures(context: Any, failures: list[Any]) -> Response:
    return {
        "Failures": [
            {
                "LFTag": _tag_out(context, str(key), values),
                "Error": {"ErrorCode": code, "ErrorMessage": message},
            }
            for key, values, code, message in failures
        ]
    }


def add_lf_tags_to_resource(request: Request, context: LakeFormationContext) -> Response:
    _catalog(request, context)
    resource = _resource(request.get("Resource"), context)
    failures = _lf(context).add_tags(context.principal, resource, _pairs(request))
    return _tag_failures(context, failures)


def remove_lf_tags_from_resource(request: Request, context: LakeFormationContext) -> Response:
    _catalog(request, context)
    resource = _resource(request.get("Resource"), context)
    failures = _lf(context).remove_tags(context.principal, resource, _pairs(request))
    return _tag_failures(context, failures)


def _tag_list(context: Any, pairs: list[tuple[str, str]]) -> list[Response]:
    return [_tag_out(context, k, [v]) for k, v in pairs]


def get_resource_lf_tags(request: Request, context: LakeFormationContext) -> Response:
    _catalog(request, context)
    resource = _resource(request.get("Resource"), context)
    lf = _lf(context)
    if resource.kind in ("TABLE", "TABLE_WITH_COLUMNS", "DATABASE") and not lf.is_admin(
        context.principal
    ):
        db = resource.database
        if resource.kind == "DATABASE":
            perms = lf.database_permissions(context.principal, db)
            if not perms and not lf.can_see_database(context.principal, db):
                raise AccessDenied(f"Insufficient Lake Formation permission(s) on {db}")
        elif lf.catalog.table_exists(db, resource.table) and not lf.can_see_table(
            context.principal, lf.catalog.get_table(db, resource.table)
        ):
            raise AccessDenied(
                f"Insufficient Lake Formation permission(s) on {db}.{resource.table}"
            )
    found = lf.resource_tags(resource)
    out: Response = {"LFTagOnDatabase": _tag_list(context, found.database)}
    if resource.kind != "DATABASE":
        out["LFTagsOnTable"] = _tag_list(context, found.table)
        out["LFTagsOnColumns"] = [
            {"Name": col, "LFTags": _tag_list(context, tags)} for col, tags in found.columns.items()
        ]
    return out


def search_tables_by_lf_tags(request: Request, context: LakeFormationContext) -> Response:
    _catalog(request, context)
    expression = check_expression(request.get("Expression"))
    lf = _lf(context)
    found = lf.search_tables(context.principal, expression)
    policy = lf.policy()
    items = [
        {
            "Table": {
                "CatalogId": lf.account_id,
                "DatabaseName": table.database,
                "Name": table.name,
            },
            "LFTagOnDatabase": _tag_list(
                context, sorted(policy.tags_of_database(table.database.lower()).items())
            ),
            "LFTagsOnTable": _tag_list(
                context,
                sorted(policy.tags_of_table(table.database.lower(), table.name.lower()).items()),
            ),
            "LFTagsOnColumns": [
                {"Name": col, "LFTags": _tag_list(context, tags)} for col, tags in columns.items()
            ],
        }
        for table, columns in found
    ]
    return _page(request, items, "TableList")


def search_databases_by_lf_tags(request: Request, context: LakeFormationContext) -> Response:
    _catalog(request, context)
    expression = check_expression(request.get("Expression"))
    lf = _lf(context)
    policy = lf.policy()
    items = [
        {
            "Database": {"CatalogId": lf.account_id, "Name": name},
            "LFTags": _tag_list(context, sorted(policy.tags_of_database(name.lower()).items())),
        }
        for name in lf.search_databases(context.principal, expression)
    ]
    return _page(request, items, "DatabaseList")


# -- data cells filters -----------------------------------------------------------------------


def create_data_cells_filter(request: Request, context: LakeFormationContext) -> Response:
    lf = _lf(context)
    f = DataCellsFilter.from_aws(request.get("TableData"), lf.account_id)
    lf.create_filter(context.principal, f)
    return {}


def update_data_cells_filter(request: Request, context: LakeFormationContext) -> Response:
    lf = _lf(context)
    f = DataCellsFilter.from_aws(request.get("TableData"), lf.account_id)
    lf.update_filter(context.principal, f)
    return {}


def _filter_key(request: Request, context: Any) -> tuple[str, str, str]:
    _catalog(request, context, "TableCatalogId")
    return (
        check_name(request.get("DatabaseName"), "DatabaseName"),
        check_name(request.get("TableName"), "TableName"),
        check_name(request.get("Name"), "Name"),
    )


def get_data_cells_filter(request: Request, context: LakeFormationContext) -> Response:
    db, tbl, name = _filter_key(request, context)
    lf = _lf(context)
    found = lf.get_filter(db, tbl, name)
    if not lf.may_see_filter(context.principal, found):
        raise AccessDeniedLF(
            f"Insufficient Lake Formation permission(s): {context.principal.arn} holds no "
            f"permission on the data cells filter {name}"
        )
    return {"DataCellsFilter": found.to_aws()}


def delete_data_cells_filter(request: Request, context: LakeFormationContext) -> Response:
    db, tbl, name = _filter_key(request, context)
    _lf(context).delete_filter(context.principal, db, tbl, name)
    return {}


def list_data_cells_filter(request: Request, context: LakeFormationContext) -> Response:
    table = request.get("Table")
    db = tbl = None
    if table is not None:
        if not isinstance(table, dict):
            raise InvalidInput("Table must be an object")
        _catalog(table, context)
        db = check_name(table.get("DatabaseName"), "Table.DatabaseName")
        if table.get("TableWildcard") is None:
            tbl = check_name(table.get("Name"), "Table.Name")
    filters = _lf(context).list_filters(db, tbl, context.principal)
    return _page(request, [f.to_aws() for f in filters], "DataCellsFilters", limit=1000)


#: the operations that change Lake Formation: each call is kept in the access log
_CHANGES = frozenset(
    {
        "GrantPermissions",
        "RevokePermissions",
        "BatchGrantPermissions",
        "BatchRevokePermissions",
        "RegisterResource",
        "DeregisterResource",
        "UpdateResource",
        "CreateLakeFormationOptIn",
        "DeleteLakeFormationOptIn",
        "PutDataLakeSettings",
        "CreateLFTag",
        "UpdateLFTag",
        "DeleteLFTag",
        "AddLFTagsToResource",
        "RemoveLFTagsFromResource",
        "CreateDataCellsFilter",
        "UpdateDataCellsFilter",
        "DeleteDataCellsFilter",
    }
)


def _subject(request: Request) -> str:
    """What a change was asked of, for the access log (the request's own members)."""
    parts = []
    principal = request.get("Principal")
    if isinstance(principal, dict):
        parts.append(str(principal.get("DataLakePrincipalIdentifier")))
    for name in ("Resource", "ResourceArn", "TagKey", "TableData", "Entries"):
        if request.get(name) is not None:
            parts.append(json.dumps(request[name], sort_keys=True, default=str)[:500])
    return " ".join(parts) or "catalog"


def _audited(name: str, handler: Any) -> Any:
    """``handler``, recording each call of a changing operation (allowed, or refused by
    Lake Formation's own rules) in the access log."""
    if name not in _CHANGES:
        return handler

    def run(request: Request, context: Any) -> Response:
        try:
            answer: Response = handler(request, context)
        except (AccessDeniedLF, AccessDenied):
            _lf(context).record(
                context.principal, f"lakeformation:{name}", _subject(request), False
            )
            raise
        _lf(context).record(context.principal, f"lakeformation:{name}", _subject(request), True)
        return answer

    return run


API = ServiceApi(
    "lakeformation",
    operations(
        ("GrantPermissions", grant_permissions),
        ("RevokePermissions", revoke_permissions),
        ("BatchGrantPermissions", batch_grant_permissions),
        ("BatchRevokePermissions", batch_revoke_permissions),
        ("ListPermissions", list_permissions),
        ("GetEffectivePermissionsForPath", get_effective_permissions_for_path),
        ("RegisterResource", register_resource),
        ("DeregisterResource", deregister_resource),
        ("DescribeResource", describe_resource),
        ("ListResources", list_resources),
        ("UpdateResource", update_resource),
        ("CreateLakeFormationOptIn", create_lake_formation_opt_in),
        ("DeleteLakeFormationOptIn", delete_lake_formation_opt_in),
        ("ListLakeFormationOptIns", list_lake_formation_opt_ins),
        ("PutDataLakeSettings", put_data_lake_settings),
        ("GetDataLakeSettings", get_data_lake_settings),
        ("CreateLFTag", create_lf_tag),
        ("GetLFTag", get_lf_tag),
        ("UpdateLFTag", update_lf_tag),
        ("DeleteLFTag", delete_lf_tag),
        ("ListLFTags", list_lf_tags),
        ("AddLFTagsToResource", add_lf_tags_to_resource),
        ("RemoveLFTagsFromResource", remove_lf_tags_from_resource),
        ("GetResourceLFTags", get_resource_lf_tags),
        ("SearchTablesByLFTags", search_tables_by_lf_tags),
        ("SearchDatabasesByLFTags", search_databases_by_lf_tags),
        ("CreateDataCellsFilter", create_data_cells_filter),
        ("GetDataCellsFilter", get_data_cells_filter),
        ("UpdateDataCellsFilter", update_data_cells_filter),
        ("DeleteDataCellsFilter", delete_data_cells_filter),
        ("ListDataCellsFilter", list_data_cells_filter),
    ),
    error_code,
    INVALID,
    prefix="lakeformation",
)
API = dataclasses.replace(
    API,
    operations={
        name: dataclasses.replace(op, handler=_audited(name, op.handler))
        for name, op in API.operations.items()
    },
)
