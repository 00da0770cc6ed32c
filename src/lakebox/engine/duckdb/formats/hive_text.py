"""Text files framed and decoded as Hive's LineRecordReader and SerDes do.

Hive ends a line at ``\\n``, ``\\r\\n`` or a lone ``\\r``, keeps every other byte (NUL and
control characters included) and decodes with the table's ``serialization.encoding``,
malformed bytes becoming U+FFFD. DuckDB's ``read_csv`` agrees on UTF-8 files whose line
ends are all ``\\n`` (or all ``\\r\\n``), and those stay on that fast path. A file in
another charset or with mixed line ends is read from a UTF-8 copy with ``\\n`` line ends,
made once in the lake cache and keyed by the file's URI, size and modification time like
the decompressed copies, by the same ``read_csv`` call.

Telling the two kinds of file apart costs one ``memchr`` pass for ``\\r`` over an
uncompressed local file (60-95 ms for 100 MB on a busy two-core machine, remembered per
file for the process; line ends are counted only when there is a ``\\r``), and a look at
the first MiB of a gzip / zstd file or of a file in S3 (``SAMPLE_BYTES``): a ``\\r`` past
that point in such a file is not seen.
"""

from __future__ import annotations

import gzip
import mmap
import os
import threading
import zlib
from collections.abc import Iterable
from pathlib import Path

from lakebox.engine.duckdb.formats.base import DataFile, ReadContext
from lakebox.formats import compression
from lakebox.formats.charsets import Charset
from lakebox.formats.compression import DUCKDB_NATIVE
from lakebox.formats.lines import utf8_text

#: bytes looked at in a file that is not read whole (gzip / zstd, remote)
SAMPLE_BYTES = 1 << 20
_CHUNK = 16 << 20
NATIVE_CODECS = frozenset(DUCKDB_NATIVE)
#: extensions DuckDB's compression='auto' recognises (it reads '.gzip' / '.zstd' as plain)
_AUTO_EXTENSIONS = (".gz", ".zst")


_MIXED: dict[tuple[str, int, float, float], bool] = {}
_MIXED_LOCK = threading.Lock()
_MAX_REMEMBERED = 200_000


def _mixed_in_chunks(chunks: Iterable[bytes]) -> bool:
    """Whether the line ends are other than all ``\\n`` or all ``\\r\\n`` (a lone
    ``\\r``, or a mix), counting over a stream of chunks (a pair split between two chunks
    counted once)."""
    cr = lf = crlf = 0
    prev_cr = False
    for chunk in chunks:
        cr += chunk.count(b"\r")
        lf += chunk.count(b"\n")
        crlf += chunk.count(b"\r\n") + (1 if prev_cr and chunk[:1] == b"\n" else 0)
        prev_cr = chunk[-1:] == b"\r"
    return not (cr == 0 or cr == crlf == lf)


def _mixed_in_local(path: str, size: int) -> bool:
    if size <= SAMPLE_BYTES:
        # small files (10,000 of them in a table) are cheapest read with one system call
        fd = os.open(path, os.O_RDONLY)
        try:
            data = os.read(fd, size + 1)
        finally:
            os.close(fd)
        if len(data) <= size:
            return _mixed_in_chunks([data])
    with open(path, "rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            return False
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            # one memchr pass settles the common file: no '\r' at all
            if mm.find(b"\r") < 0:
                return False
        return _mixed_in_chunks(iter(lambda: fh.read(_CHUNK), b""))


def _sample(ctx: ReadContext, f: DataFile) -> bytes:
    """The first ``SAMPLE_BYTES`` of the file's text, decompressed."""
    with ctx.storage.open(f.uri, "rb") as raw:
        if f.codec == "gzip":
            try:
                with gzip.GzipFile(fileobj=raw) as gz:
                    return gz.read(SAMPLE_BYTES)
            except (OSError, EOFError, zlib.error):
                return b""  # DuckDB reports the damaged file when it reads it
        if f.codec is not None:
            return compression.decompress(raw.read(), f.codec, f.uri)[:SAMPLE_BYTES]
        return raw.read(SAMPLE_BYTES)


def mixed_line_ends(ctx: ReadContext, f: DataFile, path: str) -> bool:
    """Whether ``f``, whose text DuckDB would read at ``path``, has line ends DuckDB reads
    differently from Hive; remembered per file version for the life of the process."""
    key = (f.uri, f.size, f.mtime, f.ctime)
    found = _MIXED.get(key)
    if found is not None:
        return found
    local = (
        not path.startswith(("s3://", "s3a://", "gs://", "http://", "https://"))
        and (f.codec is None or path != f.engine_path)
        and os.path.isfile(path)
    )
    mixed = (
        _mixed_in_local(path, f.size if f.codec is None else SAMPLE_BYTES + 1)
        if local
        else _mixed_in_chunks([_sample(ctx, f)])
    )
    with _MIXED_LOCK:
        if len(_MIXED) >= _MAX_REMEMBERED:
            _MIXED.clear()
        _MIXED[key] = mixed
    return mixed


def text_paths(ctx: ReadContext, files: list[DataFile], charset: Charset) -> list[str]:
    """Paths DuckDB's ``read_csv`` reads ``files`` from as UTF-8 with uniform line ends:
    the files themselves when they are, transcoded copies of the others."""
    paths = []
    for f in files:
        path = engine_path(ctx, f)
        if not charset.is_utf8 or mixed_line_ends(ctx, f, path):
            path = str(transcoded_copy(ctx, f, charset))
            ctx.cache_files.append(path)
        paths.append(path)
    return paths


def transcoded_copy(ctx: ReadContext, f: DataFile, charset: Charset) -> Path:
    """Path of ``f`` decoded with ``charset`` and framed as Hive frames it (UTF-8, ``\\n``
    line ends), made on first use in the lake cache."""
    name = f"{compression.cache_key(f.uri, f.size, f.mtime)}-{charset.codec}.txt"
    target = ctx.cache_dir / "transcoded" / name
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(utf8_text(ctx.read_bytes(f), charset))
    os.replace(tmp, target)
    return target


def engine_paths(ctx: ReadContext, files: list[DataFile]) -> list[str]:
    """Paths DuckDB opens: gzip / zstd as they are when DuckDB recognises the extension
    (``.gz``, ``.zst``), everything else (``.gzip``, ``.zstd``, other codecs) as a
    decompressed copy. An uncompressed file is opened as it is, without the calls
    ``engine_path`` makes (10,000 files: a few ms, not ten)."""
    codec_for = compression.codec_for
    return [f.engine_path if codec_for(f.uri) is None else engine_path(ctx, f) for f in files]


def engine_path(ctx: ReadContext, f: DataFile) -> str:
    return ctx.readable_path(
        f, NATIVE_CODECS if f.uri.lower().endswith(_AUTO_EXTENSIONS) else frozenset()
    )
