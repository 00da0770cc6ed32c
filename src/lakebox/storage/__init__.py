"""Object storage addressed by ``s3://`` URIs: local folders or a real S3 endpoint."""

from lakebox.storage.base import FileInfo, Storage, open_storage
from lakebox.storage.uri import ObjectURI, join_uri, parse_uri

__all__ = ["FileInfo", "ObjectURI", "Storage", "join_uri", "open_storage", "parse_uri"]
