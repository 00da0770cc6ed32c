"""Glue-style crawlers: infer tables, schemas and partitions from files in the lake."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakebox.util import lazy_exports

if TYPE_CHECKING:
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

# Each name is imported when first used, so a light submodule (the model, the errors) can
# be imported without the services beside it.
__getattr__ = lazy_exports(
    __name__,
    {
        "Classifier": "lakebox.crawler.model",
        "Crawler": "lakebox.crawler.model",
        "CrawlRun": "lakebox.crawler.model",
        "Progress": "lakebox.crawler.model",
        "SkippedFile": "lakebox.crawler.model",
        "Target": "lakebox.crawler.model",
        "CrawlerService": "lakebox.crawler.service",
    },
)
