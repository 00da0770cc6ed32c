"""PEP 249 (DB-API 2.0) interface over a lakebox session.

``paramstyle`` is ``qmark``: parameters are bound by rendering them as SQL literals,
because Athena's own client-side parameters work that way (EXECUTE ... USING).
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from typing import Any

from lakebox import errors as _errors
from lakebox.lakehouse import connect as _connect
from lakebox.query.session import Result, Session
from lakebox.sql.lexer import PARAM, scan

apilevel = "2.0"
threadsafety = 1
paramstyle = "qmark"


class Error(Exception):
    pass


class Warning(Exception):
    pass


class InterfaceError(Error):
    pass


class DatabaseError(Error):
    pass


class DataError(DatabaseError):
    pass


class OperationalError(DatabaseError):
    pass


class IntegrityError(DatabaseError):
    pass


class InternalError(DatabaseError):
    pass


class ProgrammingError(DatabaseError):
    pass


class NotSupportedError(DatabaseError):
    pass


def _translate(err: _errors.LakeboxError) -> DatabaseError:
    if isinstance(err, _errors.DataError):
        return DataError(str(err))
    if isinstance(err, _errors.UnsupportedError):
        return NotSupportedError(str(err))
    if isinstance(
        err, _errors.InvalidRequestError | _errors.EntityNotFoundError | _errors.AlreadyExistsError
    ):
        return ProgrammingError(str(err))
    return OperationalError(str(err))


def literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | decimal.Decimal):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise InterfaceError(f"cannot bind a parameter of type {type(value).__name__}")


def bind(operation: str, parameters: Sequence[Any] | None) -> str:
    """Replace ``?`` placeholders outside string literals, comments and quoted names."""
    if not parameters:
        return operation
    out: list[str] = []
    params = iter(parameters)
    done = 0
    for tok in scan(operation):
        if tok.kind != PARAM:
            continue
        try:
            value = literal(next(params))
        except StopIteration:
            raise ProgrammingError("fewer parameters than '?' placeholders") from None
        out += (operation[done : tok.start], value)
        done = tok.end
    if next(params, _SENTINEL) is not _SENTINEL:
        raise ProgrammingError("more parameters than '?' placeholders")
    out.append(operation[done:])
    return "".join(out)


_SENTINEL = object()


class Cursor:
    arraysize = 1

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._rows: list[tuple[Any, ...]] = []
        self._pos = 0
        self._result: Result | None = None
        self.rowcount = -1

    @property
    def description(self) -> list[tuple[Any, ...]] | None:
        if self._result is None or not self._result.columns:
            return None
        return [
            (name, typ, None, None, None, None, None)
            for name, typ in zip(self._result.columns, self._result.types, strict=True)
        ]

    def execute(self, operation: str, parameters: Sequence[Any] | None = None) -> Cursor:
        self.connection._check()
        try:
            self._result = self.connection.session.sql(bind(operation, parameters))
        except _errors.LakeboxError as err:
            raise _translate(err) from err
        self._rows = self._result.fetchall()
        self._pos = 0
        self.rowcount = len(self._rows)
        return self

    def executemany(self, operation: str, seq: Sequence[Sequence[Any]]) -> None:
        for params in seq:
            self.execute(operation, params)

    def fetchone(self) -> tuple[Any, ...] | None:
        if self._pos >= len(self._rows):
            return None
        row = self._rows[self._pos]
        self._pos += 1
        return row

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        size = size or self.arraysize
        rows = self._rows[self._pos : self._pos + size]
        self._pos += len(rows)
        return rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows = self._rows[self._pos :]
        self._pos = len(self._rows)
        return rows

    def close(self) -> None:
        self._rows = []

    def setinputsizes(self, sizes: Any) -> None:
        pass

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        pass


class Connection:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._closed = False

    def _check(self) -> None:
        if self._closed:
            raise InterfaceError("connection is closed")

    def cursor(self) -> Cursor:
        self._check()
        return Cursor(self)

    def commit(self) -> None:
        """Every lakebox statement commits on its own, as in Athena."""

    def rollback(self) -> None:
        raise NotSupportedError("lakebox has no transactions to roll back (as Athena)")

    def close(self) -> None:
        self._closed = True


def connect(home: str | None = None, database: str = "default", **kwargs: Any) -> Connection:
    return Connection(_connect(home, database=database, **kwargs))
