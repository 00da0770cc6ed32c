"""``aws-sdk:dynamodb:exportTableToPointInTime`` / ``describeExport`` / ``listExports``,
dispatched through the DynamoDB operation table of the API layer (``lakebox.api.dynamodb``)
to lakebox's table exports. lakebox runs an export to its end inside
exportTableToPointInTime, so a workflow that polls describeExport until it leaves
IN_PROGRESS (as written for AWS) passes straight through. Errors are
``DynamoDb.<ErrorCode>`` (``DynamoDb.ExportNotFoundException``,
``DynamoDb.ValidationException``), the SDK integration's names."""

from __future__ import annotations

from lakebox.workflows.tasks.aws import register_sdk

register_sdk(
    "dynamodb", ("exportTableToPointInTime", "describeExport", "listExports"), prefix="DynamoDb"
)
