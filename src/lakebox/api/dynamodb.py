"""DynamoDB's export API over lakebox's table exports (``lakebox.ingest.exports``):
ExportTableToPointInTime, DescribeExport, ListExports. lakebox runs an export to its end
inside ExportTableToPointInTime, so the answer is already COMPLETED or FAILED; a caller that
polls DescribeExport until it leaves IN_PROGRESS (as written for AWS) passes straight
through. Errors are lakebox's DynamoDB codes (``ExportNotFoundException``,
``ValidationException``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from lakebox.api.base import ApiContext, Request, Response, ServiceApi, operations
from lakebox.errors import LakeboxError

if TYPE_CHECKING:
    from lakebox.ingest.exports import TableExports

INVALID = "ValidationException"


class DynamoDbContext(ApiContext, Protocol):
    @property
    def exports(self) -> TableExports: ...


def error_code(exc: LakeboxError) -> str:
    return exc.code


def export_table_to_point_in_time(request: Request, context: DynamoDbContext) -> Response:
    return context.exports.export_table_to_point_in_time(request)


def describe_export(request: Request, context: DynamoDbContext) -> Response:
    return context.exports.describe_export(request)


def list_exports(request: Request, context: DynamoDbContext) -> Response:
    return context.exports.list_exports(request)


API = ServiceApi(
    "DynamoDB",
    operations(
        ("ExportTableToPointInTime", export_table_to_point_in_time),
        ("DescribeExport", describe_export),
        ("ListExports", list_exports),
    ),
    error_code,
    INVALID,
)
