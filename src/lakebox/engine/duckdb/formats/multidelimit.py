"""MultiDelimitSerDe: LazySimpleSerDe text whose field delimiter is a string (``'|~|'``).

Hive's MultiDelimitSerDe splits a line on the whole ``field.delim`` string and otherwise
reads values exactly as LazySimpleSerDe does (``\\N`` NULL, collection and map-key
delimiters, Hive conversions), so this reader is the LazySimpleSerDe reader with a
multi-character first separator: DuckDB's ``string_split`` takes a separator string.
"""

from __future__ import annotations

import re

from lakebox.catalog.model import Table
from lakebox.engine.duckdb.formats.text import LazySimpleReader, parse_delimiter
from lakebox.errors import InvalidRequestError

#: one escape sequence as ``parse_delimiter`` reads it, or one plain character
_TOKEN = re.compile(r"\\(?:u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[0-7]{1,3}|.)|.", re.DOTALL)


def parse_multi_delimiter(value: str) -> str:
    """Every character of a delimiter property, escapes (``\\t``, ``\\001``) decoded the way
    ``parse_delimiter`` decodes one; a number is text here, as in Hive's MultiDelimitSerDe."""
    return "".join(
        parse_delimiter(token, "", numeric_byte=False) for token in _TOKEN.findall(value)
    )


class MultiDelimitReader(LazySimpleReader):
    name = "text (MultiDelimitSerDe)"

    def separators(self, table: Table) -> list[str]:
        p = table.serde_parameters
        field_delim = parse_multi_delimiter(p.get("field.delim") or "")
        if not field_delim:
            raise InvalidRequestError(
                f"table {table.qualified_name}: MultiDelimitSerDe needs the SerDe property "
                "'field.delim' (for example 'field.delim'='|~|')"
            )
        seps = super().separators(table)
        return [field_delim, *seps[1:]]

    def validate(self, table: Table) -> None:
        p = table.serde_parameters
        for key in ("collection.delim", "mapkey.delim"):
            value = p.get(key)
            if value is not None and len(parse_multi_delimiter(value)) != 1:
                raise InvalidRequestError(
                    f"table {table.qualified_name}: MultiDelimitSerDe property {key!r} must be "
                    f"one character (only 'field.delim' may be longer), got {value!r}"
                )
        super().validate(table)
