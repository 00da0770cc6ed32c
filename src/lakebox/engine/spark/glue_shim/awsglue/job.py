"""``Job``: a run's start (``init``) and end (``commit``, which saves its bookmarks)."""

from __future__ import annotations

import sys
from typing import Any

from awsglue._lake import BOOKMARKS


class Job:
    def __init__(self, glue_context: Any) -> None:
        self.glue_context = glue_context
        self.name: str | None = None

    def init(self, job_name: str, args: dict[str, str] | None = None) -> None:
        """Start the run: bookmarks follow ``--job-bookmark-option`` (from ``args`` or
        the job's arguments; ``job-bookmark-disable`` when not given)."""
        self.name = job_name
        option = (args or {}).get("job_bookmark_option") or _argument("--job-bookmark-option")
        option = option or "job-bookmark-disable"
        if option not in ("job-bookmark-enable", "job-bookmark-disable", "job-bookmark-pause"):
            raise ValueError(
                f"--job-bookmark-option {option!r}: use job-bookmark-enable, "
                "job-bookmark-disable or job-bookmark-pause"
            )
        BOOKMARKS.job = job_name
        BOOKMARKS.option = option

    def commit(self) -> None:
        """End the run: the files its bookmarked sources read are remembered."""
        BOOKMARKS.commit()


def _argument(name: str) -> str | None:
    argv = sys.argv
    for i, item in enumerate(argv[:-1]):
        if item == name:
            return argv[i + 1]
    return None
