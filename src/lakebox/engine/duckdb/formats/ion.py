"""Amazon Ion (IonHiveSerDe / IonInputFormat) with Athena's semantics.

Every top-level Ion value is one row. A column reads the value its path extractor finds
(``ion.<column>.path_extractor = '(Item id)'``; by default ``(<column>)``), matching field
names case-insensitively unless ``ion.path_extractor.case_sensitive`` is true. Text and
binary Ion are both accepted, compressed files are decompressed by extension.

Decoding uses amazon-ion's C extension lazily (``parse_eagerly=False``) with the "bare"
value model, so unannotated values arrive as plain Python objects; values are gathered per
column and turned into Arrow arrays of the declared types, never into row dicts, and each
file is decoded once into a cached Parquet copy (see ``DecodedFormatReader``). Ion
decimals stay ``Decimal`` all the way, so a DynamoDB id ``1234567890123456.`` keeps every
digit in a ``decimal`` column. Annotations (DynamoDB's ``$dynamodb_SS::``) are ignored
for values. A number that does not fit its column fails the query unless
``ion.fail_on_overflow`` (or ``ion.<column>.fail_on_overflow``) is false, when it wraps.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from amazon.ion import simpleion
from amazon.ion.exceptions import IonException
from amazon.ion.simple_types import IonPyDict, IonPyNull

from lakebox.catalog.model import Column, Table
from lakebox.catalog.types import arrow_type
from lakebox.engine.duckdb.formats.avro import BATCH_ROWS, ColumnValueError, DecodedFormatReader
from lakebox.engine.duckdb.formats.base import DataFile, ReadContext
from lakebox.errors import DataError, InvalidRequestError, UnsupportedError
from lakebox.formats.arrow_values import (
    ConversionError,
    Converter,
    Overflow,
    arrow_column,
    value_converter,
)
from lakebox.formats.ion import Extractor, Step, parse_path
from lakebox.formats.ion_binary import IonStructureError, check_binary_ion, is_binary_ion

#: True when amazon-ion's C extension decodes (about 30x faster than its pure Python path)
C_EXTENSION: bool = bool(simpleion.c_ext)
if not C_EXTENSION:
    logging.getLogger(__name__).warning(
        "amazon-ion's C extension is not available: Ion tables will read about 30x slower"
    )
#: plain Python values (structs as dicts) where possible: the fastest model to decode
_BARE = (
    simpleion.IonPyValueModel.MAY_BE_BARE
    | simpleion.IonPyValueModel.SYMBOL_AS_TEXT
    | simpleion.IonPyValueModel.STRUCT_AS_STD_DICT
)
#: structs as IonPyDict, which keeps a repeated field name and the fields' order: for
#: tables whose path extractors step by index, wildcard or annotation ('(1)' is the
#: second field, even when two fields share a name)
_IN_ORDER = simpleion.IonPyValueModel.MAY_BE_BARE | simpleion.IonPyValueModel.SYMBOL_AS_TEXT
_BOOL_PROPS = ("ion.fail_on_overflow", "ion.path_extractor.case_sensitive", "ion.ignore_malformed")


def _props(table: Table) -> dict[str, str]:
    """SerDe properties with lower-cased keys (column names are case-insensitive)."""
    return {k.lower(): v for k, v in {**table.parameters, **table.serde_parameters}.items()}


def _flag(props: dict[str, str], key: str, default: bool) -> bool:
    value = props.get(key)
    return default if value is None else value.strip().lower() == "true"


@dataclass
class _ColumnPlan:
    column: Column
    extract: Extractor
    convert: Converter


class IonReader(DecodedFormatReader):
    name = "ion"

    def validate(self, table: Table) -> None:
        props = _props(table)
        where = f"table {table.qualified_name}"
        for key, value in props.items():
            if key in _BOOL_PROPS or (key.startswith("ion.") and key.endswith(".fail_on_overflow")):
                if value.strip().lower() not in ("true", "false"):
                    raise InvalidRequestError(
                        f"{where}: {key} must be true or false, not {value!r}"
                    )
            elif key == "ion.encoding" and value.strip().upper() not in ("BINARY", "TEXT"):
                raise InvalidRequestError(f"{where}: ion.encoding must be BINARY or TEXT")
            elif key.startswith("ion.") and key.endswith(".path_extractor"):
                parse_path(value, f"{where}, {key}")
            elif key.startswith("ion.catalog."):
                raise UnsupportedError(
                    f"{where}: {key} (shared symbol table catalogs) is not supported; "
                    "write the data with local symbol tables"
                )

    def prepare(self, ctx: ReadContext, table: Table) -> tuple[Any, str]:
        self.validate(table)
        props = _props(table)
        return _IonScan(
            case_sensitive=_flag(props, "ion.path_extractor.case_sensitive", False),
            fail_on_overflow=_flag(props, "ion.fail_on_overflow", True),
            ignore_malformed=_flag(props, "ion.ignore_malformed", False),
            props=props,
        ), ""

    def decode(
        self, ctx: ReadContext, f: DataFile, state: Any, columns: list[Column]
    ) -> Iterator[list[pa.Array]]:
        assert isinstance(state, _IonScan)
        plans = [state.plan(col) for col in columns]
        in_order = any(plan.extract.needs_field_order for plan in plans)
        for chunk in _values(ctx, f, state.ignore_malformed, in_order):
            if not plans:
                yield [pa.nulls(len(chunk), pa.bool_())]
                continue
            arrays = []
            shared: dict[tuple[str, ...], list[Any]] = {}
            for plan in plans:
                values = plan.extract.values(chunk, shared)
                if in_order:
                    values = [_plain(v) for v in values]
                try:
                    arrays.append(arrow_column(values, plan.column.type, plan.convert))
                except ConversionError as err:
                    raise ColumnValueError(
                        f"column {plan.column.name}: {err} (set ion.{plan.column.name}"
                        ".fail_on_overflow = false to let it overflow)",
                        f.uri,
                        plan.column.name,
                    ) from err
                except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
                    raise ColumnValueError(
                        f"column {plan.column.name}: values do not convert to "
                        f"{arrow_type(plan.column.type)} ({err})",
                        f.uri,
                        plan.column.name,
                    ) from err
            yield arrays


@dataclass
class _IonScan:
    case_sensitive: bool
    fail_on_overflow: bool
    ignore_malformed: bool
    props: dict[str, str]

    def plan(self, col: Column) -> _ColumnPlan:
        low = col.name.lower()
        key = f"ion.{low}.path_extractor"
        steps = parse_path(self.props[key], key) if key in self.props else [Step(field=col.name)]
        fail = _flag(self.props, f"ion.{low}.fail_on_overflow", self.fail_on_overflow)
        overflow = Overflow.FAIL if fail else Overflow.WRAP
        return _ColumnPlan(
            col,
            Extractor(steps, self.case_sensitive),
            value_converter(col.type, overflow, (IonPyNull,)),
        )


def _plain(value: Any) -> Any:
    """An extracted value with its IonPyDict structs as dicts (a repeated field name keeps
    its last value, as the dict model does), for the column converters."""
    if isinstance(value, IonPyDict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _values(
    ctx: ReadContext, f: DataFile, ignore_malformed: bool, in_order: bool = False
) -> Iterator[list[Any]]:
    """Chunks of one file's top-level values (structs as IonPyDict when ``in_order``)."""
    data = ctx.read_bytes(f)
    if is_binary_ion(data):
        try:
            check_binary_ion(data)
        except IonStructureError as err:
            if not ignore_malformed:
                raise DataError(f"malformed binary Ion ({err})", f.uri) from err
            data = data[: err.good_prefix]  # IonInputFormat skips the rest of the stream
    try:
        stream = simpleion.load(
            io.BytesIO(data),
            single_value=False,
            parse_eagerly=False,
            value_model=_IN_ORDER if in_order else _BARE,
        )
    except (IonException, ValueError, TypeError) as err:
        raise DataError(f"malformed Ion ({err})", f.uri) from err
    chunk: list[Any] = []
    count = 0
    while True:
        try:
            value = next(stream)
        except StopIteration:
            break
        except (IonException, ValueError, TypeError, EOFError) as err:
            if ignore_malformed:  # IonInputFormat skips the rest of a stream it cannot parse
                break
            raise DataError(f"malformed Ion after {count} values ({err})", f.uri) from err
        count += 1
        chunk.append(value)
        if len(chunk) >= BATCH_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
