"""lakebox's AWS API layer: one module per AWS service, each an operation table (AWS
operation name -> handler over AWS-shaped dictionaries) and an error-code mapping.

Doors dispatch through :func:`dispatch`: Step Functions' optimised integrations and
``aws-sdk:*`` tasks today, the HTTP server next. Services are keyed by botocore's service
name (``athena``, ``glue``, ``firehose``, ``dynamodb``, ``rds``, ``s3``,
``stepfunctions``, ``scheduler``, ``iam``, ``sts``, ``secretsmanager``, ``sns``, ``lakeformation``).
"""

from __future__ import annotations

from typing import Any

from lakebox.api import (
    athena,
    dynamodb,
    events,
    firehose,
    glue,
    iam,
    lakeformation,
    lambda_,
    rds,
    s3,
    scheduler,
    secretsmanager,
    sns,
    states,
    sts,
)
from lakebox.api.base import (
    ApiContext,
    AwsError,
    Operation,
    Request,
    Response,
    ServiceApi,
    call,
)

#: Every service the layer serves, by botocore's service name.
SERVICES: dict[str, ServiceApi] = {
    "athena": athena.API,
    "dynamodb": dynamodb.API,
    "events": events.API,
    "firehose": firehose.API,
    "glue": glue.API,
    "iam": iam.API,
    "lakeformation": lakeformation.API,
    "lambda": lambda_.API,
    "rds": rds.API,
    "s3": s3.API,
    "scheduler": scheduler.API,
    "secretsmanager": secretsmanager.API,
    "sns": sns.API,
    "stepfunctions": states.API,
    "sts": sts.API,
}


def dispatch(service: str, operation: str, request: Any, context: Any) -> Response:
    """Answer ``operation`` of ``service`` (``dispatch("athena", "StartQueryExecution",
    {...}, context)``); every failure is an :class:`AwsError` with the service's code."""
    api = SERVICES.get(service)
    if api is None:
        raise AwsError(
            "UnknownServiceException",
            f"lakebox serves no AWS service {service!r} (known: {', '.join(sorted(SERVICES))})",
        )
    return call(api, operation, request, context)


__all__ = [
    "SERVICES",
    "ApiContext",
    "AwsError",
    "Operation",
    "Request",
    "Response",
    "ServiceApi",
    "dispatch",
]
