"""Text files framed and decoded as Hive's LineRecordReader and SerDes do.

Hive ends a line at ``\\n``, ``\\r\\n`` or a lone ``\\r``, keeps every other byte (NUL and
control characters included) and decodes with the table's ``serialization.encoding``,
malformed bytes becoming U+FFFD. DuckDB's ``read_csv`` agrees on plain UTF-8 files whose
line ends are all ``\\n`` (or all ``\\r\\n``), and those stay on that fast path. A file
that needs more (another charset, mixed line ends, a NUL where the line reader would cut
the line) is decoded once into a copy in the lake cache, keyed by its URI, size and
modification time like the decompressed copies:

- for line readers (LazySimpleSerDe, RegexSerDe, GrokSerDe) a Parquet file with one
  ``line`` column, so no byte of a line can be taken for a delimiter;
- for OpenCSVSerde a UTF-8 text file with ``\\n`` line ends, read by the same ``read_csv``.

Telling the two kinds of file apart costs one ``memchr`` pass for ``\\r`` and NUL over an
uncompressed local file (about 50 ms for 100 MB, remembered per file for the process) and
a look at the first MiB of a gzip / zstd file or a file in S3 (see ``SAMPLE_BYTES``).
"""

from __future__ import annotations

import gzip
import mmap
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from lakebox.formats import compression
from lakebox.formats.base import DataFile, ReadContext
from lakebox.formats.charsets import Charset, decode

#: line readers: the copy is Parquet (column ``line``)
LINES = "lines"
#: OpenCSVSerde: the copy is UTF-8 text with ``\n`` line ends
CSV = "csv"

#: bytes looked at in a file that is not read whole (gzip / zstd, remote)
SAMPLE_BYTES = 1 << 20
_CHUNK = 16 << 20


class Shape(NamedTuple):
    """What in a file DuckDB's reader would read differently from Hive's."""

    #: line ends other than all-``\n`` or all-``\r\n`` (a lone ``\r``, or a mix)
    mixed_line_ends: bool
    #: a NUL byte (cuts a line short where NUL is the line reader's delimiter)
    nul: bool


_PLAIN = Shape(False, False)
_SHAPES: dict[tuple[str, int, float, float], Shape] = {}
_SHAPES_LOCK = threading.Lock()
_MAX_REMEMBERED = 200_000


def _shape_of_chunks(chunks: Iterable[bytes]) -> Shape:
    """Counts ``\\r``, ``\\n`` and ``\\r\\n`` over a stream of chunks (a pair split
    between two chunks counted once)."""
    cr = lf = crlf = 0
    nul = False
    prev_cr = False
    for chunk in chunks:
        nul = nul or b"\0" in chunk
        cr += chunk.count(b"\r")
        lf += chunk.count(b"\n")
        crlf += chunk.count(b"\r\n") + (1 if prev_cr and chunk[:1] == b"\n" else 0)
        prev_cr = chunk[-1:] == b"\r"
    return Shape(not (cr == 0 or cr == crlf == lf), nul)


def _shape_of_local(path: str, size: int) -> Shape:
    if size <= SAMPLE_BYTES:
        # small files (10,000 of them in a table) are cheapest read with one system call
        fd = os.open(path, os.O_RDONLY)
        try:
            data = os.read(fd, size + 1)
        finally:
            os.close(fd)
        if len(data) <= size:
            return _shape_of_chunks([data])
    with open(path, "rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            return _PLAIN
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            # one memchr pass each settles the common file: no '\r' and no NUL
            has_cr = mm.find(b"\r") >= 0
            has_nul = mm.find(b"\0") >= 0
        if not has_cr:
            return Shape(False, has_nul)
        fh.seek(0)
        return _shape_of_chunks(iter(lambda: fh.read(_CHUNK), b""))


def _sample(ctx: ReadContext, f: DataFile) -> bytes:
    """The first ``SAMPLE_BYTES`` of the file's text, decompressed."""
    with ctx.storage.open(f.uri, "rb") as raw:
        if f.codec == "gzip":
            try:
                with gzip.GzipFile(fileobj=raw) as gz:
                    return gz.read(SAMPLE_BYTES)
            except (OSError, EOFError):
                return b""  # DuckDB reports the damaged file when it reads it
        if f.codec is not None:
            return compression.decompress(raw.read(), f.codec, f.uri)[:SAMPLE_BYTES]
        return raw.read(SAMPLE_BYTES)


def file_shape(ctx: ReadContext, f: DataFile, path: str) -> Shape:
    """The shape of ``f``, whose text DuckDB would read at ``path``; remembered per file
    version for the life of the process."""
    key = (f.uri, f.size, f.mtime, f.ctime)
    found = _SHAPES.get(key)
    if found is not None:
        return found
    local = (
        not path.startswith(("s3://", "s3a://", "gs://", "http://", "https://"))
        and (f.codec is None or path != f.engine_path)
        and os.path.isfile(path)
    )
    shape = (
        _shape_of_local(path, f.size if f.codec is None else SAMPLE_BYTES + 1)
        if local
        else _shape_of_chunks([_sample(ctx, f)])
    )
    with _SHAPES_LOCK:
        if len(_SHAPES) >= _MAX_REMEMBERED:
            _SHAPES.clear()
        _SHAPES[key] = shape
    return shape


def needs_copy(shape: Shape, kind: str) -> bool:
    return shape.mixed_line_ends or (kind == LINES and shape.nul)


def split_files(
    ctx: ReadContext, files: list[DataFile], charset: Charset, kind: str
) -> tuple[list[DataFile], list[str]]:
    """The files DuckDB can read as they are, and transcoded copies of the others."""
    from lakebox.formats.text import engine_path

    plain: list[DataFile] = []
    copies: list[str] = []
    for f in files:
        if charset.is_utf8 and not needs_copy(file_shape(ctx, f, engine_path(ctx, f)), kind):
            plain.append(f)
        else:
            copies.append(str(transcoded_copy(ctx, f, charset, kind)))
    ctx.cache_files.extend(copies)
    return plain, copies


def hive_lines(text: str) -> str:
    """``text`` with every Hive line end (``\\r\\n``, ``\\r``, ``\\n``) made ``\\n``."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def transcoded_copy(ctx: ReadContext, f: DataFile, charset: Charset, kind: str) -> Path:
    """Path of ``f`` decoded with ``charset`` and framed as Hive frames it, made on first
    use in the lake cache."""
    suffix = ".parquet" if kind == LINES else ".txt"
    name = f"{compression.cache_key(f.uri, f.size, f.mtime)}-{charset.codec}{suffix}"
    target = ctx.cache_dir / "transcoded" / name
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    text = hive_lines(decode(ctx.read_bytes(f), charset))
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    if kind == LINES:
        _write_lines(text, tmp)
    else:
        tmp.write_bytes(text.encode("utf-8", "surrogatepass"))
    os.replace(tmp, target)
    return target


def _write_lines(text: str, path: Path) -> None:
    """One Parquet row per line, a blank line NULL (as DuckDB's reader gives it)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    if text:
        body = text[:-1] if text.endswith("\n") else text
        lines = pc.list_flatten(pc.split_pattern(pa.array([body], pa.large_string()), "\n"))
    else:
        lines = pa.array([], pa.large_string())
    lines = pc.if_else(pc.equal(lines, ""), pa.scalar(None, pa.large_string()), lines)
    pq.write_table(pa.table({"line": lines}), path, compression="zstd")
