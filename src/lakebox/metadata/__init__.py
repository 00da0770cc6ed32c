"""The lake's own metadata in ``<home>/_lakebox/``: how its SQLite stores are opened and
migrated (``sqlite``) and how its JSON metadata files are read (``files``). Checking and
copying them (doctor, backup) is ``lakebox.admin``.

Kept light: the CLI imports it on every command.
"""

from __future__ import annotations

from lakebox.metadata.sqlite import (
    MetadataAccessError,
    MetadataCorruptError,
    MetadataError,
    MetadataVersionError,
)

__all__ = [
    "MetadataAccessError",
    "MetadataCorruptError",
    "MetadataError",
    "MetadataVersionError",
]
