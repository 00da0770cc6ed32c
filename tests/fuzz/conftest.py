"""Hypothesis profiles and the one oracle every fuzz target shares.

The only outcomes a fuzz example may have are success or a ``LakeboxError``; anything else
(another exception, a hang past the time bound, a dead process) is a crash.

Profiles (``HYPOTHESIS_PROFILE``):

* ``ci`` (the default, used by ``./dev test``): few examples, derandomized so a failure
  reproduces, so the whole fuzz suite adds about half a minute on two cores;
* ``long``: for local hunting, ``HYPOTHESIS_PROFILE=long .venv/bin/pytest tests/fuzz``
  (add ``--hypothesis-show-statistics`` for the number of cases tried).

No profile writes Hypothesis's example database into the repository: ``ci`` keeps none,
``long`` keeps one in the system temp folder so a crash found there replays next run.
"""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from lakebox.errors import LakeboxError

_QUIET = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
    HealthCheck.function_scoped_fixture,
    HealthCheck.large_base_example,
]

settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=_QUIET,
    print_blob=True,
)
settings.register_profile(
    "long",
    max_examples=400,
    deadline=None,
    database=DirectoryBasedExampleDatabase(
        Path(tempfile.gettempdir()) / "lakebox-hypothesis-examples"
    ),
    suppress_health_check=_QUIET,
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

#: seconds one example may take before it counts as a hang
EXAMPLE_SECONDS = float(os.environ.get("LAKEBOX_FUZZ_EXAMPLE_SECONDS", "20"))

T = TypeVar("T")


def scaled(n: int) -> int:
    """``n`` examples in CI, proportionally more in the long profile (per-target budgets)."""
    return max(1, n * settings.default.max_examples // 40)


class Hang(BaseException):
    """An example ran past ``EXAMPLE_SECONDS`` (a BaseException, so no catch-all in lakebox
    turns it into an ordinary failure)."""


@contextmanager
def time_bound(seconds: float = EXAMPLE_SECONDS) -> Iterator[None]:
    """Raise ``Hang`` in the main thread when the block runs longer than ``seconds``."""

    def fire(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"example ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class HangError(AssertionError):
    """What a ``Hang`` becomes once out of lakebox's code, so Hypothesis shrinks it."""


def lakebox_outcome(fn: Callable[[], T]) -> T | LakeboxError:
    """Run ``fn`` within the time bound; return its value or the ``LakeboxError`` it raised.
    Any other exception propagates, and Hypothesis reports it (shrunk) as a crash."""
    try:
        with time_bound():
            try:
                return fn()
            except LakeboxError as err:
                assert str(err).strip(), f"{type(err).__name__} with an empty message"
                return err
    except Hang as hang:
        raise HangError(str(hang)) from None


def is_lakebox_error(value: Any) -> bool:
    return isinstance(value, LakeboxError)


@pytest.fixture
def fuzz_home(tmp_path: Path) -> Path:
    home = tmp_path / "lake"
    home.mkdir()
    return home
