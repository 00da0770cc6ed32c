"""Fixtures for workflow tests: a manual clock so Wait / Retry / schedules cost no time, and
a service on a fresh lake."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lakebox.config import LakeConfig
from lakebox.workflows.clock import ManualClock
from lakebox.workflows.service import WorkflowService
from workflows.helpers import START, Runner


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def service(config: LakeConfig, clock: ManualClock) -> Iterator[WorkflowService]:
    svc = WorkflowService(config, clock=clock, stop_poll_seconds=0.05)
    yield svc
    svc.close()


@pytest.fixture
def run(service: WorkflowService) -> Runner:
    return Runner(service)
