"""AWS Network Firewall logs: the Athena User Guide's table and example query over sample
netflow and alert log records (JSON, one per line, as Network Firewall writes them),
checked against the same records read by json."""

from __future__ import annotations

import json
from typing import Any

import pytest

from integration.aws_examples.conftest import Athena, relocate, unordered

URL = "https://docs.aws.amazon.com/athena/latest/ug/querying-network-firewall-logs.html"

# Verbatim from URL; only LOCATION's bucket is replaced at run time.
CREATE_TABLE = """CREATE EXTERNAL TABLE anf_logs(
  firewall_name string,
  availability_zone string,
  event_timestamp bigint,
  event struct<
    timestamp:string,
    flow_id:bigint,
    event_type:string,
    src_ip:string,
    src_port:int,
    dest_ip:string,
    dest_port:int,
    proto:string,
    app_proto:string,
    netflow:struct<
      pkts:int,
      bytes:bigint,
      start:string,
      finish:string,
      age:int,
      min_ttl:int,
      max_ttl:int
    >
  >
)
ROW FORMAT SERDE
  'org.openx.data.jsonserde.JsonSerDe'
STORED AS INPUTFORMAT
  'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT
  'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION
  's3://bucket_name/AWSLogs/'"""

Q_PAIRS = """SELECT COUNT(*) AS count,
       event.src_ip,
       event.src_port,
       event.dest_ip,
       event.dest_port
FROM anf_logs
GROUP BY event.src_ip,
         event.src_port,
         event.dest_ip,
         event.dest_port
ORDER BY COUNT DESC
LIMIT 100"""


def netflow(n: int, src: str, sport: int, dst: str, dport: int) -> dict[str, Any]:
    """A netflow record as Network Firewall logs it: event_timestamp as a string, the
    flow's end under the key "end" (the table's column is `finish`, so it reads NULL)."""
    return {
        "firewall_name": "test-firewall",
        "availability_zone": "us-east-1b",
        "event_timestamp": str(1602627000 + n),
        "event": {
            "timestamp": f"2020-10-13T22:10:{n:02d}.006481+0000",
            "flow_id": 1582438383425873 + n,
            "event_type": "netflow",
            "src_ip": src,
            "src_port": sport,
            "dest_ip": dst,
            "dest_port": dport,
            "proto": "TCP",
            "app_proto": "tls",
            "netflow": {
                "pkts": 10 + n,
                "bytes": 1000 * n,
                "start": "2020-10-13T22:08:01.006481+0000",
                "end": "2020-10-13T22:09:01.006481+0000",
                "age": 60,
                "min_ttl": 54,
                "max_ttl": 54,
            },
        },
    }


ALERT = {
    "firewall_name": "test-firewall",
    "availability_zone": "us-east-1a",
    "event_timestamp": "1602627099",
    "event": {
        "timestamp": "2020-10-13T22:11:39.000000+0000",
        "flow_id": 77,
        "event_type": "alert",
        "src_ip": "198.51.100.7",
        "src_port": 3306,
        "dest_ip": "10.0.0.8",
        "dest_port": 3306,
        "proto": "TCP",
        "alert": {"action": "blocked", "signature_id": 5, "signature": "deny mysql"},
    },
}
RECORDS = (
    [netflow(i, "203.0.113.4", 55501, "192.0.2.3", 443) for i in range(3)]
    + [netflow(i, "203.0.113.5", 40000, "192.0.2.3", 443) for i in range(3, 5)]
    + [ALERT]
)


@pytest.fixture
def anf(athena: Athena) -> Athena:
    folder = "s3://anf-sample/AWSLogs/123456789012/network-firewall/flow/us-east-1/test-firewall/2020/10/13/22/"
    athena.put(
        folder + "123456789012_network-firewall_flow_us-east-1_test-firewall_202010132210_x.log.gz",
        "".join(json.dumps(r) + "\n" for r in RECORDS),
        gzipped=True,
    )
    athena.run(relocate(CREATE_TABLE, ("s3://bucket_name/AWSLogs/", "s3://anf-sample/AWSLogs/")))
    return athena


def test_unique_pairs(anf: Athena) -> None:
    counts: dict[tuple[Any, ...], int] = {}
    for r in RECORDS:
        e = r["event"]
        key = (e["src_ip"], e["src_port"], e["dest_ip"], e["dest_port"])
        counts[key] = counts.get(key, 0) + 1
    expected = sorted(((n, *k) for k, n in counts.items()), key=lambda row: -row[0])
    assert [row[0] for row in expected] == [3, 2, 1]  # distinct counts: one valid order
    assert anf.run(Q_PAIRS) == expected


def test_columns_read_back(anf: Athena) -> None:
    # not a query of the page: the string event_timestamp as bigint, and the netflow
    # struct's `finish`, which no key of the record fills
    got = anf.run(
        "SELECT event_timestamp, event.flow_id, event.netflow.pkts, event.netflow.start, "
        "event.netflow.finish FROM anf_logs"
    )
    expected = [
        (
            int(r["event_timestamp"]),
            r["event"]["flow_id"],
            r["event"].get("netflow", {}).get("pkts"),
            r["event"].get("netflow", {}).get("start"),
            None,
        )
        for r in RECORDS
    ]
    assert unordered(got) == unordered(expected)
