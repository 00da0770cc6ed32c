"""Split a SQL script into statements on ``;``, keeping where each one starts.

A small scanner rather than sqlglot's tokenizer: it must keep every statement's exact source
text and position even when the statement does not tokenize (an unterminated string is the
parser's error to report, with a position relative to the script), and it must accept what
any statement kind may contain (Hive DDL back-quotes, UNLOAD, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: the ``line L:C: `` an error message about one statement starts with (Athena's form)
_POSITION = re.compile(r"^line (\d+):(\d+): ")


@dataclass(frozen=True)
class Statement:
    """One statement's text (without the ``;``) and the 1-based line/column it starts at."""

    text: str
    line: int
    column: int

    def script_position(self, line: int, column: int) -> tuple[int, int]:
        """Turn a position inside ``text`` (e.g. a syntax error's) into one in the script."""
        if line == 1:
            return self.line, self.column + column - 1
        return self.line + line - 1, column

    def in_script(self, message: str, number: int, script: str | None = None) -> str:
        """An error ``message`` about this statement (the ``number``-th of a script) as the
        user needs it: its ``line L:C:`` moved to the script's lines, and the statement
        named. ``script`` is the file's name, when there is one."""
        name = f"{script}: " if script else ""
        found = _POSITION.match(message)
        if found is None:
            return f"{name}statement {number} (line {self.line}): {message}"
        line, column = self.script_position(int(found.group(1)), int(found.group(2)))
        rest = message[found.end() :]
        return f"{name}line {line}:{column}: {rest} (statement {number}, from line {self.line})"


_QUOTES = {"'": "'", '"': '"', "`": "`"}


def _skip_quoted(text: str, i: int, quote: str) -> int:
    """Index after the closing quote; a doubled quote is an escaped one."""
    n = len(text)
    i += 1
    while i < n:
        if text[i] == quote:
            if i + 1 < n and text[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    return n


def _skip_insignificant(text: str, i: int) -> int:
    """Index of the next character that is neither whitespace nor inside a comment."""
    n = len(text)
    while i < n:
        if text[i].isspace():
            i += 1
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            return i
    return n


def _position(text: str, offset: int, line_starts: list[int]) -> tuple[int, int]:
    lo, hi = 0, len(line_starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if line_starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo + 1, offset - line_starts[lo] + 1


def split_statements(text: str) -> list[Statement]:
    """Statements of a script; empty ones (only whitespace, comments or ``;``) are dropped.

    A statement's text starts at its first character that is not whitespace (leading comments
    are part of it) and ends before its ``;`` with trailing whitespace removed.
    """
    line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    statements: list[Statement] = []
    n = len(text)
    start = 0
    i = 0
    while True:
        at_end = i >= n
        if at_end or text[i] == ";":
            chunk = text[start:i]
            first = _skip_insignificant(chunk, 0)
            if first < len(chunk):
                lead = len(chunk) - len(chunk.lstrip())
                line, column = _position(text, start + lead, line_starts)
                statements.append(Statement(chunk.strip(), line, column))
            if at_end:
                return statements
            i += 1
            start = i
            continue
        ch = text[i]
        if ch in _QUOTES:
            i = _skip_quoted(text, i, _QUOTES[ch])
        elif text.startswith("--", i) or text.startswith("/*", i):
            i = _skip_insignificant(text, i)
        else:
            i += 1
