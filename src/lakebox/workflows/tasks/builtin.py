"""Built-in task resources under AWS's names, so existing definitions run unchanged:
Lambda (optimised ``lambda:invoke`` and plain function ARNs) -> registered Python functions,
``sns:publish`` -> notification sinks, ``ecs:runTask`` -> registered shell commands."""

from __future__ import annotations

import base64
import inspect
import json
import os
import shlex
import subprocess
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lakebox.workflows.errors import StatesError
from lakebox.workflows.tasks.aws import call_api
from lakebox.workflows.tasks.notify import Notification, NotificationSink
from lakebox.workflows.tasks.registry import (
    DEFAULT_REGISTRY,
    IntegrationPattern,
    ResourceRegistry,
    TaskContext,
)

# ----------------------------------------------------------------------------- Lambda


@dataclass
class LambdaContext:
    """The subset of AWS Lambda's context object a handler usually reads."""

    function_name: str
    aws_request_id: str
    invoked_function_arn: str
    deadline: float | None = None
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128

    def get_remaining_time_in_millis(self) -> int:
        if self.deadline is None:
            return 900_000
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def function_name(reference: str) -> str:
    """Name part of a function name, partial ARN or full ARN (qualifier dropped)."""
    if reference.startswith("arn:"):
        parts = reference.split(":")
        # arn:aws:lambda:region:account:function:name[:qualifier]
        return parts[6] if len(parts) > 6 else parts[-1]
    parts = reference.split(":")
    if len(parts) >= 3 and parts[1] == "function":
        return parts[2]
    return parts[0]


def function_arn(ctx: TaskContext, name: str) -> str:
    return ctx.arn("lambda", f"function:{name}")


def _accepts_context(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in params)


def registered_function(name: str, ctx: TaskContext) -> Callable[..., Any]:
    fn = ctx.registry.function(name)
    if fn is None:
        # Lambda's message as Step Functions shows it, then how to fix it locally
        raise StatesError(
            "Lambda.ResourceNotFoundException",
            f"Function not found: {function_arn(ctx, name)}:$LATEST (Service: AWSLambda; "
            "Status Code: 404; Error Code: ResourceNotFoundException; Request ID: "
            f"{uuid.uuid4()}; Proxy: null) (lakebox: register it with "
            f"WorkflowService.register_function({name!r}, fn))",
        )
    return fn


@dataclass(frozen=True)
class Invocation:
    """One function run: its JSON result, Lambda's request id and how long it took."""

    result: Any
    request_id: str
    duration_ms: float


def call_function(reference: str, payload: Any, ctx: TaskContext) -> Any:
    """Run a registered function like Lambda would: an exception becomes an error named
    after its class, with Lambda's JSON cause (errorMessage, errorType, stackTrace)."""
    return invoke_function(reference, payload, ctx).result


def invoke_function(
    reference: str, payload: Any, ctx: TaskContext, *, compact: bool = False
) -> Invocation:
    """``call_function`` with the request id and duration Lambda's log lines report.
    ``compact``: the failure cause as ``lambda:invoke`` reports it, JSON without blanks
    (AWS-recorded; a plain function ARN keeps the Python runtime's spacing)."""
    name = function_name(reference)
    fn = registered_function(name, ctx)
    request_id = str(uuid.uuid4())
    deadline = None
    if ctx.timeout_seconds is not None and ctx.timeout_seconds < 99999999:
        deadline = time.monotonic() + ctx.timeout_seconds
    lctx = LambdaContext(name, request_id, function_arn(ctx, name), deadline)
    started = time.monotonic()
    try:
        result = fn(payload, lctx) if _accepts_context(fn) else fn(payload)
    except StatesError:
        raise
    except Exception as exc:
        error_type = type(exc).__name__
        cause = {
            "errorMessage": str(exc),
            "errorType": error_type,
            "requestId": request_id,
            "stackTrace": traceback.format_tb(exc.__traceback__)[1:],
        }
        separators = (",", ":") if compact else None
        raise StatesError(error_type, json.dumps(cause, separators=separators)) from exc
    duration_ms = (time.monotonic() - started) * 1000
    try:
        return Invocation(json.loads(json.dumps(result)), request_id, duration_ms)
    except (TypeError, ValueError) as exc:
        raise StatesError(
            "Lambda.Unknown", f"The function {name} returned a value that is not JSON: {exc}"
        ) from exc


#: Lambda's Invoke answers, by InvocationType: the status code and whether a payload comes
_INVOCATION_TYPES = {"RequestResponse": 200, "Event": 202, "DryRun": 204}


def _event(payload: Any) -> Any:
    """The event a function receives for Invoke's ``Payload``. Lambda reads the payload as
    JSON text: an absent or null payload arrives as ``{}`` (AWS-recorded: the identity
    function returns ``{}``), a string is that JSON text decoded, and text that is not JSON
    is refused as Lambda refuses it."""
    if payload is None:
        return {}
    if not isinstance(payload, str):
        return payload
    if not payload.strip():
        return {}
    try:
        return json.loads(payload)
    except json.JSONDecodeError as exc:
        raise StatesError(
            "Lambda.InvalidRequestContentException",
            f"Could not parse request body into json: {exc.msg} (line {exc.lineno}, "
            f"column {exc.colno})",
        ) from exc


def _log_tail(call: Invocation) -> str:
    """``LogResult`` for ``LogType: Tail``: base64 of the end (at most 4 KB) of the
    invocation's log, as Lambda returns it. lakebox writes Lambda's START / END / REPORT
    lines; what the function prints is not captured (functions run on shared threads)."""
    billed = max(1, int(call.duration_ms + 0.999))
    text = (
        f"START RequestId: {call.request_id} Version: $LATEST\n"
        f"END RequestId: {call.request_id}\n"
        f"REPORT RequestId: {call.request_id}\tDuration: {call.duration_ms:.2f} ms\t"
        f"Billed Duration: {billed} ms\tMemory Size: 128 MB\t\n"
    )
    return base64.b64encode(text.encode()[-4096:]).decode()


def _sdk_http_metadata(status: int, headers: dict[str, str]) -> dict[str, Any]:
    """The ``SdkHttpMetadata`` Step Functions adds to an optimised integration's result."""
    return {
        "AllHttpHeaders": {key: [value] for key, value in headers.items()},
        "HttpHeaders": dict(headers),
        "HttpStatusCode": status,
    }


def sdk_metadata(content_type: str, status: int = 200) -> dict[str, Any]:
    """``SdkHttpMetadata`` and ``SdkResponseMetadata``, which Step Functions adds to the
    result of an optimised integration that does not wait (``sns:publish``, ``ecs:runTask``,
    ``states:startExecution``): the service's status code and the headers lakebox can know
    (its content type and a request id; no length or date of a real HTTP answer)."""
    request_id = str(uuid.uuid4())
    headers = {"Content-Type": content_type, "x-amzn-RequestId": request_id}
    return {
        "SdkHttpMetadata": _sdk_http_metadata(status, headers),
        "SdkResponseMetadata": {"RequestId": request_id},
    }


def lambda_invoke(params: Any, ctx: TaskContext) -> Any:
    """``arn:aws:states:::lambda:invoke``: Lambda's Invoke answer (``StatusCode``,
    ``ExecutedVersion``, ``Payload``, ``LogResult`` with ``LogType: Tail``,
    ``FunctionError`` never: a failing function fails the task) plus Step Functions'
    ``SdkHttpMetadata`` / ``SdkResponseMetadata``."""
    if not isinstance(params, dict) or not isinstance(params.get("FunctionName"), str):
        raise StatesError("States.Runtime", "lambda:invoke needs a FunctionName parameter")
    kind = params.get("InvocationType", "RequestResponse")
    if kind not in _INVOCATION_TYPES:
        raise StatesError(
            "Lambda.InvalidParameterValueException",
            f"InvocationType must be one of {', '.join(_INVOCATION_TYPES)}, got {kind!r}",
        )
    log_type = params.get("LogType", "None")
    if log_type not in ("None", "Tail"):
        raise StatesError(
            "Lambda.InvalidParameterValueException",
            f"LogType must be None or Tail, got {log_type!r}",
        )
    status = _INVOCATION_TYPES[kind]
    event = _event(params.get("Payload"))
    if status == 204:  # DryRun: Lambda checks the call and runs nothing
        registered_function(function_name(params["FunctionName"]), ctx)
        call = Invocation("", str(uuid.uuid4()), 0.0)
    else:
        call = invoke_function(params["FunctionName"], event, ctx, compact=True)
    if ctx.pattern is IntegrationPattern.WAIT_FOR_TASK_TOKEN:
        return call.result
    payload = call.result if status == 200 else ""
    body = json.dumps(payload, separators=(",", ":")) if status == 200 else ""
    headers = {
        "Content-Length": str(len(body.encode())),
        "Content-Type": "application/json",
        "X-Amz-Executed-Version": "$LATEST",
        "x-amzn-RequestId": call.request_id,
    }
    result: dict[str, Any] = {"ExecutedVersion": "$LATEST"}
    if log_type == "Tail" and status == 200:
        result["LogResult"] = headers["X-Amz-Log-Result"] = _log_tail(call)
    result.update(
        {
            "Payload": payload,
            "SdkHttpMetadata": _sdk_http_metadata(status, headers),
            "SdkResponseMetadata": {"RequestId": call.request_id},
            "StatusCode": status,
        }
    )
    return result


def lambda_function(params: Any, ctx: TaskContext) -> Any:
    return call_function(ctx.resource, params, ctx)


# ----------------------------------------------------------------------------- SNS


def topic_name(reference: str) -> str:
    return reference.rsplit(":", 1)[-1]


def topic_arn(ctx: TaskContext, name: str) -> str:
    return ctx.arn("sns", name)


#: the lake's SNS store (``lakebox.sns.service.FILE``; that package is a layer above): no
#: file, no topic, and the lake need not be opened to find that out
_SNS_STORE = "sns.sqlite"
#: the members of sns:publish's parameters the lake's SNS Publish takes
_PUBLISH_MEMBERS = ("Subject", "MessageStructure", "MessageAttributes")


def _publish_to_lake_topic(params: dict[str, Any], target: str, ctx: TaskContext) -> Any:
    """Publish's answer when ``target`` is a topic of the lake's SNS (made with CreateTopic),
    through the API layer as the execution's principal; None when it is not one (or the
    task has no lake), so the sinks registered with ``register_topic`` are used, as before."""
    if ctx.config is None or not (ctx.config.metadata_dir / _SNS_STORE).exists():
        return None
    message = params["Message"]
    request: dict[str, Any] = {
        "TopicArn": target if target.startswith("arn:") else topic_arn(ctx, target),
        "Message": message if isinstance(message, str) else json.dumps(message),
    }
    request.update((k, params[k]) for k in _PUBLISH_MEMBERS if params.get(k) is not None)
    try:
        answer = call_api(ctx, "sns", "Publish", request, prefix="SNS")
    except StatesError as exc:
        if exc.error == "SNS.NotFoundException":
            return None
        raise
    return {"MessageId": answer["MessageId"], **sdk_metadata("text/xml")}


def sns_publish(params: Any, ctx: TaskContext) -> Any:
    """A topic of the lake's SNS first, else the sinks registered for the topic's name."""
    if not isinstance(params, dict):
        raise StatesError("States.Runtime", "sns:publish needs an object of parameters")
    target = params.get("TopicArn") or params.get("TargetArn")
    if not isinstance(target, str):
        raise StatesError("SNS.InvalidParameterException", "TopicArn or TargetArn is required")
    if "Message" not in params:
        raise StatesError("SNS.InvalidParameterException", "Message is required")
    published = _publish_to_lake_topic(params, target, ctx)
    if published is not None:
        return published
    sinks = ctx.registry.topic(target) or ctx.registry.topic(topic_name(target))
    if sinks is None:
        raise StatesError(
            "SNS.NotFoundException",
            f"Topic does not exist: {target} (register a sink with WorkflowService.register_topic)",
        )
    message = params["Message"]
    if not isinstance(message, str):
        message = json.dumps(message, separators=(",", ":"))
    note = Notification(
        message_id=str(uuid.uuid4()),
        topic_arn=target if target.startswith("arn:") else topic_arn(ctx, target),
        subject=params.get("Subject"),
        message=message,
        attributes=params.get("MessageAttributes") or {},
        timestamp=ctx.clock.now(),
    )
    for sink in sinks if isinstance(sinks, list | tuple) else [sinks]:
        sink.deliver(note)
    return {"MessageId": note.message_id, **sdk_metadata("text/xml")}


# ----------------------------------------------------------------------------- ECS


@dataclass(frozen=True)
class Command:
    """A shell command standing in for an ECS task definition."""

    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    max_output: int = 64 * 1024

    @classmethod
    def of(
        cls,
        command: str | Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
    ) -> Command:
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        if not argv:
            raise ValueError("a command needs at least a program name")
        return cls(tuple(argv), dict(env or {}), str(cwd) if cwd is not None else None)


def task_definition_name(reference: str) -> str:
    """``arn:aws:ecs:...:task-definition/etl:3`` or ``etl:3`` -> ``etl``."""
    name = reference.rsplit("/", 1)[-1] if reference.startswith("arn:") else reference
    return name.split(":", 1)[0]


def ecs_run_task(params: Any, ctx: TaskContext) -> Any:
    if not isinstance(params, dict) or not isinstance(params.get("TaskDefinition"), str):
        raise StatesError("ECS.InvalidParameterException", "TaskDefinition is required")
    family = task_definition_name(params["TaskDefinition"])
    command: Command | None = ctx.registry.command(family)
    if command is None:
        raise StatesError(
            "ECS.ClientException",
            f"Unable to find task definition '{params['TaskDefinition']}' (register a command "
            f"with WorkflowService.register_command({family!r}, ...))",
        )
    argv = list(command.argv)
    env = {**os.environ, **command.env}
    for override in (params.get("Overrides") or {}).get("ContainerOverrides") or []:
        if override.get("Command"):
            argv = [str(a) for a in override["Command"]]
        for pair in override.get("Environment") or []:
            env[str(pair["Name"])] = str(pair.get("Value", ""))
    cluster = params.get("Cluster", "default")
    task_id = uuid.uuid4().hex
    task = {
        "TaskArn": ctx.arn("ecs", f"task/{task_definition_name(cluster)}/{task_id}"),
        "TaskDefinitionArn": ctx.arn("ecs", f"task-definition/{family}:1"),
        "ClusterArn": ctx.arn("ecs", f"cluster/{cluster}"),
        "LaunchType": params.get("LaunchType", "FARGATE"),
        "Overrides": params.get("Overrides") or {},
        "StartedAt": ctx.clock.now().isoformat(),
    }
    if ctx.pattern is not IntegrationPattern.RUN_JOB:
        try:
            subprocess.Popen(
                argv,
                env=env,
                cwd=command.cwd,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            raise StatesError("ECS.ClientException", f"cannot start {argv[0]}: {exc}") from exc
        return {
            "Failures": [],
            **sdk_metadata("application/x-amz-json-1.1"),
            "Tasks": [{**task, "LastStatus": "PROVISIONING", "DesiredStatus": "RUNNING"}],
        }
    timeout = (
        ctx.timeout_seconds if ctx.timeout_seconds and ctx.timeout_seconds < 99999999 else None
    )
    try:
        done = subprocess.run(
            argv,
            env=env,
            cwd=command.cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise StatesError("States.Timeout", f"{argv[0]} ran longer than {timeout} s") from exc
    except OSError as exc:
        raise StatesError("ECS.ClientException", f"cannot start {argv[0]}: {exc}") from exc
    container = {
        "Name": family,
        "ExitCode": done.returncode,
        "LastStatus": "STOPPED",
        "Stdout": done.stdout[-command.max_output :],
        "Stderr": done.stderr[-command.max_output :],
    }
    task.update(
        {
            "LastStatus": "STOPPED",
            "DesiredStatus": "STOPPED",
            "StopCode": "EssentialContainerExited",
            "StoppedReason": "Essential container in task exited",
            "StoppedAt": ctx.clock.now().isoformat(),
            "Containers": [container],
        }
    )
    if done.returncode != 0:
        raise StatesError("States.TaskFailed", json.dumps(task))
    return task


# ----------------------------------------------------------------------------- HTTP


def http_invoke(params: Any, ctx: TaskContext) -> Any:
    """``arn:aws:states:::http:invoke`` through urllib. A non-2xx answer fails with
    ``States.Http.StatusCode.<code>`` as in Step Functions; ``Authentication`` (EventBridge
    connections) is not available, so headers must be given in ``Headers``."""
    if not isinstance(params, dict) or not isinstance(params.get("ApiEndpoint"), str):
        raise StatesError("States.Runtime", "http:invoke needs ApiEndpoint")
    method = str(params.get("Method", "GET")).upper()
    url = params["ApiEndpoint"]
    query = params.get("QueryParameters") or {}
    if query:
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode(query, doseq=True)
    headers = {str(k): str(v) for k, v in (params.get("Headers") or {}).items()}
    body = params.get("RequestBody")
    data: bytes | None = None
    if body is not None:
        transform = (params.get("Transform") or {}).get("RequestBodyEncoding", "NONE")
        if transform == "URL_ENCODED" and isinstance(body, dict):
            data = urllib.parse.urlencode(body, doseq=True).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
    timeout = ctx.timeout_seconds if ctx.timeout_seconds and ctx.timeout_seconds < 99999999 else 60
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=min(timeout, 60)) as response:
            status, reason, raw = response.status, response.reason, response.read()
            response_headers = dict(response.headers.items())
    except urllib.error.HTTPError as exc:
        status, reason, raw = exc.code, exc.reason, exc.read()
        response_headers = dict(exc.headers.items()) if exc.headers else {}
    except (urllib.error.URLError, OSError) as exc:
        raise StatesError("States.Http.Socket", f"{method} {url}: {exc}") from exc
    text = raw.decode("utf-8", errors="replace")
    try:
        response_body: Any = json.loads(text) if text else ""
    except json.JSONDecodeError:
        response_body = text
    result = {
        "Headers": response_headers,
        "ResponseBody": response_body,
        "StatusCode": status,
        "StatusText": str(reason),
    }
    if not 200 <= status < 300:
        raise StatesError(f"States.Http.StatusCode.{status}", json.dumps(result))
    return result


def install(registry: ResourceRegistry) -> None:
    registry.register("arn:aws:states:::lambda:invoke", lambda_invoke)
    registry.register("arn:aws:lambda:*:*:function:*", lambda_function, wait_for_task_token=False)
    registry.register("arn:aws:states:::sns:publish", sns_publish)
    registry.register("arn:aws:states:::ecs:runTask", ecs_run_task, sync=True)
    registry.register("arn:aws:states:::http:invoke", http_invoke, wait_for_task_token=False)


install(DEFAULT_REGISTRY)

__all__ = ["Command", "LambdaContext", "NotificationSink", "install"]
