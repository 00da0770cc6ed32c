"""Policy evaluation holes a security review found, each closed: negated operators under
ForAnyValue, policy variables that inserted wildcards, a variable with no value in
NotResource, dates beyond a datetime's range, and names matched with a trailing newline."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lakebox.iam.errors import MalformedPolicyDocument
from lakebox.iam.policy import Policy, evaluate, parse


def _policy(*statements: dict[str, Any]) -> Policy:
    return parse(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}


@pytest.mark.parametrize(
    ("tags", "decision"),
    [
        (["project", "evil"], "deny"),  # one value is not in the list: AWS denies
        (["project", "owner"], "allow"),
        (["project"], "allow"),
        (["evil"], "deny"),
    ],
)
def test_for_any_value_with_a_negated_operator_asks_any_value_not_to_match(
    tags: list[str], decision: str
) -> None:
    policy = _policy(
        ALLOW_ALL,
        {
            "Effect": "Deny",
            "Action": "s3:PutObject",
            "Resource": "*",
            "Condition": {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["project", "owner"]}},
        },
    )
    assert evaluate([policy], "s3:PutObject", "arn:aws:s3:::b/k", {"aws:tagkeys": tags}) == (
        decision
    )


def test_for_any_value_is_false_when_the_key_is_missing() -> None:
    """IAM: ForAnyValue with no value in the request is false, negated operator or not
    (ForAllValues is true: every one of no values matches)."""
    for operator in ("ForAnyValue:StringNotEquals", "ForAnyValue:StringEquals"):
        policy = _policy(
            {
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": "*",
                "Condition": {operator: {"aws:TagKeys": ["project"]}},
            }
        )
        assert evaluate([policy], "s3:PutObject", "*", {}) == "implicit"
        assert evaluate([policy], "s3:PutObject", "*", {"aws:tagkeys": []}) == "implicit"
    every = _policy(
        {
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": "*",
            "Condition": {"ForAllValues:StringNotEquals": {"aws:TagKeys": ["project"]}},
        }
    )
    assert evaluate([every], "s3:PutObject", "*", {}) == "allow"


def test_for_all_values_with_a_negated_operator_asks_every_value_not_to_match() -> None:
    policy = _policy(
        {
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": "*",
            "Condition": {"ForAllValues:StringNotLike": {"aws:TagKeys": ["secret*"]}},
        }
    )
    assert evaluate([policy], "s3:PutObject", "*", {"aws:tagkeys": ["a", "b"]}) == "allow"
    assert evaluate([policy], "s3:PutObject", "*", {"aws:tagkeys": ["a", "secret1"]}) == (
        "implicit"
    )


@pytest.mark.parametrize("escape", ["${*}", "${?}"])
def test_escaped_wildcards_are_literal(escape: str) -> None:
    policy = _policy(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::bucket/literal-{escape}-star",
        }
    )
    char = escape[2]
    get = "s3:GetObject"
    assert evaluate([policy], get, f"arn:aws:s3:::bucket/literal-{char}-star") == "allow"
    assert evaluate([policy], get, "arn:aws:s3:::bucket/literal-secret/payroll-star") == (
        "implicit"
    )
    assert evaluate([policy], get, "arn:aws:s3:::bucket/literal-x-star") == "implicit"


def test_dollar_escape_is_literal() -> None:
    policy = _policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${$}{x}"}
    )
    assert evaluate([policy], "s3:GetObject", "arn:aws:s3:::b/${x}") == "allow"


@pytest.mark.parametrize("value", ["*", "?", "a*", "*/*", "o?her/secret"])
def test_a_variables_value_never_acts_as_a_wildcard(value: str) -> None:
    policy = _policy(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::bucket/${s3:prefix}",
        }
    )
    keys = {"s3:prefix": value}
    assert evaluate([policy], "s3:GetObject", "arn:aws:s3:::bucket/other/secret", keys) == (
        "implicit"
    )
    assert evaluate([policy], "s3:GetObject", f"arn:aws:s3:::bucket/{value}", keys) == "allow"


def test_a_variables_value_is_literal_in_like_conditions_too() -> None:
    policy = _policy(
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "*",
            "Condition": {"StringLike": {"s3:prefix": "home/${aws:username}/*"}},
        }
    )
    user_star = {"aws:username": "*", "s3:prefix": "home/bob/x"}
    assert evaluate([policy], "s3:ListBucket", "*", user_star) == "implicit"
    own = {"aws:username": "*", "s3:prefix": "home/*/x"}
    assert evaluate([policy], "s3:ListBucket", "*", own) == "allow"


def test_a_colon_in_a_variables_value_does_not_shift_arn_segments() -> None:
    policy = _policy(
        {
            "Effect": "Allow",
            "Action": "glue:GetTable",
            "Resource": "arn:aws:glue:${aws:requestedregion}:000000000000:table/db/*",
        }
    )
    keys = {"aws:requestedregion": "us-east-1:000000000000:table/db/x:"}
    # with the value's colons taken as separators, this pattern would match anything in db
    assert (
        evaluate([policy], "glue:GetTable", "arn:aws:glue:us-east-1:000000000000:table/db/t", keys)
        == "implicit"
    )
    keys = {"aws:requestedregion": "us-east-1"}
    assert (
        evaluate([policy], "glue:GetTable", "arn:aws:glue:us-east-1:000000000000:table/db/t", keys)
        == "allow"
    )


def test_a_variable_with_no_value_in_not_resource() -> None:
    allow = _policy(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "NotResource": "arn:aws:s3:::home/${aws:username}/private/*",
        }
    )
    # a role session has no aws:username: "everything but <nothing>" must not allow all
    assert evaluate([allow], "s3:GetObject", "arn:aws:s3:::anything/x", {}) == "implicit"
    keys = {"aws:username": "bob"}
    assert evaluate([allow], "s3:GetObject", "arn:aws:s3:::anything/x", keys) == "allow"
    assert evaluate([allow], "s3:GetObject", "arn:aws:s3:::home/bob/private/x", keys) == (
        "implicit"
    )
    # a Deny keeps refusing: an unknown exception does not narrow it
    deny = _policy(
        ALLOW_ALL,
        {
            "Effect": "Deny",
            "Action": "s3:GetObject",
            "NotResource": "arn:aws:s3:::home/${aws:username}/*",
        },
    )
    assert evaluate([deny], "s3:GetObject", "arn:aws:s3:::anything/x", {}) == "deny"


@pytest.mark.parametrize("value", ["99999999999999999999", "9" * 400, "1e999"])
def test_dates_beyond_range_are_refused_or_do_not_match(value: str) -> None:
    if value != "1e999":  # not even the shape of a date
        with pytest.raises(MalformedPolicyDocument) as caught:
            _policy(
                {
                    "Effect": "Deny",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"DateGreaterThan": {"aws:CurrentTime": value}},
                }
            )
        assert "DateGreaterThan" in caught.value.message
    only_dated = _policy(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
        }
    )
    # the request's out-of-range date does not match (and does not crash evaluation)
    assert evaluate([only_dated], "s3:GetObject", "*", {"aws:currenttime": value}) == "implicit"


@pytest.mark.parametrize("action", ["s3:DeleteObject\n", "s3:Get*\n", "*\n"])
def test_actions_with_a_trailing_newline_are_refused(action: str) -> None:
    with pytest.raises(MalformedPolicyDocument):
        _policy({"Effect": "Deny", "Action": action, "Resource": "*"})


@pytest.mark.parametrize("principal", ["000000000000\n", "arn:aws:iam::000000000000:root\n"])
def test_trust_principals_with_a_trailing_newline_are_refused(principal: str) -> None:
    with pytest.raises(MalformedPolicyDocument):
        parse(
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": {
                        "Effect": "Allow",
                        "Principal": {"AWS": principal},
                        "Action": "sts:AssumeRole",
                    },
                }
            ),
            kind="trust",
        )
