"""``lakebox.cli.plain`` draws tables and wrapped lines byte for byte as rich does on a
stream that is not a terminal, or declines: each case is drawn by both and compared."""

from __future__ import annotations

import io
import random
import string

import pytest
from rich.console import Console
from rich.table import Table
from rich.text import Text

from lakebox.cli import plain


def _rich_table(columns: list[str], types: list[str], rows: list[list[str]], width: int) -> str:
    """What ``lakebox.cli.output`` prints with rich (its ``_rich_table``)."""
    stream = io.StringIO()
    console = Console(file=stream, width=width, force_terminal=False, color_system=None)
    table = Table(show_lines=False, header_style="bold")
    for name, typ in zip(columns, types, strict=True):
        table.add_column(Text.assemble(name, "\n", (typ, "dim")))
    for row in rows:
        table.add_row(*(Text(value) for value in row))
    console.print(table)
    return stream.getvalue()


def _rich_line(text: str, width: int) -> str:
    stream = io.StringIO()
    console = Console(file=stream, width=width, force_terminal=False, color_system=None)
    console.print(f"[dim]{text}[/]", highlight=False, emoji=False)
    return stream.getvalue()


def _word(rng: random.Random, alphabet: str, longest: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, longest)))


ALPHABET = string.ascii_letters + string.digits + " _-.,:[]/$'\"{}=()"


@pytest.mark.parametrize("seed", range(300))
def test_tables_are_drawn_as_rich_draws_them(seed: int) -> None:
    rng = random.Random(seed)
    ncols = rng.randint(1, 5)
    width = rng.choice([20, 40, 80, 120])
    columns = [_word(rng, ALPHABET, 12) for _ in range(ncols)]
    types = [rng.choice(["integer", "varchar", "decimal(38,2)", "", "t"]) for _ in range(ncols)]
    rows = [[_word(rng, ALPHABET, 14) for _ in range(ncols)] for _ in range(rng.randint(0, 4))]
    drawn = plain.table(columns, types, rows, width)
    if drawn is not None:
        assert drawn == _rich_table(columns, types, rows, width)


def test_a_table_that_does_not_fit_or_is_not_ascii_is_left_to_rich() -> None:
    assert plain.table(["a" * 30], ["integer"], [["1"]], 20) is None
    assert plain.table(["é"], ["varchar"], [["1"]], 80) is None
    assert plain.table(["a"], ["varchar"], [["x\ty"]], 80) is None
    assert plain.table(["a"], ["varchar"], [["中文"]], 80) is None
    assert plain.table(["a"], ["integer"], [["1"]], 80) == _rich_table(
        ["a"], ["integer"], [["1"]], 80
    )


LINE_ALPHABET = string.ascii_lowercase + "0123456789-$.,·…"


@pytest.mark.parametrize("seed", range(300))
def test_lines_are_wrapped_as_rich_wraps_them(seed: int) -> None:
    rng = random.Random(seed)
    width = rng.randint(10, 60)
    words = [_word(rng, LINE_ALPHABET, 12) for _ in range(rng.randint(1, 14))]
    text = "".join(word + rng.choice([" ", " ", "  ", " · "]) for word in words).strip()
    if rng.random() < 0.3:
        text += " "
    drawn = plain.wrapped(text, width)
    if drawn is not None:
        assert drawn == _rich_line(text, width)


def test_the_execution_line_wraps_as_before() -> None:
    text = (
        "0f8d10c9-eb6f-4f17-81ac-c91bb6b476d0 · SUCCEEDED · 1 rows, 351 ms · 0 B scanned "
        "· $0.000048"
    )
    assert plain.wrapped(text, 80) == _rich_line(text, 80)
    assert plain.wrapped(text, 80) == (
        "0f8d10c9-eb6f-4f17-81ac-c91bb6b476d0 · SUCCEEDED · 1 rows, 351 ms · 0 B scanned \n"
        "· $0.000048\n"
    )
    assert plain.wrapped("x" * 20, 10) is None  # a word longer than the width: rich folds it


def test_a_terminal_or_forced_colour_is_left_to_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("COLUMNS", "100")
    assert plain.plain_width(io.StringIO()) == 100
    assert plain.plain_width(Tty()) is None
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert plain.plain_width(io.StringIO()) is None
