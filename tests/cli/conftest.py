"""Fixtures for the command line's tests: the lake a command ran against, to check what it
wrote."""

from __future__ import annotations

import pytest

from lakebox.session import Lake, Session


@pytest.fixture
def lake(lake_session: Session) -> Lake:
    return lake_session.lake
