"""A deterministic Apache combined-log dataset and its file layouts (JSON lines, CSV,
Parquet; 1 to 10,000 files; plain or gzip).

Rows are generated in DuckDB SQL from the row number alone (integer hashing, no random
state), so every run on every machine writes the same bytes for the same row count. Text
files are cut from one rendering of all rows, so a cell with 10,000 files holds exactly the
rows of the cell with one file.
"""

from __future__ import annotations

import gzip
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

#: the row count of the published Athena experiment
PUBLISHED_ROWS = 148_534
#: up to this many rows, text renderings are kept and shared by every layout
RENDER_ALL_ROWS = 1_000_000

COLUMNS: list[tuple[str, str]] = [
    ("host", "string"),
    ("ident", "string"),
    ("user", "string"),
    ("time", "string"),
    ("method", "string"),
    ("path", "string"),
    ("protocol", "string"),
    ("status", "int"),
    ("size", "bigint"),
    ("referer", "string"),
    ("agent", "string"),
]

#: DuckDB types matching the Hive types above, for the bare-DuckDB readers
DUCKDB_TYPES = {"string": "VARCHAR", "int": "INTEGER", "bigint": "BIGINT"}

_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "curl/8.4.0",
    "python-requests/2.31.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.43 Mobile Safari/537.36",
    "Wget/1.21.4",
]
_PATHS = [
    "/index.php?id={n}",
    "/images/photo-{n}.jpg",
    "/css/site.css?v={n}",
    "/js/app.js?v={n}",
    "/wp-login.php",
    "/blog/2024/03/post-{n}.html",
    "/api/v1/items/{n}",
    "/products/view.php?item={n}&ref=home",
    "/favicon.ico",
    "/search?q=term{n}",
    "/about.html",
    "/admin/config.php",
    "/static/fonts/roboto-{n}.woff2",
    "/robots.txt",
    "/feed.xml",
    "/cart/add?sku={n}",
]
_USERS = ["frank", "alice", "bob", "carol", "dave", "erin"]
_REFERERS = [
    "https://www.google.com/",
    "https://www.example.com/",
    "https://www.example.com/blog/",
    "https://duckduckgo.com/",
    "https://t.co/x{n}",
]


def _list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _pick(values: list[str], h: str) -> str:
    return f"{_list(values)}[1 + ({h}) % {len(values)}]"


def rows_sql(rows: int) -> str:
    """DuckDB SQL yielding ``rows`` log records in a fixed order."""
    h = [f"((i * {a} + {b}) % 4294967291)" for a, b in _SALTS]
    path = f"replace({_pick(_PATHS, h[0])}, '{{n}}', CAST({h[1]} % 5000 AS VARCHAR))"
    referer = (
        f"CASE WHEN {h[2]} % 10 < 6 THEN '-' ELSE "
        f"replace({_pick(_REFERERS, h[3])}, '{{n}}', CAST({h[3]} % 997 AS VARCHAR)) END"
    )
    host_id = f"({h[4]} % 7919)"
    status = (
        f"CASE WHEN {h[5]} % 100 < 78 THEN 200 WHEN {h[5]} % 100 < 88 THEN 304 "
        f"WHEN {h[5]} % 100 < 94 THEN 404 WHEN {h[5]} % 100 < 97 THEN 301 "
        f"WHEN {h[5]} % 100 < 99 THEN 302 ELSE 500 END"
    )
    method = (
        f"CASE WHEN {h[6]} % 100 < 86 THEN 'GET' WHEN {h[6]} % 100 < 96 THEN 'POST' "
        f"WHEN {h[6]} % 100 < 99 THEN 'HEAD' ELSE 'PUT' END"
    )
    return f"""
SELECT
  CAST(11 + {host_id} % 212 AS VARCHAR) || '.' || CAST(({host_id} * 7) % 256 AS VARCHAR) || '.'
    || CAST(({host_id} * 13) % 256 AS VARCHAR) || '.' || CAST(({host_id} * 31) % 254 + 1 AS VARCHAR)
    AS host,
  '-' AS ident,
  CASE WHEN {h[7]} % 20 = 0 THEN {_pick(_USERS, h[8])} ELSE '-' END AS "user",
  strftime(TIMESTAMP '2024-03-01 00:00:00' + to_milliseconds(i * 1731), '%d/%b/%Y:%H:%M:%S +0000')
    AS "time",
  {method} AS method,
  {path} AS path,
  CASE WHEN {h[9]} % 10 < 8 THEN 'HTTP/1.1' WHEN {h[9]} % 10 < 9 THEN 'HTTP/2.0'
    ELSE 'HTTP/1.0' END AS protocol,
  CAST({status} AS INTEGER) AS status,
  CAST(CASE WHEN {status} IN (304, 301, 302) THEN 0 ELSE 200 + {h[10]} % 48000 END AS BIGINT)
    AS size,
  {referer} AS referer,
  {_pick(_AGENTS, h[11])} AS agent
FROM range(CAST({rows} AS BIGINT)) t(i)
ORDER BY i
"""


_SALTS = [
    (2654435761, 17),
    (40503, 91),
    (2246822519, 3),
    (3266489917, 55),
    (668265263, 7),
    (374761393, 11),
    (1103515245, 12345),
    (22695477, 1),
    (1664525, 1013904223),
    (134775813, 5),
    (214013, 2531011),
    (69069, 362437),
]


def generate(rows: int, con: duckdb.DuckDBPyConnection | None = None) -> pa.Table:
    """All rows as one Arrow table (column types as in ``COLUMNS``)."""
    con = con or duckdb.connect()
    return con.sql(rows_sql(rows)).to_arrow_table()


@dataclass(frozen=True)
class Layout:
    """One cell's files: format (json | csv | parquet), file count, compression."""

    fmt: str
    files: int
    gzip: bool = False

    @property
    def name(self) -> str:
        return f"{self.fmt}_{self.files}{'_gz' if self.gzip else ''}"

    @property
    def extension(self) -> str:
        base = {"json": ".json", "csv": ".csv", "parquet": ".parquet"}[self.fmt]
        return base + (".gz" if self.gzip else "")


def _chunks(total: int, parts: int) -> list[tuple[int, int]]:
    """(start, length) of ``parts`` near-equal slices of ``total`` rows."""
    parts = max(1, min(parts, total)) if total else 1
    base, extra = divmod(total, parts)
    out, start = [], 0
    for p in range(parts):
        length = base + (1 if p < extra else 0)
        out.append((start, length))
        start += length
    return out


def render_lines(table: pa.Table, fmt: str, con: duckdb.DuckDBPyConnection) -> list[bytes]:
    """Each row as one line of JSON or CSV (every field quoted; the data holds no quotes)."""
    name = "__bench_rows"
    con.register(name, table)
    try:
        if fmt == "json":
            fields = ", ".join(f"'{c}': {_q(c)}" for c, _t in COLUMNS)
            sql = f"SELECT CAST(to_json({{{fields}}}) AS VARCHAR) FROM {name}"
        else:
            parts = " || ',' || ".join(
                f"'\"' || CAST({_q(c)} AS VARCHAR) || '\"'"
                if t == "string"
                else f"CAST({_q(c)} AS VARCHAR)"
                for c, t in COLUMNS
            )
            sql = f"SELECT {parts} FROM {name}"
        column = con.sql(sql).to_arrow_table().column(0)
    finally:
        con.unregister(name)
    return [s.encode() for s in column.to_pylist()]


def _q(name: str) -> str:
    return '"' + name + '"'


def write_layout(
    table: pa.Table,
    layout: Layout,
    folder: Path,
    con: duckdb.DuckDBPyConnection,
    lines: dict[str, list[bytes]],
) -> None:
    """Write one cell's files into ``folder`` (replacing what is there). ``lines`` caches
    the rendered text rows per format across cells."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    slices = _chunks(table.num_rows, layout.files)
    width = len(str(len(slices) - 1))
    if layout.fmt == "parquet":
        for n, (start, length) in enumerate(slices):
            pq.write_table(
                table.slice(start, length), folder / f"part-{n:0{width}d}{layout.extension}"
            )
        return
    if table.num_rows <= RENDER_ALL_ROWS and layout.fmt not in lines:
        lines[layout.fmt] = render_lines(table, layout.fmt, con)
    for n, (start, length) in enumerate(slices):
        if table.num_rows <= RENDER_ALL_ROWS:
            chunk = lines[layout.fmt][start : start + length]
        else:  # large datasets are rendered a slice at a time to bound memory
            chunk = render_lines(table.slice(start, length), layout.fmt, con)
        data = b"\n".join(chunk) + b"\n"
        if layout.gzip:
            # mtime=0 keeps the bytes identical from run to run
            data = gzip.compress(data, compresslevel=6, mtime=0)
        (folder / f"part-{n:0{width}d}{layout.extension}").write_bytes(data)


def stamp(folder: Path, rows: int, layout: Layout) -> Path:
    return folder / f"_{layout.name}_{rows}.done"


def ensure_layout(
    root: Path,
    rows: int,
    layout: Layout,
    cache: dict[str, object],
) -> Path:
    """The folder holding ``layout`` for ``rows`` rows under ``root``, written if missing.
    A hidden ``_...done`` marker (skipped by lakebox's listing, as Athena skips ``_`` files)
    records a complete write, so an interrupted run rewrites the cell."""
    folder = root / f"rows{rows}" / layout.name
    marker = stamp(folder, rows, layout)
    if marker.exists():
        return folder
    con = cache.setdefault("con", duckdb.connect())
    assert isinstance(con, duckdb.DuckDBPyConnection)
    table = cache.get("table")
    if not isinstance(table, pa.Table) or table.num_rows != rows:
        table = generate(rows, con)
        cache["table"] = table
        cache["lines"] = {}
    lines = cache["lines"]
    assert isinstance(lines, dict)
    write_layout(table, layout, folder, con, lines)
    marker.write_text(json.dumps({"rows": rows, "layout": layout.name}))
    return folder
