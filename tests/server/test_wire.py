"""The door's protocol code against botocore's own serializers and parsers, for every
operation the API tables serve: what boto3 sends, the door reads back as the same request;
what the door writes, botocore parses back as the same answer. Values are botocore's
skeletons, which fill every member of every nested shape."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

import botocore.parsers
import botocore.serialize
import botocore.session
import pytest
from botocore.utils import ArgumentGenerator

from lakebox.api import SERVICES
from lakebox.server.models import SERVED, TARGETS, from_json, to_json
from lakebox.server.query import parse_structure, response_xml

_SESSION = botocore.session.get_session()
_MODELS = {name: _SESSION.get_service_model(name) for name in SERVED.values()}


def _operations(protocols: set[str]) -> Iterator[Any]:
    for name, model in sorted(_MODELS.items()):
        if model.metadata["protocol"] in protocols:
            for op in sorted(SERVICES[name].operations):
                yield pytest.param(model.operation_model(op), id=f"{name}.{op}")


def _normal(value: Any) -> Any:
    """Values compared as the wire can carry them: times to the millisecond in UTC."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, dt.datetime):
        when = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return round(when.timestamp(), 3)
    return value


def _with_blobs(shape: Any, value: Any) -> Any:
    """botocore's skeletons leave blobs None; a blob carries bytes."""
    kind = shape.type_name
    if kind == "blob":
        return b"\x00blob\xff" if value is None else value
    if kind == "structure" and isinstance(value, dict):
        return {k: _with_blobs(shape.members[k], v) for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [_with_blobs(shape.member, v) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: _with_blobs(shape.value, v) for k, v in value.items()}
    return value


def _skeleton(shape: Any) -> Any:
    return _with_blobs(shape, ArgumentGenerator(use_member_names=True).generate_skeleton(shape))


@pytest.mark.parametrize("op", list(_operations({"query"})))
def test_query_answers_parse_back_in_botocore(op: Any) -> None:
    if op.output_shape is None:
        return
    result = _skeleton(op.output_shape)
    xml = response_xml(op.name, op.output_shape, result, "req-1", None)
    parsed = botocore.parsers.create_parser("query").parse(
        {"body": xml.encode(), "headers": {}, "status_code": 200}, op.output_shape
    )
    parsed.pop("ResponseMetadata", None)
    assert _normal(parsed) == _normal(result)


@pytest.mark.parametrize("op", list(_operations({"query"})))
def test_query_requests_read_back_as_boto3_sent_them(op: Any) -> None:
    if op.input_shape is None:
        return
    params = _skeleton(op.input_shape)
    wire = botocore.serialize.create_serializer(
        "query", include_validation=False
    ).serialize_to_request(params, op)
    form = dict(parse_qsl(urlencode(wire["body"]), keep_blank_values=True))
    assert _normal(parse_structure(op.input_shape, form)) == _normal(params)


@pytest.mark.parametrize("op", list(_operations({"json"})))
def test_json_answers_parse_back_in_botocore(op: Any) -> None:
    if op.output_shape is None:
        return
    result = _skeleton(op.output_shape)
    body = json.dumps(to_json(op.output_shape, result)).encode()
    parsed = botocore.parsers.create_parser("json").parse(
        {"body": body, "headers": {}, "status_code": 200}, op.output_shape
    )
    parsed.pop("ResponseMetadata", None)
    assert _normal(parsed) == _normal(result)


@pytest.mark.parametrize("op", list(_operations({"json"})))
def test_json_requests_read_back_as_boto3_sent_them(op: Any) -> None:
    if op.input_shape is None:
        return
    params = _skeleton(op.input_shape)
    wire = botocore.serialize.create_serializer(
        "json", include_validation=False
    ).serialize_to_request(params, op)
    assert _normal(from_json(op.input_shape, json.loads(wire["body"] or b"{}"))) == _normal(params)


def test_the_routing_table_matches_the_models() -> None:
    targets = {
        model.metadata["targetPrefix"]: signing
        for signing, name in SERVED.items()
        if (model := _MODELS[name]).metadata["protocol"] == "json"
    }
    assert targets == TARGETS
    for signing, name in SERVED.items():
        assert (
            _MODELS[name].metadata.get("signingName", _MODELS[name].metadata["endpointPrefix"])
            == signing
        )
