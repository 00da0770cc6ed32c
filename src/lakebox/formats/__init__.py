"""Format readers, one module per SerDe family, registered by SerDe class and input format."""

from __future__ import annotations

import importlib

from lakebox.formats.base import (
    DataFile,
    FormatReader,
    ReadContext,
    ReadRequest,
    reader_for,
    register_reader,
)

__all__ = [
    "DataFile",
    "FormatReader",
    "ReadContext",
    "ReadRequest",
    "load_builtin_readers",
    "reader_for",
    "register_reader",
]

#: modules that register readers when imported; a missing one is skipped so the package
#: stays importable while a SerDe family is being written
BUILTIN_MODULES = (
    "lakebox.formats.parquet",
    "lakebox.formats.text",
    "lakebox.formats.json",
    "lakebox.formats.regex",
    "lakebox.formats.orc",
    "lakebox.formats.avro",
    "lakebox.formats.ion",
    "lakebox.formats.multidelimit",
    "lakebox.formats.cloudtrail",
    "lakebox.formats.grok",
)
_loaded = False


def load_builtin_readers() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in BUILTIN_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:
                raise
