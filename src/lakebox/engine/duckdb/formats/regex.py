"""RegexSerDe: one Java regular expression per line, one capture group per column.

Lines are read whole with DuckDB and matched in SQL with RE2, so Java-only syntax is
translated first (possessive quantifiers and atomic groups lose their no-backtrack promise,
which changes nothing for a pattern that must match the whole line in practice); what RE2
cannot express (look-around, back-references) is rejected with UnsupportedError.

A group that takes no part in the match is null in Java (so NULL in the table), but DuckDB's
regexp_extract gives '' for it as for an empty match. Each optional part that holds groups
(``(...)?``, ``(...)*``, ``(...){0,n}``) and cannot match empty text gets a witness group,
which reads '' exactly when the part was skipped: its groups then read NULL. Groups in an
alternative not taken, or in an optional part that can match empty, still read ''.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import duckdb

from lakebox.catalog.model import Table
from lakebox.catalog.types import is_primitive
from lakebox.engine.duckdb.formats.base import (
    ReadContext,
    ReadRequest,
    quote_ident,
    sql_list,
    sql_string,
)
from lakebox.engine.duckdb.formats.text import (
    LineReader,
    RowTags,
    convert_text,
    lines_source,
    skip_header_lines,
    text_charset,
)
from lakebox.errors import InvalidRequestError, UnsupportedError

_POSIX_CLASSES = {
    "Lower": "[:lower:]",
    "Upper": "[:upper:]",
    "ASCII": "\\x00-\\x7F",
    "Alpha": "[:alpha:]",
    "Digit": "[:digit:]",
    "Alnum": "[:alnum:]",
    "Punct": "[:punct:]",
    "Graph": "[:graph:]",
    "Print": "[:print:]",
    "Blank": "[:blank:]",
    "Cntrl": "[:cntrl:]",
    "XDigit": "[:xdigit:]",
    "Space": "[:space:]",
}
_HORIZONTAL_SPACE = "\\t \\x{A0}\\x{1680}\\x{180E}\\x{2000}-\\x{200A}\\x{202F}\\x{205F}\\x{3000}"
_VERTICAL_SPACE = "\\n\\x0B\\f\\r\\x{85}\\x{2028}\\x{2029}"


@dataclass(frozen=True)
class TranslatedRegex:
    pattern: str
    groups: int
    #: look-aheads the line must (True) or must not (False) start with, as RE2 patterns
    lookaheads: tuple[tuple[bool, str], ...] = ()


@dataclass(frozen=True)
class WitnessedRegex:
    """A pattern with an extra capturing group around each optional part (``(...)?``,
    ``(...)*``, ``(...){0,n}``) that holds capture groups and never matches empty text:
    such a witness reads '' exactly when its part took no part in the match. Java reports
    the groups inside as null then, where RE2 (through DuckDB) reports ''."""

    pattern: str
    #: the pattern's group number (1-based) of each original capture group, in order
    numbers: tuple[int, ...]
    #: per original capture group, the group numbers of the witnesses it depends on
    witnesses: tuple[tuple[int, ...], ...] = field(default=())


@dataclass
class _Paren:
    open: int
    close: int = -1
    capturing: bool = False
    #: length of the opening text: 1 for "(", 3 for "(?:", more for "(?P<name>"
    head: int = 1
    parent: int | None = None


def _parens(pattern: str) -> list[_Paren]:
    """The groups of an RE2 pattern (as _translate writes it), in opening order."""
    found: list[_Paren] = []
    stack: list[int] = []
    i, n, in_class = 0, len(pattern), False
    while i < n:
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            if pattern.startswith("[:", i):
                i = pattern.index(":]", i) + 2
                continue
            in_class = c != "]"
            i += 1
            continue
        if c == "[":  # _translate escapes a leading ']' of a class
            in_class = True
            i += 1
            continue
        if c == "(":
            node = _Paren(open=i, parent=stack[-1] if stack else None)
            if pattern.startswith("(?P<", i):
                node.capturing, node.head = True, pattern.index(">", i) - i + 1
            elif pattern.startswith("(?", i):
                j = i + 2
                while j < n and pattern[j] not in ":)":
                    j += 1
                node.head = j - i + 1
            else:
                node.capturing = True
            stack.append(len(found))
            found.append(node)
            i += node.head
            continue
        if c == ")" and stack:
            found[stack.pop()].close = i
        i += 1
    return found


def _optional_after(pattern: str, close: int) -> bool:
    """Whether the group closing at ``close`` may be skipped: ``?``, ``*`` or ``{0,...}``."""
    rest = pattern[close + 1 : close + 4]
    return rest.startswith(("?", "*", "{0,", "{0}", "{,"))


def _never_empty(body: str) -> bool:
    """Whether an RE2 sub-pattern surely matches at least one character. Python's own
    regex parser measures it; what it cannot read (RE2-only syntax) counts as unknown."""
    if "[:" in body or "\\p" in body or "\\P" in body:
        return False
    try:
        from re import _parser  # type: ignore[attr-defined]

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            low, _high = _parser.parse(body).getwidth()
    except Exception:  # any failure only means "not known"
        return False
    return bool(low >= 1)


def witnessed(translated: str) -> WitnessedRegex:
    """Add a witness group around each optional part that holds capture groups, so that a
    reader can give NULL for a group that took no part in the match, as Java does."""
    parens = _parens(translated)
    witness_of: dict[int, int] = {}  # paren index -> paren index of its witness
    convert: set[int] = set()
    for k, p in enumerate(parens):
        if p.close < 0 or not _optional_after(translated, p.close):
            continue
        inner = any(q.capturing and q.open > p.open and q.close < p.close for q in parens)
        if not (p.capturing or inner):
            continue
        if not _never_empty(translated[p.open + p.head : p.close]):
            continue
        if p.capturing:
            witness_of[k] = k
        elif translated[p.open : p.open + p.head] == "(?:":
            witness_of[k] = k
            convert.add(k)
    out = []
    last = 0
    for k in sorted(convert, key=lambda k: parens[k].open):
        out.append(translated[last : parens[k].open])
        out.append("(")
        last = parens[k].open + 3
    out.append(translated[last:])
    capturing = [k for k, p in enumerate(parens) if p.capturing or k in convert]
    number = {k: i + 1 for i, k in enumerate(capturing)}
    originals = [k for k, p in enumerate(parens) if p.capturing]
    deps = []
    for k in originals:
        chain: list[int] = []
        node: int | None = k
        while node is not None:
            if node in witness_of:
                chain.append(number[witness_of[node]])
            node = parens[node].parent
        deps.append(tuple(sorted(chain)))
    return WitnessedRegex("".join(out), tuple(number[k] for k in originals), tuple(deps))


def _closing_paren(java: str, start: int) -> int:
    """Index of the parenthesis closing the group opened at ``start``."""
    depth = 0
    i = start
    in_class = False
    while i < len(java):
        c = java[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise InvalidRequestError(f"input.regex has an unbalanced parenthesis: {java!r}")


def _split_leading_lookaheads(java: str) -> tuple[str, list[tuple[bool, str]]]:
    """Look-aheads at the very start (AWS's CloudFront example opens with ``^(?!#)``) become
    separate checks on the line start, since the whole pattern is anchored there."""
    prefix = "^" if java.startswith("^") else ""
    i = len(prefix)
    found: list[tuple[bool, str]] = []
    while java.startswith(("(?=", "(?!"), i):
        close = _closing_paren(java, i)
        found.append((java[i + 2] == "=", java[i + 3 : close]))
        i = close + 1
    return prefix + java[i:], found


def translate_java_regex(java: str) -> TranslatedRegex:
    """RE2 spelling of a Java regex and its number of capturing groups."""
    body, leading = _split_leading_lookaheads(java)
    lookaheads = []
    for positive, inner in leading:
        sub = _translate(inner)
        if sub.groups:
            raise UnsupportedError(
                f"input.regex has a capturing group inside a look-ahead (pattern {java!r})"
            )
        lookaheads.append((positive, sub.pattern))
    main = _translate(body, java)
    return TranslatedRegex(main.pattern, main.groups, tuple(lookaheads))


def _translate(java: str, whole: str | None = None) -> TranslatedRegex:
    shown = whole if whole is not None else java
    out: list[str] = []
    groups = 0
    i = 0
    n = len(java)
    in_class = False
    after_quantifier = False

    def unsupported(what: str) -> UnsupportedError:
        return UnsupportedError(
            f"input.regex uses {what}, which the RE2 engine lakebox matches with cannot "
            f"express; rewrite the pattern without it (pattern {shown!r})"
        )

    while i < n:
        c = java[i]
        if c == "\\":
            if i + 1 >= n:
                raise InvalidRequestError(f"input.regex ends with a lone backslash: {java!r}")
            d = java[i + 1]
            if d == "Q":
                end = java.find("\\E", i + 2)
                literal = java[i + 2 :] if end < 0 else java[i + 2 : end]
                out.append("".join("\\" + ch if not ch.isalnum() else ch for ch in literal))
                i = n if end < 0 else end + 2
                after_quantifier = False
                continue
            if d.isdigit() and d != "0" and not in_class:
                raise unsupported(f"the back-reference \\{d}")
            if d == "k":
                raise unsupported("a named back-reference \\k<...>")
            if d in "pP" and i + 2 < n and java[i + 2] == "{":
                end = java.index("}", i + 2)
                name = java[i + 3 : end]
                key = name.removeprefix("Is") if name.removeprefix("Is") in _POSIX_CLASSES else name
                if key in _POSIX_CLASSES:
                    body = _POSIX_CLASSES[key]
                    if d == "P":
                        out.append(f"[^{body}]")
                    else:
                        out.append(body if in_class else f"[{body}]")
                elif name.startswith("java"):
                    raise unsupported(f"the Java character class \\{d}{{{name}}}")
                else:
                    out.append(java[i : end + 1])
                i = end + 1
                after_quantifier = False
                continue
            mapped = {"h": _HORIZONTAL_SPACE, "v": _VERTICAL_SPACE}.get(d)
            if mapped is not None:
                out.append(mapped if in_class else f"[{mapped}]")
            elif d in "HV":
                body = _HORIZONTAL_SPACE if d == "H" else _VERTICAL_SPACE
                if in_class:
                    raise unsupported(f"\\{d} inside a character class")
                out.append(f"[^{body}]")
            elif d == "Z":
                out.append("\\z")
            elif d == "e":
                out.append("\\x1B")
            elif d == "R":
                if in_class:
                    raise unsupported("\\R inside a character class")
                out.append("(?:\\r\\n|[\\n\\x0B\\f\\r\\x{85}\\x{2028}\\x{2029}])")
            elif d in "GX" or d == "c":
                raise unsupported(f"\\{d}")
            elif d == "0":
                j = i + 2
                while j < n and j < i + 5 and java[j] in "01234567":
                    j += 1
                out.append(f"\\x{{{int(java[i + 2 : j] or '0', 8):X}}}")
                i = j
                after_quantifier = False
                continue
            else:
                out.append(java[i : i + 2])
            i += 2
            after_quantifier = False
            continue
        if in_class:
            if c == "[":
                if java.startswith("[:", i):
                    end = java.index(":]", i) + 2
                    out.append(java[i:end])
                    i = end
                    continue
                raise unsupported("a nested character class (union)")
            if c == "&" and java.startswith("&&", i):
                raise unsupported("character class intersection (&&)")
            if c == "]":
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            if java.startswith("[^", i):
                out.append("[^")
                i += 2
            else:
                out.append("[")
                i += 1
            if i < n and java[i] == "]":  # a leading ']' is literal
                out.append("\\]")
                i += 1
            after_quantifier = False
            continue
        if c == "(":
            if java.startswith("(?", i):
                rest = java[i + 2 : i + 4]
                if rest.startswith(("=", "!")) or rest in ("<=", "<!"):
                    raise unsupported("look-around (?=, ?!, ?<=, ?<!)")
                if rest.startswith(">"):
                    out.append("(?:")
                    i += 3
                    continue
                if rest.startswith("<"):
                    groups += 1
                    out.append("(?P<")
                    i += 3
                    continue
                if rest.startswith("P<"):
                    groups += 1
                flags = ""
                j = i + 2
                while j < n and java[j] not in ":)":
                    flags += java[j]
                    j += 1
                if set(flags) - set("imsU-") and not rest.startswith("P<"):
                    raise unsupported(f"the inline flags (?{flags})")
            else:
                groups += 1
            out.append(c)
            i += 1
            after_quantifier = False
            continue
        if c in "*+?":
            if after_quantifier:
                if c == "+":  # possessive: RE2 has none, greedy matches the same lines here
                    i += 1
                    after_quantifier = False
                    continue
                if c == "?":  # lazy
                    out.append(c)
                    i += 1
                    after_quantifier = False
                    continue
            out.append(c)
            i += 1
            after_quantifier = True
            continue
        if c == "{":
            close = java.find("}", i)
            if close > 0 and all(ch.isdigit() or ch == "," for ch in java[i + 1 : close]):
                out.append(java[i : close + 1])
                i = close + 1
                after_quantifier = True
                continue
        out.append(c)
        i += 1
        after_quantifier = False
    if in_class:
        raise InvalidRequestError(f"input.regex has an unclosed character class: {java!r}")
    return TranslatedRegex("".join(out), groups)


class RegexReader(LineReader):
    name = "regex (RegexSerDe)"

    def compiled(self, table: Table) -> TranslatedRegex:
        pattern = table.serde_parameters.get("input.regex")
        if not pattern:
            raise InvalidRequestError(
                f"table {table.qualified_name}: RegexSerDe needs the SerDe property 'input.regex'"
            )
        translated = translate_java_regex(pattern)
        if translated.groups != len(table.columns):
            raise InvalidRequestError(
                f"table {table.qualified_name}: input.regex has {translated.groups} capturing "
                f"groups but the table has {len(table.columns)} columns; they must be equal"
            )
        flag = table.serde_parameters.get("input.regex.case.insensitive", "false")
        prefix = "(?i)" if flag.strip().lower() == "true" else ""
        return TranslatedRegex(
            prefix + translated.pattern,
            translated.groups,
            tuple((positive, prefix + p) for positive, p in translated.lookaheads),
        )

    def validate(self, table: Table) -> None:
        skip_header_lines(table)
        text_charset(table)
        for col in table.columns:
            if not is_primitive(col.type):
                raise InvalidRequestError(
                    f"table {table.qualified_name}: RegexSerDe reads primitive columns only; "
                    f"column {col.name!r} is {col.type!r}"
                )
        regex = self.compiled(table)
        try:  # let RE2 itself judge what the translation could not
            with duckdb.connect() as con:
                for p in [regex.pattern, *(p for _positive, p in regex.lookaheads)]:
                    con.sql(f"SELECT regexp_full_match('', {sql_string(p)})").fetchall()
        except duckdb.Error as err:
            raise InvalidRequestError(
                f"table {table.qualified_name}: input.regex is not a valid pattern: {err}"
            ) from err

    def _select(self, ctx: ReadContext, request: ReadRequest, tags: RowTags) -> str:
        table = request.table
        regex = self.compiled(table)
        # a group inside an optional part that did not match reads NULL, as in Java
        marked = witnessed(regex.pattern)
        count = max([*marked.numbers, *(w for ws in marked.witnesses for w in ws)], default=0)
        names = [f"g{i}" for i in range(1, count + 1)]
        anchored = sql_string(f"\\A(?:{marked.pattern})\\z")
        positions = {c.name.lower(): i for i, c in enumerate(table.columns)}

        def group(i: int) -> str:
            value = f"__m.g{marked.numbers[i]}"
            needs = marked.witnesses[i]
            if not needs:
                return value
            present = " AND ".join(f"__m.g{w} <> ''" for w in needs)
            return f"CASE WHEN {present} THEN {value} END"

        cols = [
            f"{convert_text(group(positions[c.name.lower()]), c.type)} AS {quote_ident(c.name)}"
            for c in request.columns
        ]
        select = ", ".join(cols) or "NULL AS __lakebox_empty"
        source = lines_source(ctx, table, request.files, tags)
        keep = tags.passed()
        line = "coalesce(line, '')"
        match = f"regexp_full_match({line}, {sql_string(regex.pattern)})"
        for positive, p in regex.lookaheads:
            start = sql_string("\\A(?:" + p + ")")
            check = f"regexp_matches({line}, {start})"
            match += f" AND {check}" if positive else f" AND NOT {check}"
        # a line that does not match the whole pattern gives a row of NULLs, as in Hive
        return (
            f"SELECT {select}{keep} FROM (SELECT CASE WHEN {match} "
            f"THEN regexp_extract({line}, {anchored}, "
            f"{sql_list(names)}) END AS __m{keep} FROM {source})"
        )
