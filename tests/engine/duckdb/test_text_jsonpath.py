"""The SQL/JSON path language (``rules.text_jsonpath``) against the listings of the Trino
JSON documentation's path section (https://trino.io/docs/current/functions/json.html): each
case applies the page's path to the page's input sequence, given here as a JSON array that
the path first opens with ``$[*]``."""

from __future__ import annotations

import json

import pytest

from lakebox.engine.duckdb.rules.text_jsonpath import PathError, evaluate

OBJECTS = """[{"customer" : 100, "region" : "AFRICA"}, {"region" : "ASIA"},
              {"customer" : 300, "region" : "AFRICA", "comment" : null}]"""
ARRAYS = """[[0, 1, 2], ["a", "b", "c", "d"], [null, null]]"""
NOTES = """{"id" : 1, "notes" : [{"type" : 1, "comment" : "foo"}, {"type" : 2, "comment" : null}],
            "comment" : ["bar", "baz"]}"""


@pytest.mark.parametrize(
    ("document", "path", "expected"),
    [
        (OBJECTS, "lax $[*].customer", [100, 300]),
        (OBJECTS, "lax $[*].*", [100, "AFRICA", "ASIA", 300, "AFRICA", None]),
        (NOTES, "lax $..comment", [["bar", "baz"], "foo", None]),
        (ARRAYS, "lax $[*][last]", [2, "d", None]),
        (ARRAYS, "lax $[*][2 to 3]", [2, "c", "d"]),
        (ARRAYS, "lax $[*][1, 0, 0]", [1, 0, 0, "b", "a", "a", None, None, None]),
        (ARRAYS, "lax $[*][*]", [0, 1, 2, "a", "b", "c", "d", None, None]),
        (
            OBJECTS,
            'lax $[*]?(@.region != "ASIA")',
            [
                {"customer": 100, "region": "AFRICA"},
                {"customer": 300, "region": "AFRICA", "comment": None},
            ],
        ),
        (OBJECTS, "lax $[*]?(!exists(@.customer))", [{"region": "ASIA"}]),
        ('[-1, 23e4, "5.6"]', "lax $[*].double()", [-1.0, 230000.0, 5.6]),
        (ARRAYS, "lax $[*].size()", [3, 4, 2]),
        ('[[1, "a", null], {"key1" : 1.0, "key2" : true}, -2e3]', "lax $[*].size()", [3, 1, 1]),
    ],
)
def test_documented_path_listings(document: str, path: str, expected: list[object]) -> None:
    assert evaluate(document, path) == expected


def test_strict_mode_reports_structural_errors() -> None:
    with pytest.raises(PathError):
        evaluate(OBJECTS, "strict $[*].customer")
    assert evaluate(json.dumps({"a": [1, 2]}), "lax $.a[5]") == []
    with pytest.raises(PathError):
        evaluate(json.dumps({"a": [1, 2]}), "strict $.a[5]")


def test_string_predicates() -> None:
    names = '[{"n": "Alice"}, {"n": "Bob"}, {"n": 3}]'
    assert evaluate(names, 'lax $[*]?(@.n starts with "A")') == [{"n": "Alice"}]
    assert evaluate(names, 'lax $[*]?(@.n like_regex "^b" flag "i")') == [{"n": "Bob"}]
    assert evaluate(names, "lax $[*]?((@.n > 1) is unknown)") == [{"n": "Alice"}, {"n": "Bob"}]


@pytest.mark.parametrize("path", ["lax $.a[", "lax $.a ? (", "lax $$", "strict $.a +"])
def test_malformed_paths_fail_as_path_errors(path: str) -> None:
    with pytest.raises(PathError):
        evaluate('{"a": 1}', path)
