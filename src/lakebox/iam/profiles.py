"""Credentials as AWS tools find them, for doors that act as a principal given keys rather
than a signed request (``--profile`` on the command line, ``principal=`` in Python):
``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``, else a profile
of the shared credentials file (``AWS_SHARED_CREDENTIALS_FILE``, else
``~/.aws/credentials``; profile ``AWS_PROFILE``, else ``default``). The file written by
``lakebox iam bootstrap`` is such a file. ``IamService.principal_for`` turns the keys into
the principal they belong to."""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lakebox.iam.errors import IamError


class CredentialsError(IamError):
    """No usable credentials where they were looked for; the message says where."""

    code = "InvalidClientTokenId"
    status = 403


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)
    source: str = ""


def default_file(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    configured = env.get("AWS_SHARED_CREDENTIALS_FILE")
    return Path(configured).expanduser() if configured else Path.home() / ".aws" / "credentials"


def find_credentials(
    profile: str | None = None,
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Credentials:
    """The keys to act with: the named ``profile`` of the credentials file when one is
    named (argument or ``AWS_PROFILE``), else the environment's keys, else ``default``."""
    env = os.environ if env is None else env
    named = profile or env.get("AWS_PROFILE")
    if named is None and env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        return Credentials(
            env["AWS_ACCESS_KEY_ID"],
            env["AWS_SECRET_ACCESS_KEY"],
            env.get("AWS_SESSION_TOKEN") or None,
            "the environment (AWS_ACCESS_KEY_ID)",
        )
    return read_profile(named or "default", path or default_file(env))


def read_profile(profile: str, path: Path) -> Credentials:
    """``aws_access_key_id`` / ``aws_secret_access_key`` (/ ``aws_session_token``) of one
    profile of a credentials file."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as fh:
            parser.read_file(fh)
    except FileNotFoundError:
        raise CredentialsError(
            f"no credentials file at {path} (set AWS_SHARED_CREDENTIALS_FILE, or make keys "
            "with 'lakebox iam create-access-key NAME')"
        ) from None
    except (OSError, UnicodeDecodeError, configparser.Error) as err:
        raise CredentialsError(f"cannot read credentials file {path}: {err}") from err
    if not parser.has_section(profile):
        known = ", ".join(parser.sections()) or "none"
        raise CredentialsError(f"credentials file {path} has no profile {profile!r} (has: {known})")
    section = parser[profile]
    key, secret = section.get("aws_access_key_id"), section.get("aws_secret_access_key")
    if not key or not secret:
        raise CredentialsError(
            f"profile {profile!r} of {path} needs aws_access_key_id and aws_secret_access_key"
        )
    token = section.get("aws_session_token") or None
    return Credentials(key.strip(), secret.strip(), token, f"profile {profile} of {path}")
