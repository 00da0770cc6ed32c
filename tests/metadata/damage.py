"""Ways to damage a SQLite store for real, as a disk, a crash or a stray write would."""

from __future__ import annotations

import gc
import sqlite3
from pathlib import Path

#: every kind of damage the tests apply
KINDS = ("junk", "cut-mid-page", "cut-to-first-page", "flipped-schema", "flipped-pages")


def settle(path: Path) -> None:
    """Fold the store's WAL into the file (closing the last connection removes it) so
    damage to the file is what SQLite reads."""
    gc.collect()  # connections of store objects the test dropped
    con = sqlite3.connect(path, timeout=5)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        con.close()


def damage(path: Path, kind: str) -> None:
    settle(path)
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    if kind == "junk":
        data = bytearray(b"this is not a database\n" * (len(data) // 23 + 1))[: len(data)]
    elif kind == "cut-mid-page":
        data = data[: len(data) // 2 + 100]
    elif kind == "cut-to-first-page":
        assert len(data) > page, "the store must have more than one page"
        data = data[:page]
    elif kind == "flipped-schema":
        # the b-tree page header of sqlite_schema, right after the file header
        for i in range(100, 112):
            data[i] ^= 0x5A
    elif kind == "flipped-pages":
        for start in range(page, len(data), page):
            for i in range(start, start + 16):
                data[i] ^= 0x5A
    else:
        raise ValueError(kind)
    path.write_bytes(bytes(data))
