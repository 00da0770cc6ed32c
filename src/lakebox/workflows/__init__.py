"""Workflows: an Amazon States Language interpreter with persisted executions and history,
task resources keyed by ARN, and EventBridge Scheduler-style schedules.

Entry point: ``WorkflowService`` (``lakebox.workflows.service``); other packages add task
resources with ``register_resource(pattern, handler)``.
"""

from lakebox.workflows.clock import ManualClock, SystemClock
from lakebox.workflows.errors import InvalidDefinitionError, InvalidScheduleError, StatesError
from lakebox.workflows.tasks.registry import TaskContext, register_resource

__all__ = [
    "InvalidDefinitionError",
    "InvalidScheduleError",
    "ManualClock",
    "StatesError",
    "SystemClock",
    "TaskContext",
    "register_resource",
]
