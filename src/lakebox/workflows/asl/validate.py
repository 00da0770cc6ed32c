"""Definition validation before anything runs, in the spirit of AWS's ``InvalidDefinition``.

Every problem is collected (not only the first) with the location AWS would print, e.g.
``SCHEMA_VALIDATION_FAILED: ... at /States/Check/Choices[0]/Variable``, and raised once as
``InvalidDefinitionError``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from lakebox.workflows.asl import choice, intrinsics, item_reader, jsonata_mode, paths
from lakebox.workflows.errors import InvalidDefinitionError, Problem
from lakebox.workflows.tasks.registry import ResourceRegistry

STATE_TYPES = ("Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
PREDEFINED_ERRORS = frozenset(
    {
        "States.ALL",
        "States.DataLimitExceeded",
        "States.ExceedToleratedFailureThreshold",
        "States.HeartbeatTimeout",
        "States.Http.Socket",
        "States.IntrinsicFailure",
        "States.ItemReaderFailed",
        "States.NoChoiceMatched",
        "States.ParameterPathFailure",
        "States.Permissions",
        "States.QueryEvaluationError",
        "States.ResultPathMatchFailure",
        "States.ResultWriterFailed",
        "States.Runtime",
        "States.TaskFailed",
        "States.Timeout",
        "States.BranchFailed",
        "States.Unknown",
    }
)

_COMMON = {"Type", "Comment", "QueryLanguage"}
_JSONPATH_IO = {"InputPath", "OutputPath"}
_FIELDS: dict[str, dict[str, set[str]]] = {
    # type -> {"both": ..., "JSONPath": ..., "JSONata": ...}
    "Pass": {
        "both": {"Next", "End", "Assign"},
        "JSONPath": _JSONPATH_IO | {"Parameters", "Result", "ResultPath"},
        "JSONata": {"Output"},
    },
    "Task": {
        "both": {
            "Next",
            "End",
            "Assign",
            "Resource",
            "Retry",
            "Catch",
            "TimeoutSeconds",
            "HeartbeatSeconds",
            "Credentials",
        },
        "JSONPath": _JSONPATH_IO
        | {
            "Parameters",
            "ResultSelector",
            "ResultPath",
            "TimeoutSecondsPath",
            "HeartbeatSecondsPath",
        },
        "JSONata": {"Arguments", "Output"},
    },
    "Choice": {
        "both": {"Choices", "Default", "Assign"},
        "JSONPath": _JSONPATH_IO,
        "JSONata": {"Output"},
    },
    "Wait": {
        "both": {"Next", "End", "Assign", "Seconds", "Timestamp"},
        "JSONPath": _JSONPATH_IO | {"SecondsPath", "TimestampPath"},
        "JSONata": {"Output"},
    },
    "Succeed": {"both": set(), "JSONPath": _JSONPATH_IO, "JSONata": {"Output"}},
    "Fail": {"both": {"Error", "Cause"}, "JSONPath": {"ErrorPath", "CausePath"}, "JSONata": set()},
    "Parallel": {
        "both": {"Next", "End", "Assign", "Branches", "Retry", "Catch"},
        "JSONPath": _JSONPATH_IO | {"Parameters", "ResultSelector", "ResultPath"},
        "JSONata": {"Arguments", "Output"},
    },
    "Map": {
        "both": {
            "Next",
            "End",
            "Assign",
            "Iterator",
            "ItemProcessor",
            "ItemSelector",
            "MaxConcurrency",
            "Retry",
            "Catch",
            "ToleratedFailurePercentage",
            "ToleratedFailureCount",
            "ItemReader",
            "ItemBatcher",
            "ResultWriter",
            "Label",
        },
        "JSONPath": _JSONPATH_IO
        | {
            "Parameters",
            "ResultSelector",
            "ResultPath",
            "ItemsPath",
            "MaxConcurrencyPath",
            "ToleratedFailurePercentagePath",
            "ToleratedFailureCountPath",
        },
        "JSONata": {"Items", "Output"},
    },
}
#: the intrinsics a Fail state's ErrorPath / CausePath may use: those that return a string
#: (developer guide, "Fail workflow state")
_STRING_INTRINSICS = frozenset(
    {
        "States.Format",
        "States.JsonToString",
        "States.ArrayGetItem",
        "States.Base64Encode",
        "States.Base64Decode",
        "States.Hash",
        "States.UUID",
    }
)
_TOP_FIELDS = {"StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"}
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Validator:
    def __init__(self, registry: ResourceRegistry | None, express: bool = False) -> None:
        self.registry = registry
        #: EXPRESS machines refuse the .sync and .waitForTaskToken patterns and activities
        self.express = express
        self.problems: list[Problem] = []
        self.names: dict[str, str] = {}
        self.current_states: dict[str, Any] = {}
        #: the machine's top-level QueryLanguage, the only one that forbids JSONPath below it
        self.top_language = "JSONPath"

    def add(self, code: str, message: str, where: str) -> None:
        self.problems.append(Problem(code, message, where or "/"))

    def schema(self, message: str, where: str) -> None:
        self.add("SCHEMA_VALIDATION_FAILED", message, where)

    # -------------------------------------------------------------- machines

    def machine(self, m: Any, where: str, language: str, top: bool) -> None:
        if not isinstance(m, dict):
            self.schema("Expected an object with StartAt and States", where)
            return
        if top:
            for key in m:
                if key not in _TOP_FIELDS:
                    self.schema(f"The field '{key}' is not supported by Step Functions", where)
            timeout = m.get("TimeoutSeconds")
            if "TimeoutSeconds" in m and not _pos_int(timeout):
                self.schema("TimeoutSeconds must be a positive integer", f"{where}/TimeoutSeconds")
        else:
            for key in m:
                if key not in {"StartAt", "States", "Comment", "ProcessorConfig", "QueryLanguage"}:
                    self.schema(f"The field '{key}' is not supported by Step Functions", where)
        ql = m.get("QueryLanguage", language)
        if ql not in ("JSONPath", "JSONata"):
            self.schema("QueryLanguage must be JSONPath or JSONata", f"{where}/QueryLanguage")
            ql = language
        if top:
            self.top_language = ql
        elif self.top_language == "JSONata" and ql == "JSONPath":
            self.schema(
                "A JSONPath block cannot sit inside a JSONata one", f"{where}/QueryLanguage"
            )
        states = m.get("States")
        start = m.get("StartAt")
        missing = [key for key in ("States", "StartAt") if key not in m]
        if missing:
            # AWS lists the missing members of the object in one problem, States first
            self.schema(f"These fields are required: [{', '.join(missing)}]", where or "/")
        if not isinstance(states, dict) or not states:
            if "States" in m:
                self.schema("Value cannot be empty", f"{where}/States")
            return
        if "StartAt" in m and not isinstance(start, str):
            self.schema("StartAt must be a string naming a state", f"{where}/StartAt")
        elif isinstance(start, str) and start not in states:
            self.add(
                "MISSING_TRANSITION_TARGET", f"Missing 'Next' target: {start}", f"{where}/StartAt"
            )
        outer, self.current_states = self.current_states, states
        for name, state in states.items():
            loc = f"{where}/States/{name}"
            if name in self.names:
                self.add("DUPLICATE_STATE_NAME", f"Duplicate State name: {name}", loc)
            self.names[name] = loc
            if len(name) > 80:
                self.schema("State names must be at most 80 characters", loc)
            self.state(name, state, loc, ql, states)
        self.current_states = outer
        self.reachability(states, start, where)

    def reachability(self, states: dict[str, Any], start: Any, where: str) -> None:
        seen: set[str] = set()
        todo = [start] if isinstance(start, str) and start in states else []
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            for target in _targets(states[name]):
                if target in states and target not in seen:
                    todo.append(target)
        for name in states:
            if name not in seen and isinstance(start, str) and start in states:
                self.add(
                    "UNREACHABLE_STATE",
                    f"State '{name}' is not reachable.",
                    f"{where}/States/{name}",
                )
        terminal = any(
            isinstance(s, dict) and (s.get("Type") in ("Succeed", "Fail") or s.get("End") is True)
            for s in states.values()
        )
        if not terminal:
            self.add("MISSING_END_STATE", "Workflow has no terminal state", where or "/")

    # -------------------------------------------------------------- states

    def state(self, name: str, state: Any, loc: str, language: str, states: dict[str, Any]) -> None:
        if not isinstance(state, dict):
            self.schema("A state must be an object", loc)
            return
        kind = state.get("Type")
        if "Type" not in state:
            self.schema("These fields are required: [Type]", loc)
            return
        if kind not in STATE_TYPES:
            self.schema(
                "The field 'Type' should have one of these values: "
                "[Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]",
                f"{loc}/Type",
            )
            return
        ql = state.get("QueryLanguage", language)
        if ql not in ("JSONPath", "JSONata"):
            self.schema("QueryLanguage must be JSONPath or JSONata", f"{loc}/QueryLanguage")
            ql = language
        elif self.top_language == "JSONata" and ql == "JSONPath":
            # only the machine's own QueryLanguage binds: AWS accepts a JSONPath state inside
            # a JSONata Map of a JSONPath machine (AWS-recorded ValidateStateMachineDefinition)
            self.schema(
                "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
                loc,
            )
        table = _FIELDS[kind]
        allowed = _COMMON | table["both"] | table[ql]
        other = "JSONata" if ql == "JSONPath" else "JSONPath"
        for key in state:
            if key not in allowed:
                hint = f" in a {ql} state" if key in table[other] else ""
                self.schema(
                    f"The field '{key}' is not supported by Step Functions{hint}", f"{loc}/{key}"
                )
        self.transitions(kind, state, loc, states)
        if ql == "JSONPath":
            self.jsonpath_fields(state, loc)
        else:
            self.jsonata_fields(state, loc)
        if "Assign" in state:
            self.assign(state["Assign"], f"{loc}/Assign", ql)
        if kind in ("Task", "Parallel", "Map"):
            self.retry_catch(state, loc, states, ql)
        getattr(self, f"state_{kind.lower()}")(name, state, loc, ql)

    def transitions(
        self, kind: str, state: dict[str, Any], loc: str, states: dict[str, Any]
    ) -> None:
        if kind in ("Succeed", "Fail", "Choice"):
            for key in ("Next", "End"):
                if key in state:
                    self.schema(
                        f"The field '{key}' is not supported by Step Functions", f"{loc}/{key}"
                    )
            return
        has_next, end = "Next" in state, state.get("End")
        if "End" in state and end is not True:
            self.schema("End must be true when present", f"{loc}/End")
        if has_next and end is True:
            self.schema("A state cannot have both Next and End", loc)
        elif not has_next and end is not True:
            self.schema("A state must have either Next or End: true", loc)
        if has_next:
            self.target(state["Next"], f"{loc}/Next", states)

    def target(self, name: Any, where: str, states: dict[str, Any]) -> None:
        if not isinstance(name, str) or name not in states:
            self.add("MISSING_TRANSITION_TARGET", f"Missing 'Next' target: {name}", where)

    def path_field(
        self,
        state: dict[str, Any],
        key: str,
        loc: str,
        reference: bool = False,
        allow_null: bool = True,
        allow_intrinsic: bool = False,
        any_root: bool = False,
    ) -> None:
        if key not in state:
            return
        value = state[key]
        if value is None and allow_null:
            return
        if allow_intrinsic and intrinsics.is_intrinsic(value):
            call = self.intrinsic(value, f"{loc}/{key}", key)
            if call is not None and call.name not in _STRING_INTRINSICS:
                self.schema(
                    f"The value for the field '{key}' must be a reference path or one of the "
                    f"intrinsic functions {', '.join(sorted(_STRING_INTRINSICS))}; "
                    f"{call.name} is not one of them",
                    f"{loc}/{key}",
                )
            return
        message = self.path_problem(value, reference, any_root)
        if message:
            kind = "Reference Path" if reference else "JSONPath"
            self.schema(
                f"The value for the field '{key}' must be a valid {kind}: {message}", f"{loc}/{key}"
            )

    @staticmethod
    def path_problem(value: Any, reference: bool, any_root: bool = False) -> str | None:
        """Why ``value`` is not a path of the kind asked, or None. ``any_root`` lets a
        reference path start at a variable (``$var``) or the context object (``$$``): AWS
        reads the value fields (ItemsPath, SecondsPath, ErrorPath...) from either, while
        ResultPath writes into the state's data and so must start at ``$``."""
        if not isinstance(value, str):
            return "expected a string"
        try:
            parsed = paths.parse_path(value)
        except paths.PathSyntaxError as exc:
            return str(exc)
        if reference and not parsed.definite:
            return f"{value!r} may select more than one node"
        if reference and not any_root and parsed.root != "$":
            return f"{value!r} must start with '$' followed by '.' or '['"
        return None

    def intrinsic(self, value: str, where: str, key: str) -> intrinsics.Call | None:
        try:
            return intrinsics.parse(value)
        except intrinsics.IntrinsicSyntaxError as exc:
            self.schema(
                f"The value for the field '{key}' must be a valid intrinsic function call: {exc}",
                where,
            )
            return None

    def payload(self, template: Any, where: str) -> None:
        if isinstance(template, dict):
            for key, value in template.items():
                if key.endswith(".$"):
                    if not isinstance(value, str):
                        self.schema(
                            f"The value for the field '{key}' must be a STRING", f"{where}/{key}"
                        )
                    elif intrinsics.is_intrinsic(value):
                        self.intrinsic(value, where, key)
                    elif self.path_problem(value, reference=False):
                        # AWS's wording and location: the object that holds the key
                        self.schema(
                            f"The value for the field '{key}' must be a valid "
                            "JSONPath or a valid intrinsic function call",
                            where,
                        )
                else:
                    self.payload(value, f"{where}/{key}")
        elif isinstance(template, list):
            for i, v in enumerate(template):
                self.payload(v, f"{where}[{i}]")

    def jsonpath_fields(self, state: dict[str, Any], loc: str) -> None:
        for key in ("InputPath", "OutputPath"):
            self.path_field(state, key, loc)
        self.path_field(state, "ResultPath", loc, reference=True)
        for key in (
            "ItemsPath",
            "SecondsPath",
            "TimestampPath",
            "TimeoutSecondsPath",
            "HeartbeatSecondsPath",
            "MaxConcurrencyPath",
            "ToleratedFailurePercentagePath",
            "ToleratedFailureCountPath",
        ):
            self.path_field(state, key, loc, reference=True, allow_null=False, any_root=True)
        for key in ("ErrorPath", "CausePath"):
            self.path_field(
                state,
                key,
                loc,
                reference=True,
                allow_null=False,
                allow_intrinsic=True,
                any_root=True,
            )
        for key in ("Parameters", "ResultSelector", "ItemSelector"):
            if key in state:
                self.payload(state[key], f"{loc}/{key}")

    def jsonata_fields(self, state: dict[str, Any], loc: str) -> None:
        for key in (
            "Arguments",
            "Output",
            "Items",
            "ItemSelector",
            "Seconds",
            "Timestamp",
            "TimeoutSeconds",
            "HeartbeatSeconds",
            "Error",
            "Cause",
            "MaxConcurrency",
            "ToleratedFailureCount",
            "ToleratedFailurePercentage",
        ):
            if key in state:
                message = jsonata_mode.check_syntax(state[key])
                if message:
                    self.schema(
                        f"The JSONata expression in '{key}' is not valid: {message}", f"{loc}/{key}"
                    )
        if "Arguments" in state and state.get("Type") == "Task":
            value = state["Arguments"]
            if not (isinstance(value, dict) or jsonata_mode.is_expression(value)):
                self.schema(
                    "Arguments must be an object or a JSONata expression", f"{loc}/Arguments"
                )

    def assign(self, assign: Any, where: str, ql: str) -> None:
        if not isinstance(assign, dict):
            self.schema("Assign must be an object", where)
            return
        for key in assign:
            name = key[:-2] if key.endswith(".$") and ql == "JSONPath" else key
            if not _VAR_NAME.match(name) or name == "states":
                self.schema(f"'{name}' is not a valid variable name", f"{where}/{key}")
        if ql == "JSONPath":
            self.payload(assign, where)
        else:
            message = jsonata_mode.check_syntax(assign)
            if message:
                self.schema(f"The JSONata expression is not valid: {message}", where)

    def errors_list(self, value: Any, where: str, last: bool, what: str) -> None:
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            self.schema("ErrorEquals must be a non-empty array of strings", where)
            return
        for name in value:
            if (
                name.startswith("States.")
                and name not in PREDEFINED_ERRORS
                and not name.startswith("States.Http.StatusCode.")
            ):
                self.schema(
                    f"'{name}' is not a predefined error name; custom error names "
                    "cannot start with 'States.'",
                    where,
                )
        if "States.ALL" in value:
            if len(value) != 1:
                self.schema("States.ALL must appear alone in ErrorEquals", where)
            if not last:
                self.schema(f"The {what} containing States.ALL must be the last one", where)

    def retry_catch(self, state: dict[str, Any], loc: str, states: dict[str, Any], ql: str) -> None:
        retry = state.get("Retry", [])
        if not isinstance(retry, list):
            self.schema("Retry must be an array", f"{loc}/Retry")
            retry = []
        for i, r in enumerate(retry):
            where = f"{loc}/Retry[{i}]"
            if not isinstance(r, dict):
                self.schema("A retrier must be an object", where)
                continue
            for key in r:
                if key not in {
                    "ErrorEquals",
                    "IntervalSeconds",
                    "MaxAttempts",
                    "BackoffRate",
                    "MaxDelaySeconds",
                    "JitterStrategy",
                    "Comment",
                }:
                    self.schema(
                        f"The field '{key}' is not supported by Step Functions", f"{where}/{key}"
                    )
            self.errors_list(
                r.get("ErrorEquals"), f"{where}/ErrorEquals", i == len(retry) - 1, "retrier"
            )
            if "IntervalSeconds" in r and not _pos_int(r["IntervalSeconds"]):
                self.schema(
                    "IntervalSeconds must be a positive integer", f"{where}/IntervalSeconds"
                )
            if "MaxAttempts" in r and not _nonneg_int(r["MaxAttempts"]):
                self.schema("MaxAttempts must be a non-negative integer", f"{where}/MaxAttempts")
            if "BackoffRate" in r and not (_number(r["BackoffRate"]) and r["BackoffRate"] >= 1):
                self.schema("BackoffRate must be a number >= 1.0", f"{where}/BackoffRate")
            if "MaxDelaySeconds" in r and not _pos_int(r["MaxDelaySeconds"]):
                self.schema(
                    "MaxDelaySeconds must be a positive integer", f"{where}/MaxDelaySeconds"
                )
            if r.get("JitterStrategy", "NONE") not in ("FULL", "NONE"):
                self.schema("JitterStrategy must be FULL or NONE", f"{where}/JitterStrategy")
        catch = state.get("Catch", [])
        if not isinstance(catch, list):
            self.schema("Catch must be an array", f"{loc}/Catch")
            catch = []
        for i, c in enumerate(catch):
            where = f"{loc}/Catch[{i}]"
            if not isinstance(c, dict):
                self.schema("A catcher must be an object", where)
                continue
            allowed = {"ErrorEquals", "Next", "Comment", "Assign"} | (
                {"ResultPath"} if ql == "JSONPath" else {"Output"}
            )
            for key in c:
                if key not in allowed:
                    self.schema(
                        f"The field '{key}' is not supported by Step Functions", f"{where}/{key}"
                    )
            self.errors_list(
                c.get("ErrorEquals"), f"{where}/ErrorEquals", i == len(catch) - 1, "catcher"
            )
            if "Next" not in c:
                self.schema("A catcher must have Next", where)
            else:
                self.target(c["Next"], f"{where}/Next", states)
            self.path_field(c, "ResultPath", where, reference=True)
            if "Assign" in c:
                self.assign(c["Assign"], f"{where}/Assign", ql)

    # -------------------------------------------------------------- per type

    def state_pass(self, name: str, state: dict[str, Any], loc: str, ql: str) -> None:
        pass

    def state_succeed(self, name: str, state: dict[str, Any], loc: str, ql: str) -> None:
        pass

    def state_task(self, name: str, state: dict[str, Any], loc: str, ql: str) -> None:
        resource = state.get("Resource")
        if "Resource" not in state:
            self.schema("These fields are required: [Resource]", loc)
        elif not isinstance(resource, str) or not resource.startswith("arn:"):
            self.schema("Value is not a valid resource ARN", f"{loc}/Resource")
        elif self.express and resource.endswith(".waitForTaskToken"):
            # AWS's message has two blanks before "at"; kept as AWS prints it
            self.schema(
                "Express state machine does not support '.waitForTaskToken' service integration ",
                f"{loc}/Resource",
            )
        elif self.express and (resource.endswith(".sync") or ".sync:" in resource):
            self.schema(
                "Express state machine does not support '.sync' service integration",
                f"{loc}/Resource",
            )
        elif self.express and resource.split(":")[5:6] == ["activity"]:
            self.schema("Express state machine does not support Activity ARN", f"{loc}/Resource")
        elif self.registry is not None:
            problem = self.registry.problem(resource)
            if problem:
                self.schema(problem, f"{loc}/Resource")
        credentials = state.get("Credentials")
        if isinstance(credentials, dict) and not any(
            k in credentials for k in ("RoleArn", "RoleArn.$")
        ):
            self.schema("The field 'RoleArn' is required but was missing", f"{loc}/Credentials")
        for key in ("TimeoutSeconds", "HeartbeatSeconds"):
            value = state.get(key)
            if key in state and not (_pos_int(value) or jsonata_mode.is_expression(value)):
                self.schema(f"{key} must be a positive integer", f"{loc}/{key}")
            if key in state and key + "Path" in state:
                self.schema(f"{key} and {key}Path cannot both be set", loc)
        t, h = state.get("TimeoutSeconds"), state.get("HeartbeatSeconds")
        if isinstance(t, int) and isinstance(h, int) and _pos_int(t) and _pos_int(h) and h >= t:
            self.schema(
                "HeartbeatSeconds must be smaller than TimeoutSeconds", f"{loc}/HeartbeatSeconds"
            )

    def state_fail(self, name: str, state: dict[str, Any], loc: str, ql: str) -> None:
        for key in ("Error", "Cause"):
            if key in state and key + "Path" in state:
                self.schema(f"{key} and {key}Path cannot both be set", loc)
            if key in state and not isinstance(state[key], str):
                self.schema(f"{key} must be a string", f"{loc}/{key}")

    def state_wait(self, name: str, state: dict[str, Any], loc: str, ql: str) -> None:
        present = [
            k for k in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath") if k in state
        ]
        if len(present) != 1:
            self.schema(
                "A Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath",
                loc,
            )
        seconds = state.get("Seconds")
        if "Seconds" in state and not (_nonneg_int(seconds) or jsonata_mode.is_expression(seconds)):
            self.schema("Seconds must be a non-negative integer", f"{loc}/Seconds")
        ts = state.get("Timestamp")
        if "Timestamp" in state and not (
            choice.parse_timestamp(ts) or jsonata_mode.is_expression(ts)
        ):
            self.schema("String does not match RFC3339 timestamp", f"{loc}/Timestamp")

    def state_choice(self, name: str, state: dict[str, Any], loc: str, ql: str) -> None:
        rules = state.get("Choices")
        states = self.current_states
        if not isinstance(rules, list) or not rules:
            self.schema("Choices must be a non-empty array", f"{loc}/Choices")
            rules = []
        for i, rule in enumerate(rules):
            where = f"{loc}/Choices[{i}]"
            if not isinstance(rule, dict):
                self.schema("A choice rule must be an object", where)
                continue
            if "Next" not in rule:
                self.schema("A top-level choice rule must have Next", where)
            else:
                self.target(rule["Next"], f"{where}/Next", states)
            if "Assign" in rule:
                self.assign(rule["Assign"], f"{where}/Assign", ql)
            if ql == "JSONata":
                for key in rule:
                    if key not in {"Condition", "Next", "Comment", "Assign", "Output"}:
                        self.schema(
                            f"The field '{key}' is not supported in a JSONata choice rule",
                            f"{where}/{key}",
                        )
                if "Condition" not in rule:
                    self.schema("A JSONata choice rule needs Condition", where)
                else:
                    message = jsonata_mode.check_syntax(rule["Condition"])
                    if message:
                        self.schema(
                            f"The JSONata expression is not valid: {message}", f"{where}/Condition"
                        )
            else:
                self.rule(rule, where, top=True)
        if "Default" in state:
            self.target(state["Default"], f"{loc}/Default", states)

    def rule(self, rule: Any, where: str, top: bool) -> None:
        if not isinstance(rule, dict):
            self.schema("A choice rule must be an object", where)
            return
        if not top and "Next" in rule:
            self.schema("Nested choice rules cannot have Next", f"{where}/Next")
        combinators = [k for k in choice.COMBINATORS if k in rule]
        ops = [k for k in rule if k in choice.OPERATORS]
        allowed = {"Next", "Comment", "Assign", "Variable", *choice.COMBINATORS, *choice.OPERATORS}
        for key in rule:
            if key not in allowed:
                self.schema(
                    f"The field '{key}' is not supported by Step Functions", f"{where}/{key}"
                )
        if len(combinators) + len(ops) != 1:
            self.schema(
                "A choice rule needs exactly one comparison operator or one of And / Or / Not",
                where,
            )
            return
        if combinators:
            op = combinators[0]
            if "Variable" in rule:
                self.schema("And / Or / Not rules cannot have Variable", f"{where}/Variable")
            value = rule[op]
            if op == "Not":
                self.rule(value, f"{where}/Not", top=False)
            elif not isinstance(value, list) or not value:
                self.schema(f"{op} must be a non-empty array of rules", f"{where}/{op}")
            else:
                for i, sub in enumerate(value):
                    self.rule(sub, f"{where}/{op}[{i}]", top=False)
            return
        op = ops[0]
        if "Variable" not in rule:
            self.schema("A comparison needs Variable", where)
        else:
            message = self.path_problem(rule["Variable"], reference=False)
            if message:
                self.schema(
                    f"The value for the field 'Variable' must be a valid JSONPath: {message}",
                    f"{where}/Variable",
                )
        value = rule[op]
        if op.endswith("Path") and op[:-4] in choice.COMPARISONS:
            message = self.path_problem(value, reference=False)
            if message:
                self.schema(
                    f"The value for the field '{op}' must be a valid JSONPath: {message}",
                    f"{where}/{op}",
                )
        elif op in choice.OPERAND_TYPES:
            expected = choice.OPERAND_TYPES[op]
            ok = {
                "boolean": isinstance(value, bool),
                "number": _number(value),
                "string": isinstance(value, str),
                "timestamp": choice.parse_timestamp(value) is not None,
            }[expected]
            if not ok:
                self.schema(
                    f"{op} needs a {expected} value, got {json.dumps(value)}", f"{where}/{op}"
                )
        elif not isinstance(value, bool):
            self.schema(f"{op} needs true or false", f"{where}/{op}")

    def state_parallel(self, name: str, state: dict[str, Any], loc: str, ql: str) -> None:
        branches = state.get("Branches")
        if "Branches" not in state:
            self.schema("These fields are required: [Branches]", loc)
            return
        if not isinstance(branches, list) or not branches:
            self.schema("Value cannot be empty", f"{loc}/Branches")
            return
        for i, branch in enumerate(branches):
            self.machine(branch, f"{loc}/Branches[{i}]", ql, top=False)

    def item_reader(self, reader: Any, where: str, ql: str) -> None:
        if not isinstance(reader, dict):
            self.schema("ItemReader must be an object", where)
            return
        if reader.get("Resource") not in item_reader.RESOURCES:
            self.schema(
                f"ItemReader Resource must be one of {', '.join(item_reader.RESOURCES)}",
                f"{where}/Resource",
            )
        kind = (reader.get("ReaderConfig") or {}).get("InputType")
        if kind is not None and kind not in item_reader.INPUT_TYPES:
            self.schema(
                f"InputType must be one of {', '.join(item_reader.INPUT_TYPES)}",
                f"{where}/ReaderConfig/InputType",
            )
        if ql == "JSONPath" and "Parameters" in reader:
            self.payload(reader["Parameters"], f"{where}/Parameters")

    def state_map(self, name: str, state: dict[str, Any], loc: str, ql: str) -> None:
        has_proc, has_iter = "ItemProcessor" in state, "Iterator" in state
        if has_proc == has_iter:
            self.schema("A Map state needs exactly one of ItemProcessor or Iterator", loc)
        else:
            key = "ItemProcessor" if has_proc else "Iterator"
            proc = state[key]
            self.machine(proc, f"{loc}/{key}", ql, top=False)
            if isinstance(proc, dict):
                mode = proc.get("ProcessorConfig", {}).get("Mode", "INLINE")
                if mode not in ("INLINE", "DISTRIBUTED"):
                    self.schema(
                        "ProcessorConfig.Mode must be INLINE or DISTRIBUTED",
                        f"{loc}/{key}/ProcessorConfig/Mode",
                    )
        if "ItemSelector" in state and "Parameters" in state:
            self.schema("ItemSelector and Parameters cannot both be set", loc)
        if "ItemReader" in state:
            self.item_reader(state["ItemReader"], f"{loc}/ItemReader", ql)
        writer = state.get("ResultWriter")
        if "ResultWriter" in state and (
            not isinstance(writer, dict)
            or writer.get("Resource") != "arn:aws:states:::s3:putObject"
        ):
            self.schema(
                "ResultWriter Resource must be arn:aws:states:::s3:putObject", f"{loc}/ResultWriter"
            )
        mc = state.get("MaxConcurrency")
        if "MaxConcurrency" in state and not (_nonneg_int(mc) or jsonata_mode.is_expression(mc)):
            self.schema("MaxConcurrency must be a non-negative integer", f"{loc}/MaxConcurrency")
        pct = state.get("ToleratedFailurePercentage")
        if "ToleratedFailurePercentage" in state and not (
            (_number(pct) and 0 <= float(pct or 0) <= 100) or jsonata_mode.is_expression(pct)
        ):
            self.schema(
                "ToleratedFailurePercentage must be a number between 0 and 100",
                f"{loc}/ToleratedFailurePercentage",
            )
        cnt = state.get("ToleratedFailureCount")
        if "ToleratedFailureCount" in state and not (
            _nonneg_int(cnt) or jsonata_mode.is_expression(cnt)
        ):
            self.schema(
                "ToleratedFailureCount must be a non-negative integer",
                f"{loc}/ToleratedFailureCount",
            )


def _targets(state: Any) -> list[str]:
    if not isinstance(state, dict):
        return []
    out = []
    if isinstance(state.get("Next"), str):
        out.append(state["Next"])
    if isinstance(state.get("Default"), str):
        out.append(state["Default"])
    for rule in state.get("Choices", []) if isinstance(state.get("Choices"), list) else []:
        if isinstance(rule, dict) and isinstance(rule.get("Next"), str):
            out.append(rule["Next"])
    for c in state.get("Catch", []) if isinstance(state.get("Catch"), list) else []:
        if isinstance(c, dict) and isinstance(c.get("Next"), str):
            out.append(c["Next"])
    return out


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _pos_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _nonneg_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def parse_definition(definition: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(definition, dict):
        return definition
    if not definition.strip():
        raise InvalidDefinitionError(
            [Problem("SCHEMA_VALIDATION_FAILED", "Definition must be a valid JSON object", "/")]
        )
    try:
        parsed = json.loads(definition)
    except json.JSONDecodeError as exc:
        raise InvalidDefinitionError(
            [
                Problem(
                    "INVALID_JSON_DESCRIPTION",
                    f"{exc.msg} (line {exc.lineno}, column {exc.colno})",
                    "/",
                )
            ]
        ) from exc
    except RecursionError as exc:
        raise InvalidDefinitionError(
            [Problem("INVALID_JSON_DESCRIPTION", "JSON nested too deeply to read", "/")]
        ) from exc
    if not isinstance(parsed, dict):
        raise InvalidDefinitionError(
            # valid JSON but not an object: AWS's schema message for a definition that is
            # not an object (AWS-recorded for an empty definition)
            [Problem("SCHEMA_VALIDATION_FAILED", "Definition must be a valid JSON object", "/")]
        )
    return parsed


def find_problems(
    definition: str | dict[str, Any],
    registry: ResourceRegistry | None = None,
    machine_type: str = "STANDARD",
) -> list[Problem]:
    try:
        parsed = parse_definition(definition)
    except InvalidDefinitionError as exc:
        return exc.problems
    v = _Validator(registry, express=machine_type == "EXPRESS")
    v.machine(parsed, "", "JSONPath", top=True)
    return v.problems


def validate(
    definition: str | dict[str, Any],
    registry: ResourceRegistry | None = None,
    machine_type: str = "STANDARD",
) -> dict[str, Any]:
    """The parsed definition, or ``InvalidDefinitionError`` listing every problem."""
    parsed = parse_definition(definition)
    problems = find_problems(parsed, registry, machine_type)
    if problems:
        raise InvalidDefinitionError(problems)
    return parsed
