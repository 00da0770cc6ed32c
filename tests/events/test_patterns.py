"""Event patterns, with the patterns of EventBridge's "Content filtering in Amazon
EventBridge event patterns" and "Matching events on event field values" pages verbatim
(the events are the pages' examples, or the smallest events the text says match)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lakebox.events.patterns import InvalidEventPatternError, matches, parse_pattern


def match(pattern: str, event: dict[str, Any]) -> bool:
    return matches(parse_pattern(pattern), event)


#: the Auto Scaling event of "Matching events on event field values"
AUTOSCALING = {
    "version": "0",
    "id": "3e3c153a-8339-4e30-8c35-687ebef853fe",
    "detail-type": "EC2 Instance Launch Successful",
    "source": "aws.autoscaling",
    "account": "123456789012",
    "time": "2015-11-11T21:31:47Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {"eventVersion": "", "responseElements": None},
}


def test_field_matching_null_and_empty_string() -> None:
    pattern = """{ "source": ["aws.autoscaling"], "detail-type": ["EC2 Instance Launch Successful"],
      "detail": { "responseElements": [null] } }"""
    assert match(pattern, AUTOSCALING)
    assert match('{ "detail": { "eventVersion": [""] } }', AUTOSCALING)
    # null is not a missing field, nor an empty string
    assert not match('{ "detail": { "missing": [null] } }', AUTOSCALING)
    assert not match('{ "detail": { "eventVersion": [null] } }', AUTOSCALING)


def test_prefix_matching() -> None:
    pattern = '{ "time": [ { "prefix": "2017-10-02" } ] }'
    assert match(pattern, {"time": "2017-10-02T18:43:48Z"})
    assert not match(pattern, {"time": "2017-10-03T18:43:48Z"})
    europe = '{ "source": [ "aws.autoscaling" ], "region": [ { "prefix": "eu-" } ] }'
    assert match(europe, {**AUTOSCALING, "region": "eu-west-1"})
    assert not match(europe, AUTOSCALING)
    ignore = '{ "detail": {"service" : [{ "prefix": { "equals-ignore-case": "EventB" }}]} }'
    assert match(ignore, {"detail": {"service": "eventbridge"}})
    assert match(ignore, {"detail": {"service": "EVENTBRIDGE"}})
    assert not match(ignore, {"detail": {"service": "lambda"}})


def test_suffix_matching() -> None:
    assert match('{ "FileName": [ { "suffix": ".png" } ] }', {"FileName": "a.png"})
    assert not match('{ "FileName": [ { "suffix": ".png" } ] }', {"FileName": "a.PNG"})
    ignore = '{ "detail": {"FileName" : [{ "suffix": { "equals-ignore-case": ".png" }}]} }'
    assert match(ignore, {"detail": {"FileName": "a.PNG"}})


def test_anything_but() -> None:
    state = '{ "detail": { "state": [ { "anything-but": "initializing" } ] } }'
    assert match(state, {"detail": {"state": "running"}})
    assert not match(state, {"detail": {"state": "initializing"}})
    # anything-but matches a value, never a missing field
    assert not match(state, {"detail": {}})
    limit = '{ "detail": { "x-limit": [ { "anything-but": 123 } ] } }'
    assert match(limit, {"detail": {"x-limit": 124}})
    assert not match(limit, {"detail": {"x-limit": 123}})
    states = '{ "detail": { "state": [ { "anything-but": [ "stopped", "overloaded" ] } ] } }'
    assert match(states, {"detail": {"state": "running"}})
    assert not match(states, {"detail": {"state": "overloaded"}})
    numbers = '{ "detail": { "x-limit": [ { "anything-but": [ 100, 200, 300 ] } ] } }'
    assert not match(numbers, {"detail": {"x-limit": 200}})
    assert match(numbers, {"detail": {"x-limit": 201}})
    prefix = '{ "detail": { "state": [ { "anything-but": { "prefix": "init" } } ] } }'
    assert match(prefix, {"detail": {"state": "running"}})
    assert not match(prefix, {"detail": {"state": "initializing"}})
    suffix = '{ "detail": { "FileName": [ { "anything-but": { "suffix": ".txt" } } ] } }'
    assert not match(suffix, {"detail": {"FileName": "notes.txt"}})
    assert match(suffix, {"detail": {"FileName": "notes.csv"}})
    ignore = (
        '{ "detail": { "state": [{ "anything-but": { "equals-ignore-case": "initializing" }}]}}'
    )
    assert not match(ignore, {"detail": {"state": "INITIALIZING"}})
    wild = '{ "detail": { "FilePath" : [{ "anything-but": { "wildcard": "*/lib/*" }}]}}'
    assert not match(wild, {"detail": {"FilePath": "/usr/lib/x.so"}})
    assert match(wild, {"detail": {"FilePath": "/usr/bin/x"}})


def test_numeric_matching() -> None:
    pattern = """{ "detail": { "c-count": [ { "numeric": [ ">", 0, "<=", 5 ] } ],
      "d-count": [ { "numeric": [ "<", 10 ] } ], "x-limit": [ { "numeric": [ "=", 3.018e2 ] } ] } }"""
    assert match(pattern, {"detail": {"c-count": 5, "d-count": 9.5, "x-limit": 301.8}})
    assert not match(pattern, {"detail": {"c-count": 0, "d-count": 9, "x-limit": 301.8}})
    assert not match(pattern, {"detail": {"c-count": 5, "d-count": 10, "x-limit": 301.8}})
    # numeric matching is for JSON numbers only
    assert not match(pattern, {"detail": {"c-count": "5", "d-count": 9, "x-limit": 301.8}})


def test_ip_address_matching() -> None:
    pattern = '{ "detail": { "sourceIPAddress": [ { "cidr": "10.0.0.0/24" } ] } }'
    assert match(pattern, {"detail": {"sourceIPAddress": "10.0.0.255"}})
    assert not match(pattern, {"detail": {"sourceIPAddress": "10.0.1.1"}})
    assert not match(pattern, {"detail": {"sourceIPAddress": "not an address"}})


def test_exists_matching() -> None:
    present = '{ "detail": { "state": [ { "exists": true  } ] } }'
    absent = '{ "detail": { "c-count" : [ { "exists": false  } ] } }'
    assert match(present, {"detail": {"state": "x"}})
    assert not match(present, {"detail": {}})
    assert match(absent, {"detail": {"state": "x"}})
    assert not match(absent, {"detail": {"c-count": 1}})
    # exists matches leaves only: an object is not a leaf
    assert not match('{ "detail": [ { "exists": true } ] }', {"detail": {"a": 1}})


def test_equals_ignore_case_and_wildcard() -> None:
    pattern = (
        '{ "detail-type": [ { "equals-ignore-case": "ec2 instance state-change notification" } ] }'
    )
    assert match(pattern, {"detail-type": "EC2 Instance State-change Notification"})
    wild = '{ "EventBusArn": [ { "wildcard": "arn:aws:events:us-east-1:*:event-bus/*" } ] }'
    assert match(wild, {"EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/default"})
    assert not match(wild, {"EventBusArn": "arn:aws:events:us-west-2:123456789012:event-bus/x"})
    escaped = '{ "name": [ { "wildcard": "a\\\\*b" } ] }'
    assert match(escaped, {"name": "a*b"})
    assert not match(escaped, {"name": "axxb"})


def test_or_matching() -> None:
    pattern = """{ "$or": [ { "c-count": [ { "numeric": [ ">", 0, "<=", 5 ] } ] },
      { "d-count": [ { "numeric": [ "<", 10 ] } ] }, { "x-limit": [ { "numeric": [ "=", 3.018e2 ] } ] } ] }"""
    assert match(pattern, {"c-count": 3})
    assert match(pattern, {"d-count": 2, "c-count": 100})
    assert match(pattern, {"x-limit": 301.8})
    assert not match(pattern, {"c-count": 100, "d-count": 100})
    nested = """{ "source": [ "aws.cloudwatch" ], "$or": [ { "metricName": [ "CPUUtilization",
      "ReadLatency" ] }, { "namespace": [ "AWS/EC2", "AWS/ES" ] } ] }"""
    assert match(nested, {"source": "aws.cloudwatch", "namespace": "AWS/ES"})
    assert not match(nested, {"source": "aws.ec2", "namespace": "AWS/ES"})


def test_arrays_match_when_any_element_does() -> None:
    event = {
        "resources": [
            "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
            "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
        ]
    }
    pattern = """{ "resources": [ "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
      "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
      "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f" ] }"""
    assert match(pattern, event)
    assert not match('{ "resources": [ "arn:aws:ec2:us-east-1:0:instance/x" ] }', event)
    # nested objects inside an array
    assert match('{ "items": { "k": ["b"] } }', {"items": [{"k": "a"}, {"k": "b"}]})


def test_types_are_compared_as_json() -> None:
    assert not match('{ "n": ["5"] }', {"n": 5})
    assert not match('{ "n": [5] }', {"n": "5"})
    assert match('{ "n": [5] }', {"n": 5.0})
    assert not match('{ "b": [true] }', {"b": 1})
    assert match('{ "b": [true] }', {"b": True})


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("not json", "Filter is not an object"),
        ("[]", "Filter is not an object"),
        ("{}", "Empty objects are not allowed"),
        ('{"source": "aws.s3"}', "must be an object or an array"),
        ('{"source": []}', "Empty arrays are not allowed"),
        ('{"n": [{"numeric": [">", "x"]}]}', "must be numeric"),
        ('{"n": [{"numeric": ["~", 1]}]}', "Unrecognized numeric range operator"),
        ('{"n": [{"contains": "x"}]}', "Unrecognized match type contains"),
        ('{"n": [{"exists": "yes"}]}', "either true or false"),
        ('{"n": [{"prefix": 1}]}', "must be a string"),
        ('{"n": [{"cidr": "nope"}]}', "CIDR"),
        ('{"n": [{"anything-but": {"numeric": [">", 1]}}]}', "Unsupported anything-but"),
        ('{"n": [{"prefix": "a", "suffix": "b"}]}', "exactly one key"),
        ('{"$or": [{"a": ["b"]}]}', "at least two patterns"),
        ('{"n": [["a"]]}', "Arrays inside arrays"),
    ],
)
def test_invalid_patterns_are_refused_with_the_reason(pattern: str, reason: str) -> None:
    with pytest.raises(InvalidEventPatternError) as caught:
        parse_pattern(pattern)
    assert str(caught.value).startswith("Event pattern is not valid. Reason: ")
    assert reason in str(caught.value)
    assert caught.value.code == "InvalidEventPatternException"


def test_deep_and_long_patterns_are_refused_not_crashed() -> None:
    for depth in (5000, 900, 70):
        deep = '{"a":' * depth + "[1]" + "}" * depth
        with pytest.raises(InvalidEventPatternError):
            parse_pattern(deep)
    assert matches(
        parse_pattern('{"a":' * 60 + "[1]" + "}" * 60), json.loads('{"a":' * 60 + "1" + "}" * 60)
    )
    with pytest.raises(InvalidEventPatternError, match="less than or equal to 4096"):
        parse_pattern(json.dumps({"a": ["x" * 5000]}))


def test_wildcard_examples_of_the_docs() -> None:
    """The wildcard examples of "Content filtering in Amazon EventBridge event patterns"."""
    png = '{ "detail": { "FileName": [ { "wildcard": "*.png" } ] } }'
    assert match(png, {"detail": {"FileName": "photo.png"}})
    assert not match(png, {"detail": {"FileName": "photo.png.txt"}})
    title = '{ "detail": { "Title": [ { "wildcard": "*Title*" } ] } }'
    assert match(title, {"detail": {"Title": "A Title here"}})
    assert match(title, {"detail": {"Title": "Title"}})
    assert not match(title, {"detail": {"Title": "title"}})
    path = '{ "detail": { "FilePath": [ { "wildcard": "dir/*/*.png" } ] } }'
    assert match(path, {"detail": {"FilePath": "dir/a/b.png"}})
    assert match(path, {"detail": {"FilePath": "dir/a/c/b.png"}})
    assert not match(path, {"detail": {"FilePath": "dir/b.png"}})
    libs = '{ "detail": { "FilePath" : [{ "anything-but": { "wildcard": "*/lib/*" }}]}}'
    assert match(libs, {"detail": {"FilePath": "/usr/bin/x"}})
    assert not match(libs, {"detail": {"FilePath": "/usr/lib/x"}})
    # pieces may not overlap the prefix and suffix: "ab*ba" needs 4 characters at least
    assert not match('{ "k": [ { "wildcard": "ab*ba" } ] }', {"k": "aba"})
    assert match('{ "k": [ { "wildcard": "ab*ba" } ] }', {"k": "abba"})


def test_wildcard_matching_takes_linear_time() -> None:
    """A regular expression of ``.*`` pieces backtracks exponentially on a value that almost
    matches (this one took seconds, holding the bus's thread); the matcher must not."""
    import time

    for text in ("*a" * 12 + "!", "*a" * 12 + "*!", "a*" * 40 + "b"):
        pattern = parse_pattern(json.dumps({"k": [{"wildcard": text}]}))
        started = time.perf_counter()
        assert not matches(pattern, {"k": "a" * 30})
        assert not matches(pattern, {"k": "a" * 100_000})
        assert time.perf_counter() - started < 0.1, text


def test_consecutive_wildcards_are_refused() -> None:
    with pytest.raises(InvalidEventPatternError, match="Consecutive wildcard"):
        parse_pattern('{ "k": [ { "wildcard": "a**b" } ] }')
    with pytest.raises(InvalidEventPatternError, match="Consecutive wildcard"):
        parse_pattern('{ "k": [ { "anything-but": { "wildcard": ["x", "**"] } } ] }')
    # an escaped star next to a wildcard is not two wildcards
    assert match('{ "k": [ { "wildcard": "a\\\\**" } ] }', {"k": "a*bc"})
