"""Transform lookup and the built-in JSON flattener."""

from __future__ import annotations

import pytest

from lakebox.errors import InvalidRequestError
from lakebox.ingest.transforms import FLATTEN_JSON, flatten, resolve_transform


def test_flatten_nested_objects_to_one_level() -> None:
    assert flatten({"a": {"b": {"c": 1}, "d": 2}, "e": [{"f": 1}], "g": None}) == {
        "a_b_c": 1,
        "a_d": 2,
        "e": [{"f": 1}],
        "g": None,
    }


def test_resolution_by_name_arn_and_import_path() -> None:
    fn = resolve_transform(FLATTEN_JSON)
    assert resolve_transform(f"arn:aws:lambda:us-east-1:1:function:{FLATTEN_JSON}:$LATEST") is fn
    assert resolve_transform("lakebox.ingest.transforms:flatten_json_transform") is fn


@pytest.mark.parametrize("ref", ["missing", "lakebox.nope:fn", "lakebox.ingest:FLATTEN_JSON"])
def test_unknown_transforms_fail_clearly(ref: str) -> None:
    with pytest.raises(InvalidRequestError):
        resolve_transform(ref)


def test_flatten_transform_keeps_exact_number_text() -> None:
    import base64

    from lakebox.ingest.transforms import flatten_json_transform

    raw = b'{"a": {"b": 1234567890123456789012345678901234.5678, "s": "x\\u0000y"}, "n": 1e2}'
    event = {"records": [{"recordId": "r1", "data": base64.b64encode(raw).decode()}]}
    [out] = flatten_json_transform(event, None)["records"]
    assert out["result"] == "Ok"
    assert base64.b64decode(out["data"]) == (
        b'{"a_b":1234567890123456789012345678901234.5678,"a_s":"x\\u0000y","n":1e2}\n'
    )
