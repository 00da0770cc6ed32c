"""Task results checked against botocore's output shapes: what a Task state receives from a
service integration is that service's API answer, with Step Functions' spelling (member names
start with a capital letter) and, for optimised integrations, ``SdkHttpMetadata`` /
``SdkResponseMetadata`` added."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, Shape, StructureShape

from lakebox.workflows.service import WorkflowService

_BOTOCORE = botocore.session.get_session()
_SCALARS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "boolean": (bool,),
    "double": (int, float),
    "float": (int, float),
    "timestamp": (str, int, float),
    "blob": (str,),
}
#: what Step Functions adds to an optimised integration's answer
_ADDED = frozenset({"SdkHttpMetadata", "SdkResponseMetadata"})
#: service names in resource ARNs -> botocore's
_SERVICES = {"states": "stepfunctions", "sns": "sns", "lambda": "lambda"}
#: optimised ``.sync`` integrations answer with what the job looks like when it ends
_SYNC = {
    ("athena", "startQueryExecution"): ("athena", "GetQueryExecution", None),
    ("glue", "startJobRun"): ("glue", "GetJobRun", "JobRun"),
    ("states", "startExecution"): ("stepfunctions", "DescribeExecution", None),
    ("ecs", "runTask"): ("ecs", "DescribeTasks", "tasks"),
}


def _cap(name: str) -> str:
    return name[:1].upper() + name[1:]


def _check(shape: Shape, value: Any, where: str, loose: frozenset[str]) -> None:
    if isinstance(shape, StructureShape):
        assert isinstance(value, dict), f"{where}: {value!r} is not an object"
        members = {_cap(k): v for k, v in shape.members.items()}
        for key, item in value.items():
            if item is None or key in _ADDED:
                continue
            assert key in members, f"{where}.{key} is not a member of {shape.name}"
            if key not in loose:
                _check(members[key], item, f"{where}.{key}", loose)
    elif isinstance(shape, ListShape):
        assert isinstance(value, list), f"{where}: {value!r} is not a list"
        for i, item in enumerate(value):
            _check(shape.member, item, f"{where}[{i}]", loose)
    elif isinstance(shape, MapShape):
        assert isinstance(value, dict), f"{where}: {value!r} is not a map"
        for key, item in value.items():
            _check(shape.value, item, f"{where}[{key!r}]", loose)
    else:
        types = _SCALARS[shape.type_name]
        assert isinstance(value, types), f"{where}: {value!r} is not a {shape.type_name}"
        if shape.type_name in ("integer", "long", "double", "float"):
            assert not isinstance(value, bool), f"{where}: {value!r} is not a number"


def output_shape(resource_type: str, resource: str) -> tuple[Shape, frozenset[str]] | None:
    """The botocore shape a task's result has, and members to leave unchecked (JSON where
    the API has text), or None for resources that are not AWS services (lakebox's own)."""
    action, _, suffix = resource.partition(".")
    sdk = resource_type.startswith("aws-sdk:")
    service = resource_type.split(":", 1)[1] if sdk else resource_type
    loose: frozenset[str] = frozenset()
    if not sdk and suffix.startswith("sync") and (service, action) in _SYNC:
        botocore_service, operation, member = _SYNC[(service, action)]
        if suffix == "sync:2":
            loose = frozenset({"Input", "Output"})  # .sync:2 answers with JSON
    else:
        botocore_service, operation, member = _SERVICES.get(service, service), _cap(action), None
        if (service, action) == ("lambda", "invoke"):
            loose = frozenset({"Payload"})  # Step Functions decodes the JSON payload
        if service == "rds":
            # lakebox's documented difference (tests/api/test_rds.py): a fraction of a GB
            loose = frozenset({"TotalExtractedDataInGB"})
    try:
        model = _BOTOCORE.get_service_model(botocore_service)
    except Exception:  # not an AWS service botocore knows
        return None
    if operation not in model.operation_names:
        return None
    shape = model.operation_model(operation).output_shape
    assert shape is not None
    if member is not None:
        assert isinstance(shape, StructureShape)
        shape = shape.members[member]
        if isinstance(shape, ListShape):
            shape = shape.member
    return shape, loose


def check_task_output(resource_type: str, resource: str, output: Any) -> bool:
    """Assert ``output`` has the botocore shape of the resource's operation; False when the
    resource has no botocore model (a lakebox resource)."""
    found = output_shape(resource_type, resource)
    if found is None:
        return False
    shape, loose = found
    _check(shape, output, f"{resource_type}:{resource}", loose)
    return True


def check_history(service: WorkflowService, execution_arn: str) -> int:
    """Check every successful task result in an execution's history; how many were checked."""
    checked = 0
    for event in service.get_execution_history(execution_arn):
        details = event.get("taskSucceededEventDetails")
        if details is None:
            continue
        output = json.loads(details["output"])
        checked += check_task_output(details["resourceType"], details["resource"], output)
    return checked
