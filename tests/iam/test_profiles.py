"""Credentials found as AWS tools find them, turned into the principal they belong to."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakebox.iam.profiles import CredentialsError, find_credentials
from lakebox.iam.service import IamService
from lakebox.iam.sigv4 import AuthError


def test_the_bootstrap_file_names_the_admin(iam: IamService) -> None:
    path = iam.bootstrap()
    assert path is not None
    creds = find_credentials(env={"AWS_SHARED_CREDENTIALS_FILE": str(path)})
    principal = iam.principal_for(creds.access_key_id, creds.secret_access_key)
    assert principal.arn == "arn:aws:iam::000000000000:user/admin"
    assert creds.secret_access_key not in repr(creds)


def test_environment_keys_come_before_the_default_profile(tmp_path: Path) -> None:
    env = {"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s", "HOME": str(tmp_path)}
    assert find_credentials(env=env).access_key_id == "AKIAENV"
    file = tmp_path / "creds"
    file.write_text(
        "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = x\n"
        "[etl]\naws_access_key_id = AKIAETL\naws_secret_access_key = y\n"
        "aws_session_token = tok\n"
    )
    named = find_credentials("etl", env={**env, "AWS_SHARED_CREDENTIALS_FILE": str(file)})
    assert (named.access_key_id, named.session_token) == ("AKIAETL", "tok")
    by_env = find_credentials(env={"AWS_PROFILE": "etl", "AWS_SHARED_CREDENTIALS_FILE": str(file)})
    assert by_env.access_key_id == "AKIAETL"


@pytest.mark.parametrize(
    ("content", "profile", "fragment"),
    [
        (None, "default", "no credentials file"),
        (
            "[other]\naws_access_key_id = a\naws_secret_access_key = b\n",
            "default",
            "has no profile 'default' (has: other)",
        ),
        (
            "[default]\naws_access_key_id = a\n",
            "default",
            "needs aws_access_key_id and aws_secret_access_key",
        ),
        ("not an ini file", "default", "cannot read"),
    ],
)
def test_unusable_credentials_are_named(
    tmp_path: Path, content: str | None, profile: str, fragment: str
) -> None:
    file = tmp_path / "creds"
    if content is not None:
        file.write_text(content)
    with pytest.raises(CredentialsError) as caught:
        find_credentials(profile, env={"AWS_SHARED_CREDENTIALS_FILE": str(file)})
    assert fragment in str(caught.value)


def test_keys_that_are_not_this_lakes_are_refused(iam: IamService, tmp_path: Path) -> None:
    file = tmp_path / "creds"
    file.write_text(
        "[default]\naws_access_key_id = AKIAFOREIGN000000000\naws_secret_access_key = x\n"
    )
    creds = find_credentials(env={"AWS_SHARED_CREDENTIALS_FILE": str(file)})
    with pytest.raises(AuthError):
        iam.principal_for(creds.access_key_id, creds.secret_access_key)
