"""Fixtures for identity tests: a real identity store in a temporary metadata folder and a
user with an access key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from iam.signing import Keys
from lakebox.iam.service import IamService


@pytest.fixture
def iam(tmp_path: Path) -> Iterator[IamService]:
    service = IamService(tmp_path / "_lakebox")
    yield service
    service.close()


@pytest.fixture
def alice(iam: IamService) -> Keys:
    iam.create_user("alice", admin=True)
    new = iam.create_access_key("alice")
    return Keys(new.key.access_key_id, new.secret_access_key)
