"""Crawler runs whose process died are reported FAILED, never RUNNING for ever (a workflow
polling getCrawler would loop)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from lakebox.crawler.model import FAILED, Crawler, Target
from lakebox.crawler.store import CrawlerStore


def test_a_run_left_by_a_dead_process_reads_as_failed(tmp_path: Path) -> None:
    path = tmp_path / "crawlers.sqlite"
    store = CrawlerStore(path)
    store.create(Crawler("c1", "db", [Target("s3://b/raw/")]))
    # a real process starts a run and exits without finishing it, as a crash would
    code = textwrap.dedent(f"""
        import os
        from pathlib import Path
        from lakebox.crawler.model import CrawlRun
        from lakebox.crawler.store import CrawlerStore
        CrawlerStore(Path({str(path)!r})).begin_run(CrawlRun("run-1", "c1"))
        os._exit(0)
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    runs = store.runs("c1")
    assert [(r.id, r.state) for r in runs] == [("run-1", FAILED)]
    assert "stopped before it finished" in (runs[0].error or "")
