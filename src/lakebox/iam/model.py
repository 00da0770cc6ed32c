"""The identity model: accounts, users, roles, access keys and temporary credentials, and
IAM's rules for their names."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from lakebox.iam.errors import ValidationError

# Matched with fullmatch (never match + "$", which also takes a trailing newline), and
# ASCII only: \d and \w would take other scripts' digits and letters.
_ACCOUNT = re.compile(r"[0-9]{12}")
_USER_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
_POLICY_NAME = re.compile(r"[\w+=,.@-]{1,128}", re.ASCII)
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
_PATH = re.compile(r"/|/[\x21-\x7e]{1,510}/")
_ACCOUNT_NAME = re.compile(r"[^\x00-\x1f\x7f]{1,50}")

#: the one managed policy lakebox knows
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"


def _check(pattern: re.Pattern[str], value: object, what: str, rule: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValidationError(
            f"1 validation error detected: Value {value!r} at '{what}' failed to satisfy "
            f"constraint: {rule}"
        )
    return value


def account_id(value: object) -> str:
    return _check(_ACCOUNT, value, "accountId", "an account id is exactly 12 digits")


def account_name(value: object) -> str:
    return _check(
        _ACCOUNT_NAME, value, "accountName", "1 to 50 characters with no control characters"
    )


def user_name(value: object) -> str:
    return _check(
        _USER_NAME,
        value,
        "userName",
        "Member must satisfy regular expression pattern: [\\w+=,.@-]+ "
        "and have length between 1 and 64",
    )


def role_name(value: object) -> str:
    return _check(
        _ROLE_NAME,
        value,
        "roleName",
        "Member must satisfy regular expression pattern: [\\w+=,.@-]+ "
        "and have length between 1 and 64",
    )


def policy_name(value: object) -> str:
    return _check(
        _POLICY_NAME,
        value,
        "policyName",
        "Member must satisfy regular expression pattern: [\\w+=,.@-]+ "
        "and have length between 1 and 128",
    )


def session_name(value: object) -> str:
    return _check(
        _SESSION_NAME,
        value,
        "roleSessionName",
        "Member must satisfy regular expression pattern: [\\w+=,.@-]* "
        "and have length between 2 and 64",
    )


def iam_path(value: object) -> str:
    return _check(
        _PATH,
        value,
        "path",
        "a path is / or begins and ends with / (printable ASCII, at most 512 characters)",
    )


@dataclass(frozen=True)
class Account:
    account_id: str
    name: str
    created: dt.datetime

    @property
    def root_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:root"


@dataclass(frozen=True)
class User:
    account_id: str
    name: str
    user_id: str
    path: str
    created: dt.datetime

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:user{self.path}{self.name}"


@dataclass(frozen=True)
class Role:
    account_id: str
    name: str
    role_id: str
    path: str
    trust_policy: str
    description: str
    max_session_duration: int
    created: dt.datetime

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:role{self.path}{self.name}"


@dataclass(frozen=True)
class AccessKey:
    """A long-term key of a user (``AKIA...``); the secret is only known when it is made."""

    access_key_id: str
    account_id: str
    user_name: str
    status: str
    created: dt.datetime


@dataclass(frozen=True)
class NewAccessKey:
    """A key just made, with its secret (kept out of repr(): logs and tracebacks show
    objects' reprs)."""

    key: AccessKey
    secret_access_key: str = field(repr=False)


@dataclass(frozen=True)
class SessionCredentials:
    """Temporary credentials (``ASIA...``) of an assumed role."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: dt.datetime
    account_id: str
    role_name: str
    role_id: str
    session_name: str
    source_arn: str

    @property
    def assumed_role_arn(self) -> str:
        return f"arn:aws:sts::{self.account_id}:assumed-role/{self.role_name}/{self.session_name}"

    @property
    def assumed_role_id(self) -> str:
        return f"{self.role_id}:{self.session_name}"


@dataclass(frozen=True)
class LoginProfile:
    account_id: str
    user_name: str
    created: dt.datetime
    password_reset_required: bool
