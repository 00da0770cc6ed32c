"""``aws-sdk:rds:startExportTask`` / ``describeExportTasks`` over lakebox's database snapshot
exports (``lakebox.ingest.snapshots``), in RDS's shapes. ``SourceArn`` is a SQLAlchemy URL
of the source database; the export runs to its end inside startExportTask, so a workflow
that polls describeExportTasks until ``Status`` is COMPLETE passes straight through. Errors
are ``Rds.<ErrorCode>`` with AWS's ``Exception`` suffix added
(``Rds.ExportTaskAlreadyExistsFaultException``, ``Rds.ExportTaskNotFoundFaultException``)."""

from __future__ import annotations

from lakebox.workflows.tasks.athena import lake_call
from lakebox.workflows.tasks.registry import DEFAULT_REGISTRY

SDK = "arn:aws:states:::aws-sdk:rds:"
MODULE = "lakebox.ingest.snapshots"
SERVICE = "Rds"


ACTIONS = {
    "startExportTask": lake_call(MODULE, "start_export_task", SERVICE),
    "describeExportTasks": lake_call(MODULE, "describe_export_tasks", SERVICE),
}
for _action, _handler in ACTIONS.items():
    DEFAULT_REGISTRY.register(SDK + _action, _handler)
