"""The demo lake: generated sample data in five formats, Athena DDL as AWS documents it,
and the README's example queries."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import random
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console

from lakebox.cli.output import OutputFormat, print_result
from lakebox.lakehouse import Lakehouse, connect
from lakebox.query.session import Session

DDL = """
CREATE DATABASE IF NOT EXISTS demo COMMENT 'lakebox demo lake';

-- Apache combined access logs, gzip-compressed, read with RegexSerDe
CREATE EXTERNAL TABLE IF NOT EXISTS demo.access_logs (
  host string, ident string, authuser string, request_time string,
  method string, path string, protocol string,
  status int, bytes bigint, referer string, agent string)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe'
WITH SERDEPROPERTIES (
  'input.regex' = '([^ ]*) ([^ ]*) ([^ ]*) \\\\[([^\\\\]]*)\\\\] "([^ ]*) ([^ ]*) ([^ ]*)" ([0-9]*) ([0-9-]*) "([^"]*)" "([^"]*)"')
LOCATION 's3://demo-raw/access-logs/';

-- A DynamoDB export in Amazon Ion, columns read with path extractors
CREATE EXTERNAL TABLE IF NOT EXISTS demo.orders_export (
  order_id decimal, customer string, amount decimal(12,2), status string)
ROW FORMAT SERDE 'com.amazon.ionhiveserde.IonHiveSerDe'
WITH SERDEPROPERTIES (
  'ion.order_id.path_extractor' = '(Item order_id)',
  'ion.customer.path_extractor' = '(Item customer)',
  'ion.amount.path_extractor' = '(Item amount)',
  'ion.status.path_extractor' = '(Item status)')
STORED AS ION
LOCATION 's3://demo-exports/AWSDynamoDB/01763164800000-a1b2c3d4/data/';

-- Daily Parquet partitions found by partition projection, no MSCK REPAIR needed
CREATE EXTERNAL TABLE IF NOT EXISTS demo.sales (
  sale_id bigint, sku string, quantity int, price double)
PARTITIONED BY (dt string)
STORED AS PARQUET
LOCATION 's3://demo-curated/sales/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.dt.type' = 'date',
  'projection.dt.range' = '2026-11-01,2026-11-07',
  'projection.dt.format' = 'yyyy-MM-dd',
  'storage.location.template' = 's3://demo-curated/sales/dt=${dt}/');

-- Application events, one JSON object per line (OpenX SerDe, keys mapped to columns)
CREATE EXTERNAL TABLE IF NOT EXISTS demo.events (
  event_id string, event_type string, user_id string, ts string,
  device struct<os:string, version:string>)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES (
  'ignore.malformed.json' = 'true',
  'mapping.event_id' = 'EventId',
  'mapping.user_id' = 'userId')
LOCATION 's3://demo-raw/events/';

-- A customer list exported as quoted CSV with a header row
CREATE EXTERNAL TABLE IF NOT EXISTS demo.customers (
  customer string, name string, country string, signup_date string)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
WITH SERDEPROPERTIES ('separatorChar' = ',', 'quoteChar' = '"')
LOCATION 's3://demo-raw/customers/'
TBLPROPERTIES ('skip.header.line.count' = '1');
"""

QUERIES: list[tuple[str, str]] = [
    (
        "Top requested paths with server errors (RegexSerDe over .log.gz)",
        """SELECT path, count(*) AS hits, sum(bytes) AS bytes
        FROM demo.access_logs WHERE status >= 500
        GROUP BY path ORDER BY hits DESC, path LIMIT 5""",
    ),
    (
        "Order totals by status from the DynamoDB Ion export (16-digit ids kept)",
        """SELECT status, count(*) AS orders, sum(amount) AS total, max(order_id) AS max_id
        FROM demo.orders_export GROUP BY status ORDER BY status""",
    ),
    (
        "Two days of sales via date partition projection",
        """SELECT dt, count(*) AS sales, round(sum(quantity * price), 2) AS revenue
        FROM demo.sales WHERE dt BETWEEN '2026-11-03' AND '2026-11-04'
        GROUP BY dt ORDER BY dt""",
    ),
    (
        "Events per type and OS (nested JSON struct)",
        """SELECT event_type, device.os AS os, count(*) AS n
        FROM demo.events GROUP BY 1, 2 ORDER BY n DESC, 1, 2 LIMIT 6""",
    ),
    (
        "Customers joined with their exported orders",
        """SELECT c.country, count(DISTINCT c.customer) AS customers, sum(o.amount) AS spent
        FROM demo.customers c JOIN demo.orders_export o ON o.customer = c.customer
        GROUP BY c.country ORDER BY spent DESC""",
    ),
]

AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64)",
    "curl/8.4.0",
    "Mozilla/5.0 (Macintosh)",
    "Googlebot/2.1",
]
PATHS = [
    "/",
    "/index.php",
    "/cart.php",
    "/api/orders",
    "/static/app.js",
    "/login",
    "/search?q=lake",
]
CUSTOMERS = [f"C{n:04d}" for n in range(1, 41)]
COUNTRIES = ["DE", "FR", "US", "JP", "BR"]


def _write(home: Path, uri: str, data: bytes) -> None:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    path = home / bucket / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def build_data(home: Path, rng: random.Random) -> None:
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    for part in range(2):
        lines = []
        for i in range(2500):
            t = start + dt.timedelta(seconds=part * 43200 + i * 17)
            status = rng.choices([200, 304, 404, 500, 503], [80, 8, 7, 3, 2])[0]
            lines.append(
                f"10.0.{rng.randint(0, 9)}.{rng.randint(1, 254)} - - "
                f'[{t.strftime("%d/%b/%Y:%H:%M:%S +0000")}] "GET {rng.choice(PATHS)} HTTP/1.1" '
                f'{status} {rng.randint(200, 90000)} "-" "{rng.choice(AGENTS)}"'
            )
        _write(
            home,
            f"s3://demo-raw/access-logs/access-{part}.log.gz",
            gzip.compress(("\n".join(lines) + "\n").encode()),
        )

    ion_lines = ["$ion_1_0"]
    for i in range(300):
        oid = 1763164800000000 + i * 7919
        ion_lines.append(
            f'{{Item:{{order_id:{oid}.,customer:"{rng.choice(CUSTOMERS)}",'
            f"amount:{rng.randint(100, 99999) / 100:.2f},"
            f'status:"{rng.choice(["NEW", "PAID", "SHIPPED"])}"}}}}'
        )
    _write(
        home,
        "s3://demo-exports/AWSDynamoDB/01763164800000-a1b2c3d4/data/x7k2m4q9fa.ion.gz",
        gzip.compress("\n".join(ion_lines).encode()),
    )

    sale_id = 0
    for day in range(1, 8):
        n = 200 + day * 10
        ids = list(range(sale_id, sale_id + n))
        sale_id += n
        table = pa.table(
            {
                "sale_id": pa.array(ids, pa.int64()),
                "sku": [f"SKU-{rng.randint(1, 50):03d}" for _ in ids],
                "quantity": pa.array([rng.randint(1, 5) for _ in ids], pa.int32()),
                "price": [round(rng.uniform(2, 80), 2) for _ in ids],
            }
        )
        buf = io.BytesIO()
        pq.write_table(table, buf, compression="snappy")
        _write(
            home,
            f"s3://demo-curated/sales/dt=2026-11-{day:02d}/part-00000.snappy.parquet",
            buf.getvalue(),
        )

    events = []
    for i in range(1000):
        rec = {
            "EventId": f"e{i:05d}",
            "event_type": rng.choice(["view", "click", "buy"]),
            "userId": rng.choice(CUSTOMERS),
            "ts": f"2026-11-0{1 + i % 7}T10:00:00Z",
            "device": {"os": rng.choice(["ios", "android", "web"]), "version": "1.2"},
        }
        events.append(json.dumps(rec))
    events.insert(500, '{"EventId": "broken", ')  # a malformed line the SerDe skips
    _write(home, "s3://demo-raw/events/events-0001.json", ("\n".join(events) + "\n").encode())

    rows = ['"customer","name","country","signup_date"']
    for c in CUSTOMERS:
        rows.append(
            f'"{c}","Customer {c[1:]}, Ltd.","{rng.choice(COUNTRIES)}","2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"'
        )
    _write(home, "s3://demo-raw/customers/customers.csv", ("\n".join(rows) + "\n").encode())


def build_lake(home: Path, open_lake: Callable[[], Lakehouse] | None = None) -> Session:
    """Write the demo's files into ``home`` and define its tables in the lake there, opened
    by ``open_lake`` (the caller's, e.g. the command's one lake) or by ``connect``."""
    home.mkdir(parents=True, exist_ok=True)
    build_data(home, random.Random(42))
    session = open_lake().session() if open_lake is not None else connect(home)
    session.execute_script(DDL)
    return session


def run_demo(home: Path, console: Console, open_lake: Callable[[], Lakehouse]) -> None:
    console.print(f"[bold]Building the demo lake in[/] {home.resolve()}")
    session = build_lake(home, open_lake)
    tables = session.lake.catalog.list_tables("demo")
    console.print(f"database demo: {', '.join(t.name for t in tables)}\n")
    for title, query in QUERIES:
        console.print(f"[bold cyan]{title}[/]")
        console.print(f"[dim]{' '.join(query.split())}[/]", highlight=False)
        print_result(session.sql(query), OutputFormat.table)
        console.print()
