"""RDS's snapshot-export API over lakebox's database exports (``lakebox.ingest.snapshots``):
StartExportTask, DescribeExportTasks. ``SourceArn`` is a SQLAlchemy URL of the source
database; the export runs to its end inside StartExportTask, so a caller that polls
DescribeExportTasks until ``Status`` is COMPLETE passes straight through. Errors are RDS's
codes (``ExportTaskAlreadyExistsFault``, ``ExportTaskNotFoundFault``,
``InvalidParameterValue``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from lakebox.api.base import ApiContext, Request, Response, ServiceApi, operations
from lakebox.api.base import arn as _arn
from lakebox.api.base import text as _text
from lakebox.errors import LakeboxError

if TYPE_CHECKING:
    from lakebox.ingest.snapshots import SnapshotExports

INVALID = "InvalidParameterValue"


class RdsContext(ApiContext, Protocol):
    @property
    def snapshots(self) -> SnapshotExports: ...


def error_code(exc: LakeboxError) -> str:
    return exc.code


def start_export_task(request: Request, context: RdsContext) -> Response:
    return context.snapshots.start_export_task(request, principal=context.principal)


def describe_export_tasks(request: Request, context: RdsContext) -> Response:
    return context.snapshots.describe_export_tasks(request, principal=context.principal)


def _on_export(request: Request, context: Any) -> list[str]:
    task = _text(request, "ExportTaskIdentifier") or "*"
    return [_arn(context, "rds", f"export-task:{task}")]


def _passes_role(request: Request, context: Any) -> list[tuple[str, str]]:
    """StartExportTask hands the export the role it names."""
    role = _text(request, "IamRoleArn")
    return [("iam:PassRole", role)] if role is not None else []


API = ServiceApi(
    "RDS",
    operations(
        ("StartExportTask", start_export_task, _on_export, _passes_role),
        ("DescribeExportTasks", describe_export_tasks),
    ),
    error_code,
    INVALID,
    prefix="rds",
    denied="AccessDenied",
)
