"""The access log on both storage backends: whole JSON lines, read back through the
catalog table ``lakebox_audit.access_log`` with SQL, from several processes' files."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

from lakebox.config import LakeConfig
from lakebox.governance.audit import FLUSH_EVERY
from lakebox.lakehouse import Lakehouse
from lakebox.principal import Principal

WHO = Principal("000000000000", "arn:aws:iam::000000000000:user/auditee")


def _record(home: str, count: int) -> None:
    lake = Lakehouse.open(LakeConfig(home=Path(home)))
    try:
        for i in range(count):
            lake.lakeformation.record(WHO, "SELECT", f"db.t{i}", i % 2 == 0, f"child-{i}")
    finally:
        lake.close()


def test_records_of_several_processes_are_whole_lines(any_config: LakeConfig) -> None:
    lake = Lakehouse.open(any_config)
    try:
        for i in range(FLUSH_EVERY + 5):
            lake.lakeformation.record(WHO, "DESCRIBE", f"db.t{i}", True, f"q-{i}")
        if any_config.storage == "local":
            ctx = multiprocessing.get_context("spawn")
            child = ctx.Process(target=_record, args=(str(any_config.home), 50))
            child.start()
            child.join(120)
            assert child.exitcode == 0
        lake.lakeformation.close()  # flushes what S3 storage keeps in memory
        files = lake.storage.list_files("s3://lakebox-audit/access_log/")
        lines = b"".join(lake.storage.read_bytes(f.uri) for f in files).splitlines()
        records = [json.loads(line) for line in lines]
        expected = FLUSH_EVERY + 5 + (50 if any_config.storage == "local" else 0)
        assert len(records) == expected
        assert set(records[0]) == {
            "event_time",
            "principal",
            "account_id",
            "action",
            "resource",
            "allowed",
            "request_id",
        }
    finally:
        lake.close()
    reopened = Lakehouse.open(any_config)
    try:
        count = (
            reopened.session()
            .sql(
                "SELECT count(*) FROM lakebox_audit.access_log WHERE principal = '" + WHO.arn + "'"
            )
            .fetchall()
        )
        assert count == [(expected,)]
    finally:
        reopened.close()
