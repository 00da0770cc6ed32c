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
from amazon.ion.core import IonType
from amazon.ion.exceptions import IonException
from amazon.ion.simple_types import IonPyNull

from lakebox.catalog.model import Column, Table
from lakebox.catalog.types import arrow_type
from lakebox.engine.duckdb.formats.avro import (
    BATCH_ROWS,
    ColumnValueError,
    ConversionError,
    Converter,
    DecodedFormatReader,
    Overflow,
    arrow_column,
    value_converter,
)
from lakebox.engine.duckdb.formats.base import DataFile, ReadContext
from lakebox.errors import DataError, InvalidRequestError, UnsupportedError
from lakebox.formats.ion_binary import IonStructureError, check_binary_ion, is_binary_ion

#: True when amazon-ion's C extension decodes (about 30x faster than its pure Python path)
C_EXTENSION: bool = bool(simpleion.c_ext)
if not C_EXTENSION:
    logging.getLogger(__name__).warning(
        "amazon-ion's C extension is not available: Ion tables will read about 30x slower"
    )
_BARE = (
    simpleion.IonPyValueModel.MAY_BE_BARE
    | simpleion.IonPyValueModel.SYMBOL_AS_TEXT
    | simpleion.IonPyValueModel.STRUCT_AS_STD_DICT
)
_BOOL_PROPS = ("ion.fail_on_overflow", "ion.path_extractor.case_sensitive", "ion.ignore_malformed")
_MISSING = object()


@dataclass(frozen=True)
class Step:
    """One path-extractor component: a field name, an index, or ``*``; with annotations
    the matched value must carry."""

    field: str | None = None
    index: int | None = None
    annotations: tuple[str, ...] = ()

    @property
    def wildcard(self) -> bool:
        return self.field is None and self.index is None


def parse_path(text: str, where: str) -> list[Step]:
    """Parse a search path such as ``(Item id)``, ``(foo 0)``, ``(*)`` or ``(A::bar)``."""
    try:
        sexp = simpleion.loads(text)
    except (IonException, ValueError) as err:
        raise InvalidRequestError(f"{where}: {text!r} is not an Ion s-expression") from err
    if getattr(sexp, "ion_type", None) is not IonType.SEXP:
        raise InvalidRequestError(f"{where}: {text!r} must be an s-expression like (a b)")
    steps = []
    for part in sexp:
        notes = tuple(a.text for a in getattr(part, "ion_annotations", ()))
        kind = getattr(part, "ion_type", None)
        if kind is IonType.INT:
            steps.append(Step(index=int(part), annotations=notes))
        elif kind in (IonType.SYMBOL, IonType.STRING):
            text_value = part.text if hasattr(part, "text") else str(part)
            if kind is IonType.SYMBOL and text_value == "*":
                steps.append(Step(annotations=notes))
            else:
                steps.append(Step(field=text_value, annotations=notes))
        else:
            raise InvalidRequestError(
                f"{where}: path components must be field names, indexes or *, not {part!r}"
            )
    return steps


def _children(value: Any, step: Step, case_sensitive: bool) -> Iterator[Any]:
    if isinstance(value, dict):
        if step.field is not None:
            hit = value.get(step.field, _MISSING)
            if hit is not _MISSING:
                yield hit
            if not case_sensitive:
                low = step.field.lower()
                for k, v in value.items():
                    if k != step.field and k.lower() == low:
                        yield v
        elif step.index is not None:
            if 0 <= step.index < len(value):
                yield list(value.values())[step.index]
        else:
            yield from value.values()
    elif isinstance(value, list):
        if step.index is not None:
            if 0 <= step.index < len(value):
                yield value[step.index]
        elif step.field is None:
            yield from value


def _annotated(value: Any, notes: tuple[str, ...]) -> bool:
    have = {a.text for a in getattr(value, "ion_annotations", ())}
    return all(n in have for n in notes)


def _search(value: Any, steps: list[Step], i: int, case_sensitive: bool) -> Iterator[Any]:
    if i == len(steps):
        yield value
        return
    step = steps[i]
    for child in _children(value, step, case_sensitive):
        if step.annotations and not _annotated(child, step.annotations):
            continue
        yield from _search(child, steps, i + 1, case_sensitive)


def _ci_get(value: Any, low: str) -> Any:
    if not isinstance(value, dict):
        return None
    # a field whose name symbol is unknown (damaged symbol table) has no text: no match
    return next((v for k, v in value.items() if isinstance(k, str) and k.lower() == low), None)


class Extractor:
    """Applies one column's path to a chunk of top-level values. Paths made of field
    names only (the default and DynamoDB's ``(Item id)``) run step by step as list
    comprehensions, sharing prefixes between columns through ``cache``; other paths
    (indexes, wildcards, annotations) search value by value."""

    def __init__(self, steps: list[Step], case_sensitive: bool) -> None:
        self.steps = steps
        self.case_sensitive = case_sensitive
        self.fields: tuple[str, ...] | None = None
        if steps and all(s.field is not None and not s.annotations for s in steps):
            self.fields = tuple(s.field for s in steps if s.field is not None)

    def first(self, value: Any) -> Any:
        return next(_search(value, self.steps, 0, self.case_sensitive), None)

    def values(self, chunk: list[Any], cache: dict[tuple[str, ...], list[Any]]) -> list[Any]:
        if self.fields is None:
            return [self.first(v) for v in chunk]
        vals = chunk
        for depth in range(1, len(self.fields) + 1):
            prefix = self.fields[:depth]
            cached = cache.get(prefix)
            if cached is not None:
                vals = cached
                continue
            name = prefix[-1]
            parents = vals
            vals = [p.get(name, _MISSING) if isinstance(p, dict) else None for p in parents]
            if any(v is _MISSING for v in vals):
                if self.case_sensitive:
                    vals = [None if v is _MISSING else v for v in vals]
                else:
                    low = name.lower()
                    vals = [
                        _ci_get(p, low) if v is _MISSING else v
                        for p, v in zip(parents, vals, strict=True)
                    ]
            cache[prefix] = vals
        return vals


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
        for chunk in _values(ctx, f, state.ignore_malformed):
            if not plans:
                yield [pa.nulls(len(chunk), pa.bool_())]
                continue
            arrays = []
            shared: dict[tuple[str, ...], list[Any]] = {}
            for plan in plans:
                values = plan.extract.values(chunk, shared)
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


def _values(ctx: ReadContext, f: DataFile, ignore_malformed: bool) -> Iterator[list[Any]]:
    """Chunks of one file's top-level values."""
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
            io.BytesIO(data), single_value=False, parse_eagerly=False, value_model=_BARE
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
