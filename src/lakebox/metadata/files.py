"""lakebox's own JSON metadata files (stream definitions and delivery state, export
descriptions, ...): read them so that a damaged one is a clear error naming the file,
never a JSON or key error from deep inside."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lakebox.metadata.sqlite import MetadataError, _home_option


class MetadataFileError(MetadataError):
    """A JSON metadata file of the lake is not what lakebox wrote (damaged or edited)."""

    def __init__(self, path: Path, detail: str) -> None:
        home = _home_option(_metadata_dir(path) / "x")
        super().__init__(
            f"metadata file {path} is damaged ({detail}); lakebox left it as it is. "
            f"See 'lakebox doctor{home}'; restore with 'lakebox restore BACKUP{home}' "
            "or move the file aside",
            path,
        )
        self.detail = detail


def _metadata_dir(path: Path) -> Path:
    for parent in path.parents:
        if parent.name == "_lakebox":
            return parent
    return path.parent


def read_metadata_json(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``; anything else is a ``MetadataFileError``."""
    data = path.read_bytes()
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise MetadataFileError(
            path, f"byte 0x{data[err.start]:02x} at offset {err.start} is not UTF-8"
        ) from err
    except json.JSONDecodeError as err:
        raise MetadataFileError(
            path, f"not JSON: {err.msg} at line {err.lineno} column {err.colno}"
        ) from err
    if not isinstance(doc, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean"}.get(type(doc), "a value")
        raise MetadataFileError(path, f"holds {kind}, not a JSON object")
    return doc
