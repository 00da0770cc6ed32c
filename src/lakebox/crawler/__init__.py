"""Glue-style crawlers: infer tables, schemas and partitions from files in the lake."""

from lakebox.crawler.model import (
    Classifier,
    Crawler,
    CrawlRun,
    Progress,
    SkippedFile,
    Target,
)
from lakebox.crawler.service import CrawlerService

__all__ = [
    "Classifier",
    "CrawlRun",
    "Crawler",
    "CrawlerService",
    "Progress",
    "SkippedFile",
    "Target",
]
