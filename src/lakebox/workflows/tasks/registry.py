"""Resource registry: which Python handler runs a Task state's ``Resource``.

Keys are ARN patterns with ``*`` wildcards, written without the integration suffix: one
registration of ``arn:aws:states:::athena:startQueryExecution`` serves the plain
(request/response), ``.sync`` (run a job) and ``.waitForTaskToken`` forms, as far as the
handler declares it supports them. Another package adds a resource with one line::

    register_resource("arn:aws:states:::glue:startJobRun", start_job_run, sync=True)
"""

from __future__ import annotations

import enum
import fnmatch
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lakebox.config import LakeConfig
from lakebox.principal import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, Principal
from lakebox.workflows.clock import Clock
from lakebox.workflows.errors import StatesError


def lake_arn(
    config: LakeConfig | None, service: str, resource: str, *, regional: bool = True
) -> str:
    """An ARN in the lake's account and region; a service run without a lake (tests on a bare
    workflow store) uses the lake defaults, so its ARNs look like a default lake's."""
    if config is not None:
        return config.arn(service, resource, regional=regional)
    region = DEFAULT_REGION if regional else ""
    return f"arn:aws:{service}:{region}:{DEFAULT_ACCOUNT_ID}:{resource}"


def lake_account(config: LakeConfig | None) -> str:
    return config.account_id if config is not None else DEFAULT_ACCOUNT_ID


def lake_region(config: LakeConfig | None) -> str:
    return config.region if config is not None else DEFAULT_REGION


class IntegrationPattern(enum.StrEnum):
    REQUEST_RESPONSE = "REQUEST_RESPONSE"
    RUN_JOB = "RUN_JOB"  # ``.sync``
    WAIT_FOR_TASK_TOKEN = "WAIT_FOR_TASK_TOKEN"  # ``.waitForTaskToken``


@dataclass
class TaskContext:
    """What a handler may know and do besides its parameters."""

    resource: str
    pattern: IntegrationPattern
    state_name: str
    execution_arn: str
    clock: Clock
    registry: ResourceRegistry
    config: LakeConfig | None = None
    #: Shared objects the WorkflowService was given (``services=``), e.g. a query engine;
    #: ``services["workflows"]`` is the WorkflowService itself.
    services: Mapping[str, Any] = field(default_factory=dict)
    #: who started the execution the task runs in (None: the lake's local administrator)
    principal: Principal | None = None
    #: the state machine's role (its ``roleArn``): Athena and Glue tasks act as it
    role_arn: str | None = None
    task_token: str | None = None
    timeout_seconds: float | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    _heartbeats: list[datetime] = field(default_factory=list)

    def arn(self, service: str, resource: str) -> str:
        """An ARN in the lake's account and region (Lambda, SNS, ECS answers)."""
        return lake_arn(self.config, service, resource)

    def heartbeat(self) -> None:
        """Tell the interpreter the task is alive (HeartbeatSeconds)."""
        self._heartbeats.append(self.clock.now())

    def sleep(self, seconds: float) -> None:
        """Sleep on the execution's clock, so tests with a manual clock do not wait."""
        if not self.clock.sleep(seconds, self.cancel):
            raise StatesError("States.Runtime", "the task was cancelled")


TaskHandler = Callable[[Any, TaskContext], Any]


@dataclass(frozen=True)
class Registration:
    pattern: str
    handler: TaskHandler
    sync: bool
    wait_for_task_token: bool
    request_response: bool


_SUFFIXES = (
    (".waitForTaskToken", IntegrationPattern.WAIT_FOR_TASK_TOKEN),
    (".sync:2", IntegrationPattern.RUN_JOB),
    (".sync", IntegrationPattern.RUN_JOB),
)


def split_resource(resource: str) -> tuple[str, IntegrationPattern]:
    """``arn:...:runTask.sync`` -> (``arn:...:runTask``, RUN_JOB)."""
    if resource.startswith("arn:aws:states:::"):
        for suffix, pattern in _SUFFIXES:
            if resource.endswith(suffix):
                return resource[: -len(suffix)], pattern
    return resource, IntegrationPattern.REQUEST_RESPONSE


class ResourceRegistry:
    """Registrations, searched newest first, then the parent registry (the defaults)."""

    def __init__(self, parent: ResourceRegistry | None = None) -> None:
        self.parent = parent
        self._entries: list[Registration] = []
        self._lock = threading.Lock()
        self.functions: dict[str, Callable[..., Any]] = {}
        self.commands: dict[str, Any] = {}
        self.topics: dict[str, Any] = {}

    def register(
        self,
        pattern: str,
        handler: TaskHandler,
        *,
        sync: bool = False,
        wait_for_task_token: bool = True,
        request_response: bool = True,
    ) -> None:
        with self._lock:
            self._entries.insert(
                0, Registration(pattern, handler, sync, wait_for_task_token, request_response)
            )

    def find(self, resource: str) -> tuple[Registration, IntegrationPattern] | None:
        base, pattern = split_resource(resource)
        for entry in self._entries:
            if fnmatch.fnmatchcase(base, entry.pattern):
                return entry, pattern
        return self.parent.find(resource) if self.parent else None

    def problem(self, resource: str) -> str | None:
        """Why ``resource`` cannot run here, or None when it can (validation)."""
        found = self.find(resource)
        if found is None:
            return (
                f"The resource provided {resource} is not recognized. The value is not a valid "
                "resource ARN, or the resource is not available in this region. (lakebox has "
                "no handler for it: register one with register_resource(pattern, handler))"
            )
        entry, pattern = found
        if pattern is IntegrationPattern.RUN_JOB and not entry.sync:
            return f"Resource '{resource}' does not support the .sync integration pattern"
        if pattern is IntegrationPattern.WAIT_FOR_TASK_TOKEN and not entry.wait_for_task_token:
            return f"Resource '{resource}' does not support .waitForTaskToken"
        if pattern is IntegrationPattern.REQUEST_RESPONSE and not entry.request_response:
            return f"Resource '{resource}' needs an integration suffix such as .sync"
        return None

    # Lookups that walk up to the parent, used by the built-in handlers.
    def function(self, name: str) -> Callable[..., Any] | None:
        if name in self.functions:
            return self.functions[name]
        return self.parent.function(name) if self.parent else None

    def command(self, name: str) -> Any:
        if name in self.commands:
            return self.commands[name]
        return self.parent.command(name) if self.parent else None

    def topic(self, name: str) -> Any:
        if name in self.topics:
            return self.topics[name]
        return self.parent.topic(name) if self.parent else None


DEFAULT_REGISTRY = ResourceRegistry()


def register_resource(
    pattern: str,
    handler: TaskHandler,
    *,
    sync: bool = False,
    wait_for_task_token: bool = True,
    request_response: bool = True,
) -> None:
    """Register ``handler`` for every Task whose Resource matches ``pattern`` (all services)."""
    DEFAULT_REGISTRY.register(
        pattern,
        handler,
        sync=sync,
        wait_for_task_token=wait_for_task_token,
        request_response=request_response,
    )
