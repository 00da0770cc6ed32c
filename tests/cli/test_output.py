"""How ``lakebox`` prints a result table: names and values are data, printed as they are
(never read as rich markup or emoji codes), with each column's Athena type under its name."""

from __future__ import annotations

import pyarrow as pa
import pytest

from lakebox.cli.output import OutputFormat, print_result
from lakebox.query.session import Result


def test_table_prints_markup_and_emoji_codes_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    values = ["[bold]x[/bold] :smile:", "[red]", None]
    table = pa.table({"[n]": values, "one": pa.array([1, 2, 3], pa.int32())})
    print_result(Result(table), OutputFormat.table, summary=False)
    lines = capsys.readouterr().out.splitlines()
    cells = [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines if "│" in line]
    assert cells == [["[bold]x[/bold] :smile:", "1"], ["[red]", "2"], ["", "3"]]
    header = [[cell.strip() for cell in line.split("┃")[1:-1]] for line in lines if "┃" in line]
    assert header == [["[n]", "one"], ["varchar", "integer"]]
