"""``aws-sdk:dynamodb:exportTableToPointInTime`` / ``describeExport`` / ``listExports`` over
lakebox's table exports (``lakebox.ingest.exports``), in DynamoDB's request and response
shapes. lakebox runs an export to its end inside exportTableToPointInTime, so the answer is
already COMPLETED or FAILED; a workflow that polls describeExport until it leaves
IN_PROGRESS (as written for AWS) passes straight through. Errors are
``DynamoDb.<ErrorCode>`` (``DynamoDb.ExportNotFoundException``,
``DynamoDb.ValidationException``), the SDK integration's names."""

from __future__ import annotations

from lakebox.workflows.tasks.athena import lake_call
from lakebox.workflows.tasks.registry import DEFAULT_REGISTRY

SDK = "arn:aws:states:::aws-sdk:dynamodb:"
MODULE = "lakebox.ingest.exports"
SERVICE = "DynamoDb"


ACTIONS = {
    "exportTableToPointInTime": lake_call(MODULE, "export_table_to_point_in_time", SERVICE),
    "describeExport": lake_call(MODULE, "describe_export", SERVICE),
    "listExports": lake_call(MODULE, "list_exports", SERVICE),
}
for _action, _handler in ACTIONS.items():
    DEFAULT_REGISTRY.register(SDK + _action, _handler)
