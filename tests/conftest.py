"""Shared fixtures: every test gets its own lake home in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakebox.config import LakeConfig
from lakebox.storage import Storage


@pytest.fixture
def lake_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "lake"
    home.mkdir()
    monkeypatch.setenv("LAKEBOX_HOME", str(home))
    return home


@pytest.fixture
def config(lake_home: Path) -> LakeConfig:
    return LakeConfig.from_env(home=lake_home, storage="local")


@pytest.fixture
def storage(config: LakeConfig) -> Storage:
    return Storage(config)
