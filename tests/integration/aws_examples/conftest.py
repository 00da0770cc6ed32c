"""Shared helpers for the published-AWS-example tests.

Each module in this folder takes one page of the Amazon Athena User Guide that documents a
log or data type with DDL and queries. The DDL and the queries are kept in the module
*verbatim*, copied from the page (its URL stands next to them): they are test input, the one
place where this project reproduces AWS's text. The only change made to them, at run time
and by `relocate`, is the S3 bucket/prefix of LOCATION (and of a projection's
storage.location.template), so that the table reads the sample data the test wrote.

The sample data follows the documented log format (field order, quoting, timestamps,
'-' for a missing value...). Every expected answer is computed from that same sample data by
plain Python (csv / json / re / str.split written in the test), never by lakebox, and
never hard-coded from a lakebox run.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from lakebox.session import Session


@dataclass
class Athena:
    """A fresh lake seen the way a user of the published examples sees it: objects put into
    S3 locations, statements run through the session's SQL entry point."""

    session: Session

    def put(self, location: str, text: str | bytes, *, gzipped: bool = False) -> None:
        """Write one object (a log file) at an s3:// location of the lake's storage."""
        data = text.encode() if isinstance(text, str) else text
        if gzipped:
            data = gzip.compress(data, mtime=0)
        self.session.lake.storage.write_bytes(location, data)

    def run(self, sql: str) -> list[tuple[Any, ...]]:
        """Run one statement and return its rows."""
        return self.session.sql(sql).fetchall()

    def text(self, sql: str) -> list[tuple[str | None, ...]]:
        """Run one query through the query service and return its rows as
        GetQueryResults renders them (Athena's text: arrays as [1, 2], rows as {a=1},
        NULL as None), for the pages whose documented answers are printed results."""
        lake = self.session.lake
        qe, _ = lake.queries.run(sql)
        assert qe.state == "SUCCEEDED", qe.state_change_reason
        page: dict[str, Any] = lake.queries.get_query_results(qe.query_execution_id)
        rows = page["ResultSet"]["Rows"][1:]  # the first row holds the column names
        return [tuple(cell.get("VarCharValue") for cell in row["Data"]) for row in rows]


def relocate(text: str, *pairs: tuple[str, str]) -> str:
    """Replace the documented S3 placeholders of a DDL statement with the sample data's
    location. Each placeholder must occur in the text, so that a typo cannot leave the
    documented statement unchanged and reading nothing."""
    for documented, ours in pairs:
        assert documented in text, f"placeholder {documented!r} is not in the DDL"
        text = text.replace(documented, ours)
    return text


def unordered(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows in a canonical order, for queries whose documented text has no ORDER BY."""
    return sorted(rows, key=repr)


@pytest.fixture
def athena(lake_session: Session) -> Iterator[Athena]:
    yield Athena(lake_session)
