"""Classifiers: recognise one file's format and infer its schema from a sample.

Glue's order is followed: custom classifiers first (in the crawler's order), then avro,
orc, parquet, json, ion, the log formats, csv. Binary formats are recognised by their magic
bytes and read from their headers / footers only; text formats from the first megabyte or
the first 1000 records of the (decompressed) file, as Glue does. Record counts of text
files that were not read to the end are estimates from the sample's record size.
"""

from __future__ import annotations

import bz2
import csv
import io
import json
import lzma
import re
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from lakebox.crawler import infer
from lakebox.crawler.grok import BUILTIN_LOGS, CompiledGrok, compile_grok, compile_named_regex
from lakebox.crawler.infer import HType
from lakebox.crawler.model import Classifier
from lakebox.errors import DataError, LakeboxError
from lakebox.formats import compression
from lakebox.formats.charsets import UTF8, Charset, decode, detect_charset
from lakebox.formats.lines import hive_lines
from lakebox.storage import FileInfo, Storage

HEAD_BYTES = 1 << 20
MAX_RECORDS = 1000
#: codecs without a streaming decoder here are decompressed whole, up to this size
FULL_DECOMPRESS_LIMIT = 256 << 20

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
ORC_SERDE = "org.apache.hadoop.hive.ql.io.orc.OrcSerde"
ORC_INPUT = "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat"
ORC_OUTPUT = "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat"
AVRO_SERDE = "org.apache.hadoop.hive.serde2.avro.AvroSerDe"
AVRO_INPUT = "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat"
AVRO_OUTPUT = "org.apache.hadoop.hive.ql.io.avro.AvroContainerOutputFormat"
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
LAZY_SIMPLE_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
OPEN_CSV_SERDE = "org.apache.hadoop.hive.serde2.OpenCSVSerde"
ION_SERDE = "com.amazon.ionhiveserde.IonHiveSerDe"
ION_INPUT = "com.amazon.ionhiveserde.formats.IonInputFormat"
ION_OUTPUT = "com.amazon.ionhiveserde.formats.IonOutputFormat"
REGEX_SERDE = "org.apache.hadoop.hive.serde2.RegexSerDe"

CSV_DELIMITERS = (",", "|", "\t", ";", "\u0001")
_ION_BINARY_MAGIC = b"\xe0\x01\x00\xea"
_COMPRESSION_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\xff\x06\x00\x00sNaPpY", "snappy"),
    (b"\x04\x22\x4d\x18", "lz4"),
)
_COLUMN_NAME = re.compile(r"[^a-z0-9_]+")


class Unrecognized(LakeboxError):
    """No classifier recognised the file (Glue's classification UNKNOWN)."""


@dataclass(frozen=True)
class FileFormat:
    """What files must agree on to share a table: format, compression, SerDe settings."""

    classification: str
    compression: str | None
    serde_library: str
    input_format: str
    output_format: str
    serde_parameters: tuple[tuple[str, str], ...] = ()
    table_parameters: tuple[tuple[str, str], ...] = ()
    #: 'dynamodb' for DynamoDB export items (columns read attributes under Item)
    variant: str = ""


@dataclass
class FileSchema:
    uri: str
    size: int
    mtime: float
    format: FileFormat
    columns: list[tuple[str, HType]]
    records: int
    record_bytes: int
    #: Ion path extractors per column (DynamoDB exports in Ion)
    extractors: dict[str, str] = field(default_factory=dict)
    #: the writer schema of an Avro file, kept for avro.schema.literal
    avro_schema: str | None = None

    @property
    def column_names(self) -> frozenset[str]:
        return frozenset(n for n, _ in self.columns)


@dataclass
class Sample:
    """The head of a file: raw bytes, decompressed text bytes and how much is known."""

    raw: bytes
    data: bytes
    codec: str | None
    complete: bool
    raw_consumed: int
    #: decompressed bytes that ``raw_consumed`` bytes of the file expanded to
    decoded: int = 0
    #: the text's charset, once ``_decode`` has looked
    charset: Charset = UTF8

    @property
    def expansion(self) -> float:
        return (self.decoded or len(self.data)) / max(self.raw_consumed, 1)


def column_name(name: str, index: int) -> str:
    """A Hive-safe, lower-case column name; Glue lower-cases and replaces odd characters."""
    clean = _COLUMN_NAME.sub("_", name.strip().lower()).strip("_")
    return clean or f"col{index}"


def dedupe(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if n in seen:
            seen[n] += 1
            n = f"{n}_{seen[n]}"
        seen.setdefault(n, 0)
        out.append(n)
    return out


def detect_codec(name: str, head: bytes) -> str | None:
    by_name = compression.codec_for(name)
    if by_name:
        return by_name
    for magic, codec in _COMPRESSION_MAGIC:
        if head.startswith(magic):
            return codec
    return None


def _streaming_decoder(codec: str) -> Callable[[bytes], bytes] | None:
    if codec == "gzip":
        d = zlib.decompressobj(wbits=47)  # gzip or zlib header, auto-detected
        return d.decompress
    if codec == "bzip2":
        b = bz2.BZ2Decompressor()
        return b.decompress
    if codec == "xz":
        x = lzma.LZMADecompressor()
        return x.decompress
    return None


def read_sample(fh: IO[bytes], info: FileInfo, raw: bytes = b"", limit: int = HEAD_BYTES) -> Sample:
    """The first ``limit`` decompressed bytes of an open file (``raw`` is what was already
    read from it), decoding only what is needed."""
    if not raw:
        raw = fh.read(64 << 10)
    codec = detect_codec(info.uri, raw[:16])
    if codec is None or _is_binary_format(raw):
        if len(raw) < limit:
            raw += fh.read(limit - len(raw))
        return Sample(raw[:16], raw[:limit], None, info.size <= limit, min(info.size, limit))
    decoder = _streaming_decoder(codec)
    if decoder is None:
        if info.size > FULL_DECOMPRESS_LIMIT:
            raise DataError(f"{codec} file too large to sample ({info.size} bytes)", info.uri)
        whole = raw + fh.read()
        data = compression.decompress(whole, codec, info.uri)
        return Sample(raw[:16], data[:limit], codec, len(data) <= limit, len(whole), len(data))
    out = bytearray()
    consumed = 0
    chunk = raw
    try:
        while chunk:
            consumed += len(chunk)
            out += decoder(chunk)
            if len(out) >= limit:
                break
            chunk = fh.read(256 << 10)
    except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as err:
        raise DataError(f"cannot decompress {codec} data ({err})", info.uri) from err
    complete = not chunk and len(out) <= limit
    if not out:
        if info.size > len(raw):
            raise DataError(f"{codec} data decompressed to nothing", info.uri)
        compression.decompress(raw, codec, info.uri)  # raises DataError when corrupt
        # DynamoDB exports write an empty compressed file for each empty partition
        raise Unrecognized(f"empty file ({codec} stream with no data)")
    return Sample(raw[:16], bytes(out[:limit]), codec, complete, consumed, len(out))


def _open(storage: Storage, uri: str, local: str | None = None) -> IO[bytes]:
    """``local`` is the file's path when the caller already knows it: resolving each of
    thousands of URIs through the storage facade costs more than reading their heads."""
    if local is None:
        path = storage.local_path(uri)
        local = str(path) if path is not None else None
    if local is not None:
        return open(local, "rb")  # plain open skips fsspec's overhead per file
    return storage.open(uri)


def _is_binary_format(head: bytes) -> bool:
    return head.startswith((b"PAR1", b"ORC", b"Obj\x01", _ION_BINARY_MAGIC))


class FileClassifier:
    """Classifies files with a crawler's custom classifiers, then Glue's built-in ones."""

    def __init__(self, storage: Storage, custom: list[Classifier] | None = None) -> None:
        self.storage = storage
        self.custom = custom or []
        self._grok: dict[str, CompiledGrok] = {}
        for c in self.custom:
            if c.kind == "grok":
                assert c.pattern is not None
                self._grok[c.name] = compile_grok(c.pattern, c.custom_patterns)
            elif c.kind == "regex":
                assert c.pattern is not None
                self._grok[c.name] = compile_named_regex(c.pattern)

    def classify(
        self, info: FileInfo, dynamodb: bool = False, local: str | None = None
    ) -> FileSchema:
        """Schema of one file; raises DataError for a corrupt file, Unrecognized when no
        classifier matches. ``local`` is the file's local path, when known."""
        with _open(self.storage, info.uri, local) as fh:
            head = fh.read(64 << 10)
            if not head.startswith((b"PAR1", b"ORC", b"Obj\x01")) and info.size:
                sample: Sample | None = read_sample(fh, info, head)
            else:
                sample = None
        if head.startswith(b"PAR1"):
            return self._parquet(info)
        if head.startswith(b"ORC"):
            return self._orc(info)
        if head.startswith(b"Obj\x01"):
            return self._avro(info)
        if sample is None:
            raise Unrecognized("empty file" if not info.size else "unknown binary format")
        if sample.data.startswith(_ION_BINARY_MAGIC):
            return self._ion(info, sample, dynamodb, binary=True)
        text = _decode(sample, info.uri)
        lines = _complete_lines(text, sample.complete)
        for c in self.custom:
            found = self._custom(c, info, sample, text, lines)
            if found is not None:
                return found
        found = self._json(info, sample, text, lines)
        if found is not None:
            return found
        if text.lstrip().startswith("$ion_1_0") or _looks_like_ion(lines):
            return self._ion(info, sample, dynamodb, binary=False)
        for name, grok in BUILTIN_LOGS:
            found = self._log(name, grok, info, sample, lines)
            if found is not None:
                return found
        found = self._csv(info, sample, text, lines)
        if found is not None:
            return found
        raise Unrecognized("no classifier recognised the format (classification UNKNOWN)")

    # -- binary formats ------------------------------------------------------------------
    def _parquet(self, info: FileInfo) -> FileSchema:
        import pyarrow.parquet as pq

        try:
            with _open(self.storage, info.uri) as fh:
                meta = pq.ParquetFile(fh)
                schema = meta.schema_arrow
                rows = meta.metadata.num_rows
        except Exception as err:  # any footer failure means a corrupt file
            raise DataError(f"not a readable Parquet file ({err})", info.uri) from err
        cols = [(f.name.lower(), infer.arrow_htype(f.type)) for f in schema]
        # internal codecs do not matter to readers: Glue writes compressionType none
        fmt = FileFormat(
            "parquet",
            None,
            PARQUET_SERDE,
            PARQUET_INPUT,
            PARQUET_OUTPUT,
            (("serialization.format", "1"),),
        )
        return FileSchema(info.uri, info.size, info.mtime, fmt, cols, rows, info.size)

    def _orc(self, info: FileInfo) -> FileSchema:
        import pyarrow.orc as orc

        try:
            with _open(self.storage, info.uri) as fh:
                reader = orc.ORCFile(fh)
                schema = reader.schema
                rows = reader.nrows
        except Exception as err:  # any footer failure means a corrupt file
            raise DataError(f"not a readable ORC file ({err})", info.uri) from err
        cols = [(f.name.lower(), infer.arrow_htype(f.type)) for f in schema]
        fmt = FileFormat("orc", None, ORC_SERDE, ORC_INPUT, ORC_OUTPUT)
        return FileSchema(info.uri, info.size, info.mtime, fmt, cols, rows, info.size)

    def _avro(self, info: FileInfo) -> FileSchema:
        import fastavro

        try:
            with _open(self.storage, info.uri) as fh:
                blocks = fastavro.block_reader(fh)
                schema = blocks.writer_schema
                rows = sum(b.num_records for b in blocks)
        except Exception as err:  # any header failure means a corrupt file
            raise DataError(f"not a readable Avro file ({err})", info.uri) from err
        top = infer.avro_htype(schema)
        if top.kind != "struct":
            raise Unrecognized("Avro file whose schema is not a record")
        fmt = FileFormat("avro", None, AVRO_SERDE, AVRO_INPUT, AVRO_OUTPUT)
        return FileSchema(
            info.uri,
            info.size,
            info.mtime,
            fmt,
            list(top.fields),
            rows,
            info.size,
            avro_schema=json.dumps(schema, sort_keys=True),
        )

    # -- text formats --------------------------------------------------------------------
    def _json(
        self,
        info: FileInfo,
        sample: Sample,
        text: str,
        lines: list[str],
        json_path: str | None = None,
    ) -> FileSchema | None:
        records: list[Any] = []
        bad = 0
        first = next((ln for ln in lines if ln.strip()), "")
        if not first.lstrip().startswith(("{", "[")):
            return None
        for ln in lines:
            if not ln.strip():
                continue
            try:
                records.append(json.loads(ln))
            except ValueError:
                bad += 1
            if len(records) >= MAX_RECORDS:
                break
        if bad:
            parsed_some = bool(records)
            records = []
            if sample.complete:
                try:  # one pretty-printed document rather than JSON lines
                    records = [json.loads(text)]
                except ValueError:
                    records = []
            if not records:
                if parsed_some:
                    raise DataError(
                        f"not valid JSON: {bad} of the sampled records do not parse", info.uri
                    )
                return None
        records = _select(records, json_path)
        if not records:
            return None
        if all(isinstance(r, Mapping) for r in records):
            top = infer.merge_fields(
                [[(str(k).lower(), infer.json_type(v)) for k, v in r.items()] for r in records]
            )
            cols = list(top.fields)
        elif all(isinstance(r, list) for r in records):
            element = infer.NULL
            for r in records:
                element = infer.merge(element, infer.json_type(r))
            cols = [("array", element)]
        else:
            return None
        if not cols:
            return None
        fmt = FileFormat("json", sample.codec, JSON_SERDE, TEXT_INPUT, TEXT_OUTPUT)
        return self._text_schema(
            info,
            sample,
            fmt,
            cols,
            len(records),
            sum(len(ln.encode()) + 1 for ln in lines[: len(records)]),
        )

    def _ion(self, info: FileInfo, sample: Sample, dynamodb: bool, binary: bool) -> FileSchema:
        from amazon.ion import simpleion

        data = sample.data
        if binary and not sample.complete:
            raise DataError(
                "binary Ion file larger than the sample size; cannot classify", info.uri
            )
        values: list[Any] = []
        try:
            if binary:
                values = list(simpleion.loads(data, single_value=False))
            else:
                text = _decode(sample, info.uri)
                body = text if sample.complete else text[: text.rfind("\n") + 1]
                values = list(simpleion.loads(body, single_value=False))
        except Exception as err:  # the Ion parser raises many kinds
            raise DataError(f"not valid Ion ({err})", info.uri) from err
        structs = [v for v in values[:MAX_RECORDS] if isinstance(v, Mapping)]
        if not structs:
            raise Unrecognized("Ion file without struct values")
        extractors: dict[str, str] = {}
        variant = ""
        if dynamodb and all(list(s.keys()) == ["Item"] for s in structs):
            variant = "dynamodb"
            order: dict[str, HType] = {}
            for s in structs:
                for attr, value in s["Item"].items():
                    name = column_name(str(attr), len(order))
                    t = infer.ion_type(value)
                    order[name] = infer.merge(order[name], t) if name in order else t
                    extractors.setdefault(name, f"(Item {attr})")
            cols = list(order.items())
        else:
            top = infer.merge_fields(
                [[(str(k).lower(), infer.ion_type(v)) for k, v in s.items()] for s in structs]
            )
            cols = list(top.fields)
        fmt = FileFormat("ion", sample.codec, ION_SERDE, ION_INPUT, ION_OUTPUT, variant=variant)
        # Ion values are not lines: the sample's bytes are shared among its values
        sampled = len(sample.data) * min(len(values), MAX_RECORDS) // max(len(values), 1)
        schema = self._text_schema(info, sample, fmt, cols, len(structs), sampled)
        schema.extractors = extractors
        if binary:
            schema.records = len(values)
        return schema

    def _log(
        self,
        classification: str,
        grok: CompiledGrok,
        info: FileInfo,
        sample: Sample,
        lines: list[str],
    ) -> FileSchema | None:
        body = [ln for ln in lines[:MAX_RECORDS] if ln.strip()]
        if not body or not all(grok.compiled.fullmatch(ln) for ln in body):
            return None
        fmt = FileFormat(
            classification,
            sample.codec,
            REGEX_SERDE,
            TEXT_INPUT,
            TEXT_OUTPUT,
            (("input.regex", grok.regex),)
            + (
                ()
                if sample.charset.is_utf8
                else (("serialization.encoding", sample.charset.java_name),)
            ),
        )
        return self._text_schema(
            info,
            sample,
            fmt,
            list(grok.columns),
            len(body),
            sum(len(ln.encode()) + 1 for ln in body),
        )

    def _csv(
        self,
        info: FileInfo,
        sample: Sample,
        text: str,
        lines: list[str],
        custom: Classifier | None = None,
    ) -> FileSchema | None:
        body = "\n".join(lines[: MAX_RECORDS + 1])
        quote = custom.quote_symbol if custom and custom.quote_symbol else '"'
        single = bool(custom and custom.allow_single_column)
        delimiters = (custom.delimiter,) if custom and custom.delimiter else CSV_DELIMITERS
        rows: list[list[str]] | None = None
        delim = ","
        for d in delimiters:
            assert d is not None
            parsed = _parse_csv(body, d, quote)
            if parsed is None or (len(parsed) < 2 and not (custom and custom.header)):
                continue
            width = len(parsed[0])
            if width < 2 and not single:
                continue
            if all(len(r) == width for r in parsed):
                rows, delim = parsed, d
                break
        if rows is None:
            return None
        width = len(rows[0])
        quoted = _is_quoted(lines[: MAX_RECORDS + 1], delim, quote)
        header_mode = custom.contains_header if custom else "UNKNOWN"
        first_types = [infer.text_type(v) for v in rows[0]]
        data_types = [infer.NULL] * width
        for r in rows[1:]:
            data_types = [
                infer.merge(a, infer.text_type(v)) for a, v in zip(data_types, r, strict=True)
            ]
        if header_mode == "PRESENT":
            has_header = True
        elif header_mode == "ABSENT":
            has_header = False
        else:
            # Glue: a header only if every header cell is a string and some data is not
            # (and every header cell but the last shorter than 150 characters)
            has_header = (
                all(t.kind == "string" for t in first_types)
                and any(t.kind not in ("string", "null") for t in data_types)
                and all(len(v) < 150 for v in rows[0][:-1])
            )
        if custom and custom.header:
            names = [column_name(n, i) for i, n in enumerate(custom.header)]
            if len(names) != width:
                return None
            if header_mode == "UNKNOWN":
                has_header = [v.strip().lower() for v in rows[0]] == [
                    h.strip().lower() for h in custom.header
                ]
        elif has_header:
            names = [column_name(v, i) for i, v in enumerate(rows[0])]
        else:
            names = [f"col{i}" for i in range(width)]
        types = (
            data_types
            if has_header
            else [infer.merge(a, b) for a, b in zip(first_types, data_types, strict=True)]
        )
        cols = list(zip(dedupe(names), types, strict=True))
        params = [
            ("columnsOrdered", "true"),
            ("areColumnsQuoted", str(quoted).lower()),
            ("delimiter", delim),
        ]
        if has_header:
            params.append(("skip.header.line.count", "1"))
        sparams: tuple[tuple[str, str], ...]
        if quoted:
            serde, sparams = OPEN_CSV_SERDE, (("separatorChar", delim), ("quoteChar", quote))
        else:
            serde, sparams = LAZY_SIMPLE_SERDE, (("field.delim", delim),)
        if not sample.charset.is_utf8:
            sparams += (("serialization.encoding", sample.charset.java_name),)
        fmt = FileFormat(
            (custom.classification or "csv") if custom else "csv",
            sample.codec,
            serde,
            TEXT_INPUT,
            TEXT_OUTPUT,
            sparams,
            tuple(sorted(params)),
        )
        data_rows = len(rows) - (1 if has_header else 0)
        data_lines = lines[1 : len(rows)] if has_header else lines[: len(rows)]
        return self._text_schema(
            info, sample, fmt, cols, data_rows, sum(len(ln.encode()) + 1 for ln in data_lines)
        )

    def _custom(
        self, c: Classifier, info: FileInfo, sample: Sample, text: str, lines: list[str]
    ) -> FileSchema | None:
        if c.kind in ("grok", "regex"):
            return self._log(c.classification or c.name, self._grok[c.name], info, sample, lines)
        if c.kind == "csv":
            return self._csv(info, sample, text, lines, custom=c)
        found = self._json(info, sample, text, lines, json_path=c.json_path)
        if found is not None and c.classification:
            found.format = FileFormat(c.classification, *_astuple(found.format)[1:])
        return found

    def _text_schema(
        self,
        info: FileInfo,
        sample: Sample,
        fmt: FileFormat,
        cols: list[tuple[str, HType]],
        records: int,
        record_bytes: int,
    ) -> FileSchema:
        if sample.complete:
            return FileSchema(
                info.uri,
                info.size,
                info.mtime,
                fmt,
                cols,
                records,
                record_bytes,
            )
        per_record = max(1, record_bytes // max(records, 1))
        uncompressed = int(info.size * sample.expansion)
        estimate = max(records, uncompressed // per_record)
        return FileSchema(
            info.uri, info.size, info.mtime, fmt, cols, estimate, estimate * per_record
        )


def _astuple(fmt: FileFormat) -> tuple[Any, ...]:
    return (
        fmt.classification,
        fmt.compression,
        fmt.serde_library,
        fmt.input_format,
        fmt.output_format,
        fmt.serde_parameters,
        fmt.table_parameters,
        fmt.variant,
    )


def _decode(sample: Sample, uri: str) -> str:
    """The sample's text; a sample that is not UTF-8 is decoded in the charset it looks
    like (recorded on the sample, and in the table's SerDe parameters by ``_csv``)."""
    data = sample.data
    if b"\x00" in data[:4096] or not data.isascii():
        sample.charset = detect_charset(data)
        wide = sample.charset.codec.startswith(("utf-16", "utf-32"))
        if not wide and not sample.charset.is_utf8 and b"\x00" in data[:4096]:
            raise Unrecognized("binary data of no known format")
    if not sample.charset.is_utf8:
        return decode(data, sample.charset)
    if not sample.complete:
        cut = data.rfind(b"\n")
        data = data[: cut + 1] if cut >= 0 else data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        if b"\x00" in data[:4096]:
            raise Unrecognized("binary data of no known format") from err
        return data.decode("utf-8", errors="replace")


def _complete_lines(text: str, complete: bool) -> list[str]:
    """Lines as Hive's line reader ends them (``\\n``, ``\\r\\n`` or ``\\r``); the last
    one dropped when the sample stops inside it."""
    text = hive_lines(text)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    elif not complete and lines:
        lines = lines[:-1]
    return lines


def _select(records: list[Any], json_path: str | None) -> list[Any]:
    """Records a JSON path such as ``$``, ``$[*]`` or ``$.data[*]`` picks out of documents."""
    if not json_path or json_path.strip() == "$":
        return records
    steps = re.findall(r"\.([A-Za-z0-9_]+)|\[(\*|\d+)\]|\['([^']+)'\]", json_path.strip()[1:])
    current = records
    for name, index, quoted_name in steps:
        nxt: list[Any] = []
        for value in current:
            if name or quoted_name:
                key = name or quoted_name
                if isinstance(value, dict) and key in value:
                    nxt.append(value[key])
            elif index == "*":
                if isinstance(value, list):
                    nxt.extend(value)
            elif isinstance(value, list) and int(index) < len(value):
                nxt.append(value[int(index)])
        current = nxt
    return current[:MAX_RECORDS]


def _looks_like_ion(lines: list[str]) -> bool:
    """Text Ion without the version marker: unquoted struct keys, as in ``{id: 1}``."""
    first = next((ln.strip() for ln in lines if ln.strip()), "")
    return bool(re.match(r"^\{\s*[A-Za-z_$][\w$]*\s*:", first))


def _parse_csv(body: str, delim: str, quote: str) -> list[list[str]] | None:
    try:
        rows = list(csv.reader(io.StringIO(body), delimiter=delim, quotechar=quote, strict=True))
    except csv.Error:
        return None
    rows = [r for r in rows if r]
    return rows[: MAX_RECORDS + 1] if rows else None


def _is_quoted(lines: list[str], delim: str, quote: str) -> bool:
    pattern = re.compile(f"(?:^|{re.escape(delim)}){re.escape(quote)}")
    return any(pattern.search(ln) for ln in lines)
