"""``lakebox iam ...``: accounts, users, access keys and passwords of the lake (a thin shell
over ``lake.iam``; mounted by the main CLI when a command line asks for it).

``create-access-key`` prints IAM's CreateAccessKey answer as JSON, the only time the
secret is shown; ``bootstrap`` makes the first administrator and writes its keys to a
file only the owner can read.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from lakebox.cli.support import GuardedGroup, guard, lakehouse, read_json_object, read_text_file
from lakebox.errors import InvalidRequestError

if TYPE_CHECKING:
    from lakebox.iam.service import IamService

iam_app = typer.Typer(
    help="Identities: accounts, users, access keys and passwords (IAM-style).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=GuardedGroup,
)

out = Console()

HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", envvar="LAKEBOX_HOME", help="Lake folder (default ./.lakebox)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
AccountOpt = Annotated[
    str | None,
    typer.Option("--account", help="Account id (12 digits; default: the lake's account)."),
]


def _iam(home: Path | None, *, create: bool = False) -> IamService:
    return guard(lambda: lakehouse(home, create=create).iam)


def _when(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _table(columns: list[str], rows: list[list[str]]) -> None:
    table = RichTable(header_style="bold")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(Text(v) for v in row))
    out.print(table)


def _echo_json(doc: Any) -> None:
    typer.echo(json.dumps(doc, indent=4))


@iam_app.command("create-account")
def create_account(
    account_id: Annotated[str, typer.Argument(metavar="ID", help="12-digit account id.")],
    name: Annotated[str | None, typer.Option("--name", help="A name to recognise it by.")] = None,
    home: HomeOpt = None,
) -> None:
    """Create an account: its users, roles and resources are separate from every other's."""
    iam = _iam(home, create=True)
    account = guard(lambda: iam.create_account(account_id, name))
    out.print(f"account {account.account_id} ({account.name}) created", highlight=False)


@iam_app.command("list-accounts")
def list_accounts(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """The lake's accounts."""
    accounts = guard(lambda: _iam(home).list_accounts())
    rows = [
        {"AccountId": a.account_id, "Name": a.name, "CreateDate": _when(a.created)}
        for a in accounts
    ]
    if as_json:
        _echo_json({"Accounts": rows})
        return
    _table(
        ["account", "name", "created"], [[r["AccountId"], r["Name"], r["CreateDate"]] for r in rows]
    )


@iam_app.command("create-user")
def create_user(
    name: Annotated[str, typer.Argument(help="User name ([\\w+=,.@-], at most 64).")],
    account: AccountOpt = None,
    admin: Annotated[
        bool, typer.Option("--admin", help="Attach AdministratorAccess (may do everything).")
    ] = False,
    path: Annotated[str, typer.Option("--path", help="IAM path, e.g. /analysts/.")] = "/",
    home: HomeOpt = None,
) -> None:
    """Create a user (then give it keys with create-access-key)."""
    iam = _iam(home, create=True)
    user = guard(lambda: iam.create_user(name, account_id=account, path=path, admin=admin))
    extra = " with AdministratorAccess" if admin else ""
    out.print(f"user {user.arn} created{extra}", highlight=False)


@iam_app.command("list-users")
def list_users(
    account: AccountOpt = None,
    all_accounts: Annotated[
        bool, typer.Option("--all-accounts", help="Users of every account.")
    ] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The users of an account (or of all of them)."""
    iam = _iam(home)
    users = guard(lambda: iam.list_users(account_id=account, all_accounts=all_accounts))
    rows = [
        {
            "Path": u.path,
            "UserName": u.name,
            "UserId": u.user_id,
            "Arn": u.arn,
            "CreateDate": _when(u.created),
        }
        for u in users
    ]
    if as_json:
        _echo_json({"Users": rows})
        return
    _table(["user", "arn", "created"], [[r["UserName"], r["Arn"], r["CreateDate"]] for r in rows])


@iam_app.command("delete-user")
def delete_user(
    name: str,
    account: AccountOpt = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Also delete its access keys, policies and password."),
    ] = False,
    home: HomeOpt = None,
) -> None:
    """Delete a user; one that still has keys, policies or a password needs --force."""
    iam = _iam(home)
    guard(lambda: iam.delete_user(name, account_id=account, force=force))
    out.print(f"user {name} deleted", highlight=False)


@iam_app.command("create-access-key")
def create_access_key(name: str, account: AccountOpt = None, home: HomeOpt = None) -> None:
    """Make a user's access key; prints IAM's CreateAccessKey answer (the only time the
    secret is shown)."""
    iam = _iam(home)
    new = guard(lambda: iam.create_access_key(name, account_id=account))
    _echo_json(
        {
            "AccessKey": {
                "UserName": new.key.user_name,
                "AccessKeyId": new.key.access_key_id,
                "Status": new.key.status,
                "SecretAccessKey": new.secret_access_key,
                "CreateDate": _when(new.key.created),
            }
        }
    )


@iam_app.command("list-access-keys")
def list_access_keys(
    name: str, account: AccountOpt = None, home: HomeOpt = None, as_json: JsonOpt = False
) -> None:
    """A user's access keys (ids and status; secrets are never shown again)."""
    iam = _iam(home)
    keys = guard(lambda: iam.list_access_keys(name, account_id=account))
    rows = [
        {
            "UserName": k.user_name,
            "AccessKeyId": k.access_key_id,
            "Status": k.status,
            "CreateDate": _when(k.created),
        }
        for k in keys
    ]
    if as_json:
        _echo_json({"AccessKeyMetadata": rows})
        return
    _table(
        ["access key id", "status", "created"],
        [[r["AccessKeyId"], r["Status"], r["CreateDate"]] for r in rows],
    )


@iam_app.command("delete-access-key")
def delete_access_key(
    access_key_id: Annotated[str, typer.Argument(metavar="ACCESS_KEY_ID")],
    user: Annotated[
        str | None, typer.Option("--user-name", help="The key's user (checked when given).")
    ] = None,
    account: AccountOpt = None,
    home: HomeOpt = None,
) -> None:
    """Delete an access key: requests signed with it fail from now on."""
    iam = _iam(home)
    guard(lambda: iam.delete_access_key(access_key_id, user_name=user, account_id=account))
    out.print(f"access key {access_key_id} deleted", highlight=False)


@iam_app.command("set-password")
def set_password(
    name: str,
    account: AccountOpt = None,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from standard input."),
    ] = False,
    home: HomeOpt = None,
) -> None:
    """Set a user's password (asked twice, or read with --password-stdin)."""
    iam = _iam(home)
    guard(lambda: iam.get_user(name, account_id=account))
    if password_stdin:
        text = sys.stdin.readline()
        password = text[:-1] if text.endswith("\n") else text
        password = password.removesuffix("\r")
        if not password:
            guard(lambda: _empty())
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    guard(lambda: iam.set_password(name, password, account_id=account))
    out.print(f"password of user {name} set", highlight=False)


def _empty() -> None:
    raise InvalidRequestError("no password on standard input")


@iam_app.command("bootstrap")
def bootstrap(home: HomeOpt = None) -> None:
    """Make the first administrator and write its keys to a file only you can read."""
    iam = _iam(home, create=True)
    path = guard(iam.bootstrap)
    if path is None:
        out.print(
            "the lake has users already: nothing done (make keys with "
            "'lakebox iam create-access-key NAME')",
            highlight=False,
            soft_wrap=True,
        )
        return
    out.print(f"administrator keys written to {path}", highlight=False, soft_wrap=True)
    out.print(f"use them with: AWS_SHARED_CREDENTIALS_FILE={path}", highlight=False, soft_wrap=True)


def _document(path: Path, what: str) -> str:
    """A policy document from a file, checked to be a JSON object (IAM checks the rest)."""
    read_json_object(path, what)
    return read_text_file(path, what)


PolicyFile = Annotated[
    Path, typer.Argument(metavar="FILE", help="The policy document (JSON).", show_default=False)
]


@iam_app.command("put-user-policy")
def put_user_policy(
    name: Annotated[str, typer.Argument(metavar="USER")],
    policy_name: Annotated[str, typer.Argument(metavar="POLICY_NAME")],
    document: PolicyFile,
    account: AccountOpt = None,
    home: HomeOpt = None,
) -> None:
    """Add (or replace) an inline policy of a user."""
    _put_policy("user", name, policy_name, document, account, home)


@iam_app.command("create-role")
def create_role(
    name: str,
    trust: Annotated[
        Path, typer.Option("--trust", help="The trust policy (JSON): who may assume the role.")
    ],
    account: AccountOpt = None,
    max_session_duration: Annotated[
        int, typer.Option("--max-session-duration", help="Seconds, 3600-43200.")
    ] = 3600,
    description: Annotated[str, typer.Option("--description")] = "",
    home: HomeOpt = None,
) -> None:
    """Create a role that the principals its trust policy names may assume."""
    iam = _iam(home, create=True)
    text = guard(lambda: _document(trust, "trust policy"))
    role = guard(
        lambda: iam.create_role(
            name,
            text,
            account_id=account,
            description=description,
            max_session_duration=max_session_duration,
        )
    )
    out.print(f"role {role.arn} created", highlight=False)


@iam_app.command("put-role-policy")
def put_role_policy(
    name: Annotated[str, typer.Argument(metavar="ROLE")],
    policy_name: Annotated[str, typer.Argument(metavar="POLICY_NAME")],
    document: PolicyFile,
    account: AccountOpt = None,
    home: HomeOpt = None,
) -> None:
    """Add (or replace) an inline policy of a role."""
    _put_policy("role", name, policy_name, document, account, home)


def _put_policy(
    kind: str, name: str, policy_name: str, document: Path, account: str | None, home: Path | None
) -> None:
    """put-user-policy and put-role-policy: read the document, store it, say so."""
    iam = _iam(home)
    text = guard(lambda: _document(document, "policy document"))
    put = iam.put_user_policy if kind == "user" else iam.put_role_policy
    guard(lambda: put(name, policy_name, text, account_id=account))
    out.print(f"policy {policy_name} of {kind} {name} set", highlight=False)


@iam_app.command("list-roles")
def list_roles(account: AccountOpt = None, home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """The roles of an account."""
    roles = guard(lambda: _iam(home).list_roles(account_id=account))
    rows = [
        {
            "RoleName": r.name,
            "RoleId": r.role_id,
            "Arn": r.arn,
            "CreateDate": _when(r.created),
            "MaxSessionDuration": r.max_session_duration,
            "AssumeRolePolicyDocument": json.loads(r.trust_policy),
        }
        for r in roles
    ]
    if as_json:
        _echo_json({"Roles": rows})
        return
    _table(["role", "arn", "created"], [[r["RoleName"], r["Arn"], r["CreateDate"]] for r in rows])


@iam_app.command("delete-role")
def delete_role(
    name: str,
    account: AccountOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Also delete its policies.")] = False,
    home: HomeOpt = None,
) -> None:
    """Delete a role; its sessions end at once."""
    iam = _iam(home)
    guard(lambda: iam.delete_role(name, account_id=account, force=force))
    out.print(f"role {name} deleted", highlight=False)


@iam_app.command("update-access-key")
def update_access_key(
    access_key_id: Annotated[str, typer.Argument(metavar="ACCESS_KEY_ID")],
    status: Annotated[str, typer.Option("--status", help="Active or Inactive.")],
    account: AccountOpt = None,
    home: HomeOpt = None,
) -> None:
    """Make a key Inactive (requests signed with it fail) or Active again."""
    iam = _iam(home)
    guard(lambda: iam.update_access_key(access_key_id, status, account_id=account))
    out.print(f"access key {access_key_id} is {status}", highlight=False)


@iam_app.command("simulate")
def simulate(
    arn: Annotated[str, typer.Argument(help="A user or role: its ARN, or a user name.")],
    action: Annotated[str, typer.Argument(help="An action, e.g. s3:GetObject.")],
    resources: Annotated[
        list[str] | None, typer.Argument(metavar="[RESOURCE]...", help="ARNs (default *).")
    ] = None,
    account: AccountOpt = None,
    home: HomeOpt = None,
) -> None:
    """What a user's or role's policies decide for an action (exit 1 when any is denied)."""
    iam = _iam(home)
    principal = guard(
        lambda: (
            iam.principal_of_arn(arn)
            if arn.startswith("arn:")
            else iam.user_principal(arn, account_id=account)
        )
    )
    denied = False
    for resource in resources or ["*"]:
        decision, why = guard(partial(iam.decide, principal, action, resource))
        word = {"allow": "allowed", "deny": "denied", "implicit": "denied"}[decision]
        denied = denied or decision != "allow"
        out.print(f"{word}: {action} on {resource} {why}", highlight=False, soft_wrap=True)
    if denied:
        raise typer.Exit(1)
