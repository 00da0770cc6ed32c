"""Athena's SQL front end: statement text -> one typed statement.

Routing looks at the statement's first word (through the one lexer): ``USE``, the Hive
DDL words (``athena_ddl``), and everything else through the sqlglot-based query parser
(``lakebox.sql.dialect``), whose tree then says whether it is a query, a CTAS, an INSERT
INTO or an UNLOAD.
"""

from __future__ import annotations

import re

from sqlglot import exp

from lakebox.errors import SqlSyntaxError
from lakebox.sql import lexer
from lakebox.sql.dialect import parse_query
from lakebox.sql.statements import (
    CreateTableAs,
    InsertInto,
    Query,
    Statement,
    Unload,
    Unsupported,
    Use,
)

NAME = "athena"

_PLAIN_NAME = re.compile(r"[A-Za-z0-9_]+")


def parse(text: str) -> Statement:
    """One statement (its text without a trailing ``;``, or with one)."""
    word = lexer.first_word(text)
    if word == "USE":
        use = _use(text)
        if use is not None:
            return use
    elif word in lexer.DDL_WORDS:
        from lakebox.sql.dialects.athena_ddl import parse_ddl  # its statements: on first use

        ddl = parse_ddl(text)
        if ddl is not None:  # None: CREATE TABLE ... AS <query>, which sqlglot parses
            return ddl
    return parse_query_statement(text)


def parse_query_statement(text: str) -> Statement:
    """A query or a write (CTAS, INSERT INTO, UNLOAD), parsed by the query parser."""
    return classify(parse_query(text), text)


def classify(tree: exp.Expression, text: str) -> Statement:
    """The typed statement of a parsed query-parser tree."""
    if isinstance(tree, exp.Create) and tree.args.get("expression") is not None:
        return CreateTableAs(text, tree)
    if isinstance(tree, exp.Insert):
        return InsertInto(text, tree)
    if isinstance(tree, exp.Command) and str(tree.this).upper() == "UNLOAD":
        return Unload(text, tree)
    if isinstance(tree, exp.Query | exp.Values):
        return Query(text, tree)
    return Unsupported(text, tree)


def _use(text: str) -> Use | None:
    """``USE db`` (a plain, back-quoted or double-quoted name); None for anything else,
    which the query parser then reports."""
    toks = [t for t in lexer.scan(text) if t.kind != lexer.COMMENT]
    if len(toks) >= 2 and toks[-2].is_punct(";"):
        toks.pop(-2)
    if len(toks) != 3 or not toks[1].closed:
        return None
    name = toks[1]
    if name.kind in (lexer.WORD, lexer.NUMBER) and _PLAIN_NAME.fullmatch(name.text):
        return Use(name.text)
    if name.kind in (lexer.QIDENT, lexer.DQ) and name.text:
        return Use(name.text)
    return None


# -- UNLOAD ---------------------------------------------------------------------------------
_UNLOAD_SHAPE = "UNLOAD expects (SELECT ...) TO 's3://bucket/prefix/' WITH (...)"


def split_unload(text: str) -> tuple[str, str, str]:
    """``(query) TO 's3://...' WITH (...)`` -> (query, target, properties text): the query
    and the properties as their source text, the target as the string's value."""
    # a comment that never closes stays: it swallows the rest, so the shape is wrong
    toks = [t for t in lexer.scan(text) if t.kind != lexer.COMMENT or not t.closed]
    if not toks[0].is_punct("("):
        raise SqlSyntaxError(_UNLOAD_SHAPE)
    close = _closing(toks, 0)
    if close is None:
        raise SqlSyntaxError("UNLOAD: unbalanced parentheses around the query")
    query = text[toks[0].end : toks[close].start]
    rest = toks[close + 1 :]
    if len(rest) >= 2 and rest[-2].is_punct(";"):
        rest.pop(-2)
    if len(rest) < 3 or not rest[0].is_kw("TO") or rest[1].kind != lexer.STRING:
        raise SqlSyntaxError(_UNLOAD_SHAPE)
    target, props = rest[1], ""
    if not target.closed:
        raise SqlSyntaxError(_UNLOAD_SHAPE)
    if len(rest) > 3:
        if not (rest[2].is_kw("WITH") and rest[3].is_punct("(")):
            raise SqlSyntaxError(_UNLOAD_SHAPE)
        end = _closing(rest, 3)
        if end is None or end != len(rest) - 2:
            raise SqlSyntaxError(_UNLOAD_SHAPE)
        props = text[rest[3].end : rest[end].start]
    return query, target.text, props


def _closing(toks: list[lexer.Token], open_at: int) -> int | None:
    """Index of the ``)`` matching the ``(`` at ``open_at``; None when it never closes."""
    depth = 0
    for i in range(open_at, len(toks)):
        tok = toks[i]
        if tok.is_punct("("):
            depth += 1
        elif tok.is_punct(")"):
            depth -= 1
            if depth == 0:
                return i
    return None
