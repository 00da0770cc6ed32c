"""Engine-neutral format plugins (one per format) and what a scan reads.

Engines bind a plugin by name to their reader and writer; the DuckDB binding lives in
``lakebox.engine.duckdb.formats``. Nothing here depends on an engine.
"""

from __future__ import annotations

from lakebox.formats.base import DataFile, ReadRequest, ScanMeter
from lakebox.formats.plugins import (
    BUILTIN_PLUGINS,
    FormatPlugin,
    PluginRegistry,
    WriteSpec,
    ctas_format,
    ctas_format_names,
    format_for,
    known_serdes,
    plugin_for_serde,
    register_plugin,
)

__all__ = [
    "BUILTIN_PLUGINS",
    "DataFile",
    "FormatPlugin",
    "PluginRegistry",
    "ReadRequest",
    "ScanMeter",
    "WriteSpec",
    "ctas_format",
    "ctas_format_names",
    "format_for",
    "known_serdes",
    "plugin_for_serde",
    "register_plugin",
]
