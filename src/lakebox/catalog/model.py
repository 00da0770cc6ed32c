"""Glue Data Catalog entities: databases, tables, columns, partitions.

Field names follow Glue's API (``StorageDescriptor`` flattened onto the table) so the
AWS-compatible shells can translate one to one. Types are kept as Hive type strings
(``decimal(38,0)``, ``array<struct<a:int>>``) exactly as Glue stores them.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

EXTERNAL_TABLE = "EXTERNAL_TABLE"
VIRTUAL_VIEW = "VIRTUAL_VIEW"
MANAGED_TABLE = "MANAGED_TABLE"


@dataclass
class Column:
    name: str
    type: str
    comment: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Column:
        return cls(data["name"], data["type"], data.get("comment"))


@dataclass
class Database:
    name: str
    description: str | None = None
    location: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    create_time: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Database:
        return cls(**data)


@dataclass
class Table:
    database: str
    name: str
    columns: list[Column] = field(default_factory=list)
    partition_keys: list[Column] = field(default_factory=list)
    location: str | None = None
    input_format: str | None = None
    output_format: str | None = None
    serde_library: str | None = None
    serde_parameters: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    table_type: str = EXTERNAL_TABLE
    comment: str | None = None
    view_original_text: str | None = None
    view_expanded_text: str | None = None
    bucket_columns: list[str] = field(default_factory=list)
    num_buckets: int = 0
    create_time: float = field(default_factory=time.time)
    update_time: float = field(default_factory=time.time)
    #: Optimistic-concurrency version, bumped by the store on each update.
    version: int = 0

    @property
    def qualified_name(self) -> str:
        return f"{self.database}.{self.name}"

    @property
    def is_view(self) -> bool:
        return self.table_type == VIRTUAL_VIEW

    @property
    def all_columns(self) -> list[Column]:
        return [*self.columns, *self.partition_keys]

    def column(self, name: str) -> Column | None:
        low = name.lower()
        for col in self.all_columns:
            if col.name.lower() == low:
                return col
        return None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Table:
        data = dict(data)
        data["columns"] = [Column.from_dict(c) for c in data.get("columns", [])]
        data["partition_keys"] = [Column.from_dict(c) for c in data.get("partition_keys", [])]
        return cls(**data)


@dataclass
class Partition:
    database: str
    table: str
    values: list[str]
    location: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    create_time: float = field(default_factory=time.time)

    def spec(self, keys: list[Column]) -> dict[str, str]:
        return {k.name: v for k, v in zip(keys, self.values, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Partition:
        return cls(**data)


#: characters Hive's FileUtils.escapePathName escapes in partition folder names
_HIVE_PATH_ESCAPES = frozenset([chr(c) for c in range(1, 0x20)] + list("\"#%'*/:=?\\\x7f{[]^"))
HIVE_DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"


def escape_path_name(text: str) -> str:
    """Hive's partition folder escaping: ``%XX`` for a fixed set of ASCII characters only
    (spaces, commas and non-ASCII letters stay as they are, unlike URL quoting); an empty
    value becomes ``__HIVE_DEFAULT_PARTITION__``."""
    if not text:
        return HIVE_DEFAULT_PARTITION
    return "".join(f"%{ord(ch):02X}" if ch in _HIVE_PATH_ESCAPES else ch for ch in text)


def partition_path(keys: list[Column], values: list[str]) -> str:
    """Hive-style relative folder for a partition: ``year=2024/month=01/``."""
    return "".join(
        f"{escape_path_name(k.name)}={escape_path_name(v)}/"
        for k, v in zip(keys, values, strict=True)
    )
