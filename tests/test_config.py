"""``S3Settings`` from the environment: a job process's ``LAKEBOX_S3_*`` (the lake's own S3)
come before the ``AWS_*`` keys, which there are the job role's, for the lakebox server."""

from __future__ import annotations

import pytest

from lakebox.config import S3Settings

LAKE = S3Settings(
    endpoint_url="http://127.0.0.1:9000",
    region="eu-west-1",
    access_key_id="lake-key",
    secret_access_key="lake-secret",
    session_token="lake-token",
)


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "LAKEBOX_S3_ENDPOINT",
        "LAKEBOX_S3_REGION",
        "LAKEBOX_S3_ACCESS_KEY_ID",
        "LAKEBOX_S3_SECRET_ACCESS_KEY",
        "LAKEBOX_S3_SESSION_TOKEN",
        "LAKEBOX_S3_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
    ):
        monkeypatch.delenv(name, raising=False)


def test_a_lakes_settings_survive_the_trip_to_a_child_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the job role's keys, for the server, are in the child's AWS_* variables
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "role-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "role-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "role-token")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    for name, value in LAKE.env().items():
        monkeypatch.setenv(name, value)
    assert S3Settings.from_env() == LAKE


def test_without_lakebox_variables_the_aws_ones_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    assert S3Settings.from_env() == S3Settings(
        endpoint_url="http://127.0.0.1:9000",
        region="us-east-1",
        access_key_id="k",
        secret_access_key="s",
    )


def test_keys_left_to_the_environment_are_resolved_for_the_child(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-env")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-env-secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    env = S3Settings(endpoint_url="http://127.0.0.1:9000").env()
    assert env == {
        "LAKEBOX_S3_ENDPOINT": "http://127.0.0.1:9000",
        "LAKEBOX_S3_ACCESS_KEY_ID": "from-env",
        "LAKEBOX_S3_SECRET_ACCESS_KEY": "from-env-secret",
    }


def test_an_unknown_profile_is_a_config_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from lakebox.errors import ConfigError

    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    with pytest.raises(ConfigError, match="no-such-profile"):
        S3Settings(profile="no-such-profile").env()
