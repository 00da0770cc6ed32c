"""A ``kill -9`` of ``lakebox serve`` in the middle of writes loses nothing it acknowledged:
after a restart on the same home every acknowledged Firehose record is delivered (exactly
once), every user and access key it answered for exists (and the keys sign), every query
id it handed out is known; and nothing half-written is visible in the delivered objects."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, ReadTimeoutError
from botocore.parsers import ResponseParserError

from server.conftest import REGION, _free_port, _read_keys, _server_env, serving

pytestmark = [pytest.mark.xdist_group("server"), pytest.mark.slow]

#: what a call sees of a server killed under it
_GONE = (ConnectionClosedError, EndpointConnectionError, ReadTimeoutError, ConnectionError)

STREAM = "crash-records"
BUCKET = "crash-landing"


def _start(home: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``lakebox serve`` on ``home``, ready (the process is ours to kill)."""
    port = _free_port()
    with open(log, "wb") as fe:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lakebox.cli",
                "serve",
                "--home",
                str(home),
                "--port",
                f"{port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=fe,
            env=_server_env(),
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/_lakebox/health", timeout=2) as answer:
                if answer.status == 200:
                    return proc, url
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            pytest.fail(f"lakebox serve did not start: {log.read_text()[-3000:]}")
        time.sleep(0.1)


def _client(service: str, url: str, key: str, secret: str) -> Any:
    return boto3.session.Session().client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=30),
    )


class Acknowledged:
    """What the killed server answered for, by kind (appended to from writer threads)."""

    def __init__(self) -> None:
        self.records: list[str] = []
        self.users: list[str] = []
        self.keys: list[tuple[str, str, str]] = []  # (user, key id, secret)
        self.queries: list[str] = []
        #: errors other than the server going away (there must be none)
        self.errors: list[str] = []
        self.lock = threading.Lock()
        #: set just before the kill: from then on an answer may be cut short
        self.killed = threading.Event()

    def failed(self, exc: Exception) -> None:
        """A writer's call failed: the server went away (expected once it is killed), or
        something else (recorded: the test fails on it)."""
        if isinstance(exc, _GONE):
            return
        if isinstance(exc, KeyError | ResponseParserError) and self.killed.is_set():
            # an answer the kill cut before its body (botocore parses an empty JSON body as
            # an answer without its members, and refuses an empty S3 XML body): not an
            # acknowledgement, and nothing is counted
            return
        with self.lock:
            self.errors.append(f"{type(exc).__name__}: {exc}")


def _writers(
    url: str, key: str, secret: str, acked: Acknowledged, stop: threading.Event
) -> list[threading.Thread]:
    """Writers of each kind, until ``stop`` (or the server dies under them)."""

    def records(worker: int) -> None:
        firehose = _client("firehose", url, key, secret)
        n = 0
        while not stop.is_set():
            batch = [f"{worker}-{n + i}" for i in range(10)]
            n += 10
            lines = [json.dumps({"key": k}).encode() + b"\n" for k in batch]
            try:
                if n % 30 == 0:
                    firehose.put_record(DeliveryStreamName=STREAM, Record={"Data": lines[0]})
                    got = batch[:1]
                else:
                    answer = firehose.put_record_batch(
                        DeliveryStreamName=STREAM, Records=[{"Data": d} for d in lines]
                    )
                    got = [
                        k
                        for k, r in zip(batch, answer["RequestResponses"], strict=True)
                        if r.get("RecordId") and not r.get("ErrorCode")
                    ]
            except Exception as exc:  # what was not answered is not acknowledged
                acked.failed(exc)
                return
            with acked.lock:
                acked.records.extend(got)

    def identities(worker: int) -> None:
        iam = _client("iam", url, key, secret)
        n = 0
        while not stop.is_set():
            name = f"crash-{worker}-{n}"
            n += 1
            try:
                iam.create_user(UserName=name)
                with acked.lock:
                    acked.users.append(name)
                made = iam.create_access_key(UserName=name)["AccessKey"]
                with acked.lock:
                    acked.keys.append((name, made["AccessKeyId"], made["SecretAccessKey"]))
            except Exception as exc:
                acked.failed(exc)
                return

    def queries(worker: int) -> None:
        athena = _client("athena", url, key, secret)
        n = 0
        while not stop.is_set():
            n += 1
            try:
                qid = athena.start_query_execution(QueryString=f"SELECT {worker * 1000 + n}")[
                    "QueryExecutionId"
                ]
            except Exception as exc:
                acked.failed(exc)
                return
            with acked.lock:
                acked.queries.append(qid)

    kinds: list[tuple[Callable[[int], None], int]] = [(records, 6), (identities, 2), (queries, 2)]
    return [
        threading.Thread(target=fn, args=(i,), daemon=True)
        for fn, count in kinds
        for i in range(count)
    ]


def test_a_kill_9_during_writes_loses_nothing_acknowledged(tmp_path: Path) -> None:
    home = tmp_path / "lake"
    proc, url = _start(home, tmp_path / "first-stderr.txt")
    try:
        key, secret = _read_keys(home / "_lakebox" / "iam" / "admin-credentials")
        _client("firehose", url, key, secret).create_delivery_stream(
            DeliveryStreamName=STREAM,
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::000000000000:role/crash-firehose",
                "BucketARN": f"arn:aws:s3:::{BUCKET}",
                "Prefix": "records/",
                # deliveries happen while the writes go on, so one may be cut by the kill
                "BufferingHints": {"IntervalInSeconds": 1, "SizeInMBs": 1},
            },
        )
        acked = Acknowledged()
        stop = threading.Event()
        threads = _writers(url, key, secret, acked, stop)
        for t in threads:
            t.start()
        # once every kind has been answered a few times (however busy the machine is)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (
            len(acked.records) >= 200 and len(acked.keys) >= 3 and len(acked.queries) >= 3
        ):
            time.sleep(0.1)
        acked.killed.set()  # from here an answer may be cut short by the kill
        os.kill(proc.pid, signal.SIGKILL)  # mid-stream: the writers are still writing
        proc.wait(30)
        stop.set()
        for t in threads:
            t.join(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert acked.errors == []
    assert acked.records and acked.users and acked.queries, "nothing was written before the kill"

    with serving(tmp_path / "second", home) as (served, _):
        firehose = _client("firehose", served.url, key, secret)
        assert firehose.describe_delivery_stream(DeliveryStreamName=STREAM)
        # the server's delivery loop delivers what was buffered at the kill
        deadline = time.monotonic() + 60
        while True:
            seen = _delivered(home / BUCKET)
            missing = [k for k in acked.records if k not in seen]
            if not missing:
                break
            assert time.monotonic() < deadline, f"{len(missing)} acknowledged records lost"
            time.sleep(0.5)
        twice = [k for k, n in seen.items() if n > 1]
        assert twice == [], f"{len(twice)} records delivered twice"

        iam = _client("iam", served.url, key, secret)
        users = {
            u["UserName"]
            for u in iam.get_paginator("list_users").paginate().build_full_result()["Users"]
        }
        assert set(acked.users) <= users
        for user, key_id, key_secret in acked.keys:
            listed = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
            assert key_id in [k["AccessKeyId"] for k in listed]
            who = _client("sts", served.url, key_id, key_secret).get_caller_identity()
            assert who["Arn"].endswith(f":user/{user}")

        athena = _client("athena", served.url, key, secret)
        found = athena.batch_get_query_execution(QueryExecutionIds=acked.queries[:50])
        assert found["UnprocessedQueryExecutionIds"] == []
        for qid in acked.queries:
            state = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
            assert state["QueryExecutionId"] == qid


def _delivered(bucket: Path) -> Counter[str]:
    """Every record in the delivered objects by key; an object that is not whole JSON
    lines (half-written) fails the test."""
    seen: Counter[str] = Counter()
    for path in sorted(bucket.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        assert data.endswith(b"\n"), f"{path} is cut short"
        for line in data.splitlines():
            seen[json.loads(line)["key"]] += 1
    return seen
