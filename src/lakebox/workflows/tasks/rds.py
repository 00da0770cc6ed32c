"""``aws-sdk:rds:startExportTask`` / ``describeExportTasks`` over lakebox's database snapshot
exports (``lakebox.ingest.snapshots``), in RDS's shapes. ``SourceArn`` is a SQLAlchemy URL
of the source database; the export runs to its end inside startExportTask, so a workflow
that polls describeExportTasks until ``Status`` is COMPLETE passes straight through. Errors
are ``Rds.<ErrorCode>`` with AWS's ``Exception`` suffix added
(``Rds.ExportTaskAlreadyExistsFaultException``, ``Rds.ExportTaskNotFoundFaultException``)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from lakebox.errors import LakeboxError
from lakebox.workflows.errors import StatesError
from lakebox.workflows.tasks.athena import lake_of, params_of, service_error
from lakebox.workflows.tasks.registry import DEFAULT_REGISTRY, TaskContext

SDK = "arn:aws:states:::aws-sdk:rds:"
SERVICE = "Rds"


def _run(function: str) -> Callable[[Any, TaskContext], Any]:
    """A handler calling ``lakebox.ingest.snapshots.<function>(lake, request)``; the module is
    imported on first use so loading the workflow package stays light."""

    def handler(params: Any, ctx: TaskContext) -> Any:
        module = importlib.import_module("lakebox.ingest.snapshots")
        lake = lake_of(ctx, SERVICE)
        try:
            result: dict[str, Any] = getattr(module, function)(lake, params_of(params, SERVICE))
        except StatesError:
            raise
        except LakeboxError as exc:
            raise service_error(SERVICE, exc) from exc
        return result

    handler.__name__ = function
    return handler


ACTIONS = {
    "startExportTask": _run("start_export_task"),
    "describeExportTasks": _run("describe_export_tasks"),
}
for _action, _handler in ACTIONS.items():
    DEFAULT_REGISTRY.register(SDK + _action, _handler)
