"""JsonPath evaluation, Reference Paths and ResultPath writes."""

from __future__ import annotations

from typing import Any

import pytest

from lakebox.workflows.asl import paths
from lakebox.workflows.errors import StatesError

STORE = {
    "store": {
        "book": [
            {"category": "reference", "author": "Rees", "price": 8.95},
            {"category": "fiction", "author": "Waugh", "price": 12.99, "isbn": "0-553"},
            {"category": "fiction", "author": "Tolkien", "price": 22.99, "isbn": "0-395"},
        ],
        "bicycle": {"color": "red", "price": 19.95},
    },
    "weird key": {"a.b": 1},
    "flag": True,
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", STORE),
        ("$.flag", True),
        ("$.store.bicycle.color", "red"),
        ("$['store']['bicycle']['price']", 19.95),
        ('$["weird key"]["a.b"]', 1),
        ("$.store.book[0].author", "Rees"),
        ("$.store.book[-1].author", "Tolkien"),
        ("$.store.book[*].author", ["Rees", "Waugh", "Tolkien"]),
        ("$.store.book[0:2].price", [8.95, 12.99]),
        ("$.store.book[::2].author", ["Rees", "Tolkien"]),
        ("$.store.book[0,2].author", ["Rees", "Tolkien"]),
        ("$.store..price", [8.95, 12.99, 22.99, 19.95]),
        ("$..author", ["Rees", "Waugh", "Tolkien"]),
        ("$.store.book[?(@.isbn)].author", ["Waugh", "Tolkien"]),
        ("$.store.book[?(@.price < 10)].author", ["Rees"]),
        ("$.store.book[?(@.category == 'fiction' && @.price > 20)].author", ["Tolkien"]),
        ("$.store.book[?(@.price < 9 || @.price > 20)].author", ["Rees", "Tolkien"]),
        ("$.store.book[?(!(@.isbn))].author", ["Rees"]),
        ("$.store.book[?(@.author != 'Rees')].price", [12.99, 22.99]),
        ("$.store.bicycle.*", ["red", 19.95]),
        ("$.store.book[?(@.price > 100)]", []),
    ],
)
def test_evaluate(path: str, expected: Any) -> None:
    assert paths.evaluate(path, STORE) == expected


@pytest.mark.parametrize("path", ["$.nope", "$.store.book[7]", "$.flag.x", "$.store.book.x"])
def test_definite_path_that_misses_raises(path: str) -> None:
    with pytest.raises(paths.PathNotFound):
        paths.evaluate(path, STORE)


def test_context_and_variable_roots() -> None:
    assert paths.evaluate("$$.Execution.Name", {}, {"Execution": {"Name": "n"}}) == "n"
    assert paths.evaluate("$v.a[1]", {}, None, {"v": {"a": [0, 9]}}) == 9
    with pytest.raises(paths.PathNotFound):
        paths.evaluate("$undefined", {}, None, {})


@pytest.mark.parametrize(
    ("path", "reference"),
    [
        ("$", True),
        ("$.a.b", True),
        ("$['a'][0]", True),
        ("$.a[*]", False),
        ("$..a", False),
        ("$.a[?(@.x)]", False),
        ("$.a[0:1]", False),
        ("$$.Execution", False),
    ],
)
def test_reference_paths(path: str, reference: bool) -> None:
    assert paths.parse_path(path).is_reference is reference


@pytest.mark.parametrize("path", ["a.b", "$.", "$[", "$.a[?(@.x ==)]", "$.a[x]", "$..", ""])
def test_bad_paths_do_not_parse(path: str) -> None:
    with pytest.raises(paths.PathSyntaxError):
        paths.parse_path(path)


@pytest.mark.parametrize(
    ("data", "path", "value", "expected"),
    [
        ({"a": 1}, "$", 5, 5),
        ({"a": 1}, "$.b", 5, {"a": 1, "b": 5}),
        ({"a": 1}, "$.a", 5, {"a": 5}),
        ({"a": {"x": 1}}, "$.a.y", 5, {"a": {"x": 1, "y": 5}}),
        ({}, "$.a.b.c", 5, {"a": {"b": {"c": 5}}}),
        ({"l": [1, 2]}, "$.l[1]", 5, {"l": [1, 5]}),
    ],
)
def test_set_path(data: Any, path: str, value: Any, expected: Any) -> None:
    before = repr(data)
    assert paths.set_path(data, path, value) == expected
    assert repr(data) == before  # the input is never changed in place


@pytest.mark.parametrize(("data", "path"), [(5, "$.a"), ({"a": 1}, "$.a.b"), ({"l": []}, "$.l[0]")])
def test_set_path_mismatch(data: Any, path: str) -> None:
    with pytest.raises(StatesError) as err:
        paths.set_path(data, path, 1)
    assert err.value.error == "States.ResultPathMatchFailure"


def test_json_equality_does_not_mix_booleans_and_numbers() -> None:
    assert paths.evaluate("$[?(@.v == 1)].n", [{"v": True, "n": "t"}, {"v": 1, "n": "one"}]) == [
        "one"
    ]
