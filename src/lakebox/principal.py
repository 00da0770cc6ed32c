"""Who is calling: the principal every statement and service call carries.

The embedded default is the lake's local administrator, so a lake opened from Python or
the CLI behaves as it always has. The coming server builds a principal from a verified
signature; the permission layer decides from it what a call may see and do. Caches that
hold plans or data are keyed by ``Principal.key`` and a policy version, so one
principal's plan or result never serves another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

DEFAULT_ACCOUNT_ID = "000000000000"
DEFAULT_REGION = "us-east-1"

PrincipalKind = Literal["root", "user", "role", "assumed-role", "service", "local-admin"]

_ACCOUNT = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class Principal:
    """An identity: its account, its ARN (IAM's form) and what kind of identity it is."""

    account_id: str
    arn: str
    kind: PrincipalKind = "user"

    @property
    def key(self) -> str:
        """What caches are keyed by: the ARN names one identity across accounts."""
        return self.arn

    @property
    def is_local_admin(self) -> bool:
        return self.kind == "local-admin"

    @property
    def name(self) -> str:
        """The last part of the ARN (a user or role name; ``root`` for an account)."""
        return self.arn.rsplit("/", 1)[-1] if "/" in self.arn else self.arn.rsplit(":", 1)[-1]


def local_admin(account_id: str = DEFAULT_ACCOUNT_ID) -> Principal:
    """The embedded default: the account's root identity, allowed everything."""
    if not _ACCOUNT.match(account_id):
        raise ValueError(f"an account id is 12 digits, not {account_id!r}")
    return Principal(account_id, f"arn:aws:iam::{account_id}:root", "local-admin")


#: the local administrator of the default account
LOCAL_ADMIN = local_admin()
