"""IAM policy documents: the shapes of the IAM user guide's examples (our own JSON), how they
evaluate, and how malformed ones are refused with where they are wrong."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lakebox.iam.errors import MalformedPolicyDocument
from lakebox.iam.policy import (
    ADMINISTRATOR,
    Policy,
    action_matches,
    evaluate,
    parse,
    resource_matches,
    trust_allows,
)
from lakebox.principal import Principal


def _doc(*statements: dict[str, Any], version: str = "2012-10-17") -> str:
    return json.dumps({"Version": version, "Statement": list(statements)})


def _decide(policy: Policy | list[Policy], action: str, resource: str, **keys: Any) -> str:
    policies = policy if isinstance(policy, list) else [policy]
    return evaluate(
        policies, action, resource, {k.replace("__", ":").lower(): v for k, v in keys.items()}
    )


BUCKET_READ = parse(
    _doc(
        {
            "Sid": "ListTheBucket",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::reports",
        },
        {
            "Sid": "ReadItsObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": "arn:aws:s3:::reports/*",
        },
    )
)


def test_allow_applies_only_to_its_actions_and_resources() -> None:
    assert _decide(BUCKET_READ, "s3:ListBucket", "arn:aws:s3:::reports") == "allow"
    assert _decide(BUCKET_READ, "s3:GetObject", "arn:aws:s3:::reports/2026/q1.csv") == "allow"
    assert _decide(BUCKET_READ, "s3:PutObject", "arn:aws:s3:::reports/x") == "implicit"
    assert _decide(BUCKET_READ, "s3:GetObject", "arn:aws:s3:::reports-archive/x") == "implicit"
    assert _decide(BUCKET_READ, "s3:ListBucket", "arn:aws:s3:::reports/x") == "implicit"


def test_actions_match_without_regard_to_case_resources_with_it() -> None:
    assert _decide(BUCKET_READ, "S3:getobject", "arn:aws:s3:::reports/a") == "allow"
    assert _decide(BUCKET_READ, "s3:GetObject", "arn:aws:s3:::Reports/a") == "implicit"


def test_a_single_statement_object_and_string_values_are_accepted() -> None:
    policy = parse(
        '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "athena:*", '
        '"Resource": "*"}}'
    )
    assert _decide(policy, "athena:StartQueryExecution", "arn:aws:athena:us-east-1:1:x") == "allow"
    assert _decide(policy, "glue:GetTable", "*") == "implicit"


@pytest.mark.parametrize(
    ("pattern", "action", "hit"),
    [
        ("s3:Get*", "s3:GetObject", True),
        ("s3:Get*", "s3:PutObject", False),
        ("glue:Get?able", "glue:GetTable", True),
        ("glue:Get?able", "glue:GetTables", False),
        ("*", "anything:AtAll", True),
        ("iam:*User*", "iam:ListUserPolicies", True),
        ("s3:*", "s3express:CreateSession", False),
    ],
)
def test_action_wildcards(pattern: str, action: str, hit: bool) -> None:
    assert action_matches(pattern, action) is hit


@pytest.mark.parametrize(
    ("pattern", "resource", "hit"),
    [
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c", True),
        ("arn:aws:s3:::bucket*", "arn:aws:s3:::bucket-2/x", True),
        (
            "arn:aws:glue:*:111122223333:table/sales/*",
            "arn:aws:glue:eu-west-1:111122223333:table/sales/orders",
            True,
        ),
        (
            "arn:aws:glue:*:111122223333:table/sales/*",
            "arn:aws:glue:eu-west-1:444455556666:table/sales/orders",
            False,
        ),
        ("arn:aws:iam::*:user/a?c", "arn:aws:iam::111122223333:user/abc", True),
        ("arn:aws:iam::*:user/a?c", "arn:aws:iam::111122223333:user/abbc", False),
        ("arn:aws:states:*:*:stateMachine:*", "arn:aws:states:us-east-1:1:stateMachine:m", True),
        ("*", "arn:aws:s3:::x", True),
    ],
)
def test_resource_wildcards(pattern: str, resource: str, hit: bool) -> None:
    assert resource_matches(pattern, resource) is hit


def test_explicit_deny_beats_any_allow() -> None:
    deny_deletes = parse(
        _doc(
            {
                "Effect": "Deny",
                "Action": ["dynamodb:Delete*", "dynamodb:UpdateTable"],
                "Resource": "*",
            }
        )
    )
    everything = [ADMINISTRATOR, deny_deletes]
    assert (
        _decide(everything, "dynamodb:DeleteTable", "arn:aws:dynamodb:us-east-1:1:table/t")
        == "deny"
    )
    assert (
        _decide(everything, "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:1:table/t") == "allow"
    )
    assert (
        _decide([deny_deletes], "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:1:table/t")
        == "implicit"
    )


def test_not_action_and_not_resource() -> None:
    # allow everything but IAM, and nothing on one protected bucket
    policy = parse(
        _doc(
            {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "s3:*",
                "NotResource": ["arn:aws:s3:::open", "arn:aws:s3:::open/*"],
            },
        )
    )
    assert _decide(policy, "s3:GetObject", "arn:aws:s3:::open/k") == "allow"
    assert _decide(policy, "s3:GetObject", "arn:aws:s3:::secret/k") == "deny"
    assert _decide(policy, "iam:CreateUser", "arn:aws:iam::1:user/x") == "implicit"
    assert _decide(policy, "athena:GetWorkGroup", "*") == "allow"


def test_policy_variables_make_a_home_folder() -> None:
    policy = parse(
        _doc(
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": "arn:aws:s3:::home/${aws:username}/*",
            }
        )
    )
    assert (
        _decide(policy, "s3:PutObject", "arn:aws:s3:::home/bob/notes.txt", aws__username="bob")
        == "allow"
    )
    assert (
        _decide(policy, "s3:PutObject", "arn:aws:s3:::home/eve/notes.txt", aws__username="bob")
        == "implicit"
    )
    assert _decide(policy, "s3:PutObject", "arn:aws:s3:::home/bob/notes.txt") == "implicit"
    # the 2008 language has no variables: the text is literal
    old = parse(
        _doc(
            {
                "Effect": "Allow",
                "Action": "s3:*",
                "Resource": "arn:aws:s3:::home/${aws:username}/*",
            },
            version="2008-10-17",
        )
    )
    assert (
        _decide(old, "s3:GetObject", "arn:aws:s3:::home/bob/x", aws__username="bob") == "implicit"
    )


def test_string_and_bool_conditions() -> None:
    policy = parse(
        _doc(
            {
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": "arn:aws:s3:::shared",
                "Condition": {"StringLike": {"s3:prefix": ["projects/*", ""]}},
            },
            {
                "Effect": "Deny",
                "Action": "s3:*",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        )
    )
    arn = "arn:aws:s3:::shared"
    assert _decide(policy, "s3:ListBucket", arn, s3__prefix="projects/a/") == "allow"
    assert _decide(policy, "s3:ListBucket", arn, s3__prefix="private/") == "implicit"
    assert _decide(policy, "s3:ListBucket", arn) == "implicit"  # key missing: no match
    assert (
        _decide(policy, "s3:ListBucket", arn, s3__prefix="projects/", aws__SecureTransport=False)
        == "deny"
    )


def test_negated_operators_and_if_exists_when_the_key_is_missing() -> None:
    deny_outside_regions = parse(
        _doc(
            {
                "Effect": "Deny",
                "NotAction": ["iam:*", "sts:*"],
                "Resource": "*",
                "Condition": {
                    "StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}
                },
            },
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
        )
    )
    assert (
        _decide(deny_outside_regions, "glue:GetTable", "*", aws__RequestedRegion="eu-west-1")
        == "allow"
    )
    assert (
        _decide(deny_outside_regions, "glue:GetTable", "*", aws__RequestedRegion="us-east-1")
        == "deny"
    )
    assert _decide(deny_outside_regions, "glue:GetTable", "*") == "deny"
    assert (
        _decide(
            deny_outside_regions, "sts:GetCallerIdentity", "*", aws__RequestedRegion="us-east-1"
        )
        == "allow"
    )
    if_exists = parse(
        _doc(
            {
                "Effect": "Allow",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringEqualsIfExists": {"aws:RequestedRegion": "eu-west-1"}},
            }
        )
    )
    assert _decide(if_exists, "glue:GetTable", "*") == "allow"
    assert _decide(if_exists, "glue:GetTable", "*", aws__RequestedRegion="us-east-1") == "implicit"


def test_numeric_date_ip_arn_and_null_conditions() -> None:
    policy = parse(
        _doc(
            {
                "Effect": "Allow",
                "Action": "athena:StartQueryExecution",
                "Resource": "*",
                "Condition": {
                    "NumericLessThanEquals": {"lakebox:MaxScanMB": 100},
                    "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"},
                    "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "127.0.0.1/32"]},
                    "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/analysts-*"},
                    "Null": {"aws:TokenIssueTime": "true"},
                },
            }
        )
    )
    good = {
        "lakebox__MaxScanMB": 50,
        "aws__CurrentTime": "2026-12-01T00:00:00Z",
        "aws__SourceIp": "10.1.2.3",
        "aws__PrincipalArn": "arn:aws:iam::111122223333:user/analysts-ann",
    }
    assert _decide(policy, "athena:StartQueryExecution", "*", **good) == "allow"
    for key, bad in (
        ("lakebox__MaxScanMB", 500),
        ("aws__CurrentTime", "2031-01-01T00:00:00Z"),
        ("aws__SourceIp", "192.168.1.1"),
        ("aws__PrincipalArn", "arn:aws:iam::111122223333:user/bob"),
    ):
        assert (
            _decide(policy, "athena:StartQueryExecution", "*", **{**good, key: bad}) == "implicit"
        ), key
    assert (
        _decide(policy, "athena:StartQueryExecution", "*", **good, aws__TokenIssueTime="x")
        == "implicit"
    )


def test_set_qualifiers() -> None:
    any_tag = parse(
        _doc(
            {
                "Effect": "Allow",
                "Action": "glue:TagResource",
                "Resource": "*",
                "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team", "cost"]}},
            }
        )
    )
    all_tags = parse(
        _doc(
            {
                "Effect": "Allow",
                "Action": "glue:TagResource",
                "Resource": "*",
                "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "cost"]}},
            }
        )
    )
    assert _decide(any_tag, "glue:TagResource", "*", aws__TagKeys=["team", "x"]) == "allow"
    assert _decide(all_tags, "glue:TagResource", "*", aws__TagKeys=["team", "x"]) == "implicit"
    assert _decide(all_tags, "glue:TagResource", "*", aws__TagKeys=["team", "cost"]) == "allow"


@pytest.mark.parametrize(
    ("document", "where"),
    [
        ("not json", "not JSON"),
        ("[]", "must be a JSON object"),
        ('{"Version": "2012-10-17"}', "Statement element is missing"),
        ('{"Version": "2020-01-01", "Statement": []}', "Version"),
        ('{"Statement": [], "Extra": 1}', "Extra"),
        (_doc({"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}), "Statement[0].Effect"),
        (
            _doc({"Effect": "Allow", "Resource": "*"}),
            "Statement[0]: a statement must have Action or NotAction",
        ),
        (_doc({"Effect": "Allow", "Action": "s3:*"}), "Resource or NotResource"),
        (
            _doc({"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:x", "Resource": "*"}),
            "not both",
        ),
        (
            _doc({"Effect": "Allow", "Action": "GetObject", "Resource": "*"}),
            "Statement[0].Action[0]",
        ),
        (
            _doc({"Effect": "Allow", "Action": ["s3:Get*", 7], "Resource": "*"}),
            "Statement[0].Action",
        ),
        (_doc({"Effect": "Allow", "Action": [], "Resource": "*"}), "non-empty list"),
        (
            _doc({"Effect": "Allow", "Action": "s3:*", "Resource": "bucket/*"}),
            "must be in ARN format",
        ),
        (
            _doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": "*"}),
            "should not specify a principal",
        ),
        (
            _doc(
                {
                    "Effect": "Allow",
                    "Action": "s3:*",
                    "Resource": "*",
                    "Condition": {"StringFancy": {"a:b": "c"}},
                }
            ),
            "StringFancy",
        ),
        (
            _doc(
                {
                    "Effect": "Allow",
                    "Action": "s3:*",
                    "Resource": "*",
                    "Condition": {"NumericEquals": {"a:b": "x"}},
                }
            ),
            "not a valid value",
        ),
        (
            _doc(
                {
                    "Effect": "Allow",
                    "Action": "s3:*",
                    "Resource": "*",
                    "Condition": {"ForSomeValues:StringEquals": {"a:b": "x"}},
                }
            ),
            "set qualifier",
        ),
        (
            _doc(
                {"Sid": "a", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Sid": "a", "Effect": "Deny", "Action": "s3:*", "Resource": "*"},
            ),
            "unique",
        ),
        (_doc({"Sid": "has space", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}), "Sid"),
        (
            _doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Extra": 1}),
            "Statement[0]: unknown element(s) Extra",
        ),
    ],
)
def test_malformed_documents_say_where(document: str, where: str) -> None:
    with pytest.raises(MalformedPolicyDocument) as caught:
        parse(document)
    assert where in str(caught.value)


@pytest.mark.parametrize("depth", [50, 5000])
def test_deeply_nested_documents_are_refused_cleanly(depth: int) -> None:
    # JSON decoding depth depends on the interpreter's recursion limit: either way, one
    # MalformedPolicyDocument and no RecursionError
    with pytest.raises(MalformedPolicyDocument, match=r"nested too deeply|Statement"):
        parse('{"Statement": ' + "[" * depth + "]" * depth + "}")


def test_oversized_documents_are_refused() -> None:
    big = _doc(
        *(
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::b{i}/*"}
            for i in range(300)
        )
    )
    with pytest.raises(MalformedPolicyDocument, match="at most 10240"):
        parse(big)


TRUST_ALICE = parse(
    _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"},
            "Action": "sts:AssumeRole",
        }
    ),
    kind="trust",
)
TRUST_ACCOUNT = parse(
    _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": ["111122223333", "arn:aws:iam::444455556666:root"]},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "k-42"}},
        }
    ),
    kind="trust",
)

ALICE = Principal("111122223333", "arn:aws:iam::111122223333:user/alice", "user")
BOB = Principal("111122223333", "arn:aws:iam::111122223333:user/bob", "user")
EVE = Principal("444455556666", "arn:aws:iam::444455556666:user/eve", "user")
MALLORY = Principal("777788889999", "arn:aws:iam::777788889999:user/mallory", "user")


def test_trust_policies_name_principals_or_accounts() -> None:
    assert trust_allows(TRUST_ALICE, ALICE, "sts:AssumeRole") == "principal"
    assert trust_allows(TRUST_ALICE, BOB, "sts:AssumeRole") is None
    assert trust_allows(TRUST_ALICE, ALICE, "sts:TagSession") is None
    keys = {"sts:externalid": "k-42"}
    assert trust_allows(TRUST_ACCOUNT, BOB, "sts:AssumeRole", keys) == "account"
    assert trust_allows(TRUST_ACCOUNT, EVE, "sts:AssumeRole", keys) == "account"
    assert trust_allows(TRUST_ACCOUNT, MALLORY, "sts:AssumeRole", keys) is None
    assert trust_allows(TRUST_ACCOUNT, EVE, "sts:AssumeRole", {"sts:externalid": "wrong"}) is None


@pytest.mark.parametrize(
    ("statement", "where"),
    [
        ({"Effect": "Allow", "Action": "sts:AssumeRole"}, "must name a Principal"),
        (
            {"Effect": "Allow", "Principal": {"AWS": "bob"}, "Action": "sts:AssumeRole"},
            "Invalid principal",
        ),
        (
            {"Effect": "Allow", "Principal": {"Robot": "x"}, "Action": "sts:AssumeRole"},
            "unknown principal type",
        ),
        (
            {"Effect": "Allow", "NotPrincipal": {"AWS": "*"}, "Action": "sts:AssumeRole"},
            "NotPrincipal",
        ),
    ],
)
def test_malformed_trust_policies(statement: dict[str, Any], where: str) -> None:
    with pytest.raises(MalformedPolicyDocument, match=where):
        parse(_doc(statement), kind="trust")


def test_wildcard_matching_agrees_with_a_regular_expression_on_random_cases() -> None:
    import random
    import re

    from lakebox.iam.policy import wildcard_match

    rng = random.Random(15)
    for _ in range(3000):
        pattern = "".join(rng.choice("ab*?:/") for _ in range(rng.randint(0, 8)))
        text = "".join(rng.choice("ab:/") for _ in range(rng.randint(0, 10)))
        regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
        expected = re.fullmatch(regex, text, re.DOTALL) is not None
        assert wildcard_match(pattern, text) is expected, (pattern, text)


def test_a_hostile_pattern_cannot_stall_evaluation() -> None:
    import time

    hostile = parse(
        _doc(
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::" + "*a" * 2000 + "b",
            }
        )
    )
    started = time.perf_counter()
    assert _decide(hostile, "s3:GetObject", "arn:aws:s3:::" + "a" * 1000) == "implicit"
    assert time.perf_counter() - started < 5


def test_policy_variables_in_condition_values() -> None:
    # the guide's "list only your own folder" shape: ListBucket limited by s3:prefix
    policy = parse(
        _doc(
            {
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": "arn:aws:s3:::home",
                "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/*"]}},
            }
        )
    )
    arn = "arn:aws:s3:::home"
    assert (
        _decide(policy, "s3:ListBucket", arn, s3__prefix="home/bob/docs/", aws__username="bob")
        == "allow"
    )
    assert (
        _decide(policy, "s3:ListBucket", arn, s3__prefix="home/eve/", aws__username="bob")
        == "implicit"
    )
    assert (
        _decide(policy, "s3:ListBucket", arn, s3__prefix="home/bob/") == "implicit"
    )  # no user name
    assert _decide(policy, "s3:ListBucket", arn, s3__prefix="") == "allow"
