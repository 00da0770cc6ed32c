"""Compression of text data files, chosen by file extension as Athena does.

DuckDB decompresses gzip and zstd itself; other codecs (bzip2, snappy, lz4, deflate,
brotli, xz) are decompressed through cramjam / the standard library into a cache file
keyed by the source's URI, size and modification time, so a warm query pays nothing.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import os
import zlib
from collections.abc import Callable
from pathlib import Path

import cramjam

from lakebox.errors import DataError

# extension -> codec name (the name Glue writes into the compressionType parameter)
EXTENSIONS: dict[str, str] = {
    ".gz": "gzip",
    ".gzip": "gzip",
    ".bz2": "bzip2",
    ".zst": "zstd",
    ".zstd": "zstd",
    ".snappy": "snappy",
    ".sz": "snappy",
    ".lz4": "lz4",
    ".deflate": "deflate",
    ".br": "brotli",
    ".xz": "xz",
    ".lzo": "lzo",
}
#: codecs DuckDB's text readers decompress natively
DUCKDB_NATIVE = {"gzip": "gzip", "zstd": "zstd"}


#: every extension at once: most names have none (one C call, for 10,000 files a query)
_ENDINGS = tuple(EXTENSIONS)


def codec_for(name: str) -> str | None:
    low = name.lower()
    if not low.endswith(_ENDINGS):
        return None
    for ext, codec in EXTENSIONS.items():
        if low.endswith(ext):
            return codec
    return None


def _hadoop_snappy(data: bytes) -> bytes:
    """Hadoop's SnappyCodec block stream: [uncompressed len][compressed len][raw snappy]..."""
    out = bytearray()
    pos = 0
    while pos < len(data):
        if pos + 4 > len(data):
            raise ValueError("truncated Hadoop snappy block header")
        total = int.from_bytes(data[pos : pos + 4], "big")
        pos += 4
        produced = 0
        while produced < total:
            clen = int.from_bytes(data[pos : pos + 4], "big")
            pos += 4
            chunk = bytes(cramjam.snappy.decompress_raw(data[pos : pos + clen]))
            pos += clen
            out += chunk
            produced += len(chunk)
    return bytes(out)


def _snappy(data: bytes) -> bytes:
    if data[:10] == b"\xff\x06\x00\x00sNaPpY":  # framed format (snzip, python-snappy)
        return bytes(cramjam.snappy.decompress(data))
    try:
        return _hadoop_snappy(data)
    except Exception:
        return bytes(cramjam.snappy.decompress_raw(data))


def _lz4(data: bytes) -> bytes:
    if data[:4] == b"\x04\x22\x4d\x18":  # LZ4 frame magic
        return bytes(cramjam.lz4.decompress(data))
    return bytes(cramjam.lz4.decompress_block(data))


def _deflate(data: bytes) -> bytes:
    try:
        return zlib.decompress(data)
    except zlib.error:
        return zlib.decompress(data, -zlib.MAX_WBITS)


DECOMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.decompress,
    "bzip2": bz2.decompress,
    "zstd": lambda d: bytes(cramjam.zstd.decompress(d)),
    "snappy": _snappy,
    "lz4": _lz4,
    "deflate": _deflate,
    "brotli": lambda d: bytes(cramjam.brotli.decompress(d)),
    "xz": lzma.decompress,
}


def decompress(data: bytes, codec: str, uri: str) -> bytes:
    func = DECOMPRESSORS.get(codec)
    if func is None:
        raise DataError(f"compression {codec!r} is not supported", uri)
    try:
        return func(data)
    except Exception as err:
        raise DataError(f"cannot decompress {codec} data ({err})", uri) from err


def cache_key(uri: str, size: int, mtime: float) -> str:
    return hashlib.sha256(f"{uri}\0{size}\0{mtime}".encode()).hexdigest()[:32]


def decompressed_copy(
    cache_dir: Path,
    uri: str,
    size: int,
    mtime: float,
    read: Callable[[], bytes],
    codec: str,
    suffix: str = "",
) -> Path:
    """Path of a decompressed copy of ``uri`` in the cache, made on first use."""
    target = cache_dir / "decompressed" / (cache_key(uri, size, mtime) + suffix)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    data = decompress(read(), codec, uri)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return target
