"""The one SQL tokenizer and statement splitter every part of lakebox scans SQL text with.

Scripts (CLI, shell, ``execute_script``), the Hive DDL parser, DB-API ``?`` parameters and
UNLOAD all need the same answer to "is this character inside a string, a quoted name or a
comment?", so they share this scanner instead of each keeping its own.

``scan`` never fails: a string, quoted name or comment that does not close runs to the end
of the text and comes out with ``closed=False``, so a script still splits into statements
with their exact source text and position, and the parser of that statement reports the
error relative to it. ``tokenize`` is the strict form parsers use: it raises
``SqlSyntaxError`` at the first token that does not close.

Two string conventions exist. Standard SQL (Athena's queries) escapes a quote by doubling
it; Hive DDL (``hive=True``) escapes with a backslash (``\\'``, ``\\n``, ``\\001``,
``\\u0001``) and a doubled quote is two adjacent literals.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from lakebox.errors import SqlSyntaxError

WORD = "WORD"
QIDENT = "QIDENT"  # `back-quoted` name
STRING = "STRING"  # 'literal'
DQ = "DQ"  # "double-quoted" (a name in queries, a string in Hive DDL)
NUMBER = "NUMBER"
PUNCT = "PUNCT"
PARAM = "PARAM"  # ? placeholder
COMMENT = "COMMENT"
EOF = "EOF"

#: the first words of the DDL statements (``lakebox.sql.dialects.athena_ddl``)
DDL_WORDS = frozenset({"CREATE", "DROP", "ALTER", "MSCK", "SHOW", "DESCRIBE", "DESC"})


class Token(NamedTuple):
    """One token: its kind, its value, its source span and its 1-based line and column.

    ``text`` is the value: a name without its quotes, a string literal unescaped, the
    source text of anything else. ``closed`` is False for a string, quoted name or block
    comment that runs to the end of the text without closing. (A named tuple: a script
    makes many, and a tuple is several times cheaper to build than a frozen dataclass.)
    """

    kind: str
    text: str
    start: int
    end: int
    line: int
    col: int
    closed: bool = True

    def is_kw(self, *words: str) -> bool:
        return self.kind == WORD and self.text.upper() in words

    def is_punct(self, chars: str) -> bool:
        return self.kind == PUNCT and self.text in chars


# Whitespace, then one alternative per token kind, the common ones first (Python's regex
# engine tries alternatives in order). A number is digits with an optional fraction and
# exponent, unless more word characters follow (``12abc`` is a word). Quantifiers inside
# quotes are possessive so a doubled (or escaped) quote at the end never backtracks into a
# shorter, closed literal: ``'abc''`` does not close.
_STANDARD = r"""\s*+(?:
 (?P<word>[A-Za-z_$][A-Za-z0-9_$]*+)
|(?P<punct>[^-/'"`?0-9\s])
|(?P<string>'(?:[^']|'')*+')
|(?P<number>\d++(?:\.\d++(?:[eE][+-]?\d++)?+|[eE][+-]\d++|(?:[eE]\d++)?+(?![A-Za-z0-9_$])))
|(?P<digits>[0-9][A-Za-z0-9_$]*+)
|(?P<line>--[^\n]*)
|(?P<block>/\*.*?\*/)
|(?P<open_block>/\*.*)
|(?P<qident>`(?:[^`]|``)*+`)
|(?P<dq>"(?:[^"]|"")*+")
|(?P<open_quote>['"`].*)
|(?P<param>\?)
|(?P<other>.)
)"""
# Hive DDL: a backslash escapes the next character inside '...' and "..."
_HIVE = _STANDARD.replace("(?:[^']|'')*+", r"(?:[^'\\]|\\.)*+").replace(
    '(?:[^"]|"")*+', r'(?:[^"\\]|\\.)*+'
)
_PATTERNS = {
    False: re.compile(_STANDARD, re.S | re.X),
    True: re.compile(_HIVE, re.S | re.X),
}
_KINDS = {
    "line": COMMENT,
    "block": COMMENT,
    "open_block": COMMENT,
    "qident": QIDENT,
    "string": STRING,
    "dq": DQ,
    "number": NUMBER,
    "word": WORD,
    "digits": WORD,
    "param": PARAM,
    "punct": PUNCT,
    "other": PUNCT,
}
#: the tokens that are their own source text and never span lines
_SIMPLE = frozenset({"word", "digits", "punct", "number", "param", "other"})
_OCTAL = re.compile(r"[0-3][0-7]{2}")
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_SIMPLE_ESCAPES = {
    "0": "\0",
    "'": "'",
    '"': '"',
    "b": "\b",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "Z": "\x1a",
    "\\": "\\",
    "%": "\\%",
    "_": "\\_",
}


def hive_unescape(body: str) -> str:
    """A Hive string literal's value from the text between its quotes: octal ``\\001``,
    ``\\u0001``, C escapes; an unknown escape drops the backslash."""
    if "\\" not in body:
        return body
    out: list[str] = []
    j, n = 0, len(body)
    while j < n:
        ch = body[j]
        if ch == "\\" and j + 1 < n:
            nxt = body[j + 1]
            if _OCTAL.match(body, j + 1):
                out.append(chr(int(body[j + 1 : j + 4], 8)))
                j += 4
                continue
            if nxt == "u" and _HEX4.match(body, j + 2):
                out.append(chr(int(body[j + 2 : j + 6], 16)))
                j += 6
                continue
            out.append(_SIMPLE_ESCAPES.get(nxt, nxt))
            j += 2
            continue
        out.append(ch)
        j += 1
    return "".join(out)


def scan(sql: str, *, hive: bool = False) -> Iterator[Token]:
    """Every token of ``sql`` including comments (not whitespace), then one EOF token.

    Never raises: what does not close runs to the end with ``closed=False``.
    """
    line, line_start, pos = 1, 0, 0
    count, rfind, new = sql.count, sql.rfind, tuple.__new__
    for m in _PATTERNS[hive].finditer(sql):
        group = m.lastgroup
        assert group is not None
        start, end = m.span(group)
        if start != pos and count("\n", pos, start):
            line += count("\n", pos, start)
            line_start = rfind("\n", pos, start) + 1
        col = start - line_start + 1
        if group in _SIMPLE:
            yield new(Token, (_KINDS[group], m[group], start, end, line, col, True))
            pos = end
            continue
        if group == "string" or group == "dq":
            body = sql[start + 1 : end - 1]
            value = hive_unescape(body) if hive else body.replace(sql[start] * 2, sql[start])
            yield Token(_KINDS[group], value, start, end, line, col)
        elif group == "qident":
            yield Token(QIDENT, sql[start + 1 : end - 1].replace("``", "`"), start, end, line, col)
        elif group == "open_quote":
            quote = sql[start]
            kind = QIDENT if quote == "`" else STRING if quote == "'" else DQ
            yield Token(kind, sql[start + 1 : end], start, end, line, col, False)
        else:  # comments
            yield Token(COMMENT, m[group], start, end, line, col, group != "open_block")
        if count("\n", start, end):
            line += count("\n", start, end)
            line_start = rfind("\n", start, end) + 1
        pos = end
    n = len(sql)
    if count("\n", pos, n):
        line += count("\n", pos, n)
        line_start = rfind("\n", pos, n) + 1
    yield Token(EOF, "", n, n, line, n - line_start + 1)


_NUMERIC_FORM = re.compile(
    r"""0[xX](?:_?[0-9a-fA-F])++(?P<hex>)
    |0[oO](?:_?[0-7])++(?P<oct>)
    |0[bB](?:_?[01])++(?P<bin>)
    |\d++(?:_\d++)*+(?:\.\d++(?:_\d++)*+)?+(?:[eE][+-]?\d++)?+""",
    re.X,
)
_RADIX = {"hex": 16, "oct": 8, "bin": 2}
_BIGINT_MAX = 2**63 - 1
_MAYBE_NUMERIC_FORM = re.compile(r"\d_\d|0[xXoObB][0-9a-fA-F_]|\d{39}")


def plain_numbers(sql: str) -> str:
    """``sql`` with Trino's other numeric literal forms written as plain decimal literals:
    hexadecimal ``0x0A``, octal ``0o40`` and binary ``0b1001`` integers, and underscores
    between digits (``123_456.789_123``).

    The parser below knows none of them, and reads ``0o40`` as the number 0 named ``o40``:
    a wrong answer rather than an error. Each literal keeps its length (padded with blanks)
    so the positions in later error messages still point into the text as written. Strings,
    quoted names and comments are left alone.

    An integer Trino cannot hold fails here, naming it: a hexadecimal, octal or binary one
    beyond BIGINT, or a decimal one of more than 38 digits (DuckDB would read it as another
    type; Python would refuse to print it).
    """
    if not _MAYBE_NUMERIC_FORM.search(sql):  # most statements: no scan at all
        return sql
    out: list[str] = []
    done = 0
    for tok in scan(sql):
        if tok.start < done or tok.kind not in (WORD, NUMBER) or not tok.text[:1].isdigit():
            continue
        m = _NUMERIC_FORM.match(sql, tok.start)
        if m is None or re.match(r"[A-Za-z0-9_$]", sql[m.end() : m.end() + 1]):
            continue
        text = m.group(0)
        radix = _RADIX.get(m.lastgroup or "")
        digits = text.replace("_", "")
        too_long = radix is None and digits.isdigit() and len(digits.lstrip("0")) > 38
        if too_long or (radix is not None and int(digits[2:], radix) > _BIGINT_MAX):
            shown = text if len(text) <= 40 else text[:37] + "..."
            raise SqlSyntaxError(f"Invalid numeric literal: {shown}", tok.line, tok.col)
        if radix is not None:
            value = str(int(digits[2:], radix))
        elif "_" in text:
            value = text.replace("_", "")
        else:
            continue
        out.append(sql[done : m.start()])
        out.append(value.ljust(len(text)))
        done = m.end()
    return "".join(out) + sql[done:] if out else sql


def _unterminated(tok: Token) -> SqlSyntaxError:
    what = {
        COMMENT: "unterminated /* comment",
        QIDENT: "unterminated `quoted identifier`",
    }.get(tok.kind, "unterminated string literal")
    return SqlSyntaxError(what, tok.line, tok.col)


def tokenize(sql: str, *, hive: bool = False) -> list[Token]:
    """The tokens a parser reads (comments dropped, EOF last); SqlSyntaxError at the first
    string, quoted name or comment that does not close."""
    tokens: list[Token] = []
    for tok in scan(sql, hive=hive):
        if not tok.closed:
            raise _unterminated(tok)
        if tok.kind != COMMENT:
            tokens.append(tok)
    return tokens


def first_word(sql: str) -> str | None:
    """The statement's first token upper-cased when it is a word (after comments)."""
    for tok in scan(sql):
        if tok.kind == COMMENT:
            continue
        return tok.text.upper() if tok.kind == WORD else None
    return None  # pragma: no cover - scan always ends with EOF


def unterminated_offset(sql: str) -> int | None:
    """Where the first string, quoted name or block comment that never closes starts."""
    for tok in scan(sql):
        if not tok.closed:
            return tok.start
    return None


# -- statements of a script -----------------------------------------------------------------
#: the ``line L:C: `` an error message about one statement starts with (Athena's form)
_POSITION = re.compile(r"^line (\d+):(\d+): ")


@dataclass(frozen=True)
class SourceStatement:
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


def split_statements(text: str) -> list[SourceStatement]:
    """Statements of a script; empty ones (only whitespace, comments or ``;``) are dropped.

    A statement's text starts at its first character that is not whitespace (leading comments
    are part of it) and ends before its ``;`` with trailing whitespace removed.
    """
    if ";" not in text and "--" not in text and "/*" not in text:
        # one statement and no comment: the common case of Session.sql, scanned for nothing
        stripped = text.strip()
        if not stripped:
            return []
        return [SourceStatement(stripped, *_line_col(text, len(text) - len(text.lstrip())))]
    # the lexer's matches without building tokens: only ``;`` and comments matter here
    statements: list[SourceStatement] = []
    first = -1  # where the statement starts (a comment, maybe); -1 before its first token
    code = False  # whether it has a token that is not a comment
    for m in _PATTERNS[False].finditer(text):
        group = m.lastgroup
        assert group is not None  # every alternative is a named group
        start = m.start(group)
        if group == "punct" and text[start] == ";":
            if code:
                statements.append(_statement(text, first, start))
            first, code = -1, False
            continue
        if first < 0:
            first = start
        if group not in _COMMENTS:
            code = True
    if code:
        statements.append(_statement(text, first, len(text)))
    return statements


def _statement(text: str, start: int, end: int) -> SourceStatement:
    return SourceStatement(text[start:end].rstrip(), *_line_col(text, start))


_COMMENTS = frozenset({"line", "block", "open_block"})


def _line_col(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1
