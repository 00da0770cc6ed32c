"""IAM JSON policy documents: parsing with IAM's validation, and evaluation.

A document is ``{"Version": ..., "Statement": [...]}`` (a single statement object is
allowed too). Each statement has ``Effect`` (Allow or Deny), ``Action`` or ``NotAction``,
``Resource`` or ``NotResource`` (identity policies), ``Principal`` (trust policies) and an
optional ``Condition``. Actions match case-insensitively with ``*`` and ``?`` wildcards;
resource ARNs match case-sensitively, segment by segment for the first five ``:``
segments and as a whole for the resource part (where ``*`` also spans ``/`` and ``:``).
With Version 2012-10-17, ``${aws:username}``-style policy variables in resources are
replaced by the request's values (``${*}``, ``${?}``, ``${$}`` stand for the literal
characters). What a variable inserts is always literal text: a ``*`` or ``?`` in a
request's value, or from ``${*}``, never acts as a wildcard, and a ``:`` never shifts the
ARN's segments. A variable with no value matches nothing; in ``NotResource`` it makes an
Allow statement not apply (it must not allow every other resource) while a Deny still
applies (it must not stop refusing).

Evaluation: an explicit Deny in any statement that applies wins; otherwise an Allow that
applies allows; otherwise the request is implicitly denied.

Conditions: the operators in ``CONDITION_OPERATORS`` (string, numeric, date, boolean,
IP address, ARN and Null, each with ``...IfExists``, and the ``ForAnyValue:`` /
``ForAllValues:`` set qualifiers). Any other operator is refused when the policy is put
(MalformedPolicyDocument naming it), never silently ignored.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from lakebox.iam.errors import MalformedPolicyDocument
from lakebox.principal import Principal

Decision = Literal["allow", "deny", "implicit"]
PolicyKind = Literal["identity", "trust"]

VERSIONS = ("2012-10-17", "2008-10-17")
#: the largest inline policy IAM accepts for a user (roles: 10,240; we use one bound)
MAX_DOCUMENT_CHARS = 10240

_STATEMENT_KEYS = frozenset(
    {
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
    }
)
# used with fullmatch only ("$" alone would also take a trailing newline)
_ACTION = re.compile(r"[a-zA-Z0-9-]+:[a-zA-Z0-9*?]*")
_ACCOUNT = re.compile(r"[0-9]{12}")
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_ROOT = re.compile(r"arn:aws:iam::([0-9]{12}):root")


@dataclass(frozen=True)
class Condition:
    operator: str  # the base operator, e.g. StringLike
    qualifier: str | None  # ForAnyValue / ForAllValues
    if_exists: bool
    key: str  # lower case
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    sid: str | None
    effect: Literal["Allow", "Deny"]
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    principals: tuple[tuple[str, str], ...]  # (type, value): ("AWS", "123456789012")
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Policy:
    version: str
    statements: tuple[Statement, ...]


def _fail(where: str, message: str) -> MalformedPolicyDocument:
    return MalformedPolicyDocument(f"{where}: {message}" if where else message)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise _fail(where, "must be a string or a non-empty list of strings")


def parse(document: str | Mapping[str, Any], *, kind: PolicyKind = "identity") -> Policy:
    """The policy in ``document`` (JSON text or an already decoded object); raises
    MalformedPolicyDocument saying where it is wrong."""
    if isinstance(document, str):
        if len(document) > MAX_DOCUMENT_CHARS:
            raise MalformedPolicyDocument(
                f"the policy document has {len(document)} characters; at most "
                f"{MAX_DOCUMENT_CHARS} are allowed"
            )
        try:
            doc = json.loads(document)
        except json.JSONDecodeError as err:
            raise MalformedPolicyDocument(
                f"the policy document is not JSON: {err.msg} at line {err.lineno} column "
                f"{err.colno}"
            ) from None
        except RecursionError:
            raise MalformedPolicyDocument("the policy document is nested too deeply") from None
    else:
        doc = document
    if not isinstance(doc, dict):
        raise MalformedPolicyDocument("a policy document must be a JSON object")
    unknown = sorted(set(doc) - {"Version", "Id", "Statement"})
    if unknown:
        raise MalformedPolicyDocument(
            f"Syntax errors in policy: unknown top-level element(s) {', '.join(unknown)} "
            "(known: Version, Id, Statement)"
        )
    version = doc.get("Version", "2008-10-17")
    if version not in VERSIONS:
        raise _fail("Version", f"{version!r} is not a policy language version (use 2012-10-17)")
    if "Id" in doc and not isinstance(doc["Id"], str):
        raise _fail("Id", "must be a string")
    raw = doc.get("Statement")
    if raw is None:
        raise MalformedPolicyDocument("Syntax errors in policy: the Statement element is missing")
    items = [raw] if isinstance(raw, dict) else raw
    if not isinstance(items, list) or not items:
        raise _fail("Statement", "must be a statement object or a non-empty list of them")
    statements = tuple(_statement(s, f"Statement[{i}]", kind) for i, s in enumerate(items))
    sids = [s.sid for s in statements if s.sid]
    if len(sids) != len(set(sids)):
        raise MalformedPolicyDocument("Statement IDs (SID) in a single policy must be unique")
    return Policy(version, statements)


def _statement(raw: Any, where: str, kind: PolicyKind) -> Statement:
    if not isinstance(raw, dict):
        raise _fail(where, "a statement must be a JSON object")
    unknown = sorted(set(raw) - _STATEMENT_KEYS)
    if unknown:
        raise _fail(where, f"unknown element(s) {', '.join(unknown)}")
    sid = raw.get("Sid")
    if sid is not None and (not isinstance(sid, str) or not re.fullmatch(r"[A-Za-z0-9]*", sid)):
        raise _fail(f"{where}.Sid", "must be letters and digits only")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise _fail(f"{where}.Effect", f"must be Allow or Deny, not {effect!r}")
    actions, not_action = _pair(raw, "Action", "NotAction", where, required=True)
    for i, action in enumerate(actions):
        if action != "*" and not _ACTION.fullmatch(action):
            raise _fail(
                f"{where}.{'NotAction' if not_action else 'Action'}[{i}]",
                f"{action!r}: actions must be '*' or prefaced by a service, e.g. "
                "s3:GetObject, iam:*",
            )
    resources, not_resource = _pair(
        raw, "Resource", "NotResource", where, required=kind == "identity"
    )
    for i, resource in enumerate(resources):
        if resource != "*" and not (resource.startswith("arn:") and resource.count(":") >= 5):
            raise _fail(
                f"{where}.{'NotResource' if not_resource else 'Resource'}[{i}]",
                f'Resource {resource} must be in ARN format or "*"',
            )
    if "NotPrincipal" in raw:
        raise _fail(f"{where}.NotPrincipal", "NotPrincipal is not supported by lakebox")
    principals: tuple[tuple[str, str], ...] = ()
    if kind == "identity":
        if "Principal" in raw:
            raise _fail(f"{where}.Principal", "Policy document should not specify a principal.")
    else:
        if "Principal" not in raw:
            raise _fail(where, "a trust policy statement must name a Principal")
        principals = _principals(raw["Principal"], f"{where}.Principal")
    conditions = _conditions(raw.get("Condition"), f"{where}.Condition")
    return Statement(
        sid, effect, actions, not_action, resources, not_resource, principals, conditions
    )


def _pair(
    raw: dict[str, Any], name: str, not_name: str, where: str, *, required: bool
) -> tuple[tuple[str, ...], bool]:
    if name in raw and not_name in raw:
        raise _fail(where, f"give {name} or {not_name}, not both")
    if name in raw:
        return _strings(raw[name], f"{where}.{name}"), False
    if not_name in raw:
        return _strings(raw[not_name], f"{where}.{not_name}"), True
    if required:
        raise _fail(where, f"a statement must have {name} or {not_name}")
    return (), False


def _principals(raw: Any, where: str) -> tuple[tuple[str, str], ...]:
    if raw == "*":
        return (("AWS", "*"),)
    if not isinstance(raw, dict) or not raw:
        raise _fail(where, 'must be "*" or an object such as {"AWS": "<account id or ARN>"}')
    found = []
    for kind, values in raw.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            raise _fail(where, f"unknown principal type {kind!r} (AWS, Service, Federated)")
        for value in _strings(values, f"{where}.{kind}"):
            if kind == "AWS" and not (
                value == "*"
                or _ACCOUNT.fullmatch(value)
                or re.fullmatch(r"arn:aws:(iam|sts)::[0-9]{12}:[\x21-\x7e]+", value)
            ):
                raise _fail(f"{where}.AWS", f"Invalid principal in policy: {value!r}")
            found.append((kind, value))
    return tuple(found)


# -- conditions ---------------------------------------------------------------------------

_STRING_OPS = {
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
}
_NUMERIC_OPS = {
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
}
_DATE_OPS = {
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
}
_ARN_OPS = {"ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"}
_IP_OPS = {"IpAddress", "NotIpAddress"}
#: every condition operator lakebox evaluates (plus ...IfExists and set qualifiers)
CONDITION_OPERATORS = frozenset(
    _STRING_OPS | _NUMERIC_OPS | _DATE_OPS | _ARN_OPS | _IP_OPS | {"Bool", "Null"}
)
_NEGATED = {
    "StringNotEquals",
    "StringNotEqualsIgnoreCase",
    "StringNotLike",
    "NumericNotEquals",
    "DateNotEquals",
    "ArnNotEquals",
    "ArnNotLike",
    "NotIpAddress",
}


def _conditions(raw: Any, where: str) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise _fail(where, "must be an object of {operator: {key: value(s)}}")
    found = []
    for name, block in raw.items():
        qualifier = None
        base = name
        if ":" in name:
            qualifier, _, base = name.partition(":")
            if qualifier not in ("ForAnyValue", "ForAllValues"):
                raise _fail(
                    where,
                    f"unknown set qualifier {qualifier!r} in {name!r} (ForAnyValue, ForAllValues)",
                )
        if_exists = base.endswith("IfExists") and base != "IfExists"
        if if_exists:
            base = base[: -len("IfExists")]
        if base not in CONDITION_OPERATORS or (if_exists and base == "Null"):
            raise _fail(
                where,
                f"lakebox does not support the condition operator {name!r} "
                f"(supported: {', '.join(sorted(CONDITION_OPERATORS))}, with IfExists)",
            )
        if not isinstance(block, dict) or not block:
            raise _fail(f"{where}.{name}", "must be an object of {key: value(s)}")
        for key, values in block.items():
            if not isinstance(key, str) or not key:
                raise _fail(f"{where}.{name}", "condition keys are non-empty strings")
            items = values if isinstance(values, list) else [values]
            if not items or not all(isinstance(v, str | bool | int | float) for v in items):
                raise _fail(f"{where}.{name}.{key}", "values must be strings, numbers or booleans")
            texts = tuple(
                ("true" if v else "false") if isinstance(v, bool) else str(v) for v in items
            )
            for text in texts:
                _check_value(base, text, f"{where}.{name}.{key}")
            found.append(Condition(base, qualifier, if_exists, key.lower(), texts))
    return tuple(found)


def _check_value(operator: str, text: str, where: str) -> None:
    try:
        if operator in _NUMERIC_OPS:
            float(text)
        elif operator in _DATE_OPS:
            _date(text)
        elif operator in _IP_OPS:
            ipaddress.ip_network(text, strict=False)
        elif operator in ("Bool", "Null") and text.lower() not in ("true", "false"):
            raise ValueError(text)
    except ValueError:
        raise _fail(where, f"{text!r} is not a valid value for {operator}") from None


def _date(value: Any) -> dt.datetime:
    """A date from ISO 8601 text or epoch seconds; ValueError for anything else, including
    epoch seconds beyond what a datetime holds (OverflowError / OSError underneath)."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    text = str(value)
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
        try:
            return dt.datetime.fromtimestamp(float(text), dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"{text[:40]!r} seconds is out of range for a date") from None
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _one(operator: str, wanted: str | Tokens, actual: Any) -> bool:
    """Whether one context value satisfies the (positive form of the) operator. ``wanted``
    is a condition value, or its tokens when it held policy variables."""
    positive = operator.replace("Not", "", 1) if operator in _NEGATED else operator
    if not isinstance(wanted, str):
        if positive in ("StringLike", "ArnLike"):
            return _tokens_match(wanted, str(actual))
        wanted = _literal(wanted)
    if positive in ("StringEquals", "ArnEquals"):
        return str(actual) == wanted
    if positive == "StringEqualsIgnoreCase":
        return str(actual).lower() == wanted.lower()
    if positive in ("StringLike", "ArnLike"):
        return wildcard_match(wanted, str(actual))
    if positive == "Bool":
        return str(actual).lower() == wanted.lower()
    if positive.startswith("Numeric"):
        try:
            a, w = float(actual), float(wanted)
        except (TypeError, ValueError):
            return False
        return _compare(positive.removeprefix("Numeric"), a, w)
    if positive.startswith("Date"):
        try:
            a_d, w_d = _date(actual), _date(wanted)
        except (TypeError, ValueError):
            return False
        return _compare(positive.removeprefix("Date"), a_d, w_d)
    if positive == "IpAddress":
        try:
            return ipaddress.ip_address(str(actual)) in ipaddress.ip_network(wanted, strict=False)
        except ValueError:
            return False
    raise AssertionError(operator)  # pragma: no cover - parse refuses other operators


def _compare(how: str, a: Any, b: Any) -> bool:
    return {
        "Equals": a == b,
        "LessThan": a < b,
        "LessThanEquals": a <= b,
        "GreaterThan": a > b,
        "GreaterThanEquals": a >= b,
    }[how]


def _condition_holds(cond: Condition, keys: Mapping[str, Any], version: str = VERSIONS[0]) -> bool:
    present = cond.key in keys and keys[cond.key] is not None
    if cond.operator == "Null":
        return (not present) == (cond.values[0].lower() == "true")
    if not present:
        if cond.if_exists:
            return True
        if cond.qualifier == "ForAllValues":
            return True
        if cond.qualifier == "ForAnyValue":
            return False  # IAM: no value in the request, so not "any value", negated or not
        return cond.operator in _NEGATED
    value = keys[cond.key]
    actual = list(value) if isinstance(value, list | tuple | set | frozenset) else [value]
    negated = cond.operator in _NEGATED

    wanted_values: Iterable[str | Tokens] = cond.values
    if version == "2012-10-17" and any("${" in v for v in cond.values):
        # policy variables stand for the request's values (one without a value matches nothing)
        wanted_values = [
            w for v in cond.values if (w := (_substitute(v, keys) if "${" in v else v)) is not None
        ]

    def matches(item: Any) -> bool:
        """Whether ``item`` satisfies the operator's positive form for some value."""
        return any(_one(cond.operator, wanted, item) for wanted in wanted_values)

    # A negated operator is "matches none of the values", per request value; the set
    # qualifiers then ask it of every value (ForAllValues) or of at least one (ForAnyValue).
    if cond.qualifier == "ForAllValues":
        return all((not matches(item)) if negated else matches(item) for item in actual)
    if cond.qualifier == "ForAnyValue":
        return any((not matches(item)) if negated else matches(item) for item in actual)
    any_hit = any(matches(item) for item in actual)
    return not any_hit if negated else any_hit


# -- matching ------------------------------------------------------------------------------


def wildcard_match(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    """Whether ``text`` matches ``pattern``, where ``*`` stands for any run of characters
    and ``?`` for one. Greedy with one saved backtrack point, so it takes at most
    len(pattern) * len(text) steps whatever the pattern (a regular expression built from a
    hostile ``*a*a*a...b`` could take exponential time)."""
    if ignore_case:
        pattern, text = pattern.lower(), text.lower()
    if "*" not in pattern and "?" not in pattern:
        return pattern == text
    if pattern.endswith("*") and "*" not in pattern[:-1] and "?" not in pattern:
        return text.startswith(pattern[:-1])
    p = t = 0
    star, mark = -1, 0
    while t < len(text):
        if p < len(pattern) and (pattern[p] == "?" or pattern[p] == text[t]):
            p += 1
            t += 1
        elif p < len(pattern) and pattern[p] == "*":
            star, mark = p, t
            p += 1
        elif star >= 0:
            p = star + 1
            mark += 1
            t = mark
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)


def action_matches(pattern: str, action: str) -> bool:
    return wildcard_match(pattern, action, ignore_case=True)


def resource_matches(pattern: str, resource: str) -> bool:
    if pattern == "*":
        return True
    p_parts = pattern.split(":", 5)
    r_parts = resource.split(":", 5)
    if len(p_parts) < 6 or len(r_parts) < 6:
        return wildcard_match(pattern, resource)
    return all(wildcard_match(p, r) for p, r in zip(p_parts, r_parts, strict=True))


#: A pattern with its policy variables replaced, as tokens: a ``str`` is one literal
#: character (everything a variable inserts is literal), these ints are the pattern's own
#: ``*``, ``?`` and ``:`` (only the pattern's own colons separate an ARN's segments).
Tokens = tuple[str | int, ...]
_STAR, _ONE, _SEP = 0, 1, 2
_OWN = {"*": _STAR, "?": _ONE, ":": _SEP}


def _tokens(pattern: str, keys: Mapping[str, Any]) -> Tokens | None:
    """``pattern`` with its policy variables replaced; None when one has no value."""
    out: list[str | int] = []
    pos = 0
    while pos < len(pattern):
        found = _VARIABLE.match(pattern, pos) if pattern.startswith("${", pos) else None
        if found is None:
            char = pattern[pos]
            out.append(_OWN.get(char, char))
            pos += 1
            continue
        name = found.group(1)
        if name in ("*", "?", "$"):
            out.append(name)
        else:
            value = keys.get(name.lower())
            if value is None or isinstance(value, list | tuple | set | frozenset):
                return None
            out.extend(str(value))
        pos = found.end()
    return tuple(out)


_SPECIAL = frozenset("*?:")


def _substitute(pattern: str, keys: Mapping[str, Any]) -> str | Tokens | None:
    """``pattern`` with its policy variables replaced: plain text when nothing inserted is
    a ``*``, ``?`` or ``:`` (the common case, matched as fast as a pattern without
    variables), else tokens that keep inserted characters literal; None when a variable
    has no value."""
    unsafe = missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal unsafe, missing
        name = match.group(1)
        if name in ("*", "?", "$"):
            unsafe = unsafe or name != "$"
            return name
        found = keys.get(name.lower())
        if found is None or isinstance(found, list | tuple | set | frozenset):
            missing = True
            return ""
        text = str(found)
        unsafe = unsafe or not _SPECIAL.isdisjoint(text)
        return text

    replaced = _VARIABLE.sub(value, pattern)
    if missing:
        return None
    return _tokens(pattern, keys) if unsafe else replaced


def _literal(tokens: Tokens) -> str:
    """The text of ``tokens`` (the pattern's own ``*`` / ``?`` / ``:`` as characters)."""
    return "".join(t if isinstance(t, str) else "*?:"[t] for t in tokens)


def _tokens_match(tokens: Tokens | list[str | int], text: str) -> bool:
    """:func:`wildcard_match` over tokens: only the pattern's own ``*`` / ``?`` are
    wildcards (same bounded algorithm)."""
    p = t = 0
    star, mark = -1, 0
    while t < len(text):
        tok = tokens[p] if p < len(tokens) else None
        if tok is not None and (tok == _ONE or tok == text[t] or (tok == _SEP and text[t] == ":")):
            p += 1
            t += 1
        elif tok == _STAR:
            star, mark = p, t
            p += 1
        elif star >= 0:
            p = star + 1
            mark += 1
            t = mark
        else:
            return False
    while p < len(tokens) and tokens[p] == _STAR:
        p += 1
    return p == len(tokens)


def _resource_tokens_match(tokens: Tokens, resource: str) -> bool:
    """:func:`resource_matches` for a pattern whose variables were replaced."""
    if tokens == (_STAR,):
        return True
    segments: list[list[str | int]] = [[]]
    for tok in tokens:
        if tok == _SEP and len(segments) < 6:
            segments.append([])
        else:
            segments[-1].append(tok)
    parts = resource.split(":", 5)
    if len(segments) < 6 or len(parts) < 6:
        return _tokens_match(tokens, resource)
    return all(_tokens_match(p, r) for p, r in zip(segments, parts, strict=True))


def _applies(
    stmt: Statement, version: str, action: str, resource: str, keys: Mapping[str, Any]
) -> bool:
    hit = any(action_matches(p, action) for p in stmt.actions)
    if hit == stmt.not_action:
        return False
    if stmt.resources:
        if version == "2012-10-17" and any("${" in p for p in stmt.resources):
            patterns = [_substitute(p, keys) if "${" in p else p for p in stmt.resources]
            if stmt.not_resource and stmt.effect == "Allow" and None in patterns:
                # "every resource but <unknown>" must not allow every resource
                return False
            hit = any(
                p is not None
                and (
                    resource_matches(p, resource)
                    if isinstance(p, str)
                    else _resource_tokens_match(p, resource)
                )
                for p in patterns
            )
        else:
            hit = any(resource_matches(p, resource) for p in stmt.resources)
        if hit == stmt.not_resource:
            return False
    return all(_condition_holds(c, keys, version) for c in stmt.conditions)


def evaluate(
    policies: Iterable[Policy],
    action: str,
    resource: str,
    keys: Mapping[str, Any] | None = None,
) -> Decision:
    """``deny`` if a Deny applies, else ``allow`` if an Allow applies, else ``implicit``.
    ``keys`` are the request's condition keys, in lower case (``aws:username``)."""
    keys = keys or {}
    allowed = False
    for pol in policies:
        for stmt in pol.statements:
            if _applies(stmt, pol.version, action, resource, keys):
                if stmt.effect == "Deny":
                    return "deny"
                allowed = True
    return "allow" if allowed else "implicit"


def _principal_match(
    kind: str, value: str, caller: Principal
) -> Literal["principal", "account"] | None:
    if kind == "Service":
        # a service principal (lambda.amazonaws.com) is only ever the lake's own service
        # acting for a resource (a function assuming its execution role), never a request
        return "principal" if caller.kind == "service" and value == caller.arn else None
    if kind != "AWS":
        return None
    if value == "*":
        return "account"
    root = _ROOT.fullmatch(value)
    if _ACCOUNT.fullmatch(value) or root:
        account = root.group(1) if root else value
        return "account" if account == caller.account_id else None
    if value == caller.arn:
        return "principal"
    if caller.kind == "assumed-role" and ":role/" in value:
        role = value.rsplit("/", 1)[-1]
        account = value.split(":")[4]
        parts = caller.arn.split(":assumed-role/", 1)[-1].split("/")
        if account == caller.account_id and parts and parts[0] == role:
            return "principal"
    return None


def trust_allows(
    trust: Policy, caller: Principal, action: str, keys: Mapping[str, Any] | None = None
) -> Literal["principal", "account"] | None:
    """Whether a role's trust policy lets ``caller`` perform ``action`` (sts:AssumeRole):
    ``principal`` when it names the caller itself, ``account`` when it names the caller's
    account (or everyone: then the caller's own policies must allow it too), None when it
    does not, or when a Deny applies."""
    keys = keys or {}
    found: Literal["principal", "account"] | None = None
    for stmt in trust.statements:
        hit = any(action_matches(p, action) for p in stmt.actions)
        if hit == stmt.not_action:
            continue
        if not all(_condition_holds(c, keys, trust.version) for c in stmt.conditions):
            continue
        matches = [_principal_match(k, v, caller) for k, v in stmt.principals]
        best: Literal["principal", "account"] | None = (
            "principal" if "principal" in matches else "account" if "account" in matches else None
        )
        if best is None:
            continue
        if stmt.effect == "Deny":
            return None
        if found != "principal":
            found = best
    return found


def arn_account(arn: str) -> str:
    """The account field of an ARN (empty for S3 buckets and for ``*``)."""
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[0] == "arn" else ""


#: AWS's managed policy AdministratorAccess: everything on everything
ADMINISTRATOR = Policy(
    "2012-10-17",
    (Statement(None, "Allow", ("*",), False, ("*",), False, (), ()),),
)
