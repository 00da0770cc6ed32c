"""``lakebox serve`` under load: many concurrent boto3 clients on loopback mixing Athena
queries and Firehose puts for a fixed time; throughput, p50 / p99 latency per operation,
errors, and whether every acknowledged record was delivered exactly once.

Each client is a thread with its own boto3 clients (made before the clock starts, from one
session, so the models load once) and runs the operations of ``MIX`` in turn:

- ``athena-query``: StartQueryExecution of ``SELECT <n>``, GetQueryExecution until it
  succeeds, GetQueryResults (the answer is checked);
- ``firehose-batch``: PutRecordBatch of ``BATCH`` records;
- ``firehose-put``: PutRecord of one record;
- ``s3-put-get``: PutObject of a small object to the ``OBJECTS`` bucket, then GetObject of
  it (its bytes are checked).

Every record is a JSON line naming its client and its number; once the clock stops, the
delivered objects (the stream's bucket is a folder of the lake's home) are read until every
acknowledged record is there (or ``DELIVERY_SECONDS`` pass), and each is counted: a record
missing is lost, one seen twice is duplicated.

    python -m benchmarks --suite server-load              # 60 s, 50 clients
    python -m benchmarks.server_load --seconds 10 --clients 20
    python -m benchmarks.server_load --quick              # 10 s

Writes ``benchmarks/results/server-load.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
REGION = "us-east-1"
STREAM = "load-records"
#: the bucket the S3 operations of the mix write to (not the stream's)
OBJECTS = "load-objects"
BUCKET = "load-landing"
#: records per PutRecordBatch
BATCH = 20
#: how long delivery may take, once the clock stopped, before a record counts as lost
DELIVERY_SECONDS = 60.0


@dataclass
class Worker:
    """One client thread's boto3 clients, its outcome and its acknowledged records."""

    index: int
    athena: Any
    firehose: Any
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)
    s3: Any = None
    sent = 0

    def record(self) -> tuple[str, bytes]:
        """A new record: its key (``<client>-<n>``) and its JSON line."""
        self.sent += 1
        key = f"{self.index}-{self.sent}"
        return key, json.dumps({"key": key, "pad": "x" * 64}).encode() + b"\n"


def athena_query(w: Worker) -> None:
    n = w.sent = w.sent + 1
    qid = w.athena.start_query_execution(QueryString=f"SELECT {n} AS n")["QueryExecutionId"]
    deadline = time.monotonic() + 60
    while True:
        state = w.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if state["State"] == "SUCCEEDED":
            break
        if state["State"] in ("FAILED", "CANCELLED") or time.monotonic() > deadline:
            raise AssertionError(f"query {qid}: {state}")
        time.sleep(0.02)
    rows = w.athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
    if rows[1]["Data"][0]["VarCharValue"] != str(n):
        raise AssertionError(f"query {qid} answered {rows}")


def firehose_batch(w: Worker) -> None:
    records = [w.record() for _ in range(BATCH)]
    answer = w.firehose.put_record_batch(
        DeliveryStreamName=STREAM, Records=[{"Data": data} for _, data in records]
    )
    for (key, _), result in zip(records, answer["RequestResponses"], strict=True):
        if "RecordId" in result and not result.get("ErrorCode"):
            w.acknowledged.append(key)
    if answer["FailedPutCount"]:
        raise AssertionError(f"{answer['FailedPutCount']} records of a batch failed")


def firehose_put(w: Worker) -> None:
    key, data = w.record()
    w.firehose.put_record(DeliveryStreamName=STREAM, Record={"Data": data})
    w.acknowledged.append(key)


def s3_put_get(w: Worker) -> None:
    w.sent += 1
    key = f"{w.index}/{w.sent}.json"
    body = json.dumps({"key": key, "pad": "y" * 512}).encode()
    w.s3.put_object(Bucket=OBJECTS, Key=key, Body=body)
    got = w.s3.get_object(Bucket=OBJECTS, Key=key)["Body"].read()
    if got != body:
        raise AssertionError(f"s3://{OBJECTS}/{key} read back {len(got)} bytes, not its own")


#: the operations each client runs in turn (one entry per call of the cycle)
MIX: list[tuple[str, Callable[[Worker], None]]] = [
    ("athena-query", athena_query),
    ("firehose-batch", firehose_batch),
    ("firehose-put", firehose_put),
    ("firehose-batch", firehose_batch),
    ("s3-put-get", s3_put_get),
]


@dataclass
class LoadResult:
    """What a load run came to."""

    clients: int
    seconds: float
    operations: dict[str, list[float]]
    errors: list[str]
    acknowledged: int
    delivered: int
    lost: list[str]
    duplicated: list[str]

    def summary(self) -> dict[str, Any]:
        every = [x for lat in self.operations.values() for x in lat]
        return {
            "clients": self.clients,
            "seconds": round(self.seconds, 2),
            "operations": len(every),
            "operations_per_s": round(len(every) / self.seconds, 1),
            "records_acknowledged": self.acknowledged,
            "records_per_s": round(self.acknowledged / self.seconds, 1),
            "records_delivered": self.delivered,
            "lost": len(self.lost),
            "duplicated": len(self.duplicated),
            "errors": len(self.errors),
            "first_errors": self.errors[:5],
            "latency_ms": {name: _percentiles(lat) for name, lat in sorted(self.operations.items())}
            | {"all": _percentiles(every)},
        }


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {"count": len(ordered), "p50": at(0.50), "p99": at(0.99), "max": at(1.0)}


def clients(url: str, key: str, secret: str, count: int) -> list[Worker]:
    """``count`` workers, each with boto3 clients of its own (no retries: an error counts)."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id=key, aws_secret_access_key=secret, region_name=REGION
    )
    config = Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=120)
    return [
        Worker(
            i,
            session.client("athena", endpoint_url=url, config=config),
            session.client("firehose", endpoint_url=url, config=config),
            s3=session.client("s3", endpoint_url=url, config=config),
        )
        for i in range(count)
    ]


def create_stream(worker: Worker) -> None:
    worker.s3.create_bucket(Bucket=OBJECTS)
    worker.firehose.create_delivery_stream(
        DeliveryStreamName=STREAM,
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::000000000000:role/load-firehose",
            "BucketARN": f"arn:aws:s3:::{BUCKET}",
            "Prefix": "records/",
            "BufferingHints": {"IntervalInSeconds": 1, "SizeInMBs": 1},
        },
    )


def delivered_keys(home: Path) -> Counter[str]:
    """Every record in the stream's delivered objects, counted by key."""
    seen: Counter[str] = Counter()
    for path in sorted((home / BUCKET).rglob("*")):
        if path.is_file():
            for line in path.read_bytes().splitlines():
                if line.strip():
                    seen[json.loads(line)["key"]] += 1
    return seen


def run_load(
    url: str, key: str, secret: str, home: Path, *, clients_count: int = 50, seconds: float = 60
) -> LoadResult:
    """Run the mix from ``clients_count`` threads for ``seconds`` against the server at
    ``url`` (whose lake is at ``home``), then wait for delivery and count the records."""
    workers = clients(url, key, secret, clients_count)
    create_stream(workers[0])
    stop = threading.Event()
    start = threading.Barrier(clients_count + 1)

    def work(w: Worker) -> None:
        start.wait()
        turn = w.index  # the clients start at different points of the mix
        while not stop.is_set():
            name, op = MIX[turn % len(MIX)]
            turn += 1
            began = time.perf_counter()
            try:
                op(w)
            except Exception as exc:  # counted and reported, the run goes on
                w.errors.append(f"{name}: {type(exc).__name__}: {exc}"[:300])
                continue
            w.latencies.setdefault(name, []).append(time.perf_counter() - began)

    threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in workers]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(180)
    took = time.perf_counter() - began
    acknowledged = [k for w in workers for k in w.acknowledged]
    deadline = time.monotonic() + DELIVERY_SECONDS
    while True:
        seen = delivered_keys(home)
        if all(k in seen for k in acknowledged) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    operations: dict[str, list[float]] = {}
    for w in workers:
        for name, lat in w.latencies.items():
            operations.setdefault(name, []).extend(lat)
    return LoadResult(
        clients=clients_count,
        seconds=took,
        operations=operations,
        errors=[e for w in workers for e in w.errors],
        acknowledged=len(acknowledged),
        delivered=sum(seen.values()),
        lost=[k for k in acknowledged if k not in seen],
        duplicated=[k for k, n in seen.items() if n > 1],
    )


# -- running a server of its own ------------------------------------------------------------


@contextmanager
def serve(home: Path) -> Iterator[tuple[str, str, str]]:
    """``lakebox serve`` on a new lake at ``home``: (url, access key, secret); stopped
    with SIGTERM at the end."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAKEBOX_"))}
    log = open(home.parent / "server-stderr.txt", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "lakebox.cli", "serve", "--home", str(home), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=log,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url + "/_lakebox/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("lakebox serve did not start")
            time.sleep(0.2)
        values = {}
        for line in (home / "_lakebox" / "iam" / "admin-credentials").read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep:
                values[name.strip()] = value.strip()
        yield url, values["aws_access_key_id"], values["aws_secret_access_key"]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def markdown(summary: dict[str, Any], machine: dict[str, Any]) -> str:
    lines = [
        "# `lakebox serve` under load",
        "",
        f"{summary['clients']} concurrent boto3 clients on loopback for {summary['seconds']} s "
        f"({machine['cores']} cores, {machine['python']}, {machine['when']}); "
        "see benchmarks/server_load.py for the mix.",
        "",
        f"- operations: {summary['operations']} ({summary['operations_per_s']} /s)",
        f"- records acknowledged: {summary['records_acknowledged']} "
        f"({summary['records_per_s']} /s); delivered: {summary['records_delivered']}; "
        f"lost: {summary['lost']}; duplicated: {summary['duplicated']}",
        f"- errors: {summary['errors']}",
        "",
        "| operation | count | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, p in summary["latency_ms"].items():
        if p.get("count"):
            lines.append(f"| {name} | {p['count']} | {p['p50']} | {p['p99']} | {p['max']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.server_load", description=__doc__)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--quick", action="store_true", help="10 s instead of 60")
    p.add_argument("--results-dir", type=Path, default=RESULTS)
    p.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temp one)")
    args = p.parse_args(argv)
    seconds = 10.0 if args.quick else args.seconds
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        home = Path(tmp) / "lake"
        with serve(home) as (url, key, secret):
            result = run_load(url, key, secret, home, clients_count=args.clients, seconds=seconds)
    summary = result.summary()
    machine = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / "server-load.json").write_text(
        json.dumps({"machine": machine, **summary}, indent=2) + "\n"
    )
    (args.results_dir / "server-load.md").write_text(markdown(summary, machine))
    print(markdown(summary, machine))
    return 0 if not (result.errors or result.lost or result.duplicated) else 1


if __name__ == "__main__":
    sys.exit(main())
