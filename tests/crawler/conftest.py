"""Fixtures for crawler tests: a lake with a database ``db`` and writers for real files."""

from __future__ import annotations

import bz2
import gzip
import lzma
from collections.abc import Callable
from pathlib import Path

import cramjam
import pytest

from lakebox.catalog.model import Database, Table
from lakebox.config import LakeConfig
from lakebox.crawler import Crawler, CrawlerService, CrawlRun, Target
from lakebox.errors import EntityNotFoundError

COMPRESSORS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "none": ("", lambda d: d),
    "gzip": (".gz", gzip.compress),
    "bzip2": (".bz2", bz2.compress),
    "zstd": (".zst", lambda d: bytes(cramjam.zstd.compress(d))),
    "snappy": (".snappy", lambda d: bytes(cramjam.snappy.compress(d))),
    "xz": (".xz", lzma.compress),
    "lz4": (".lz4", lambda d: bytes(cramjam.lz4.compress(d))),
}


@pytest.fixture
def service(config: LakeConfig) -> CrawlerService:
    svc = CrawlerService(config)
    svc.catalog.create_database(Database("db"))
    return svc


@pytest.fixture
def bucket_dir(config: LakeConfig) -> Path:
    """The local folder behind ``s3://data/``."""
    path = config.home / "data"
    path.mkdir()
    return path


def write(path: Path, data: bytes | str, codec: str = "none") -> Path:
    ext, compress = COMPRESSORS[codec]
    raw = data.encode() if isinstance(data, str) else data
    target = path.with_name(path.name + ext)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(compress(raw))
    return target


def crawl(
    service: CrawlerService, path: str = "s3://data/", name: str = "c", **kw: object
) -> CrawlRun:
    """Create (or reuse) crawler ``name`` over ``path`` and run it once."""
    exclusions = kw.pop("exclusions", [])
    try:
        service.get_crawler(name)
    except EntityNotFoundError:
        service.create_crawler(Crawler(name, "db", [Target(path, list(exclusions))], **kw))  # type: ignore[arg-type]
    run = service.start_crawler(name)
    assert run.state == "SUCCEEDED", run.error
    return run


def tables(service: CrawlerService) -> dict[str, Table]:
    return {t.name: t for t in service.catalog.list_tables("db")}


def columns(table: Table) -> list[tuple[str, str]]:
    return [(c.name, c.type) for c in table.columns]


def partitions(service: CrawlerService, table: str) -> list[list[str]]:
    return sorted(p.values for p in service.catalog.get_partitions("db", table))
