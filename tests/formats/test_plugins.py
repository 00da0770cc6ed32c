"""The format plugin registry: one engine-neutral plugin per format, found from a table."""

from __future__ import annotations

import pytest

from lakebox.catalog.model import Column, Table
from lakebox.errors import UnsupportedError
from lakebox.formats import BUILTIN_PLUGINS, ctas_format, ctas_format_names, format_for
from lakebox.formats.plugins import (
    CLOUDTRAIL_INPUT,
    HIVE_JSON_SERDE,
    OPEN_CSV_SERDE,
    PARQUET_INPUT,
    REGEX_SERDE_ALIASES,
)


def _table(serde: str | None = None, input_format: str | None = None) -> Table:
    return Table(
        database="db",
        name="t",
        columns=[Column("a", "string")],
        serde_library=serde,
        input_format=input_format,
    )


def test_every_builtin_plugin_is_found_by_each_of_its_serdes() -> None:
    for plugin in BUILTIN_PLUGINS:
        for serde in plugin.serdes:
            assert format_for(_table(serde.upper())) is plugin


def test_input_format_selects_a_plugin_when_no_serde_is_named() -> None:
    assert format_for(_table(input_format=PARQUET_INPUT)).name == "parquet"


def test_framing_input_format_wins_over_the_serde() -> None:
    assert format_for(_table(HIVE_JSON_SERDE, CLOUDTRAIL_INPUT)).name == "cloudtrail"


def test_regex_alias_and_unknown_serde() -> None:
    assert format_for(_table(REGEX_SERDE_ALIASES[0])).name == "regex"
    with pytest.raises(UnsupportedError, match="known SerDes"):
        format_for(_table("com.example.NoSuchSerDe"))


def test_ctas_formats_are_athenas_in_order_and_csv_is_insert_only() -> None:
    assert ctas_format_names() == ["PARQUET", "ORC", "AVRO", "JSON", "TEXTFILE", "ION"]
    assert ctas_format("parquet") is format_for(_table(input_format=PARQUET_INPUT))
    assert ctas_format("CSV") is None
    csv = format_for(_table(OPEN_CSV_SERDE))
    assert csv.write is not None and not csv.write.ctas
