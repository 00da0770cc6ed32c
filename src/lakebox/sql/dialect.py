"""Athena (Trino dialect) SQL in, DuckDB SQL with Athena's semantics out.

sqlglot does the parsing and most of the translation. Where its DuckDB output differs from what
Athena returns, a rule in ``LakeboxDuckDB.Generator.TRANSFORMS`` (one handler per expression
type, sqlglot style) or ``_ANONYMOUS`` (Trino functions sqlglot keeps as plain calls) fixes it.
Every rule is proven by a golden test that runs the output on DuckDB (tests/sql/test_dialect.py).

Some Athena semantics need a DuckDB session setting rather than a rewrite, because only the
engine knows the operand types at run time (integer ``/``): apply ``DUCKDB_SETTINGS`` with
``configure_connection`` on every connection that runs translated SQL.

Result column names follow Athena: unquoted and quoted identifiers come back lower-case, and an
expression without an alias is named ``_col<N>`` after its position in the select list.
``to_duckdb`` writes those names as aliases on the outermost select; ``result_column_names``
returns them (``None`` for a ``*`` whose expansion only the engine knows).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping

import duckdb
import sqlglot
from sqlglot import exp, tokens
from sqlglot.dialects.dialect import Dialect
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.errors import ErrorLevel, ParseError, TokenError
from sqlglot.errors import UnsupportedError as SqlglotUnsupportedError
from sqlglot.generators.duckdb import DuckDBGenerator
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.scope import traverse_scope

from lakebox.errors import SemanticError, SqlSyntaxError, UnsupportedError
from lakebox.sql.lexer import unterminated_offset

#: sqlglot logs a warning when it falls back to an opaque Command (UNLOAD, MSCK); lakebox
#: reports unsupported statements itself, so users should not see sqlglot's log lines
logging.getLogger("sqlglot").setLevel(logging.ERROR)

READ_DIALECT = "athena"
"""sqlglot's 'athena' parses Trino DML like 'trino' and also Hive DDL, MSCK and UNLOAD."""

DUCKDB_SETTINGS: dict[str, str | bool] = {
    "integer_division": True,
    "default_null_order": "nulls_last",
    "TimeZone": "UTC",
}
"""Session settings translated SQL relies on: Trino's integer ``/`` truncates (5 / 2 = 2);
NULLs sort last in both directions; Athena's session time zone is UTC."""

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


def configure_connection(con: duckdb.DuckDBPyConnection, scope: str = "") -> None:
    """Apply ``DUCKDB_SETTINGS`` to a connection that will run ``to_duckdb`` output.

    Plain settings are per connection: a ``con.cursor()`` starts without them, so call this on
    the cursor that runs the query, or once with ``scope="GLOBAL"`` on the database's first
    connection so that every cursor starts with them.
    """
    for name, value in DUCKDB_SETTINGS.items():
        literal = str(value).lower() if isinstance(value, bool) else f"'{value}'"
        con.execute(f"SET {scope} {name} = {literal}".replace("  ", " "))


# --------------------------------------------------------------------------- parsing


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
        return sqlglot.tokenize(sql, read=READ_DIALECT)
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


def parse_query(sql: str) -> exp.Expression:
    """Parse one Athena statement; SqlSyntaxError with Athena's line:column when it does not.

    sqlglot is lenient where Athena is not: ``SELEC 1`` parses as a column, unknown statements
    become a ``Command``, trailing commas vanish, DuckDB syntax is accepted. The first word and
    ``LENIENCY_CHECKS`` reject those at the offending token, as Athena does.
    """
    raw = _tokens(sql)
    # sqlglot's athena tokenizer prepends an empty marker token for Hive-style DDL
    toks = [t for t in raw if t.text]
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
        parser = Dialect.get_or_raise(READ_DIALECT).parser()
        statements = [s for s in parser.parse(raw, sql) if isinstance(s, exp.Expression)]
    except ParseError as err:
        raise _syntax_error(sql, toks, err) from err
    if len(statements) != 1:
        raise SqlSyntaxError(f"Only one sql statement is allowed. Got: {len(statements)}")
    return statements[0]


# --------------------------------------------------------------------------- result names


def _outermost_select(expr: exp.Expression) -> exp.Select | None:
    node: exp.Expression | None = expr
    while isinstance(node, exp.SetOperation):
        node = node.this
    while isinstance(node, exp.Subquery):
        node = node.this
    return node if isinstance(node, exp.Select) else None


def _output_name(projection: exp.Expression, position: int) -> str | None:
    if isinstance(projection, exp.Star) or (
        isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
    ):
        return None
    if isinstance(projection, exp.Alias):
        return projection.alias.lower()
    if isinstance(projection, (exp.Column, exp.Dot)):
        return projection.name.lower()
    return f"_col{position}"


def result_column_names(expr: exp.Expression) -> list[str] | None:
    """Column names Athena gives the result of a query; None when a ``*`` makes it unknown.

    ``_colN`` counts positions in the select list as written; Trino counts after expanding
    ``*``, so the two only differ for unnamed expressions placed after a ``*``.
    """
    if isinstance(expr, exp.Values):
        return [f"_col{i}" for i in range(_values_width(expr))]
    select = _outermost_select(expr)
    if select is None:
        return None
    names = [_output_name(p, i) for i, p in enumerate(select.expressions)]
    return None if any(n is None for n in names) else [n for n in names if n is not None]


def _values_width(values: exp.Values) -> int:
    first = values.expressions[0] if values.expressions else None
    return len(first.expressions) if isinstance(first, exp.Tuple) else 1


def _name_values(tree: exp.Expression) -> exp.Expression:
    """A bare ``VALUES`` statement names its columns _col0.. in Athena, col0.. in DuckDB."""
    if not isinstance(tree, exp.Values) or tree.alias:
        return tree
    columns = [exp.to_identifier(f"_col{i}") for i in range(_values_width(tree))]
    tree.set("alias", exp.TableAlias(this=exp.to_identifier("_values"), columns=columns))
    return exp.select("*").from_(tree)


def _lower_identifiers(tree: exp.Expression) -> None:
    """Athena folds every identifier, quoted or not, to lower case; so does the output, which
    makes ``SELECT *`` over ``t(Id)`` return ``id`` as Athena does. Table names are left as
    written: the planner owns them."""
    for ident in tree.find_all(exp.Identifier):
        if isinstance(ident.parent, exp.Table) and ident.arg_key in ("this", "db", "catalog"):
            continue
        ident.set("this", ident.this.lower())


def _ordinals(arrays: list[exp.Expression]) -> exp.Expression:
    """1..n for the longest of the arrays: WITH ORDINALITY over a zip."""
    longest: exp.Expression = exp.ArraySize(this=arrays[0].copy())
    if len(arrays) > 1:
        longest = exp.Greatest(
            this=longest, expressions=[exp.ArraySize(this=a.copy()) for a in arrays[1:]]
        )
    one = exp.Literal.number(1)
    return exp.Unnest(expressions=[exp.func("RANGE", one, exp.Add(this=longest, expression=one))])


def _is_row_array(node: exp.Expression) -> bool:
    kind = node.type
    return (
        kind is not None
        and kind.is_type(exp.DataType.Type.ARRAY)
        and bool(kind.expressions)
        and kind.expressions[0].is_type(exp.DataType.Type.STRUCT)
    )


def _rewrite_unnest(tree: exp.Expression) -> None:
    """Give Trino's UNNEST forms that DuckDB's one-list unnest table function lacks.

    - ``UNNEST(a, b)`` zips arrays, NULL-padding the shorter: several unnest() calls in one
      select list do the same in DuckDB.
    - ``UNNEST(map) AS t(k, v)`` yields keys and values: zip of map_keys and map_values.
    - ``UNNEST(array_of_rows) AS t(a, b)`` spreads each row's fields into columns: unnest()
      of a struct does that in a select list.
    The last two need the argument's type (a literal, or columns typed through ``schema``).
    """
    for unnest in list(tree.find_all(exp.Unnest)):
        if not isinstance(unnest.parent, (exp.From, exp.Join)):
            continue
        arrays = list(unnest.expressions)
        alias = unnest.args.get("alias")
        offset = unnest.args.get("offset")
        columns = [c.name for c in alias.columns] if alias is not None else []
        ordinal_name = offset.name if isinstance(offset, exp.Identifier) else "ordinality"
        table_alias = alias.this.name if alias is not None and alias.this else "_unnest"
        if len(arrays) == 1 and arrays[0].type is not None:
            if arrays[0].type.is_type(exp.DataType.Type.MAP):
                mapping = arrays[0]
                arrays = [
                    exp.MapKeys(this=mapping.copy()),
                    exp.Anonymous(this="map_values", expressions=[mapping.copy()]),
                ]
            elif _is_row_array(arrays[0]):
                inner = exp.select(exp.alias_(exp.Unnest(expressions=[arrays[0].copy()]), "_r"))
                outer = exp.select(exp.Unnest(expressions=[exp.column("_r")]))
                if offset:
                    inner = inner.select(exp.alias_(_ordinals(arrays), "_n"))
                    outer = outer.select(exp.column("_n"))
                    columns.append(ordinal_name)
                outer = outer.from_(exp.Subquery(this=inner))
                unnest.replace(
                    exp.Subquery(
                        this=outer,
                        alias=exp.TableAlias(
                            this=exp.to_identifier(table_alias),
                            columns=[exp.to_identifier(c) for c in columns],
                        ),
                    )
                )
                continue
        if len(arrays) < 2:
            continue
        names = [columns[i] if i < len(columns) else f"_u{i}" for i in range(len(arrays))]
        select = exp.select(
            *(
                exp.alias_(exp.Unnest(expressions=[a.copy()]), n)
                for a, n in zip(arrays, names, strict=True)
            )
        )
        if offset:
            select = select.select(exp.alias_(_ordinals(arrays), ordinal_name))
        unnest.replace(
            exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(table_alias)))
        )


def _apply_result_names(expr: exp.Expression, names: list[str | None]) -> None:
    select = _outermost_select(expr)
    if select is None or len(select.expressions) != len(names):
        return
    for projection, name in zip(list(select.expressions), names, strict=True):
        if name is None:
            continue
        inner = projection.this if isinstance(projection, exp.Alias) else projection
        projection.replace(exp.alias_(inner.copy(), name, quoted=True))


# --------------------------------------------------------------------------- generation helpers

Handler = Callable[[DuckDBGenerator, exp.Expression], str]

_DAY_OR_LONGER = {"DAY", "WEEK", "MONTH", "QUARTER", "YEAR"}


def _is_date(node: exp.Expression) -> bool:
    return node.type is not None and node.type.is_type(exp.DataType.Type.DATE)


def _unit(node: exp.Expression) -> str:
    unit = node.args.get("unit")
    return unit.name.upper() if unit is not None else "DAY"


def _as_date(sql: str) -> str:
    """Trino keeps DATE for date +/- days..years and date_trunc(date); DuckDB widens to
    TIMESTAMP."""
    return f"CAST({sql} AS DATE)"


def _date_add(gen: DuckDBGenerator, e: exp.Expression) -> str:
    this = e.this
    sql = f"({gen.sql(this)}) + ({gen.sql(e, 'expression')}) * INTERVAL 1 {_unit(e)}"
    if _is_date(this) and _unit(e) in _DAY_OR_LONGER:
        return _as_date(sql)
    return f"({sql})"


def _date_diff(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino counts whole units elapsed (like DuckDB's date_sub), not boundaries crossed."""
    unit = exp.Literal.string(_unit(e).lower())
    return gen.func("DATE_SUB", unit, e.expression, e.this)


def _date_trunc(gen: DuckDBGenerator, e: exp.Expression) -> str:
    sql = gen.func("DATE_TRUNC", exp.Literal.string(_unit(e).lower()), e.this)
    return _as_date(sql) if _is_date(e.this) else sql


def _interval_arith(op: str) -> Handler:
    def handler(gen: DuckDBGenerator, e: exp.Expression) -> str:
        sql = gen.binary(e, op)  # type: ignore[arg-type]
        right = e.expression
        if _is_date(e.this) and isinstance(right, exp.Interval) and _unit(right) in _DAY_OR_LONGER:
            return _as_date(sql)
        return sql

    return handler


def _json_extract_scalar(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino returns NULL when the path points at an object or array; DuckDB returns its text."""
    this, path = gen.sql(e, "this"), gen.sql(e, "expression")
    return (
        f"CASE WHEN JSON_TYPE({this}, {path}) IN ('OBJECT', 'ARRAY') THEN NULL "
        f"ELSE {this} ->> {path} END"
    )


def _regexp_extract(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino returns NULL when nothing matches; DuckDB returns ''."""
    this, pattern = e.this, e.expression
    group = e.args.get("group") or exp.Literal.number(0)
    extract = gen.func("REGEXP_EXTRACT", this, pattern, group)
    return f"CASE WHEN {gen.func('REGEXP_MATCHES', this, pattern)} THEN {extract} END"


_JAVA_GROUP_REF = re.compile(r"\\(.)|\$(\d+)|\$\{(\w+)\}")


def _java_replacement_to_re2(text: str) -> str:
    r"""Trino (Java) writes group references as $1 and escapes with \; RE2 wants \1 and \\."""

    def sub(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return "\\\\" if m.group(1) == "\\" else m.group(1)
        if m.group(2) is not None:
            return "\\" + m.group(2)
        raise UnsupportedError(
            f"regexp_replace: named group reference ${{{m.group(3)}}} is not supported; "
            "use a numbered group ($1)"
        )

    return _JAVA_GROUP_REF.sub(sub, text)


def _regexp_replace(gen: DuckDBGenerator, e: exp.Expression) -> str:
    replacement = e.args.get("replacement") or exp.Literal.string("")
    if isinstance(replacement, exp.Literal) and replacement.is_string:
        replacement = exp.Literal.string(_java_replacement_to_re2(replacement.this))
    return gen.func("REGEXP_REPLACE", e.this, e.expression, replacement, exp.Literal.string("g"))


def _split(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """split(s, d, limit): at most ``limit`` parts, the last holding the rest of the string."""
    parts = gen.func("STR_SPLIT", e.this, e.expression)
    limit = e.args.get("limit")
    if limit is None:
        return parts
    n, delimiter = gen.sql(limit), gen.sql(e, "expression")
    rest = f"ARRAY_TO_STRING({parts}[{n}:], {delimiter})"
    return (
        f"CASE WHEN LEN({parts}) <= {n} THEN {parts} "
        f"ELSE LIST_APPEND({parts}[1:{n} - 1], {rest}) END"
    )


def _split_part(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino returns NULL past the last field; DuckDB's split_part returns ''."""
    parts = gen.func("STR_SPLIT", e.this, e.args["delimiter"])
    return f"{parts}[{gen.sql(e.args['part_index'])}]"


def _lambda(params: list[str], body: str) -> str:
    return f"LAMBDA {', '.join(params)}: {body}"


def _array_distinct(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino keeps first occurrences in order (NULL included); DuckDB's list_distinct reorders
    and drops NULL."""
    arr = gen.sql(e, "this")
    return f"LIST_FILTER({arr}, {_lambda(['_x', '_i'], f'LIST_POSITION({arr}, _x) = _i')})"


def _array_except(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino keeps the first array's order; sqlglot's DuckDB form reorders via list_distinct."""
    distinct = _array_distinct(gen, exp.ArrayDistinct(this=e.this))
    other = gen.sql(e, "expression")
    return f"LIST_FILTER({distinct}, {_lambda(['_x'], f'NOT LIST_CONTAINS({other}, _x)')})"


def _slice(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino's slice(array, start, length) — sqlglot stores the length as ``end``; DuckDB's
    list_slice takes an inclusive end index."""
    start, length = e.args["start"], e.args["end"]
    end = f"{gen.sql(start)} + {gen.sql(length)} - 1"
    return f"LIST_SLICE({gen.sql(e, 'this')}, {gen.sql(start)}, {end})"


def _sequence(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino steps by -1 (or -1 day) when start > stop and accepts dates; DuckDB does neither."""
    start, end, step = e.args["start"], e.args["end"], e.args.get("step")
    s, t = gen.sql(start), gen.sql(end)
    if _is_date(start) or _is_date(end):
        step_sql = (
            gen.sql(step)
            if step is not None
            else f"CASE WHEN {s} <= {t} THEN INTERVAL 1 DAY ELSE INTERVAL (-1) DAY END"
        )
        series = f"GENERATE_SERIES(CAST({s} AS TIMESTAMP), CAST({t} AS TIMESTAMP), {step_sql})"
        return f"CAST({series} AS DATE[])"
    if step is None:
        return f"GENERATE_SERIES({s}, {t}, CASE WHEN {s} <= {t} THEN 1 ELSE -1 END)"
    return gen.func("GENERATE_SERIES", start, end, step)


def _lambda_sql(gen: DuckDBGenerator, lam: exp.Expression) -> str:
    params = [gen.sql(p) for p in lam.expressions]
    return _lambda(params, gen.sql(lam, "this"))


def _reduce(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino's reduce(array, initial, merge, finish): DuckDB has no finish step, so the finish
    lambda is inlined around list_reduce."""
    reduced = (
        f"LIST_REDUCE({gen.sql(e, 'this')}, {_lambda_sql(gen, e.args['merge'])}, "
        f"{gen.sql(e, 'initial')})"
    )
    finish = e.args.get("finish")
    if finish is None:
        return reduced
    inlined = exp.Paren(this=sqlglot.parse_one(reduced, read="duckdb"))
    return gen.sql(_inline(finish, [inlined]))


def _inline(lam: exp.Expression, values: list[exp.Expression]) -> exp.Expression:
    """A lambda's body with its parameters replaced by expressions, for the places where
    DuckDB has no lambda of the same shape (reduce's finish, map lambdas over entries)."""
    by_name = {p.name: v for p, v in zip(lam.expressions, values, strict=True)}

    def substitute(node: exp.Expression) -> exp.Expression:
        is_ref = isinstance(node, exp.Column) and not node.table
        is_ref = is_ref or (
            isinstance(node, exp.Identifier) and not isinstance(node.parent, (exp.Column, exp.Dot))
        )
        if is_ref and node.name in by_name:
            return by_name[node.name].copy()
        return node

    return lam.this.copy().transform(substitute)


_KEY = exp.column("key", table="_e")
_VALUE = exp.column("value", table="_e")


def _map_lambda(kind: str) -> Callable[[DuckDBGenerator, exp.Anonymous], str]:
    """map_filter / transform_keys / transform_values over DuckDB's map_entries structs."""

    def handler(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
        mapping, lam = e.expressions
        body = gen.sql(_inline(lam, [_KEY, _VALUE]))
        entries = f"MAP_ENTRIES({gen.sql(mapping)})"
        if kind == "filter":
            return f"MAP_FROM_ENTRIES(LIST_FILTER({entries}, {_lambda(['_e'], body)}))"
        pair = f"{{'key': {body}, 'value': _e.value}}"
        if kind == "values":
            pair = f"{{'key': _e.key, 'value': {body}}}"
        return f"MAP_FROM_ENTRIES(LIST_TRANSFORM({entries}, {_lambda(['_e'], pair)}))"

    return handler


def _transform(gen: DuckDBGenerator, e: exp.Expression) -> str:
    return f"LIST_TRANSFORM({gen.sql(e, 'this')}, {_lambda_sql(gen, e.expression)})"


def _filter(gen: DuckDBGenerator, e: exp.Expression) -> str:
    return f"LIST_FILTER({gen.sql(e, 'this')}, {_lambda_sql(gen, e.expression)})"


_TRINO_TYPE_NAMES = {
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "SMALLINT": "smallint",
    "TINYINT": "tinyint",
    "DOUBLE": "double",
    "FLOAT": "real",
    "BOOLEAN": "boolean",
    "VARCHAR": "varchar",
    "DATE": "date",
    "TIMESTAMP": "timestamp(3)",
    "TIMESTAMP_MS": "timestamp(3)",
    "TIMESTAMP_S": "timestamp(0)",
    "TIMESTAMP_NS": "timestamp(9)",
    "TIMESTAMP WITH TIME ZONE": "timestamp(3) with time zone",
    "BLOB": "varbinary",
    "JSON": "json",
    '"NULL"': "unknown",
}


def _typeof(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino spells types in lower case with its own names (real, varbinary, array(x),
    row(...)); nested element names are only lower-cased."""
    duck = gen.func("TYPEOF", e.this)
    keys = ", ".join(f"'{k}'" for k in _TRINO_TYPE_NAMES)
    values = ", ".join(f"'{v}'" for v in _TRINO_TYPE_NAMES.values())
    spelled = f"REPLACE(LOWER({duck}), 'struct(', 'row(')"
    arrays = f"REGEXP_REPLACE({spelled}, '^(.*)\\[\\]$', 'array(\\1)')"
    nested = f"REGEXP_REPLACE({arrays}, '^array\\((.*)\\[\\]\\)$', 'array(array(\\1))')"
    return f"COALESCE(MAP([{keys}], [{values}])[{duck}], {nested})"


def _count_if(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino's count_if is BIGINT; DuckDB's is HUGEINT (a DECIMAL(38,0) in Arrow results)."""
    return f"CAST({gen.func('COUNT_IF', e.this)} AS BIGINT)"


def _parse_datetime(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """parse_datetime takes a Java (Joda) pattern, unlike date_parse's MySQL specifiers."""
    pattern = e.args.get("format")
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        raise UnsupportedError("parse_datetime: the pattern must be a string literal")
    return gen.func("STRPTIME", e.this, exp.Literal.string(joda_to_strftime(pattern.this)))


def _reverse(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """reverse() takes strings and arrays in Trino; DuckDB's reverse only strings."""
    kind = e.this.type
    if kind is not None and kind.is_type(exp.DataType.Type.ARRAY):
        return gen.func("LIST_REVERSE", e.this)
    return gen.func("REVERSE", e.this)


def _from_unixtime(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """from_unixtime(x, zone): the wall-clock time in that zone (as at_timezone)."""
    sql = gen.func("TO_TIMESTAMP", e.this)
    zone = e.args.get("zone")
    if e.args.get("scale") is not None or e.args.get("format") is not None:
        return str(DuckDBGenerator.TRANSFORMS[exp.UnixToTime](gen, e))
    return f"({sql} AT TIME ZONE {gen.sql(zone)})" if zone is not None else sql


def _format(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino's format() takes Java format specifiers (%s, %d, %.2f): DuckDB calls that printf."""
    return gen.func("PRINTF", e.this, *e.expressions)


def _approx_percentile(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Keep the argument's type (and accept an array of percentiles) like Trino."""
    if e.args.get("weight") is not None:
        raise UnsupportedError(
            "approx_percentile with a weight argument is not supported; "
            "use approx_percentile(x, percentage)"
        )
    return gen.func("APPROX_QUANTILE", e.this, e.args["quantile"])


_INTEGER_TYPES = (
    exp.DataType.Type.TINYINT,
    exp.DataType.Type.SMALLINT,
    exp.DataType.Type.INT,
    exp.DataType.Type.BIGINT,
)
_FLOAT_TYPES = (exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT)


def _is_json(node: exp.Expression) -> bool:
    typed = node.type is not None and node.type.is_type(exp.DataType.Type.JSON)
    return typed or isinstance(node, (exp.JSONExtract, exp.ParseJSON))


def _cast(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino rounds a double half away from zero when casting to an integer (DuckDB: half to
    even), and casting a JSON scalar to varchar gives its value, not its JSON text."""
    assert isinstance(e, exp.Cast)
    source = e.this
    if e.to.is_type(*exp.DataType.TEXT_TYPES) and _is_json(source):
        return f"({gen.sql(source)} ->> '$')"
    if (
        e.to.is_type(*_INTEGER_TYPES)
        and source.type is not None
        and source.type.is_type(*_FLOAT_TYPES)
    ):
        e = e.copy()
        e.set("this", exp.Round(this=source.copy()))
    return str(DuckDBGenerator.cast_sql(gen, e))


def _sum(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino sums integers into BIGINT; DuckDB into HUGEINT (DECIMAL(38,0) in Arrow). Applied
    when the argument is known to be an integer."""
    sql = str(DuckDBGenerator.function_fallback_sql(gen, e))  # type: ignore[arg-type]
    arg = e.this
    in_window = isinstance(e.parent, exp.Window)
    if not in_window and arg.type is not None and arg.type.is_type(*_INTEGER_TYPES):
        return f"CAST({sql} AS BIGINT)"
    return sql


def _ordered(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Always spell the NULL order: Trino's NULLS LAST must not depend on a session default."""
    sql = DuckDBGenerator.ordered_sql(gen, e)  # type: ignore[arg-type]
    if "NULLS FIRST" in sql or "NULLS LAST" in sql:
        return str(sql)
    return f"{sql} {'NULLS FIRST' if e.args.get('nulls_first') else 'NULLS LAST'}"


# Trino functions sqlglot keeps as anonymous calls.


_JODA_TO_STRFTIME = {
    "yyyy": "%Y",
    "yy": "%y",
    "MMMM": "%B",
    "MMM": "%b",
    "MM": "%m",
    "M": "%-m",
    "dd": "%d",
    "d": "%-d",
    "HH": "%H",
    "H": "%-H",
    "hh": "%I",
    "h": "%-I",
    "mm": "%M",
    "m": "%-M",
    "ss": "%S",
    "s": "%-S",
    "SSSSSS": "%f",
    "SSS": "%g",
    "a": "%p",
    "EEEE": "%A",
    "EEE": "%a",
    "E": "%a",
    "DDD": "%j",
    "Z": "%z",
    "z": "%Z",
}
_JODA_TOKEN = re.compile(r"'(?:[^']|'')*'|([A-Za-z])\1*|[^A-Za-z']+")


def joda_to_strftime(pattern: str) -> str:
    """Translate a Java/Joda DateTimeFormat pattern (format_datetime) to DuckDB strftime."""
    out = []
    for m in _JODA_TOKEN.finditer(pattern):
        token = m.group(0)
        if token.startswith("'"):
            out.append(token[1:-1].replace("''", "'").replace("%", "%%") or "'")
        elif token[0].isalpha():
            if token not in _JODA_TO_STRFTIME:
                raise UnsupportedError(
                    f"format_datetime: pattern letters {token!r} in {pattern!r} are not "
                    "supported; use date_format with MySQL specifiers instead"
                )
            out.append(_JODA_TO_STRFTIME[token])
        else:
            out.append(token.replace("%", "%%"))
    return "".join(out)


def _format_datetime(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    value, pattern = e.expressions
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        raise UnsupportedError("format_datetime: the pattern must be a string literal")
    return gen.func("STRFTIME", value, exp.Literal.string(joda_to_strftime(pattern.this)))


def _json_array_length(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    """Trino returns NULL for a non-array; DuckDB returns 0."""
    (value,) = e.expressions
    length = gen.func("JSON_ARRAY_LENGTH", value)
    return f"CASE WHEN {gen.func('JSON_TYPE', value)} = 'ARRAY' THEN {length} END"


def _renamed(name: str) -> Callable[[DuckDBGenerator, exp.Anonymous], str]:
    def handler(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
        return gen.func(name, *e.expressions)

    return handler


def _match(kind: str) -> Callable[[DuckDBGenerator, exp.Anonymous], str]:
    """any_match / all_match / none_match; an empty array gives false / true / true."""

    def handler(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
        arr, lam = e.expressions
        tested = f"LIST_TRANSFORM({gen.sql(arr)}, {_lambda_sql(gen, lam)})"
        if kind == "any":
            return f"COALESCE(LIST_BOOL_OR({tested}), FALSE)"
        if kind == "all":
            return f"COALESCE(LIST_BOOL_AND({tested}), TRUE)"
        return f"NOT COALESCE(LIST_BOOL_OR({tested}), FALSE)"

    return handler


def _array_union(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    concat = exp.ArrayConcat(this=e.expressions[0], expressions=e.expressions[1:])
    return _array_distinct(gen, exp.ArrayDistinct(this=concat))


def _to_iso8601(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    """Dates print as yyyy-MM-dd; timestamps with millisecond precision and a T."""
    (value,) = e.expressions
    sql = gen.sql(value)
    return (
        f"CASE WHEN TYPEOF({sql}) = 'DATE' THEN STRFTIME({sql}, '%Y-%m-%d') "
        f"ELSE STRFTIME({sql}, '%Y-%m-%dT%H:%M:%S.%g') END"
    )


def _map_agg(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    key, value = e.expressions
    return f"MAP({gen.func('LIST', key)}, {gen.func('LIST', value)})"


_URL = (
    r"^(?:([a-zA-Z][a-zA-Z0-9+.-]*):)?(?://([^/?#:]*)(?::(\d+))?)?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$"
)
"""RFC 3986 appendix B, split further into host and port: groups protocol, host, port, path,
query, fragment — what Trino's url_extract_* return."""


def _url_part(group: int) -> Callable[[DuckDBGenerator, exp.Anonymous], str]:
    def handler(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
        (url,) = e.expressions
        part = gen.func("REGEXP_EXTRACT", url, exp.Literal.string(_URL), exp.Literal.number(group))
        if group == 3:
            return f"TRY_CAST(NULLIF({part}, '') AS BIGINT)"
        if group in (2, 4):
            return part
        return f"NULLIF({part}, '')"

    return handler


def _url_extract_parameter(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    """First value of a query-string parameter, NULL when absent (no percent-decoding)."""
    url, name = e.expressions
    query = _url_part(5)(gen, exp.Anonymous(this="url_extract_query", expressions=[url]))
    pattern = f"'(?:^|&)' || {gen.sql(name)} || '=([^&]*)'"
    return (
        f"CASE WHEN REGEXP_MATCHES({query}, {pattern}) "
        f"THEN REGEXP_EXTRACT({query}, {pattern}, 1) END"
    )


def _arrays_overlap(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    left, right = e.expressions
    return gen.func("LIST_HAS_ANY", left, right)


_ANONYMOUS: Mapping[str, Callable[[DuckDBGenerator, exp.Anonymous], str]] = {
    "arrays_overlap": _arrays_overlap,
    "at_timezone": lambda gen, e: gen.sql(
        exp.AtTimeZone(this=e.expressions[0], zone=e.expressions[1])
    ),
    "map_filter": _map_lambda("filter"),
    "transform_keys": _map_lambda("keys"),
    "transform_values": _map_lambda("values"),
    "url_extract_fragment": _url_part(6),
    "url_extract_host": _url_part(2),
    "url_extract_parameter": _url_extract_parameter,
    "url_extract_path": _url_part(4),
    "url_extract_port": _url_part(3),
    "url_extract_protocol": _url_part(1),
    "url_extract_query": _url_part(5),
    "all_match": _match("all"),
    "any_match": _match("any"),
    "array_union": _array_union,
    "codepoint": _renamed("UNICODE"),
    "every": _renamed("BOOL_AND"),
    "format_datetime": _format_datetime,
    "infinity": lambda gen, e: "CAST('Infinity' AS DOUBLE)",
    "json_array_length": _json_array_length,
    "map_agg": _map_agg,
    "map_values": _renamed("MAP_VALUES"),
    "none_match": _match("none"),
    "to_iso8601": _to_iso8601,
    "zip": _renamed("LIST_ZIP"),
}


def _guarded(handler: Handler) -> Handler:
    """A translation rule reads its arguments by position or name; called with the wrong
    number or kind (``at_timezone(ts)``, ``transform(a, 1)``) it fails in Python. Report
    that as the user's error, naming the function, as Athena does."""

    def run(gen: DuckDBGenerator, e: exp.Expression) -> str:
        try:
            return handler(gen, e)
        except (IndexError, KeyError, ValueError, AttributeError, TypeError) as err:
            name = e.sql_name() if isinstance(e, exp.Func) else e.key
            name = e.name if isinstance(e, exp.Anonymous) else name
            raise SemanticError(
                f"unexpected arguments for function {name.lower()}: "
                f"{e.sql(dialect=READ_DIALECT)}; check the number and types of its arguments"
            ) from err

    return run


def _anonymous(gen: DuckDBGenerator, e: exp.Expression) -> str:
    assert isinstance(e, exp.Anonymous)
    handler = _ANONYMOUS.get(str(e.this).lower())
    if handler is None:
        return str(DuckDBGenerator.anonymous_sql(gen, e))
    return handler(gen, e)


class LakeboxDuckDB(DuckDB):
    """DuckDB output dialect with Athena's semantics for the functions in TRANSFORMS."""

    class Generator(DuckDBGenerator):
        TRANSFORMS = {
            **DuckDBGenerator.TRANSFORMS,
            exp.Anonymous: _guarded(_anonymous),
            exp.ArrayDistinct: _guarded(_array_distinct),
            exp.ArrayExcept: _guarded(_array_except),
            exp.ArrayFilter: _guarded(_filter),
            exp.ArraySize: _guarded(
                lambda gen, e: f"CAST({gen.func('CARDINALITY', e.this)} AS BIGINT)"
            ),
            exp.ArraySlice: _guarded(_slice),
            exp.Add: _guarded(_interval_arith("+")),
            exp.ApproxQuantile: _guarded(_approx_percentile),
            exp.Cast: _guarded(_cast),
            exp.CountIf: _guarded(_count_if),
            exp.Format: _guarded(_format),
            exp.CurrentTimezone: _guarded(lambda gen, e: "CURRENT_SETTING('TimeZone')"),
            exp.DateAdd: _guarded(_date_add),
            exp.DateDiff: _guarded(_date_diff),
            exp.GenerateSeries: _guarded(_sequence),
            exp.JSONExtractScalar: _guarded(_json_extract_scalar),
            exp.Ordered: _guarded(_ordered),
            exp.ParseDatetime: _guarded(_parse_datetime),
            exp.Reduce: _guarded(_reduce),
            exp.RegexpExtract: _guarded(_regexp_extract),
            exp.RegexpReplace: _guarded(_regexp_replace),
            exp.Split: _guarded(_split),
            exp.SplitPart: _guarded(_split_part),
            exp.Reverse: _guarded(_reverse),
            exp.Sub: _guarded(_interval_arith("-")),
            exp.Sum: _guarded(_sum),
            exp.TimestampTrunc: _guarded(_date_trunc),
            exp.DateTrunc: _guarded(_date_trunc),
            exp.Transform: _guarded(_transform),
            exp.Typeof: _guarded(_typeof),
            exp.UnixToTime: _guarded(_from_unixtime),
        }


def _qualify_known_columns(tree: exp.Expression, schema: Mapping[str, Mapping[str, str]]) -> None:
    """Prefix a column with its table where the schema says which table it comes from, so
    annotate_types can type it.

    Deliberately narrower than sqlglot's ``qualify`` (which also renames tables, rewrites
    positional ORDER BY and adds aliases): only unqualified columns found in exactly one of the
    scope's tables, and never a name that is also a select alias.
    """
    lowered = {name.lower(): {c.lower() for c in cols} for name, cols in schema.items()}
    for scope in traverse_scope(tree):
        sources = scope.sources
        tables = {a: t for a, t in sources.items() if isinstance(t, exp.Table)}
        if not tables or len(tables) != len(sources):
            continue
        aliases = {p.alias.lower() for p in getattr(scope.expression, "expressions", []) if p.alias}
        for column in scope.columns:
            name = column.name.lower()
            if column.table or name in aliases:
                continue
            owners = [a for a, t in tables.items() if name in lowered.get(t.name.lower(), set())]
            if len(owners) == 1:
                column.set("table", exp.to_identifier(owners[0]))


def _typed(tree: exp.Expression, schema: Mapping[str, Mapping[str, str]] | None) -> exp.Expression:
    """Annotate types so type-dependent rules (DATE stays DATE, integer sums) can fire."""
    if schema:
        _qualify_known_columns(tree, schema)
    return annotate_types(tree, schema=dict(schema) if schema else None, dialect=READ_DIALECT)


def to_duckdb(expr: exp.Expression, schema: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """DuckDB SQL for a parsed Athena statement, with Athena's result column names.

    ``schema`` ({table: {column: type}}) lets type-dependent rules (DATE arithmetic staying
    DATE, integer division) apply to columns too; literals and casts work without it.
    """
    names = [
        _output_name(p, i)
        for i, p in enumerate(getattr(_outermost_select(expr), "expressions", []))
    ]
    try:
        tree = _typed(expr.copy(), schema)
    except Exception:
        tree = expr.copy()
    _lower_identifiers(tree)
    _rewrite_unnest(tree)
    _apply_result_names(tree, names)
    tree = _name_values(tree)
    try:
        return tree.sql(dialect=LakeboxDuckDB, unsupported_level=ErrorLevel.RAISE)
    except SqlglotUnsupportedError as err:
        raise UnsupportedError(f"cannot run this Athena SQL on DuckDB: {err}") from err
    except ParseError as err:  # sqlglot's rewrite of a call missing an argument: date()
        raise SemanticError(
            f"cannot translate this statement: {str(err).splitlines()[0]}; "
            "check the arguments of its function calls"
        ) from err
