"""JSONata query language for states (``QueryLanguage: JSONata``) through jsonata-python.

A string value is an expression when it is exactly ``{% ... %}`` (AWS keeps a string with
blanks around the braces as text); everything else is a literal. ``$states`` (input, result,
errorOutput, context) and the workflow variables are bound for every evaluation. JSONata's
``null`` is a value; only *undefined* (nothing) is an error.
"""

from __future__ import annotations

import json
import random
import uuid
from functools import lru_cache
from typing import Any

import jsonata
from jsonata.utils import Utils

from lakebox.workflows.errors import StatesError

QUERY_ERROR = "States.QueryEvaluationError"


class _Undefined:
    """JSONata's *undefined*: what an expression yields when it selects nothing."""

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED: Any = _Undefined()


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}")


def expression_text(value: str) -> str:
    """The JSONata text inside ``{% ... %}``, as AWS quotes it in error causes."""
    return value[2:-2].strip()


def _aws_functions() -> dict[str, Any]:
    """The functions Step Functions adds to JSONata, mapped onto the intrinsics."""
    from lakebox.workflows.asl import intrinsics as fn

    def _random(seed: Any = None) -> float:
        return (random.Random(seed) if seed is not None else random.SystemRandom()).random()

    def _parse(text: Any) -> Any:
        try:
            return json.loads(text)
        except (TypeError, json.JSONDecodeError) as exc:
            raise StatesError(QUERY_ERROR, "$parse: the argument is not a JSON text") from exc

    def _wrap(name: str, impl: Any) -> Any:
        def call(*args: Any) -> Any:
            return impl(name, [_normalise(a) for a in args])

        return call

    array_range = _wrap("$range", fn.FUNCTIONS["States.ArrayRange"])

    def _range(*args: Any) -> Any:
        # a JSONata sequence: one number comes back as that number, not a one-item array
        numbers = array_range(*args)
        return numbers[0] if len(numbers) == 1 else numbers

    return {
        "partition": _wrap("$partition", fn.FUNCTIONS["States.ArrayPartition"]),
        "range": _range,
        "hash": _wrap("$hash", fn.FUNCTIONS["States.Hash"]),
        "uuid": lambda: str(uuid.uuid4()),
        "random": _random,
        "parse": _parse,
    }


@lru_cache(maxsize=2048)
def compile_expression(text: str) -> Any:
    compiled = jsonata.Jsonata(text)
    # keep JSONata null (Utils.NULL_VALUE) apart from undefined (None) in results
    compiled.set_output_convert_nulls(False)
    for name, impl in _aws_functions().items():
        compiled.register_lambda(name, impl)
    return compiled


def check_syntax(value: Any) -> str | None:
    """Error message for the first expression in ``value`` that does not compile."""
    if is_expression(value):
        try:
            compile_expression(expression_text(value))
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


def evaluate_expression(
    text: str, states: dict[str, Any], variables: dict[str, Any], field: str = "field"
) -> Any:
    """The value of ``{% text %}``, or ``UNDEFINED``; JSONata errors become
    ``States.QueryEvaluationError`` with AWS's wording."""
    expr = expression_text(text)
    try:
        compiled = compile_expression(expr)
        # a variable holding null must read as null, not as an unbound (undefined) name
        bindings = {k: Utils.NULL_VALUE if v is None else v for k, v in variables.items()}
        bindings["states"] = states
        result = compiled.evaluate(None, bindings)
    except Exception as exc:  # jsonata raises its own JException hierarchy
        raise StatesError(
            QUERY_ERROR,
            f"The JSONata expression '{expr}' specified for the field '{field}' threw an error "
            f"during evaluation. {_error_detail(exc)}",
        ) from exc
    if result is None:
        return UNDEFINED
    try:
        return _normalise(result)
    except TypeError as exc:
        raise StatesError(
            QUERY_ERROR,
            f"The JSONata expression '{expr}' specified for the field '{field}' returned an "
            "unsupported result type.",
        ) from exc


def _error_detail(exc: Exception) -> str:
    """What went wrong, as JSONata words it (``T1006: Attempted to invoke a non-function``);
    the failure of a Step Functions function ($range, $parse...) by its own message. Python
    errors from inside the evaluator are not shown as such: arithmetic overflow and division
    by zero are JSONata's D1001, anything else says only that evaluation failed."""
    if isinstance(exc, StatesError):
        return exc.cause
    code = getattr(exc, "error", None)
    if isinstance(code, str) and code:
        return f"{code}: {exc}"
    if isinstance(exc, ArithmeticError):
        return "D1001: Number out of range"
    return "The expression could not be evaluated"


def _normalise(value: Any) -> Any:
    """jsonata-python returns sequences as list subclasses, ``NULL_VALUE`` for null and whole
    floats for integer arithmetic; JSON has one number type, so 3.0 goes back to 3 like AWS
    prints it. A function or other non-JSON value raises TypeError."""
    if value is Utils.NULL_VALUE or value is None:
        return None
    if isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def evaluate_template(
    value: Any, states: dict[str, Any], variables: dict[str, Any], field: str = "field"
) -> Any:
    """Evaluate every ``{% %}`` string inside ``value``; an expression that yields nothing
    (JSONata's undefined) is an error, as in Step Functions. ``field`` names where the value
    sits (``Output/result``) in error causes."""
    if is_expression(value):
        result = evaluate_expression(value, states, variables, field)
        if result is UNDEFINED:
            raise StatesError(
                QUERY_ERROR,
                f"The JSONata expression '{expression_text(value)}' specified for the field "
                f"'{field}' returned nothing (undefined).",
            )
        return result
    if isinstance(value, dict):
        return {
            k: evaluate_template(v, states, variables, f"{field}/{k}") for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            evaluate_template(v, states, variables, f"{field}/{i}") for i, v in enumerate(value)
        ]
    return value
