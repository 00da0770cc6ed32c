"""The DuckDB binding of the format plugins: each plugin's reader, as DuckDB SQL.

``BUILTIN_READERS`` is the one table binding the built-in plugins (``lakebox.formats``) to
their readers; reader modules are imported on first use, not registered as a side effect.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from lakebox.engine.duckdb.formats.base import (
    FormatReader,
    ReadContext,
    reader_for,
    register_reader,
)
from lakebox.formats.base import DataFile, ReadRequest

__all__ = [
    "BUILTIN_READERS",
    "DataFile",
    "FormatReader",
    "ReadContext",
    "ReadRequest",
    "builtin_readers",
    "reader_for",
    "register_reader",
]

#: plugin name -> (module, reader class, keyword arguments)
BUILTIN_READERS: dict[str, tuple[str, str, dict[str, bool]]] = {
    "parquet": ("parquet", "ParquetReader", {}),
    "orc": ("orc", "OrcReader", {}),
    "avro": ("avro", "AvroReader", {}),
    "ion": ("ion", "IonReader", {}),
    "json": ("json", "JsonReader", {"openx": False}),
    "openx-json": ("json", "JsonReader", {"openx": True}),
    "cloudtrail": ("cloudtrail", "CloudTrailReader", {}),
    "text": ("text", "LazySimpleReader", {}),
    "csv": ("text", "OpenCsvReader", {}),
    "multidelimit": ("multidelimit", "MultiDelimitReader", {}),
    "regex": ("regex", "RegexReader", {}),
    "grok": ("grok", "GrokReader", {}),
}
_factories: dict[str, Callable[[], FormatReader]] = {}


def builtin_readers() -> dict[str, Callable[[], FormatReader]]:
    """Reader factories of the built-in plugins, by plugin name. A factory imports its
    reader's module when first called: a Parquet scan never loads the Ion library."""
    if not _factories:
        _factories.update(
            {plugin: _factory(*binding) for plugin, binding in BUILTIN_READERS.items()}
        )
    return _factories


def _factory(module: str, cls: str, kwargs: dict[str, bool]) -> Callable[[], FormatReader]:
    def make() -> FormatReader:
        reader_cls: type[FormatReader] = getattr(
            importlib.import_module(f"{__name__}.{module}"), cls
        )
        return reader_cls(**kwargs)

    return make
