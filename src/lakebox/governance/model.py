"""Lake Formation's entities, in AWS's terms: data lake settings, resources (the ten kinds
a grant can name), grants, registered locations, LF-tags and data cells filters.

Every value that comes from a request is checked here, once, with a message naming the
member that is wrong (``Resource.Table.Name``); the store and the evaluation take only
checked values. Names of databases, tables and columns are kept in lower case, as the
Glue catalog keeps them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from lakebox.governance.errors import InvalidInput

#: the principal that stands for "IAM alone decides" (``IAMAllowedPrincipals``)
IAM_ALLOWED_PRINCIPALS = "IAM_ALLOWED_PRINCIPALS"

ResourceKind = Literal[
    "CATALOG",
    "DATABASE",
    "TABLE",
    "TABLE_WITH_COLUMNS",
    "DATA_LOCATION",
    "DATA_CELLS_FILTER",
    "LF_TAG",
    "LF_TAG_POLICY",
]

#: ListPermissions' ResourceType values -> the kinds they select
RESOURCE_TYPES: dict[str, tuple[ResourceKind, ...]] = {
    "CATALOG": ("CATALOG",),
    "DATABASE": ("DATABASE",),
    "TABLE": ("TABLE", "TABLE_WITH_COLUMNS"),
    "DATA_LOCATION": ("DATA_LOCATION",),
    "LF_TAG": ("LF_TAG",),
    "LF_TAG_POLICY": ("LF_TAG_POLICY",),
    "LF_TAG_POLICY_DATABASE": ("LF_TAG_POLICY",),
    "LF_TAG_POLICY_TABLE": ("LF_TAG_POLICY",),
}

DATABASE_PERMISSIONS = frozenset({"ALTER", "CREATE_TABLE", "DESCRIBE", "DROP"})
TABLE_PERMISSIONS = frozenset({"ALTER", "DELETE", "DESCRIBE", "DROP", "INSERT", "SELECT"})
CATALOG_PERMISSIONS = frozenset({"CREATE_DATABASE", "CREATE_LF_TAG", "DESCRIBE"})
LF_TAG_PERMISSIONS = frozenset(
    {"ASSOCIATE", "DESCRIBE", "ALTER", "DROP", "GRANT_WITH_LF_TAG_EXPRESSION"}
)
#: every permission name of the API's Permission enum lakebox knows
KNOWN_PERMISSIONS = frozenset(
    {
        "ALL",
        "SELECT",
        "ALTER",
        "DROP",
        "DELETE",
        "INSERT",
        "DESCRIBE",
        "CREATE_DATABASE",
        "CREATE_TABLE",
        "DATA_LOCATION_ACCESS",
        "CREATE_LF_TAG",
        "ASSOCIATE",
        "GRANT_WITH_LF_TAG_EXPRESSION",
    }
)

#: permissions of the API's enum lakebox does not serve
_UNSUPPORTED_PERMISSIONS = frozenset({"CREATE_LF_TAG_EXPRESSION", "CREATE_CATALOG", "SUPER_USER"})

#: most data cells filters one principal may hold on one table
MAX_FILTERS_PER_TABLE = 10
#: most LF-tags on one resource
MAX_TAGS_PER_RESOURCE = 50
#: most values of one LF-tag key
MAX_TAG_VALUES = 1000
#: most values one call gives (CreateLFTag, UpdateLFTag, an expression)
MAX_TAG_VALUES_PER_CALL = 50

_NAME = re.compile(r"^[\u0020-\uD7FF\uE000-\uFFFD\t]{1,255}$")
_TAG_KEY = re.compile(r"^[\w .:/=+\-@%]{1,128}$", re.UNICODE)
_TAG_VALUE = re.compile(r"^[\w .:*/=+\-@%]{1,256}$", re.UNICODE)
_ACCOUNT = re.compile(r"^\d{12}$")
_IAM_ARN = re.compile(r"^arn:aws:iam::(\d{12}):(user|role)/([\w+=,.@/-]{1,512})$")
_S3_ARN = re.compile(r"^arn:aws:s3:::([a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(/.*)?$")


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(message)


def check_name(value: Any, where: str) -> str:
    """A catalog name (database, table, column, filter): 1-255 characters, lower-cased."""
    if not isinstance(value, str) or not _NAME.match(value) or value != value.strip():
        raise _invalid(f"{where} must be a name of 1 to 255 characters, not {str(value)[:80]!r}")
    return value.lower()


def check_catalog(value: Any, account_id: str, where: str = "CatalogId") -> str:
    """The catalog a request names: the lake's account (the only catalog lakebox keeps)."""
    if value is None:
        return account_id
    if not isinstance(value, str) or not _ACCOUNT.match(value):
        raise _invalid(f"{where} must be a 12-digit account id, not {str(value)[:40]!r}")
    if value != account_id:
        raise InvalidInput(
            f"{where} {value} is not this lake's catalog ({account_id}); lakebox keeps one "
            "catalog per lake"
        )
    return value


def check_principal(value: Any, where: str = "Principal") -> str:
    """A DataLakePrincipal's identifier: ``IAM_ALLOWED_PRINCIPALS``, an account id, or an
    IAM user or role ARN."""
    ident = value.get("DataLakePrincipalIdentifier") if isinstance(value, dict) else value
    if not isinstance(ident, str):
        raise _invalid(f"{where}.DataLakePrincipalIdentifier is required")
    if ident == IAM_ALLOWED_PRINCIPALS or _ACCOUNT.match(ident) or _IAM_ARN.match(ident):
        return ident
    raise _invalid(
        f"{where}.DataLakePrincipalIdentifier {ident[:200]!r} is not a principal lakebox "
        "knows: IAM_ALLOWED_PRINCIPALS, a 12-digit account id, or an IAM user or role ARN "
        "(arn:aws:iam::123456789012:user/name, arn:aws:iam::123456789012:role/name)"
    )


def principal_account(ident: str) -> str | None:
    """The account a principal identifier belongs to (None for IAM_ALLOWED_PRINCIPALS)."""
    if _ACCOUNT.match(ident):
        return ident
    found = _IAM_ARN.match(ident)
    return found.group(1) if found else None


def check_permissions(value: Any, where: str, *, allow_empty: bool = True) -> tuple[str, ...]:
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise _invalid(f"{where} must be a list of permission names")
    unsupported = sorted({p for p in value if p in _UNSUPPORTED_PERMISSIONS})
    if unsupported:
        raise _invalid(
            f"{where} holds {', '.join(unsupported)}: lakebox does not support these Lake "
            "Formation permissions (no catalogs of catalogs, no named LF-tag expressions)"
        )
    unknown = sorted({p for p in value if p not in KNOWN_PERMISSIONS})
    if unknown:
        raise _invalid(
            f"{where} holds {', '.join(unknown)}, not Lake Formation permissions "
            f"(known: {', '.join(sorted(KNOWN_PERMISSIONS))})"
        )
    if not value and not allow_empty:
        raise _invalid(f"{where} must name at least one permission")
    return tuple(sorted(set(value)))


def s3_uri(resource_arn: str) -> str:
    """``arn:aws:s3:::bucket/prefix`` -> ``s3://bucket/prefix`` (no trailing slash)."""
    found = _S3_ARN.match(resource_arn)
    if found is None:
        raise _invalid(
            f"ResourceArn {resource_arn[:200]!r} is not an S3 location ARN "
            "(arn:aws:s3:::bucket or arn:aws:s3:::bucket/prefix)"
        )
    path = (found.group(2) or "").rstrip("/")
    if "//" in path or "/../" in f"{path}/" or "/./" in f"{path}/":
        raise _invalid(f"ResourceArn {resource_arn[:200]!r} has an empty or relative path part")
    return f"s3://{found.group(1)}{path}"


def check_location_arn(value: Any, where: str = "ResourceArn") -> str:
    if not isinstance(value, str) or not value:
        raise _invalid(f"{where} is required")
    s3_uri(value)
    return value.rstrip("/")


def location_arn(uri: str) -> str:
    """``s3://bucket/key`` -> ``arn:aws:s3:::bucket/key``."""
    if not uri.startswith("s3://"):
        raise _invalid(f"{uri[:200]!r} is not an s3:// location")
    return "arn:aws:s3:::" + uri[len("s3://") :].rstrip("/")


def under(uri: str, prefix: str) -> bool:
    """Whether ``uri`` is ``prefix`` or lies below it (whole path parts only)."""
    uri = uri.rstrip("/")
    return uri == prefix or uri.startswith(prefix + "/")


def check_tag_key(value: Any, where: str = "TagKey") -> str:
    if not isinstance(value, str) or not _TAG_KEY.match(value):
        raise _invalid(
            f"{where} must be 1 to 128 letters, digits, spaces or _.:/=+-@%, not "
            f"{str(value)[:80]!r}"
        )
    return value.lower()


def check_tag_values(
    value: Any, where: str = "TagValues", *, wildcard: bool = False
) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or len(value) > MAX_TAG_VALUES_PER_CALL:
        raise _invalid(
            f"{where} must be a list of 1 to {MAX_TAG_VALUES_PER_CALL} values (a tag holds up "
            f"to {MAX_TAG_VALUES}: add more with UpdateLFTag)"
        )
    out = []
    for item in value:
        if not isinstance(item, str) or not _TAG_VALUE.match(item):
            raise _invalid(
                f"{where} holds {str(item)[:80]!r}: a tag value is 1 to 256 letters, digits, "
                "spaces or _.:*/=+-@%"
            )
        if "*" in item and not (wildcard and item == "*"):
            raise _invalid(f"{where} holds {item!r}: '*' is only a whole value in an expression")
        out.append(item)
    return tuple(dict.fromkeys(out))


Expression = tuple[tuple[str, tuple[str, ...]], ...]


def check_expression(value: Any, where: str = "Expression") -> Expression:
    """An LF-tag expression: ``[{TagKey, TagValues}]``, at most one entry per key (values
    OR within a key, entries AND across keys)."""
    if not isinstance(value, list) or not value or len(value) > 50:
        raise _invalid(f"{where} must be a list of 1 to 50 {{TagKey, TagValues}} objects")
    out: dict[str, tuple[str, ...]] = {}
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise _invalid(f"{where}[{i}] must be an object with TagKey and TagValues")
        key = check_tag_key(item.get("TagKey"), f"{where}[{i}].TagKey")
        if key in out:
            raise _invalid(f"{where} names the key {key!r} twice: list its values once")
        out[key] = check_tag_values(item.get("TagValues"), f"{where}[{i}].TagValues", wildcard=True)
    return tuple(sorted(out.items()))


def expression_matches(expression: Expression, tags: dict[str, str]) -> bool:
    """True when every key of the expression has one of its values among ``tags``."""
    for key, values in expression:
        value = tags.get(key)
        if value is None or ("*" not in values and value not in values):
            return False
    return True


def _columns(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise _invalid(f"{where} must be a list of column names")
    return tuple(dict.fromkeys(check_name(c, f"{where}[]") for c in value))


@dataclass(frozen=True)
class Resource:
    """One thing a grant names. Which fields count depends on ``kind``:

    - DATABASE: ``database``; TABLE: ``database`` and ``table`` (``*`` for TableWildcard);
    - TABLE_WITH_COLUMNS: ``columns`` (ColumnNames) or ``excluded`` (ColumnWildcard,
      possibly empty);
    - DATA_CELLS_FILTER: ``database``, ``table`` and ``name`` (the filter's);
    - DATA_LOCATION: ``name`` (the S3 ARN); LF_TAG: ``name`` (key) and ``values``;
    - LF_TAG_POLICY: ``resource_type`` (DATABASE | TABLE) and ``expression``."""

    kind: ResourceKind
    catalog_id: str
    database: str = ""
    table: str = ""
    columns: tuple[str, ...] | None = None
    excluded: tuple[str, ...] | None = None
    name: str = ""
    values: tuple[str, ...] = ()
    resource_type: str = ""
    expression: Expression = ()

    def key(self) -> str:
        """The canonical text of the resource: grants on equal resources merge."""
        doc: dict[str, Any] = {"k": self.kind}
        for attr in ("database", "table", "name", "resource_type"):
            if getattr(self, attr):
                doc[attr] = getattr(self, attr)
        if self.columns is not None:
            doc["columns"] = sorted(self.columns)
        if self.excluded is not None:
            doc["excluded"] = sorted(self.excluded)
        if self.values:
            doc["values"] = sorted(self.values)
        if self.expression:
            doc["expression"] = [[k, sorted(v)] for k, v in self.expression]
        return json.dumps(doc, sort_keys=True, separators=(",", ":"))

    @property
    def wildcard(self) -> bool:
        return self.kind == "TABLE" and self.table == "*"

    def to_aws(self) -> dict[str, Any]:
        """The API's ``Resource`` shape."""
        cid = self.catalog_id
        if self.kind == "CATALOG":
            return {"Catalog": {}}
        if self.kind == "DATABASE":
            return {"Database": {"CatalogId": cid, "Name": self.database}}
        if self.kind == "TABLE":
            table: dict[str, Any] = {"CatalogId": cid, "DatabaseName": self.database}
            if self.wildcard:
                table["TableWildcard"] = {}
            else:
                table["Name"] = self.table
            return {"Table": table}
        if self.kind == "TABLE_WITH_COLUMNS":
            twc: dict[str, Any] = {
                "CatalogId": cid,
                "DatabaseName": self.database,
                "Name": self.table,
            }
            if self.columns is not None:
                twc["ColumnNames"] = list(self.columns)
            else:
                twc["ColumnWildcard"] = {"ExcludedColumnNames": list(self.excluded or ())}
            return {"TableWithColumns": twc}
        if self.kind == "DATA_LOCATION":
            return {"DataLocation": {"CatalogId": cid, "ResourceArn": self.name}}
        if self.kind == "DATA_CELLS_FILTER":
            return {
                "DataCellsFilter": {
                    "TableCatalogId": cid,
                    "DatabaseName": self.database,
                    "TableName": self.table,
                    "Name": self.name,
                }
            }
        if self.kind == "LF_TAG":
            return {
                "LFTag": {"CatalogId": cid, "TagKey": self.name, "TagValues": list(self.values)}
            }
        return {
            "LFTagPolicy": {
                "CatalogId": cid,
                "ResourceType": self.resource_type,
                "Expression": [{"TagKey": k, "TagValues": list(v)} for k, v in self.expression],
            }
        }

    @classmethod
    def from_aws(cls, value: Any, account_id: str, where: str = "Resource") -> Resource:
        """The checked resource of a request's ``Resource`` member (exactly one kind)."""
        if not isinstance(value, dict):
            raise _invalid(f"{where} is required and must be an object")
        given = [k for k, v in value.items() if v is not None]
        if len(given) != 1:
            raise _invalid(
                f"{where} must name exactly one of Catalog, Database, Table, TableWithColumns, "
                f"DataLocation, DataCellsFilter, LFTag, LFTagPolicy (got {', '.join(given) or 'none'})"
            )
        kind = given[0]
        body = value[kind]
        at = f"{where}.{kind}"
        if not isinstance(body, dict):
            raise _invalid(f"{at} must be an object")

        def catalog(member: str = "CatalogId") -> str:
            return check_catalog(body.get(member), account_id, f"{at}.{member}")

        if kind == "Catalog":
            return cls("CATALOG", catalog("Id") if body.get("Id") else account_id)
        if kind == "Database":
            return cls("DATABASE", catalog(), database=check_name(body.get("Name"), f"{at}.Name"))
        if kind == "Table":
            db = check_name(body.get("DatabaseName"), f"{at}.DatabaseName")
            has_name = body.get("Name") is not None
            has_wild = body.get("TableWildcard") is not None
            if has_name == has_wild:
                raise _invalid(f"{at} must have exactly one of Name and TableWildcard")
            name = "*" if has_wild else check_name(body.get("Name"), f"{at}.Name")
            return cls("TABLE", catalog(), database=db, table=name)
        if kind == "TableWithColumns":
            db = check_name(body.get("DatabaseName"), f"{at}.DatabaseName")
            name = check_name(body.get("Name"), f"{at}.Name")
            names, wild = body.get("ColumnNames"), body.get("ColumnWildcard")
            if (names is None) == (wild is None):
                raise _invalid(f"{at} must have exactly one of ColumnNames and ColumnWildcard")
            if names is not None:
                cols = _columns(names, f"{at}.ColumnNames")
                if not cols:
                    raise _invalid(f"{at}.ColumnNames must name at least one column")
                return cls("TABLE_WITH_COLUMNS", catalog(), database=db, table=name, columns=cols)
            if not isinstance(wild, dict):
                raise _invalid(f"{at}.ColumnWildcard must be an object")
            excluded = _columns(
                wild.get("ExcludedColumnNames") or [], f"{at}.ColumnWildcard.ExcludedColumnNames"
            )
            return cls("TABLE_WITH_COLUMNS", catalog(), database=db, table=name, excluded=excluded)
        if kind == "DataLocation":
            arn = check_location_arn(body.get("ResourceArn"), f"{at}.ResourceArn")
            return cls("DATA_LOCATION", catalog(), name=arn)
        if kind == "DataCellsFilter":
            return cls(
                "DATA_CELLS_FILTER",
                catalog("TableCatalogId"),
                database=check_name(body.get("DatabaseName"), f"{at}.DatabaseName"),
                table=check_name(body.get("TableName"), f"{at}.TableName"),
                name=check_name(body.get("Name"), f"{at}.Name"),
            )
        if kind == "LFTag":
            key = check_tag_key(body.get("TagKey"), f"{at}.TagKey")
            values = check_tag_values(body.get("TagValues"), f"{at}.TagValues", wildcard=True)
            return cls("LF_TAG", catalog(), name=key, values=values)
        if kind == "LFTagPolicy":
            rtype = body.get("ResourceType")
            if rtype not in ("DATABASE", "TABLE"):
                raise _invalid(f"{at}.ResourceType must be DATABASE or TABLE")
            if body.get("ExpressionName") is not None:
                raise _invalid(f"{at}.ExpressionName: lakebox keeps no named LF-tag expressions")
            expr = check_expression(body.get("Expression"), f"{at}.Expression")
            return cls("LF_TAG_POLICY", catalog(), resource_type=rtype, expression=expr)
        raise _invalid(f"{where}.{kind}: lakebox does not grant on {kind} resources")


def allowed_permissions(resource: Resource) -> frozenset[str]:
    """The permissions a grant on ``resource`` may name (``ALL`` where AWS allows it)."""
    kind = resource.kind
    if kind == "CATALOG":
        return CATALOG_PERMISSIONS
    if kind == "DATABASE":
        return DATABASE_PERMISSIONS | {"ALL"}
    if kind == "TABLE":
        return TABLE_PERMISSIONS | {"ALL"}
    if kind == "TABLE_WITH_COLUMNS":
        return frozenset({"SELECT"})
    if kind == "DATA_LOCATION":
        return frozenset({"DATA_LOCATION_ACCESS"})
    if kind == "DATA_CELLS_FILTER":
        return frozenset({"SELECT", "DESCRIBE", "DROP"})
    if kind == "LF_TAG":
        return LF_TAG_PERMISSIONS
    if resource.resource_type == "DATABASE":
        return DATABASE_PERMISSIONS | {"ALL"}
    return TABLE_PERMISSIONS | {"ALL"}


def expand(permissions: tuple[str, ...] | frozenset[str], members: frozenset[str]) -> set[str]:
    """``ALL`` spelled out as ``members``."""
    out = set(permissions)
    if "ALL" in out:
        out.discard("ALL")
        out |= members
    return out


@dataclass(frozen=True)
class PrincipalPermissions:
    principal: str
    permissions: tuple[str, ...]

    def to_aws(self) -> dict[str, Any]:
        return {
            "Principal": {"DataLakePrincipalIdentifier": self.principal},
            "Permissions": list(self.permissions),
        }


#: AWS's default: IAMAllowedPrincipals gets ALL on every new database and table
IAP_ALL = (PrincipalPermissions(IAM_ALLOWED_PRINCIPALS, ("ALL",)),)


@dataclass(frozen=True)
class DataLakeSettings:
    admins: tuple[str, ...] = ()
    read_only_admins: tuple[str, ...] = ()
    create_database_default: tuple[PrincipalPermissions, ...] = IAP_ALL
    create_table_default: tuple[PrincipalPermissions, ...] = IAP_ALL
    parameters: tuple[tuple[str, str], ...] = ()

    @property
    def is_default(self) -> bool:
        return self == DataLakeSettings(parameters=self.parameters)

    def to_aws(self) -> dict[str, Any]:
        return {
            "DataLakeAdmins": [{"DataLakePrincipalIdentifier": p} for p in self.admins],
            "ReadOnlyAdmins": [{"DataLakePrincipalIdentifier": p} for p in self.read_only_admins],
            "CreateDatabaseDefaultPermissions": [p.to_aws() for p in self.create_database_default],
            "CreateTableDefaultPermissions": [p.to_aws() for p in self.create_table_default],
            "Parameters": dict(self.parameters),
            "TrustedResourceOwners": [],
            "AllowExternalDataFiltering": False,
            "ExternalDataFilteringAllowList": [],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_aws(), sort_keys=True)

    @classmethod
    def from_aws(cls, value: Any, where: str = "DataLakeSettings") -> DataLakeSettings:
        if not isinstance(value, dict):
            raise _invalid(f"{where} is required and must be an object")

        def principals(member: str) -> tuple[str, ...]:
            items = value.get(member) or []
            if not isinstance(items, list) or len(items) > 30:
                raise _invalid(f"{where}.{member} must be a list of at most 30 principals")
            out = []
            for i, item in enumerate(items):
                ident = check_principal(item, f"{where}.{member}[{i}]")
                if ident == IAM_ALLOWED_PRINCIPALS or principal_account(ident) == ident:
                    raise _invalid(
                        f"{where}.{member}[{i}]: an administrator is an IAM user or role ARN, "
                        f"not {ident}"
                    )
                out.append(ident)
            return tuple(dict.fromkeys(out))

        def defaults(member: str) -> tuple[PrincipalPermissions, ...]:
            items = value.get(member)
            if items is None:
                return ()
            if not isinstance(items, list):
                raise _invalid(f"{where}.{member} must be a list of PrincipalPermissions")
            out = []
            for i, item in enumerate(items):
                at = f"{where}.{member}[{i}]"
                if not isinstance(item, dict):
                    raise _invalid(f"{at} must be an object with Principal and Permissions")
                ident = check_principal(item.get("Principal"), f"{at}.Principal")
                perms = check_permissions(item.get("Permissions"), f"{at}.Permissions")
                members = DATABASE_PERMISSIONS if "Database" in member else TABLE_PERMISSIONS
                bad = sorted(set(perms) - members - {"ALL"})
                if bad:
                    raise _invalid(f"{at}.Permissions: {', '.join(bad)} cannot be a default here")
                out.append(PrincipalPermissions(ident, perms))
            return tuple(out)

        for unsupported in ("TrustedResourceOwners", "ExternalDataFilteringAllowList"):
            if value.get(unsupported):
                raise _invalid(f"{where}.{unsupported}: lakebox does not support it")
        if value.get("AllowExternalDataFiltering"):
            raise _invalid(f"{where}.AllowExternalDataFiltering: lakebox does not support it")
        params = value.get("Parameters") or {}
        if not isinstance(params, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in params.items()
        ):
            raise _invalid(f"{where}.Parameters must map strings to strings")
        return cls(
            admins=principals("DataLakeAdmins"),
            read_only_admins=principals("ReadOnlyAdmins"),
            create_database_default=defaults("CreateDatabaseDefaultPermissions"),
            create_table_default=defaults("CreateTableDefaultPermissions"),
            parameters=tuple(sorted(params.items())),
        )

    @classmethod
    def from_json(cls, text: str) -> DataLakeSettings:
        return cls.from_aws(json.loads(text))


@dataclass(frozen=True)
class Grant:
    """One row of ListPermissions: what ``principal`` holds on ``resource``."""

    principal: str
    resource: Resource
    permissions: tuple[str, ...]
    grantable: tuple[str, ...] = ()
    updated: float = 0.0
    updated_by: str = ""


@dataclass(frozen=True)
class Registration:
    """A registered (Lake Formation controlled) S3 location."""

    resource_arn: str
    role_arn: str
    use_service_linked_role: bool
    hybrid_access: bool = False
    with_federation: bool = False
    last_modified: float = 0.0

    @property
    def uri(self) -> str:
        return s3_uri(self.resource_arn)


@dataclass(frozen=True)
class LFTag:
    key: str
    values: tuple[str, ...]
    #: who created it (may change and delete it)
    creator: str | None = None


@dataclass(frozen=True)
class DataCellsFilter:
    """A filter of one table: ``row_filter`` None is AllRowsWildcard; exactly one of
    ``columns`` (ColumnNames) and ``excluded`` (ColumnWildcard) is not None."""

    database: str
    table: str
    name: str
    row_filter: str | None
    columns: tuple[str, ...] | None
    excluded: tuple[str, ...] | None
    version_id: str = "0"
    catalog_id: str = ""

    def to_aws(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "TableCatalogId": self.catalog_id,
            "DatabaseName": self.database,
            "TableName": self.table,
            "Name": self.name,
            "RowFilter": (
                {"AllRowsWildcard": {}}
                if self.row_filter is None
                else {"FilterExpression": self.row_filter}
            ),
            "VersionId": self.version_id,
        }
        if self.columns is not None:
            out["ColumnNames"] = list(self.columns)
        else:
            out["ColumnWildcard"] = {"ExcludedColumnNames": list(self.excluded or ())}
        return out

    @classmethod
    def from_aws(cls, value: Any, account_id: str, where: str = "TableData") -> DataCellsFilter:
        if not isinstance(value, dict):
            raise _invalid(f"{where} is required and must be an object")
        catalog = check_catalog(value.get("TableCatalogId"), account_id, f"{where}.TableCatalogId")
        row = value.get("RowFilter")
        if not isinstance(row, dict):
            raise _invalid(f"{where}.RowFilter is required: FilterExpression or AllRowsWildcard")
        expr, wild = row.get("FilterExpression"), row.get("AllRowsWildcard")
        if (expr is None) == (wild is None):
            raise _invalid(
                f"{where}.RowFilter must have exactly one of FilterExpression and AllRowsWildcard"
            )
        if expr is not None and (not isinstance(expr, str) or not expr.strip() or len(expr) > 2048):
            raise _invalid(f"{where}.RowFilter.FilterExpression must be 1 to 2048 characters")
        names, cwild = value.get("ColumnNames"), value.get("ColumnWildcard")
        if names is not None and cwild is not None:
            raise _invalid(f"{where} must have only one of ColumnNames and ColumnWildcard")
        columns: tuple[str, ...] | None = None
        excluded: tuple[str, ...] | None = None
        if names is not None:
            columns = _columns(names, f"{where}.ColumnNames")
            if not columns:
                raise _invalid(f"{where}.ColumnNames must name at least one column")
        elif cwild is not None:
            if not isinstance(cwild, dict):
                raise _invalid(f"{where}.ColumnWildcard must be an object")
            excluded = _columns(
                cwild.get("ExcludedColumnNames") or [],
                f"{where}.ColumnWildcard.ExcludedColumnNames",
            )
        else:
            raise _invalid(f"{where} must have one of ColumnNames and ColumnWildcard")
        version = value.get("VersionId")
        return cls(
            database=check_name(value.get("DatabaseName"), f"{where}.DatabaseName"),
            table=check_name(value.get("TableName"), f"{where}.TableName"),
            name=check_name(value.get("Name"), f"{where}.Name"),
            row_filter=expr.strip() if isinstance(expr, str) else None,
            columns=columns,
            excluded=excluded,
            version_id=str(version) if version is not None else "0",
            catalog_id=catalog,
        )


@dataclass(frozen=True)
class TagAssignment:
    """One LF-tag on a database (``table`` empty), a table (``column`` empty) or a column."""

    database: str
    table: str
    column: str
    key: str
    value: str
