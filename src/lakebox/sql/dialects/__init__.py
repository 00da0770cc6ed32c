"""SQL front ends by dialect name: each turns one statement's text into a typed statement
(``lakebox.sql.statements``). Athena's is the one today; Redshift's registers beside it."""

from __future__ import annotations

from collections.abc import Callable

from lakebox.errors import InvalidRequestError
from lakebox.sql.statements import Statement

#: a front end: one statement's text -> its typed statement (SqlSyntaxError when it is not)
Parse = Callable[[str], Statement]


def _athena(text: str) -> Statement:
    from lakebox.sql.dialects import athena

    return athena.parse(text)


_FRONT_ENDS: dict[str, Parse] = {"athena": _athena}


def front_end(name: str) -> Parse:
    """The ``parse`` of the dialect called ``name``."""
    try:
        return _FRONT_ENDS[name.lower()]
    except KeyError:
        known = ", ".join(sorted(_FRONT_ENDS))
        raise InvalidRequestError(f"unknown SQL dialect {name!r}; known: {known}") from None


def register(name: str, parse: Parse) -> None:
    """Add a dialect's front end (e.g. ``redshift``)."""
    _FRONT_ENDS[name.lower()] = parse
