"""``lakebox serve`` under load, bounded for CI: 50 concurrent boto3 clients mixing Athena
queries and Firehose puts (benchmarks/server_load.py's mix; S3 joins it with the S3 door)
for ``LOAD_SECONDS``: no errors, and every acknowledged record delivered exactly once.
``python -m benchmarks --suite server-load`` runs the same for 60 s and reports figures."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest

from server.conftest import Served

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.xdist_group("server"), pytest.mark.slow]

#: long enough for every operation of the mix to run many times, short enough for CI
LOAD_SECONDS = 8.0
CLIENTS = 50


@pytest.fixture
def server_load(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """benchmarks/server_load.py (the repository's root on the import path)."""
    if str(ROOT) not in sys.path:
        monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks import server_load

    return server_load


def test_fifty_clients_mixing_queries_and_puts_lose_nothing(
    served: Served, server_load: ModuleType
) -> None:
    result = server_load.run_load(
        served.url,
        served.admin_key,
        served.admin_secret,
        served.home,
        clients_count=CLIENTS,
        seconds=LOAD_SECONDS,
    )
    summary = result.summary()
    assert result.errors == [], summary
    assert {name for name, _ in server_load.MIX} <= set(result.operations), summary
    assert result.acknowledged > CLIENTS * server_load.BATCH, summary
    assert result.lost == [], f"{len(result.lost)} acknowledged records not delivered"
    assert result.duplicated == [], f"{len(result.duplicated)} records delivered twice"
    assert result.delivered == result.acknowledged, summary
    events = [line.get("event") for line in served.log_lines()]
    assert "internal-error" not in events
    # every request was answered: nothing in the log but 200s
    statuses = {line["status"] for line in served.log_lines() if "status" in line}
    assert statuses == {200}, statuses
