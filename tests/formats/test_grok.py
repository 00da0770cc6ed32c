"""Grok references read as java-grok (the library under Athena's Grok SerDe) reads them:
capture names with blanks, ``:`` or ``;`` before a type, in-place definitions, and a
``%{`` that is no reference failing with its text named."""

from __future__ import annotations

import re

import pytest

from lakebox.errors import InvalidRequestError, UnsupportedError
from lakebox.formats.grok import GrokReference, reference_at


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("%{DATA}", ("DATA", None, None, None)),
        ("%{DATA:size}", ("DATA", "size", None, None)),
        # the Athena docs' spelling that once read every row as NULL
        ("%{DATA: returned_obj_size}", ("DATA", "returned_obj_size", None, None)),
        ("%{DATA:\treturned_obj_size }", ("DATA", "returned_obj_size", None, None)),
        ("%{NUMBER:num:int}", ("NUMBER", "num", "int", None)),
        ("%{NUMBER:num;LONG}", ("NUMBER", "num", "long", None)),
        ("%{NUMBER:num : float}", ("NUMBER", "num", "float", None)),
        ("%{NUMBER:num:string:any parameter}", ("NUMBER", "num", "string", None)),
        ("%{INT:user.id}", ("INT", "user.id", None, None)),
        ("%{INT:[user][id]}", ("INT", "[user][id]", None, None)),
        ("%{INT:it's}", ("INT", "it's", None, None)),
        ("%{TWO=[0-9][0-9]}", ("TWO", None, None, "[0-9][0-9]")),
        ("%{TWO:n=[0-9][0-9]}", ("TWO", "n", None, "[0-9][0-9]")),
    ],
)
def test_references_java_grok_reads(text: str, expected: tuple[object, ...]) -> None:
    ref = reference_at(f"x{text}y", 1)
    assert isinstance(ref, GrokReference)
    assert ref.text == text
    assert (ref.pattern, ref.field, ref.type, ref.definition) == expected


def test_no_reference_where_no_brace_follows() -> None:
    assert reference_at("100% sure", 3) is None
    assert reference_at("%d", 0) is None


@pytest.mark.parametrize(
    ("text", "error", "named"),
    [
        ("%{DATA:}", InvalidRequestError, "'%{DATA:}' is not a grok reference"),
        ("%{:size}", InvalidRequestError, "'%{:size}' is not a grok reference"),
        ("%{DATA:a+b}", InvalidRequestError, "'%{DATA:a+b}' is not a grok reference"),
        ("%{DATA", InvalidRequestError, "'%{DATA' is not a grok reference"),
        ("%{N=\\d{2}}", InvalidRequestError, "is not a grok reference"),
        ("%{DATA: :int}", InvalidRequestError, "%{DATA: :int}' has an empty field name"),
        ("%{DATA:a:integer}", InvalidRequestError, "type 'integer' of %{DATA:a:integer}"),
        ("%{DATA:a:date:yyyy-MM-dd}", UnsupportedError, "type 'date' of %{DATA:a:date"),
        ("%{DATA:a;datetime}", UnsupportedError, "type 'datetime' of %{DATA:a;datetime}"),
    ],
)
def test_what_lakebox_cannot_read_is_named(text: str, error: type[Exception], named: str) -> None:
    with pytest.raises(error, match=re.escape(named)):
        reference_at(text, 0)
