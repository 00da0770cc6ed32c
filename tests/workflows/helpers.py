"""Helpers shared by the workflow tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lakebox.workflows.service import Execution, WorkflowService

START = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


class Runner:
    """Create a state machine from a definition and run it to the end."""

    def __init__(self, service: WorkflowService) -> None:
        self.service = service
        self.count = 0

    def __call__(self, definition: dict[str, Any], input: Any = None) -> Execution:
        self.count += 1
        name = f"sm{self.count}"
        self.service.create_state_machine(name, definition)
        return self.service.start_execution(name, input)

    def history(self, execution: Execution) -> list[dict[str, Any]]:
        return self.service.get_execution_history(execution.arn)

    def types(self, execution: Execution) -> list[str]:
        return [e["type"] for e in self.history(execution)]


def machine(states: dict[str, Any], start: str | None = None, **top: Any) -> dict[str, Any]:
    return {"StartAt": start or next(iter(states)), "States": states, **top}
