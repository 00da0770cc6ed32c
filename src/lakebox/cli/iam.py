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
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from lakebox.cli.support import GuardedGroup, guard, lakehouse
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
