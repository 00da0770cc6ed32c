"""Plain-text drawing of what the ``lakebox`` command prints most often, byte for byte as
rich draws it on a stream that is not a terminal: a result table and a line of text
wrapped to the width. Only simple cases are drawn here (printable ASCII, a table that
fits the width); for anything else the functions return None and the caller uses rich.

Importing rich and building its consoles is about 5 % of a first ``lakebox sql
"SELECT 1"`` (issue 14 item 5). ``tests/cli/test_plain.py`` draws the same input with
both and compares them, so a rich release that draws differently is noticed.
"""

from __future__ import annotations

import builtins
import os
import re
import sys
from typing import TextIO

#: rich's environment switches that make a stream a terminal (or change its width)
_RICH_ENV = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS")
#: a word as rich's wrapping sees it: the word with the blanks before and after it
_WORD = re.compile(r"\s*\S+\s*")


def plain_width(stream: TextIO) -> int | None:
    """The width rich's ``Console`` would draw to ``stream`` at, when it would draw plain
    text there (no terminal, no colour forced, not in a notebook); None otherwise."""
    if sys.platform == "win32" or any(name in os.environ for name in _RICH_ENV):
        return None
    if "get_ipython" in vars(builtins) or "idlelib" in sys.modules:
        return None
    try:
        if stream.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    # rich's ``Console.size``: COLUMNS, else the first standard stream with a terminal size
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        width = int(columns)
    else:
        width = 0
        for fd in (0, 1, 2):
            try:
                width = os.get_terminal_size(fd).columns
            except (AttributeError, ValueError, OSError):
                continue
            break
        width = width or 80
    return width if width >= 10 else None


def _simple(text: str) -> bool:
    return text.isascii() and text.isprintable()


def table(columns: list[str], types: list[str], rows: list[list[str]], width: int) -> str | None:
    """A result table as rich's ``Table(header_style="bold")`` draws it, with each
    header cell the column's name over its type; None unless every text is printable
    ASCII and the table fits ``width``."""
    texts = [*columns, *types, *(value for row in rows for value in row)]
    if not columns or not all(_simple(text) for text in texts):
        return None
    widths = [len(name) for name in columns]
    for values in (types, *rows):
        if len(values) != len(widths):
            return None
        widths = [max(w, len(value)) for w, value in zip(widths, values, strict=True)]
    if sum(widths) + 3 * len(widths) + 1 > width:
        return None

    def line(left: str, fill: str, middle: str, right: str) -> str:
        return left + middle.join(fill * (w + 2) for w in widths) + right + "\n"

    def cells(values: list[str], edge: str) -> str:
        inner = f" {edge} ".join(v.ljust(w) for v, w in zip(values, widths, strict=True))
        return f"{edge} {inner} {edge}\n"

    parts = [line("┏", "━", "┳", "┓"), cells(columns, "┃"), cells(types, "┃")]
    parts.append(line("┡", "━", "╇", "┩"))
    parts.extend(cells(row, "│") for row in rows)
    parts.append(line("└", "─", "┴", "┘"))
    return "".join(parts)


def wrapped(text: str, width: int) -> str | None:
    """``text`` as rich prints it at ``width``: broken between words onto lines of at most
    ``width`` characters, each line keeping the blanks that still fit; None unless it is
    printable text of one-cell characters with no word longer than the width."""
    if not text or not text.isprintable():
        return None
    if not text.isascii() and not _narrow(text):
        return None
    breaks = []
    offset = 0
    for found in _WORD.finditer(text):
        start, word = found.start(), found.group()
        length = len(word.rstrip())
        if length > width:
            return None
        if width - offset >= length:
            offset += len(word)
        elif offset and start:
            breaks.append(start)
            offset = len(word)
    lines = [text[a:b] for a, b in zip([0, *breaks], [*breaks, len(text)], strict=True)]
    return "".join(_rstrip_end(piece, width) + "\n" for piece in lines)


def _narrow(text: str) -> bool:
    """Whether each character of ``text`` is one cell wide: ASCII or the middle dot and
    the ellipsis our lines use (rich measures cells, this module counts characters)."""
    return all(ch.isascii() or ch in "·…" for ch in text)


def _rstrip_end(piece: str, width: int) -> str:
    """rich's ``Text.rstrip_end``: blanks past ``width`` are dropped, the others kept."""
    excess = len(piece) - width
    if excess <= 0:
        return piece
    stripped = piece.rstrip()
    return piece[: max(len(stripped), width)]
