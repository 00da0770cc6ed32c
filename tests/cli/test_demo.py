"""The demo lake: every README query runs, and its answers match the generated files read
independently (plain Python over the same files, not lakebox)."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lakebox.cli.demo import QUERIES, build_lake
from lakebox.session import Session

LOG = re.compile(r'^(\S+) \S+ \S+ \[[^\]]+\] "(\S+) (\S+) (\S+)" (\d+) (\d+) "[^"]*" "[^"]*"$')


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Session, Path]:
    home = tmp_path_factory.mktemp("demo")
    return build_lake(home), home


def test_every_readme_query_returns_rows(demo: tuple[Session, Path]) -> None:
    session, _ = demo
    for title, query in QUERIES:
        assert session.sql(query).rowcount > 0, title


def test_access_log_errors_match_the_raw_log_lines(demo: tuple[Session, Path]) -> None:
    session, home = demo
    hits: Counter[str] = Counter()
    for path in sorted((home / "demo-raw" / "access-logs").glob("*.log.gz")):
        for line in gzip.decompress(path.read_bytes()).decode().splitlines():
            m = LOG.match(line)
            assert m, line
            if int(m.group(5)) >= 500:
                hits[m.group(3)] += 1
    result = session.sql(
        "SELECT path, count(*) FROM demo.access_logs WHERE status >= 500 GROUP BY path"
    )
    assert dict(result.fetchall()) == dict(hits)


def test_ion_export_keeps_sixteen_digit_ids(demo: tuple[Session, Path]) -> None:
    session, home = demo
    data = next((home / "demo-exports").rglob("*.ion.gz"))
    text = gzip.decompress(data.read_bytes()).decode()
    ids = [int(m) for m in re.findall(r"order_id:(\d+)\.", text)]
    result = session.sql("SELECT order_id FROM demo.orders_export ORDER BY order_id")
    assert [r[0] for r in result] == [Decimal(i) for i in sorted(ids)]
    assert all(len(str(i)) == 16 for i in ids)


def test_projected_sales_partitions_match_parquet_files(demo: tuple[Session, Path]) -> None:
    session, home = demo
    counts = {
        p.parent.name.removeprefix("dt="): pq.read_metadata(p).num_rows
        for p in (home / "demo-curated" / "sales").rglob("*.parquet")
    }
    result = session.sql("SELECT dt, count(*) FROM demo.sales GROUP BY dt")
    assert dict(result.fetchall()) == counts


def test_json_events_skip_the_malformed_line(demo: tuple[Session, Path]) -> None:
    session, home = demo
    lines = (home / "demo-raw" / "events" / "events-0001.json").read_text().splitlines()
    good = []
    for line in lines:
        try:
            good.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    result = session.sql(
        "SELECT count(*), count(event_id), count_if(device.os = 'ios') FROM demo.events"
    )
    ios = sum(1 for r in good if r["device"]["os"] == "ios")
    # the malformed line is a row of NULLs under ignore.malformed.json
    assert result.fetchall() == [(len(lines), len(good), ios)]
