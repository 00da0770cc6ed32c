"""A crawl a progress callback stops (Glue's StopCrawler): the run is CANCELLED at the next
file or table, and the crawler can run again."""

from __future__ import annotations

from pathlib import Path

from lakebox.crawler import Crawler, CrawlerService, Progress, Target
from lakebox.crawler.service import CrawlStopped

from .conftest import tables, write


def test_a_stopped_crawl_is_cancelled(service: CrawlerService, bucket_dir: Path) -> None:
    for name in ("a", "b", "c"):
        write(bucket_dir / "many" / name / "part.csv", "id,x\n1,2\n")
    service.create_crawler(Crawler("c", "db", [Target("s3://data/many/")]))
    seen: list[Progress] = []

    def stop_at_second_file(progress: Progress) -> None:
        seen.append(progress)
        if progress.phase == "reading" and progress.done == 1:
            raise CrawlStopped("stopped by StopCrawler")

    run = service.start_crawler("c", stop_at_second_file)
    assert run.state == "CANCELLED" and run.error == "stopped by StopCrawler"
    assert run.end_time is not None
    assert service.list_runs("c")[0].state == "CANCELLED"
    assert run.files_read == 1 and tables(service) == {}
    assert [p.phase for p in seen] == ["listing", "reading", "reading"]
    again = service.start_crawler("c")  # a stopped crawler can run again
    assert again.state == "SUCCEEDED" and list(tables(service)) == ["many"]
