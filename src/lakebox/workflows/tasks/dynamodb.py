"""``aws-sdk:dynamodb:exportTableToPointInTime`` / ``describeExport`` / ``listExports`` over
lakebox's table exports (``lakebox.ingest.exports``), in DynamoDB's request and response
shapes. lakebox runs an export to its end inside exportTableToPointInTime, so the answer is
already COMPLETED or FAILED; a workflow that polls describeExport until it leaves
IN_PROGRESS (as written for AWS) passes straight through. Errors are
``DynamoDb.<ErrorCode>`` (``DynamoDb.ExportNotFoundException``,
``DynamoDb.ValidationException``), the SDK integration's names."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from lakebox.errors import LakeboxError
from lakebox.workflows.errors import StatesError
from lakebox.workflows.tasks.athena import lake_of, params_of, service_error
from lakebox.workflows.tasks.registry import DEFAULT_REGISTRY, TaskContext

SDK = "arn:aws:states:::aws-sdk:dynamodb:"
SERVICE = "DynamoDb"


def _run(function: str) -> Callable[[Any, TaskContext], Any]:
    """A handler calling ``lakebox.ingest.exports.<function>(lake, request)``; the module is
    imported on first use so loading the workflow package stays light."""

    def handler(params: Any, ctx: TaskContext) -> Any:
        module = importlib.import_module("lakebox.ingest.exports")
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
    "exportTableToPointInTime": _run("export_table_to_point_in_time"),
    "describeExport": _run("describe_export"),
    "listExports": _run("list_exports"),
}
for _action, _handler in ACTIONS.items():
    DEFAULT_REGISTRY.register(SDK + _action, _handler)
