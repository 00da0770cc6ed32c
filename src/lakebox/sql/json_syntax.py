"""Trino's SQL/JSON function syntax that sqlglot's Athena parser lacks: ``json_array`` with
``FORMAT JSON``, ``NULL ON NULL`` / ``ABSENT ON NULL`` and ``RETURNING``; ``json_exists`` with
``{TRUE | FALSE | UNKNOWN | ERROR} ON ERROR``; ``json_query`` with every wrapper spelling and
``EMPTY ARRAY`` / ``EMPTY OBJECT`` behaviours; ``PASSING`` variables for json_exists,
json_query and json_value (kept as a ``Tuple`` of (name, value) tuples in a ``passing`` argument: the names are
string literals, so that identifier folding leaves their case alone).

``install()`` adds these function parsers to sqlglot's Athena parser classes; the trees they
build are the ones sqlglot uses (``JSONArray``, ``JSONExtract`` with ``json_query``), plus an
``Anonymous`` ``json_exists`` whose third argument names its ON ERROR behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlglot import exp
from sqlglot.parser import Parser
from sqlglot.parsers.athena import AthenaParser, AthenaTrinoParser

_BEHAVIOURS = ("EMPTY ARRAY", "EMPTY OBJECT", "ERROR", "NULL")


def _format_json(p: Any, value: exp.Expression) -> exp.Expression:
    """``value FORMAT JSON [ENCODING x]``: the value is JSON text (bytes in that encoding)."""
    if not p._match_text_seq("FORMAT", "JSON"):
        return value
    formatted = exp.FormatJson(this=value)
    if p._match_text_seq("ENCODING"):
        formatted.set("options", [p._parse_var()])
    return formatted


def _returning(p: Any, node: exp.Expression) -> None:
    if not p._match_text_seq("RETURNING"):
        return
    node.set("return_type", p._parse_type())
    if p._match_text_seq("FORMAT", "JSON") and p._match_text_seq("ENCODING"):
        node.set("encoding", p._parse_var())


def _json_array(p: Any) -> exp.Expression:
    elements: list[exp.Expression] = []
    null_handling = None
    while True:
        if p._match_text_seq("NULL", "ON", "NULL"):
            null_handling = "NULL ON NULL"
            break
        if p._match_text_seq("ABSENT", "ON", "NULL"):
            null_handling = "ABSENT ON NULL"
            break
        if p._match_text_seq("RETURNING", advance=False) or p._curr is None:
            break
        if p._curr.text == ")":
            break
        element = p._parse_bitwise()
        if element is None:
            break
        elements.append(_format_json(p, element))
        if not p._match_text_seq(","):
            if p._match_text_seq("NULL", "ON", "NULL"):
                null_handling = "NULL ON NULL"
            elif p._match_text_seq("ABSENT", "ON", "NULL"):
                null_handling = "ABSENT ON NULL"
            break
    node = exp.JSONArray(expressions=elements)
    if null_handling:
        node.set("null_handling", null_handling)
    _returning(p, node)
    return node


def _passing(p: Any) -> exp.Tuple:
    """``PASSING value AS name, ...``: the path's named variables. An unquoted name is
    upper-cased, as Trino does with SQL identifiers; JSON paths are case-sensitive."""
    variables: list[exp.Expression] = []
    if p._match_text_seq("PASSING"):
        while True:
            value = _format_json(p, p._parse_bitwise())
            p._match_text_seq("AS")
            name = p._parse_id_var()
            text = name.name if name.args.get("quoted") else name.name.upper()
            variables.append(exp.Tuple(expressions=[exp.Literal.string(text), value]))
            if not p._match_text_seq(","):
                break
    return exp.Tuple(expressions=variables)


def _json_exists(p: Any) -> exp.Expression:
    document = _format_json(p, p._parse_bitwise())
    p._match_text_seq(",")
    path = p._parse_bitwise()
    passing = _passing(p)
    mode = "FALSE"
    for choice in ("TRUE", "FALSE", "UNKNOWN", "ERROR"):
        if p._match_text_seq(choice, "ON", "ERROR"):
            mode = choice
            break
    return exp.Anonymous(this="json_exists", expressions=[document, path, exp.var(mode), passing])


_WRAPPERS = {
    ("WITHOUT",): "WITHOUT ARRAY WRAPPER",
    ("WITH",): "WITH ARRAY WRAPPER",
    ("WITH", "UNCONDITIONAL"): "WITH ARRAY WRAPPER",
    ("WITH", "CONDITIONAL"): "WITH CONDITIONAL ARRAY WRAPPER",
}


def _behaviour(p: Any, on: str) -> str | None:
    for value in _BEHAVIOURS:
        if p._match_text_seq(*value.split(), "ON", on):
            return f"{value} ON {on}"
    return None


def _json_query(p: Any) -> exp.Expression:
    document = _format_json(p, p._parse_bitwise())
    p._match_text_seq(",")
    node = exp.JSONExtract(this=document, expression=p._parse_bitwise(), json_query=True)
    node.set("passing", _passing(p))
    for words, option in _WRAPPERS.items():
        if p._match_text_seq(*words, "ARRAY", "WRAPPER") or p._match_text_seq(*words, "WRAPPER"):
            node.set("option", exp.var(option))
            break
    for choice in ("KEEP", "OMIT"):
        if p._match_text_seq(choice, "QUOTES"):
            scalar = p._match_text_seq("ON", "SCALAR", "STRING")
            node.set("quote", exp.JSONExtractQuote(option=choice, scalar=bool(scalar)))
            break
    empty = _behaviour(p, "EMPTY")
    error = _behaviour(p, "ERROR")
    if empty or error:
        node.set("on_condition", exp.OnCondition(empty=empty, error=error))
    return node


def _json_value(p: Any) -> exp.Expression:
    document = _format_json(p, p._parse_bitwise())
    p._match_text_seq(",")
    node = exp.JSONValue(this=document, path=p._parse_bitwise())
    node.set("passing", _passing(p))
    if p._match_text_seq("RETURNING"):
        node.set("returning", p._parse_types())
    empty = p._parse_on_handling("EMPTY", "NULL", "ERROR")
    error = p._parse_on_handling("ERROR", "NULL", "ERROR")
    if empty or error:
        node.set("on_condition", exp.OnCondition(empty=empty, error=error))
    return node


_PARSERS: dict[str, Callable[[Any], exp.Expression]] = {
    "JSON_ARRAY": _json_array,
    "JSON_EXISTS": _json_exists,
    "JSON_QUERY": _json_query,
    "JSON_VALUE": _json_value,
}


def install() -> None:
    """Add the parsers to the Athena parser classes (idempotent)."""
    parsers: tuple[type[Parser], ...] = (AthenaTrinoParser, AthenaParser)
    for parser in parsers:
        parser.FUNCTION_PARSERS = {**parser.FUNCTION_PARSERS, **_PARSERS}
