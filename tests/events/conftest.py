"""A lake with its event bus, and handlers written as AWS documents them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lakebox.api.context import ServiceContext
from lakebox.config import LakeConfig
from lakebox.lakehouse import Lakehouse
from lakebox.principal import local_admin


@pytest.fixture
def lake(lake_home: Path) -> Iterator[Lakehouse]:
    opened = Lakehouse.open(LakeConfig.from_env(home=lake_home, storage="local"))
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def ctx(lake: Lakehouse) -> ServiceContext:
    """What the S3 operations are given by a door: the lake's storage and its events."""
    return ServiceContext(
        principal=local_admin(lake.config.account_id),
        account_id=lake.config.account_id,
        region=lake.config.region,
        services={"storage": lake.storage, "events": lake.events},
    )


RECORDER = '''
import json
import os


def lambda_handler(event, context):
    """Appends what it was given to a file named by its environment."""
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps({"event": event, "name": context.function_name}) + "\\n")
    return {"statusCode": 200}


def failing_handler(event, context):
    with open(os.environ["OUT"], "a") as out:
        out.write("attempt\\n")
    raise RuntimeError("the handler failed")
'''


@pytest.fixture
def recorder(tmp_path: Path) -> Path:
    code = tmp_path / "code" / "lambda_function.py"
    code.parent.mkdir()
    code.write_text(RECORDER)
    return code
