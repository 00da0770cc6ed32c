"""Errors of the workflow package.

Two families: ``InvalidDefinitionError`` is a user error raised before anything runs
(AWS's ``InvalidDefinition``); ``StatesError`` is an ASL runtime error that travels through
Retry / Catch with an error name (``States.TaskFailed``, ``MyCustomError``) and a cause.
"""

from __future__ import annotations

from dataclasses import dataclass

from lakebox.errors import EntityNotFoundError, InvalidRequestError, LakeboxError


@dataclass(frozen=True)
class Problem:
    """One validation problem, located like AWS does (``/States/<name>/<field>``)."""

    code: str
    message: str
    location: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message} at {self.location}"


class InvalidDefinitionError(InvalidRequestError):
    """The state machine definition is not valid; ``problems`` lists every problem found."""

    code = "InvalidDefinition"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        listed = ", ".join(f"'{p}'" for p in problems)
        super().__init__(f"Invalid State Machine Definition: {listed}")


class InvalidScheduleError(InvalidRequestError):
    """A schedule expression or time zone is not valid (EventBridge ``ValidationException``)."""

    code = "ValidationException"


class ExecutionDoesNotExistError(EntityNotFoundError):
    code = "ExecutionDoesNotExist"


class ExecutionNotRedrivableError(InvalidRequestError):
    code = "ExecutionNotRedrivable"


class StateMachineDoesNotExistError(EntityNotFoundError):
    code = "StateMachineDoesNotExist"


class ScheduleDoesNotExistError(EntityNotFoundError):
    code = "ResourceNotFoundException"


class TaskDoesNotExistError(EntityNotFoundError):
    """A task token is unknown or its task already finished."""

    code = "TaskDoesNotExist"


class StatesError(LakeboxError):
    """An ASL runtime error: ``error`` is the name Retry / Catch match on."""

    code = "States.Runtime"

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause
        #: whether the cause already names the state it happened in (see ``locate``)
        self.located = False
        #: no retrier or catcher may handle it (a state's own output over the payload limit)
        self.terminal = False

    def locate(self, state: str, entered_event_id: int) -> None:
        """Prefix the cause with the state and the id of its ``StateEntered`` event, once.

        AWS words every ``States.Runtime`` and ``States.QueryEvaluationError`` this way
        ("An error occurred while executing the state 'X' (entered at the event id #N). ...");
        an error that crosses a Parallel or Map keeps the innermost state's prefix."""
        if self.located:
            return
        self.located = True
        self.cause = (
            f"An error occurred while executing the state '{state}' "
            f"(entered at the event id #{entered_event_id}). {self.cause}"
        )
        self.args = (f"{self.error}: {self.cause}",)
