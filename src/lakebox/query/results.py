"""Result files where Athena writes them: ``<output>/<id>.csv`` (RFC 4180, every value
quoted, NULL as an empty unquoted field, header row) with a ``.csv.metadata`` companion, and
``<id>.txt`` for DDL. GetQueryResults pages are read back from these files, so results
stay readable by id after a restart.

Athena's ``.csv.metadata`` is a binary protobuf; lakebox writes the same column information
as JSON (a documented difference).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import io
import json
import math
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from lakebox.catalog.types import athena_type_from_arrow
from lakebox.errors import InvalidRequestError
from lakebox.storage import Storage, join_uri

MAX_PAGE = 1000


def result_uri(output_location: str, query_id: str, statement_type: str) -> str:
    suffix = ".txt" if statement_type in ("DDL", "UTILITY") else ".csv"
    return join_uri(output_location, f"{query_id}{suffix}")


def athena_text(value: Any) -> str | None:
    """A value as Athena prints it in result files (``{a=1, b=x}`` rows, ``[1, 2]`` arrays,
    millisecond timestamps)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, float):
        if not math.isfinite(value):  # Java's Double.toString, as Athena writes them
            return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        return repr(value) if value != int(value) or abs(value) >= 1e16 else f"{value:.1f}"
    if isinstance(value, bytes):
        return " ".join(f"{b:02x}" for b in value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_nested(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        if value and all(isinstance(x, tuple) and len(x) == 2 for x in value):  # Arrow maps
            return "{" + ", ".join(f"{athena_text(k)}={_nested(v)}" for k, v in value) + "}"
        return "[" + ", ".join(_nested(v) for v in value) + "]"
    return str(value)


def _nested(value: Any) -> str:
    """An element inside an array, map or row: null as ``null``, an empty string as nothing."""
    text = athena_text(value)
    return "null" if text is None else text


def column_info(table: pa.Table) -> list[dict[str, Any]]:
    info = []
    for f in table.schema:
        typ = athena_type_from_arrow(f.type)
        base = typ.split("(", 1)[0]
        entry: dict[str, Any] = {
            "CatalogName": "hive",
            "SchemaName": "",
            "TableName": "",
            "Name": f.name,
            "Label": f.name,
            "Type": base,
            "Precision": 0,
            "Scale": 0,
            "Nullable": "UNKNOWN",
            "CaseSensitive": base == "varchar",
        }
        if pa.types.is_decimal(f.type):
            entry["Precision"], entry["Scale"] = f.type.precision, f.type.scale
        elif base == "varchar":
            entry["Precision"] = 2147483647
        info.append(entry)
    return info


def write_results(storage: Storage, uri: str, table: pa.Table, statement_type: str) -> None:
    if statement_type in ("DDL", "UTILITY"):
        lines = [
            "\t".join(athena_text(v) or "" for v in row)
            for row in zip(*(c.to_pylist() for c in table.columns), strict=True)
        ]
        storage.write_bytes(uri, ("\n".join(lines) + ("\n" if lines else "")).encode())
        return
    buf = io.BytesIO()
    pacsv.write_csv(_csv_ready(table), buf, pacsv.WriteOptions(quoting_style="all_valid"))
    storage.write_bytes(uri, buf.getvalue())
    meta = {"columnInfo": column_info(table), "rowCount": table.num_rows}
    storage.write_bytes(uri + ".metadata", json.dumps(meta).encode())


def _csv_ready(table: pa.Table) -> pa.Table:
    """Columns whose Athena text differs from Arrow's CSV rendering (floats keep ``.0``,
    millisecond timestamps, nested values) are rendered here; the rest stay columnar."""
    cols = []
    for column in table.columns:
        t = column.type
        plain = (
            pa.types.is_integer(t)
            or pa.types.is_string(t)
            or pa.types.is_large_string(t)
            or pa.types.is_boolean(t)
            or pa.types.is_decimal(t)
            or pa.types.is_date(t)
        )
        if plain:
            cols.append(column)
        else:
            cols.append(pa.array([athena_text(v) for v in column.to_pylist()], pa.string()))
    return pa.table(cols, names=table.column_names)


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        kind, _, num = text.partition(":")
        if kind != "offset":
            raise ValueError(text)
        return int(num)
    except (ValueError, UnicodeDecodeError) as err:
        raise InvalidRequestError(f"NextToken {token!r} is not valid") from err


def read_page(
    storage: Storage, uri: str, statement_type: str, next_token: str | None, max_results: int
) -> dict[str, Any]:
    """One GetQueryResults page. For a SELECT the header is row 0 of the file, so the first
    page starts with it, as Athena's does."""
    if not 1 <= max_results <= MAX_PAGE:
        raise InvalidRequestError(f"MaxResults must be between 1 and {MAX_PAGE}")
    offset = decode_token(next_token)
    text = storage.read_bytes(uri).decode("utf-8")
    if statement_type in ("DDL", "UTILITY"):
        rows: list[list[str | None]] = [list(line.split("\t")) for line in text.splitlines()]
        columns: list[dict[str, Any]] = [{"Name": "result", "Type": "string"}]
    else:
        rows = _parse_csv(text)
        meta = json.loads(storage.read_bytes(uri + ".metadata"))
        columns = meta["columnInfo"]
    page = rows[offset : offset + max_results]
    out: dict[str, Any] = {
        "ResultSet": {
            "Rows": [{"Data": [{} if v is None else {"VarCharValue": v} for v in r]} for r in page],
            "ResultSetMetadata": {"ColumnInfo": columns},
        },
        "UpdateCount": 0,
    }
    if offset + max_results < len(rows):
        out["NextToken"] = encode_token(offset + max_results)
    return out


def _parse_csv(text: str) -> list[list[str | None]]:
    """Parse Athena's CSV keeping NULL (empty unquoted) apart from '' (quoted empty)."""
    rows: list[list[str | None]] = []
    i, n = 0, len(text)
    row: list[str | None] = []
    while i < n:
        if text[i] == '"':
            j = i + 1
            parts = []
            while True:
                k = text.index('"', j)
                parts.append(text[j:k])
                if k + 1 < n and text[k + 1] == '"':
                    parts.append('"')
                    j = k + 2
                    continue
                i = k + 1
                break
            row.append("".join(parts))
        else:
            k = i
            while k < n and text[k] not in ",\n":
                k += 1
            row.append(text[i:k] if k > i else None)
            i = k
        if i < n and text[i] == ",":
            i += 1
            if i >= n or text[i] == "\n":
                row.append(None)
        if i < n and text[i] == "\n":
            rows.append(row)
            row = []
            i += 1
    if row:
        rows.append(row)
    return rows
