"""DynamoDB's export API over lakebox's table exports (``lakebox.ingest.exports``):
ExportTableToPointInTime, DescribeExport, ListExports. lakebox runs an export to its end
inside ExportTableToPointInTime, so the answer is already COMPLETED or FAILED; a caller that
polls DescribeExport until it leaves IN_PROGRESS (as written for AWS) passes straight
through. Errors are lakebox's DynamoDB codes (``ExportNotFoundException``,
``ValidationException``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from lakebox.api.base import ApiContext, AwsError, Request, Response, ServiceApi, operations
from lakebox.api.base import arn as _arn
from lakebox.api.base import text as _text
from lakebox.errors import LakeboxError
from lakebox.ingest.exports import ExportDescription, IncrementalExport

if TYPE_CHECKING:
    from lakebox.ingest.exports import TableExports

INVALID = "ValidationException"


class DynamoDbContext(ApiContext, Protocol):
    @property
    def exports(self) -> TableExports: ...


def error_code(exc: LakeboxError) -> str:
    return exc.code


def description_response(desc: ExportDescription) -> Response:
    """DynamoDB's ExportDescription."""
    out: dict[str, Any] = {
        "ExportArn": desc.arn,
        "ExportStatus": desc.status,
        "StartTime": desc.start_time,
        "TableArn": desc.table_arn,
        "TableId": desc.table_id,
        "ExportTime": desc.export_time,
        "S3Bucket": desc.s3_bucket,
        "S3Prefix": desc.s3_prefix,
        "S3SseAlgorithm": desc.s3_sse_algorithm,
        "ExportFormat": desc.export_format,
        "ExportType": desc.export_type,
    }
    optional = {
        "ExportManifest": desc.manifest,
        "ClientToken": desc.client_token,
        "S3BucketOwner": desc.s3_bucket_owner,
        "EndTime": desc.end_time,
        "ItemCount": desc.item_count,
        "BilledSizeBytes": desc.billed_size_bytes,
        "FailureCode": desc.failure_code,
        "FailureMessage": desc.failure_message,
    }
    out.update((k, v) for k, v in optional.items() if v is not None)
    if desc.incremental is not None:
        start, end, view = desc.incremental
        out["IncrementalExportSpecification"] = {
            "ExportFromTime": start,
            "ExportToTime": end,
            "ExportViewType": view,
        }
    return {"ExportDescription": out}


def export_table_to_point_in_time(request: Request, context: DynamoDbContext) -> Response:
    """Lakebox extensions: ``LakeboxKeyAttributes`` (key attributes of a JSON-lines
    source), ``LakeboxCurrentManifest`` (true or a folder URI: keep a SymlinkTextInputFormat
    manifest of the newest full export there) and ``LakeboxCatalogTable`` (``db.table``:
    define it over that manifest)."""
    spec = request.get("IncrementalExportSpecification")
    incremental = None
    if spec:
        if not isinstance(spec, dict):
            raise AwsError(INVALID, "IncrementalExportSpecification must be an object")
        incremental = IncrementalExport(
            spec.get("ExportFromTime"),
            spec.get("ExportToTime"),
            spec.get("ExportViewType", "NEW_AND_OLD_IMAGES"),
        )
    desc = context.exports.export_table_to_point_in_time(
        request.get("TableArn") or "",
        request.get("S3Bucket") or "",
        s3_prefix=request.get("S3Prefix"),
        export_time=request.get("ExportTime"),
        export_format=request.get("ExportFormat", "DYNAMODB_JSON"),
        export_type=request.get("ExportType", "FULL_EXPORT"),
        incremental=incremental,
        client_token=request.get("ClientToken"),
        s3_sse_algorithm=request.get("S3SseAlgorithm"),
        s3_bucket_owner=request.get("S3BucketOwner"),
        key_attributes=request.get("LakeboxKeyAttributes"),
        current_manifest=request.get("LakeboxCurrentManifest") or False,
        catalog_table=request.get("LakeboxCatalogTable"),
        principal=context.principal,
    )
    return description_response(desc)


def describe_export(request: Request, context: DynamoDbContext) -> Response:
    return description_response(
        context.exports.describe_export(request.get("ExportArn") or "", principal=context.principal)
    )


def list_exports(request: Request, context: DynamoDbContext) -> Response:
    page = context.exports.list_exports(
        request.get("TableArn"),
        request.get("MaxResults", 25),
        request.get("NextToken"),
        principal=context.principal,
    )
    out: dict[str, Any] = {
        "ExportSummaries": [
            {"ExportArn": e.arn, "ExportStatus": e.status, "ExportType": e.export_type}
            for e in page.exports
        ]
    }
    if page.next_token:
        out["NextToken"] = page.next_token
    return out


def _on_table(request: Request, context: Any) -> list[str]:
    table = _text(request, "TableArn")
    return [table if table is not None else _arn(context, "dynamodb", "table/*")]


def _on_export(request: Request, context: Any) -> list[str]:
    export = _text(request, "ExportArn")
    return [export if export is not None else _arn(context, "dynamodb", "table/*/export/*")]


API = ServiceApi(
    "DynamoDB",
    operations(
        ("ExportTableToPointInTime", export_table_to_point_in_time, _on_table),
        ("DescribeExport", describe_export, _on_export),
        ("ListExports", list_exports, _on_table),
    ),
    error_code,
    INVALID,
    prefix="dynamodb",
)
