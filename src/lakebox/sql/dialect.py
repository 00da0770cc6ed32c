"""Athena (Trino dialect) SQL in: one statement parsed into a sqlglot tree, with Athena's
syntax errors, and the result column names Athena gives a query.

sqlglot does the parsing; where it is more lenient than Athena, checks reject the statement at
the offending token. Engines translate the tree (``lakebox.engine.duckdb.translate``).

Result column names follow Athena: unquoted and quoted identifiers come back lower-case, and an
expression without an alias is named ``_col<N>`` after its position in the select list.
``result_column_names`` returns them (``None`` for a ``*`` whose expansion only the engine
knows); an engine writes them as aliases on the outermost select.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from sqlglot import exp, tokens
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError

from lakebox.errors import SqlSyntaxError
from lakebox.sql import json_syntax
from lakebox.sql.lexer import plain_numbers, unterminated_offset

#: sqlglot logs a warning when it falls back to an opaque Command (UNLOAD, MSCK); lakebox
#: reports unsupported statements itself, so users should not see sqlglot's log lines
logging.getLogger("sqlglot").setLevel(logging.ERROR)

READ_DIALECT = "athena"
"""sqlglot's 'athena' parses Trino DML like 'trino' and also Hive DDL, MSCK and UNLOAD."""

json_syntax.install()  # Trino's SQL/JSON clauses (json_array ... RETURNING) sqlglot lacks

#: the dialect every statement is tokenized and parsed with, made with this module (as the
#: parser classes it derives from are): sqlglot builds a dialect's keyword tries when it
#: first creates its class (~12 ms for Athena and the Trino, Presto, Hive and MySQL
#: dialects it derives from), which is loading the parser, not parsing a statement
_READ = Dialect.get_or_raise(READ_DIALECT)

STATEMENT_KEYWORDS = frozenset(
    {
        "ALTER", "ANALYZE", "CALL", "COMMENT", "COMMIT", "CREATE", "DEALLOCATE", "DELETE",
        "DESC", "DESCRIBE", "DROP", "EXECUTE", "EXPLAIN", "GRANT", "INSERT", "MERGE", "MSCK",
        "OPTIMIZE", "PREPARE", "REFRESH", "RESET", "REVOKE", "ROLLBACK", "SELECT", "SET",
        "SHOW", "START", "TABLE", "TRUNCATE", "UNLOAD", "UPDATE", "USE", "VACUUM", "VALUES",
        "WITH", "(",
    }
)  # fmt: skip
"""First words Athena accepts; anything else fails at the first token, as Athena reports it."""


def _position(sql: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset, the way Athena counts."""
    before = sql[:offset]
    line = before.count("\n") + 1
    return line, offset - (before.rfind("\n") + 1) + 1


def _unterminated(sql: str) -> int:
    """Offset of the quote or comment that never closes (why sqlglot could not tokenize)."""
    offset = unterminated_offset(sql)
    return 0 if offset is None else offset


def _tokens(sql: str) -> list[tokens.Token]:
    """Every token of ``sql``, as the dialect's parser takes them."""
    try:
        return _READ.tokenize(sql)
    except TokenError as err:
        offset = _unterminated(sql)
        fragment = sql[offset : offset + 20].split("\n")[0]
        raise SqlSyntaxError(
            f"token recognition error at: {_quote(fragment)}", *_position(sql, offset)
        ) from err


def _quote(text: str) -> str:
    return "'" + text + "'"


def _token_text(sql: str, tok: tokens.Token) -> str:
    """The offending token as Athena quotes it: one word of a multi-word keyword (ORDER BY)."""
    text = sql[tok.start : tok.end + 1]
    if tok.token_type in (tokens.TokenType.STRING, tokens.TokenType.IDENTIFIER):
        return _quote(text)
    return _quote(text.split()[0] if text.split() else text)


_EXPECTING = (
    (re.compile(r"^Expecting (\S+)"), r"'\1'"),
    (re.compile(r"Expected table name"), "<table name>"),
)


def _expecting(description: str) -> str:
    """sqlglot's error description, in the words Athena uses after 'Expecting:'."""
    for pattern, replacement in _EXPECTING:
        match = pattern.search(description)
        if match:
            return match.expand(replacement)
    return "<expression>"


def _syntax_error(sql: str, toks: list[tokens.Token], err: ParseError) -> SqlSyntaxError:
    """Map sqlglot's error (whose col is the *end* of the offending token) to Athena's form.

    sqlglot reports a missing piece at the last token it consumed; Athena reports it at the
    end of input, as ``<EOF>``.
    """
    info = err.errors[0] if err.errors else {}
    line, col = info.get("line"), info.get("col")
    description = str(info.get("description") or err)
    expecting = _expecting(description)
    index = next((i for i, t in enumerate(toks) if t.line == line and t.col == col), None)
    unexpected = description.startswith("Invalid expression / Unexpected token")
    if index is None or (index == len(toks) - 1 and not unexpected):
        end = len(sql.rstrip().rstrip(";").rstrip())
        return SqlSyntaxError(
            f"mismatched input '<EOF>'. Expecting: {expecting}", *_position(sql, end)
        )
    tok = toks[index]
    return SqlSyntaxError(
        f"mismatched input {_token_text(sql, tok)}. Expecting: {expecting}",
        *_position(sql, tok.start),
    )


T = tokens.TokenType

# Tokens that end a clause: nothing that needs an operand may stand right before them.
_CLAUSE_END = {
    T.FROM, T.WHERE, T.GROUP_BY, T.ORDER_BY, T.HAVING, T.LIMIT, T.OFFSET, T.UNION,
    T.EXCEPT, T.INTERSECT, T.R_PAREN, T.R_BRACKET, T.SEMICOLON, T.WINDOW, T.FETCH,
}  # fmt: skip
# Tokens after which ``[`` opens a subscript rather than a bare (DuckDB-style) array literal.
_SUBSCRIPTABLE = {
    T.VAR, T.IDENTIFIER, T.R_PAREN, T.R_BRACKET, T.ARRAY, T.STRING, T.NUMBER,
}  # fmt: skip
_JOIN_END = {
    T.JOIN, T.WHERE, T.GROUP_BY, T.ORDER_BY, T.HAVING, T.LIMIT, T.OFFSET, T.UNION,
    T.EXCEPT, T.INTERSECT, T.WINDOW, T.FETCH, T.SEMICOLON, T.R_PAREN, T.CROSS, T.NATURAL,
    T.LEFT, T.RIGHT, T.FULL, T.INNER, T.OUTER, T.COMMA,
}  # fmt: skip


class _Lenient(Exception):
    """Where sqlglot accepted something Athena rejects: the token (None: end of input)."""

    def __init__(self, token: tokens.Token | None, expecting: str = "<expression>") -> None:
        super().__init__(expecting)
        self.token = token
        self.expecting = expecting


def _at(toks: list[tokens.Token], i: int) -> tokens.Token | None:
    return toks[i] if 0 <= i < len(toks) else None


def _no_dangling_operand(toks: list[tokens.Token]) -> None:
    """``SELECT a, FROM t``, ``SELECT FROM t``, ``GROUP BY`` at the end, ``1 AS`` with no name,
    ``IN ()``: sqlglot drops or accepts the gap, Athena wants an expression there."""
    needs_operand = {T.COMMA, T.SELECT, T.GROUP_BY, T.ORDER_BY, T.ALIAS}
    for i, tok in enumerate(toks):
        following = _at(toks, i + 1)
        if tok.token_type in needs_operand:
            if following is None:
                raise _Lenient(
                    None, "<identifier>" if tok.token_type == T.ALIAS else "<expression>"
                )
            if following.token_type in _CLAUSE_END or (
                tok.token_type == T.ALIAS and following.token_type == T.COMMA
            ):
                raise _Lenient(following)
        if tok.token_type == T.IN and following is not None and following.token_type == T.L_PAREN:
            after = _at(toks, i + 2)
            if after is not None and after.token_type == T.R_PAREN:
                raise _Lenient(after)


def _no_foreign_syntax(toks: list[tokens.Token]) -> None:
    """DuckDB/Postgres spellings sqlglot reads but Athena does not: ``a::int``, ``{'a': 1}``,
    bare ``[1, 2]`` array literals, ``$1`` parameters."""
    for i, tok in enumerate(toks):
        kind = tok.token_type
        if kind in (T.DCOLON, T.L_BRACE) or (kind == T.VAR and tok.text.startswith("$")):
            raise _Lenient(tok)
        if kind == T.L_BRACKET:
            previous = _at(toks, i - 1)
            if previous is None or previous.token_type not in _SUBSCRIPTABLE:
                raise _Lenient(tok)


def _no_star_alias(toks: list[tokens.Token]) -> None:
    """``SELECT * t`` becomes ``* AS t`` in sqlglot; a ``*`` takes no alias in Athena."""
    for i, tok in enumerate(toks):
        previous, following = _at(toks, i - 1), _at(toks, i + 1)
        select_star = previous is not None and previous.token_type in (T.SELECT, T.COMMA, T.DOT)
        if (
            tok.token_type == T.STAR
            and select_star
            and following is not None
            and following.token_type in (T.VAR, T.IDENTIFIER, T.ALIAS)
        ):
            raise _Lenient(following, "'FROM'")


def _insert_needs_into(toks: list[tokens.Token]) -> None:
    following = _at(toks, 1)
    if toks[0].token_type == T.INSERT and (following is None or following.token_type != T.INTO):
        raise _Lenient(following, "'INTO'")


def _join_needs_condition(toks: list[tokens.Token]) -> None:
    """``t JOIN u`` with no ON / USING becomes a cross join in sqlglot; Athena rejects it."""
    for i, tok in enumerate(toks):
        if tok.token_type != T.JOIN:
            continue
        before = _at(toks, i - 1)
        if before is not None and before.token_type in (T.CROSS, T.NATURAL):
            continue
        depth, j = 0, i + 1
        while j < len(toks):
            kind = toks[j].token_type
            if kind == T.L_PAREN:
                depth += 1
            elif kind == T.R_PAREN and depth > 0:
                depth -= 1
            elif depth == 0 and kind in (T.ON, T.USING):
                break
            elif depth == 0 and kind in _JOIN_END and j > i + 1:
                raise _Lenient(toks[j], "'ON', 'USING'")
            j += 1
        else:
            raise _Lenient(None, "'ON', 'USING'")


LENIENCY_CHECKS: tuple[Callable[[list[tokens.Token]], None], ...] = (
    _no_dangling_operand,
    _no_foreign_syntax,
    _no_star_alias,
    _insert_needs_into,
    _join_needs_condition,
)
"""Token-level passes that reject what sqlglot's parser would accept but Athena does not."""


def _check_leniency(sql: str, toks: list[tokens.Token]) -> None:
    for check in LENIENCY_CHECKS:
        try:
            check(toks)
        except _Lenient as found:
            if found.token is None:
                where = _position(sql, len(sql.rstrip().rstrip(";").rstrip()))
                raise SqlSyntaxError(
                    f"mismatched input '<EOF>'. Expecting: {found.expecting}", *where
                ) from None
            raise SqlSyntaxError(
                f"mismatched input {_token_text(sql, found.token)}. Expecting: {found.expecting}",
                *_position(sql, found.token.start),
            ) from None


_ROW_STAR = "\x00row_star_"
"""Text of the identifier that stands for ``*`` in ``row.* AS (a, b)`` while sqlglot parses."""


def _take_row_star_aliases(
    sql: str, raw: list[tokens.Token]
) -> tuple[list[tokens.Token], list[list[tokens.Token]]]:
    """Trino's ``row_expression.* AS (a, b)`` names the row's fields; sqlglot cannot parse the
    alias list. Take it out, and put a marker identifier in place of the ``*`` so that
    ``_restore_row_stars`` can rebuild the expansion with its names after parsing. Each
    entry of the second list is the ``AS`` token followed by the names."""
    if "\x00" in sql:
        return raw, []
    out: list[tokens.Token] = []
    taken: list[list[tokens.Token]] = []
    i = 0
    while i < len(raw):
        tok = raw[i]
        names = _alias_list(raw, i + 1) if tok.token_type == T.STAR else None
        previous = out[-1] if out else None
        if names is None or previous is None or previous.token_type != T.DOT:
            out.append(tok)
            i += 1
            continue
        out.append(
            tokens.Token(
                T.IDENTIFIER, f"{_ROW_STAR}{len(taken)}", tok.line, tok.col, tok.start, tok.end
            )
        )
        taken.append([raw[i + 1], *names])
        i += 3 + 2 * len(names)  # '*', AS, '(', the names with their commas, ')'
    return out, taken


def _alias_list(raw: list[tokens.Token], i: int) -> list[tokens.Token] | None:
    """The names of ``AS ( name [, name]* )`` starting at ``raw[i]``, or None."""
    if i + 2 >= len(raw) or raw[i].token_type != T.ALIAS or raw[i + 1].token_type != T.L_PAREN:
        return None
    names: list[tokens.Token] = []
    j = i + 2
    while j < len(raw) and raw[j].token_type in (T.VAR, T.IDENTIFIER):
        names.append(raw[j])
        if j + 1 < len(raw) and raw[j + 1].token_type == T.COMMA:
            j += 2
            continue
        if j + 1 < len(raw) and raw[j + 1].token_type == T.R_PAREN:
            return names
        return None
    return None


def _restore_row_stars(sql: str, tree: exp.Expression, taken: list[list[tokens.Token]]) -> None:
    """Each marker left by ``_take_row_star_aliases`` becomes ``Aliases(row.*, names)``."""
    for ident in list(tree.find_all(exp.Identifier)):
        if not ident.this.startswith(_ROW_STAR):
            continue
        as_token, *name_tokens = taken[int(ident.this[len(_ROW_STAR) :])]
        names = [
            exp.Identifier(this=t.text, quoted=t.token_type == T.IDENTIFIER) for t in name_tokens
        ]
        node = ident.parent
        row: exp.Expression | None = None
        if isinstance(node, exp.Dot):
            row = node.this
        elif isinstance(node, exp.Column) and node.args.get("table") is not None:
            parts = [node.args.get(k) for k in ("catalog", "db", "table")]
            row = exp.column(*reversed([p for p in parts if p is not None]))
        if node is None or row is None or not isinstance(node.parent, exp.Select):
            # '.* AS (...)' names columns of a select list, and nowhere else
            raise SqlSyntaxError(
                "mismatched input 'AS'. Expecting: ')', ','", *_position(sql, as_token.start)
            )
        node.replace(
            exp.Aliases(this=exp.Dot(this=row.copy(), expression=exp.Star()), expressions=names)
        )


def parse_query(sql: str) -> exp.Expression:
    """Parse one Athena statement; SqlSyntaxError with Athena's line:column when it does not.

    sqlglot is lenient where Athena is not: ``SELEC 1`` parses as a column, unknown statements
    become a ``Command``, trailing commas vanish, DuckDB syntax is accepted. The first word and
    ``LENIENCY_CHECKS`` reject those at the offending token, as Athena does.
    """
    sql = plain_numbers(sql)
    raw, row_star_names = _take_row_star_aliases(sql, _tokens(sql))
    # sqlglot's athena tokenizer prepends an empty marker token for Hive-style DDL; an empty
    # string literal ('') is a token with empty text too, and must stay
    toks = [t for t in raw if t.text or t.token_type == T.STRING]
    if not toks:
        raise SqlSyntaxError("mismatched input '<EOF>'. Expecting: <query>", 1, 1)
    first = toks[0]
    if first.text.split()[0].upper() not in STATEMENT_KEYWORDS:
        raise SqlSyntaxError(
            f"mismatched input {_token_text(sql, first)}. "
            "Expecting: 'ALTER', 'CREATE', 'DESCRIBE', 'DROP', 'INSERT', 'SELECT', 'SHOW', "
            "'WITH', <query>",
            *_position(sql, first.start),
        )
    _check_leniency(sql, toks)
    try:
        # parsed from the tokens above: tokenizing again costs ~0.2 ms a statement
        parser = _READ.parser()
        statements = [s for s in parser.parse(raw, sql) if isinstance(s, exp.Expression)]
    except ParseError as err:
        raise _syntax_error(sql, toks, err) from err
    if len(statements) != 1:
        raise SqlSyntaxError(f"Only one sql statement is allowed. Got: {len(statements)}")
    if row_star_names:
        _restore_row_stars(sql, statements[0], row_star_names)
    _mark_typed_literals(sql, statements[0])
    return statements[0]


TYPED_LITERAL = "typed_literal"
"""``Cast.meta`` key set on a typed literal (``DECIMAL '1.5'``): sqlglot parses it as the
same cast as ``CAST('1.5' AS DECIMAL)``, but Trino types the literal from its digits
(decimal(2,1)) and the cast as decimal(38,0)."""


def _mark_typed_literals(sql: str, tree: exp.Expression) -> None:
    for cast in tree.find_all(exp.Cast):
        literal = cast.this
        start = literal.meta.get("start") if isinstance(literal, exp.Literal) else None
        if isinstance(start, int) and not sql[:start].rstrip().endswith("("):
            cast.meta[TYPED_LITERAL] = True


# --------------------------------------------------------------------------- result names


def outermost_select(expr: exp.Expression) -> exp.Select | None:
    node: exp.Expression | None = expr
    while isinstance(node, exp.SetOperation):
        node = node.this
    while isinstance(node, exp.Subquery):
        node = node.this
    return node if isinstance(node, exp.Select) else None


def is_row_star(projection: exp.Expression) -> bool:
    """``(row).*`` or ``(row).* AS (a, b)``: one select item, as many columns as fields."""
    if isinstance(projection, exp.Aliases):
        projection = projection.this
    return isinstance(projection, exp.Dot) and isinstance(projection.expression, exp.Star)


def output_name(projection: exp.Expression, position: int) -> str | None:
    if (
        isinstance(projection, exp.Star)
        or (isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star))
        or is_row_star(projection)
    ):
        return None
    if isinstance(projection, exp.Alias):
        return projection.alias.lower()
    if is_current_schema(projection):
        return f"_col{position}"
    if isinstance(projection, (exp.Column, exp.Dot)):
        return projection.name.lower()
    return f"_col{position}"


def is_current_schema(node: exp.Expression) -> bool:
    """SQL's ``current_schema`` (a keyword without parentheses, which sqlglot reads as a
    column): unquoted and unqualified; a quoted ``"current_schema"`` is a column."""
    return (
        isinstance(node, exp.Column)
        and not node.table
        and isinstance(node.this, exp.Identifier)
        and not node.this.quoted
        and node.name.lower() == "current_schema"
    )


def result_column_names(expr: exp.Expression) -> list[str] | None:
    """Column names Athena gives the result of a query; None when a ``*`` makes it unknown.

    ``_colN`` counts positions in the select list as written; Trino counts after expanding
    ``*``, so the two only differ for unnamed expressions placed after a ``*``.
    """
    if isinstance(expr, exp.Values):
        return [f"_col{i}" for i in range(values_width(expr))]
    select = outermost_select(expr)
    if select is None:
        return None
    names = [output_name(p, i) for i, p in enumerate(select.expressions)]
    return None if any(n is None for n in names) else [n for n in names if n is not None]


def values_width(values: exp.Values) -> int:
    first = values.expressions[0] if values.expressions else None
    return len(first.expressions) if isinstance(first, exp.Tuple) else 1
