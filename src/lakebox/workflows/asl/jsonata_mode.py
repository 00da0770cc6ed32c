"""JSONata query language for states (``QueryLanguage: JSONata``) through jsonata-python.

A string value is an expression when it is wrapped in ``{% ... %}``; everything else is a
literal. ``$states`` (input, result, errorOutput, context) and the workflow variables are
bound for every evaluation.
"""

from __future__ import annotations

import json
import random
import uuid
from functools import lru_cache
from typing import Any

import jsonata

from lakebox.workflows.errors import StatesError


def is_expression(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    text = value.strip()
    return text.startswith("{%") and text.endswith("%}")


def _aws_functions() -> dict[str, Any]:
    """The functions Step Functions adds to JSONata, mapped onto the intrinsics."""
    from lakebox.workflows.asl import intrinsics as fn

    def _random(seed: Any = None) -> float:
        return (random.Random(seed) if seed is not None else random.SystemRandom()).random()

    def _parse(text: Any) -> Any:
        try:
            return json.loads(text)
        except (TypeError, json.JSONDecodeError) as exc:
            raise StatesError("States.QueryEvaluationError", f"$parse: {exc}") from exc

    def _wrap(name: str, impl: Any) -> Any:
        def call(*args: Any) -> Any:
            return impl(name, [_normalise(a) for a in args])

        return call

    return {
        "partition": _wrap("$partition", fn.FUNCTIONS["States.ArrayPartition"]),
        "range": _wrap("$range", fn.FUNCTIONS["States.ArrayRange"]),
        "hash": _wrap("$hash", fn.FUNCTIONS["States.Hash"]),
        "uuid": lambda: str(uuid.uuid4()),
        "random": _random,
        "parse": _parse,
    }


@lru_cache(maxsize=2048)
def compile_expression(text: str) -> Any:
    compiled = jsonata.Jsonata(text)
    for name, impl in _aws_functions().items():
        compiled.register_lambda(name, impl)
    return compiled


def check_syntax(value: Any) -> str | None:
    """Error message for the first expression in ``value`` that does not compile."""
    if is_expression(value):
        try:
            compile_expression(value.strip()[2:-2].strip())
        except Exception as exc:  # jsonata raises its own JException hierarchy
            return str(exc)
        return None
    if isinstance(value, dict):
        for v in value.values():
            msg = check_syntax(v)
            if msg:
                return msg
    if isinstance(value, list):
        for v in value:
            msg = check_syntax(v)
            if msg:
                return msg
    return None


def evaluate_expression(text: str, states: dict[str, Any], variables: dict[str, Any]) -> Any:
    expr = text.strip()[2:-2].strip()
    try:
        compiled = compile_expression(expr)
        bindings = {**variables, "states": states}
        result = compiled.evaluate(None, bindings)
    except StatesError:
        raise
    except Exception as exc:
        raise StatesError(
            "States.QueryEvaluationError", f"The JSONata expression '{expr}' failed: {exc}"
        ) from exc
    return _normalise(result)


def _normalise(value: Any) -> Any:
    """jsonata-python returns sequences as list subclasses and whole floats for integer
    arithmetic; JSON has one number type, so 3.0 goes back to 3 like AWS prints it."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    return value


def evaluate_template(
    value: Any, states: dict[str, Any], variables: dict[str, Any], field: str = "field"
) -> Any:
    """Evaluate every ``{% %}`` string inside ``value``; an expression that yields nothing
    (JSONata's undefined) is an error, as in Step Functions."""
    if is_expression(value):
        result = evaluate_expression(value, states, variables)
        if result is None and "null" not in value:
            raise StatesError(
                "States.QueryEvaluationError",
                f"The JSONata expression {value!r} in {field} returned no value",
            )
        return result
    if isinstance(value, dict):
        return {k: evaluate_template(v, states, variables, field) for k, v in value.items()}
    if isinstance(value, list):
        return [evaluate_template(v, states, variables, field) for v in value]
    return value
