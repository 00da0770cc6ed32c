"""Firehose-style delivery streams into the lake.

A put appends the records to the stream's write-ahead log (fsync'd) and returns; the
buffer is delivered when it reaches ``SizeInMBs`` (checked on every put, as Firehose does),
when its oldest record is older than ``IntervalInSeconds`` (checked on every put and by
``flush_due``, which a long-lived process runs: ``DeliveryTicker`` in ``lakebox schedule run
--loop``, ``wait_delivered`` in ``lakebox stream put --wait``), or on ``flush``.
Delivery runs the configured processors (Lambda-contract transform, jq metadata
extraction, delimiter), groups records by dynamic partition keys, converts them to
Parquet / ORC when asked, writes one object per prefix, sends failed records to the
error output prefix, registers new partitions in the catalog, and only then advances the
delivered offset. The objects of a delivery in flight are recorded first, so a crash is
undone on restart and the range is delivered again exactly once.

The configuration is Firehose's own ``ExtendedS3DestinationConfiguration`` shape, so a
stream defined for AWS (CLI JSON, CloudFormation properties) works unchanged; lakebox adds
``CatalogTable`` ``{"DatabaseName", "TableName"}`` for partition registration.
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import functools
import gzip
import io
import itertools
import json
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from lakebox.catalog.model import Partition, Table
from lakebox.catalog.store import CatalogStore
from lakebox.errors import EntityNotFoundError, LakeboxError
from lakebox.ingest.convert import ConversionError, RecordConverter, loads, read_records
from lakebox.ingest.errors import (
    InvalidArgumentError,
    ResourceInUseError,
    ResourceNotFoundError,
    ServiceUnavailableError,
    constraint_error,
)
from lakebox.ingest.prefixes import PrefixTemplate, default_error_prefix, validate_prefixes
from lakebox.ingest.transforms import resolve_transform
from lakebox.ingest.wal import DeliveryState, PendingRecords, WriteAheadLog
from lakebox.metadata.files import MetadataFileError, read_metadata_json
from lakebox.names import delivery_stream_name, stream_folder_ok
from lakebox.principal import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, LOCAL_ADMIN, Principal
from lakebox.storage import Storage
from lakebox.storage.uri import bucket_problem, key_problem

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from lakebox.query.lake import LakeParts as Lake

MAX_BATCH_RECORDS = 500
MAX_BATCH_BYTES = 4 * 1024 * 1024
MAX_RECORD_BYTES = 1_024_000
#: the one destination a lakebox stream has, under Firehose's id for it
DESTINATION_ID = "destinationId-000000000001"
_FAILPOINT_ENV = "LAKEBOX_INGEST_FAILPOINT"


def _failpoint(name: str) -> None:
    """Crash injection for durability tests: ``LAKEBOX_INGEST_FAILPOINT=<name>`` kills the
    process at that point, as a power cut would."""
    if os.environ.get(_FAILPOINT_ENV) == name:
        os.kill(os.getpid(), 9)


# -- configuration ----------------------------------------------------------------------


@dataclass(frozen=True)
class Processor:
    type: str
    params: dict[str, str]


@dataclass(frozen=True)
class Conversion:
    output: str  # PARQUET | ORC
    database: str
    table: str
    compression: str


@dataclass
class StreamConfig:
    name: str
    arn: str
    version: int
    created: float
    bucket: str
    prefix: PrefixTemplate
    error_prefix: PrefixTemplate | None
    size_mb: int
    interval_s: int
    compression: str
    processors: list[Processor]
    dynamic_partitioning: bool
    conversion: Conversion | None
    catalog_table: tuple[str, str] | None
    backup_bucket: str | None
    backup_prefix: str
    file_extension: str
    destination: dict[str, Any] = field(default_factory=dict)
    #: the lake's account and region, for the ARNs the stream names
    account_id: str = DEFAULT_ACCOUNT_ID
    region: str = DEFAULT_REGION

    @property
    def lambda_processor(self) -> Processor | None:
        return next((p for p in self.processors if p.type == "Lambda"), None)

    @property
    def metadata_query(self) -> str | None:
        p = next((p for p in self.processors if p.type == "MetadataExtraction"), None)
        return p.params.get("MetadataExtractionQuery") if p else None

    @property
    def delimiter(self) -> bytes | None:
        p = next((p for p in self.processors if p.type == "AppendDelimiterToRecord"), None)
        if p is None:
            return None
        return p.params.get("Delimiter", "\\n").encode().decode("unicode_escape").encode()


def _bucket_from_arn(arn: str, member: str) -> str:
    if not isinstance(arn, str):
        raise constraint_error(arn, member, "Member must be a string")
    if arn.startswith("arn:aws:s3:::") and len(arn) > len("arn:aws:s3:::"):
        bucket = arn[len("arn:aws:s3:::") :].split("/")[0]
    elif arn.startswith("s3://"):
        bucket = arn[5:].split("/")[0]
    else:
        raise constraint_error(
            arn, member, "Member must satisfy regular expression pattern: arn:.*:s3:::.*"
        )
    problem = bucket_problem(bucket)
    if problem:
        raise InvalidArgumentError(f"{member} {arn!r}: invalid bucket name {bucket!r}: {problem}")
    return bucket


def _check_prefix_keys(template: PrefixTemplate, member: str) -> None:
    """Refuse a prefix whose fixed text would climb out of the bucket: rendered with a
    harmless value for every expression, it must be an acceptable key (values computed
    from records are checked again at delivery)."""
    sample = "".join(p if isinstance(p, str) else "x" for p in template.parts)
    problem = key_problem(sample)
    if problem:
        raise InvalidArgumentError(f"{member} {template.text!r} is refused: {problem}")


def _int_in(value: Any, member: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as err:
        raise constraint_error(value, member, "Member must be an integer") from err
    if number < low:
        raise constraint_error(
            value, member, f"Member must have value greater than or equal to {low}"
        )
    if number > high:
        raise constraint_error(
            value, member, f"Member must have value less than or equal to {high}"
        )
    return number


def parse_config(
    name: str,
    dest: dict[str, Any],
    version: int = 1,
    created: float | None = None,
    *,
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
) -> StreamConfig:
    """Validate an ExtendedS3DestinationConfiguration the way Firehose does."""
    if "BucketARN" not in dest:
        raise constraint_error(
            None, "extendedS3DestinationConfiguration.bucketARN", "Member must not be null"
        )
    bucket = _bucket_from_arn(dest["BucketARN"], "extendedS3DestinationConfiguration.bucketARN")
    fmt = dest.get("DataFormatConversionConfiguration") or {}
    conversion: Conversion | None = None
    if fmt and fmt.get("Enabled", True):
        schema = fmt.get("SchemaConfiguration") or {}
        if not schema.get("DatabaseName") or not schema.get("TableName"):
            raise InvalidArgumentError(
                "DataFormatConversionConfiguration.SchemaConfiguration needs DatabaseName "
                "and TableName of the catalog table whose schema records are converted to"
            )
        serializer = (fmt.get("OutputFormatConfiguration") or {}).get("Serializer") or {}
        if "OrcSerDe" in serializer:
            out, comp = "ORC", (serializer["OrcSerDe"] or {}).get("Compression", "SNAPPY")
        elif "ParquetSerDe" in serializer or not serializer:
            out = "PARQUET"
            comp = (serializer.get("ParquetSerDe") or {}).get("Compression", "SNAPPY")
        else:
            raise InvalidArgumentError(
                f"unsupported serializer {sorted(serializer)}: use ParquetSerDe or OrcSerDe"
            )
        deser = (fmt.get("InputFormatConfiguration") or {}).get("Deserializer") or {}
        if deser and not ({"OpenXJsonSerDe", "HiveJsonSerDe"} & set(deser)):
            raise InvalidArgumentError("Deserializer must be OpenXJsonSerDe or HiveJsonSerDe")
        conversion = Conversion(
            out, schema["DatabaseName"].lower(), schema["TableName"].lower(), comp.upper()
        )
    dyn = bool((dest.get("DynamicPartitioningConfiguration") or {}).get("Enabled", False))
    hints = dest.get("BufferingHints") or {}
    big = conversion is not None or dyn
    size = _int_in(
        hints.get("SizeInMBs", 128 if big else 5),
        "extendedS3DestinationConfiguration.bufferingHints.sizeInMBs",
        1,
        128,
    )
    interval = _int_in(
        hints.get("IntervalInSeconds", 300),
        "extendedS3DestinationConfiguration.bufferingHints.intervalInSeconds",
        0,
        900,
    )
    if big and size < 64:
        what = "data format conversion" if conversion else "dynamic partitioning"
        raise InvalidArgumentError(
            f"BufferingHints.SizeInMBs must be at least 64 when {what} is enabled (got {size})"
        )
    compression = dest.get("CompressionFormat", "UNCOMPRESSED")
    if compression not in ("UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY"):
        raise constraint_error(
            compression,
            "extendedS3DestinationConfiguration.compressionFormat",
            "Member must satisfy enum value set: [UNCOMPRESSED, GZIP, ZIP, Snappy, HADOOP_SNAPPY]",
        )
    if compression not in ("UNCOMPRESSED", "GZIP"):
        raise InvalidArgumentError(
            f"CompressionFormat {compression} is not supported by lakebox; use GZIP or UNCOMPRESSED"
        )
    if conversion is not None and compression != "UNCOMPRESSED":
        raise InvalidArgumentError(
            "CompressionFormat must be UNCOMPRESSED when data format conversion is enabled; "
            "set the serializer's Compression instead"
        )
    processors: list[Processor] = []
    proc_cfg = dest.get("ProcessingConfiguration") or {}
    if proc_cfg.get("Enabled", bool(proc_cfg.get("Processors"))):
        for p in proc_cfg.get("Processors") or []:
            shapes = p.get("Parameters") or [] if isinstance(p, dict) else None
            if not isinstance(shapes, list) or not all(
                isinstance(x, dict) and {"ParameterName", "ParameterValue"} <= set(x)
                for x in shapes
            ):
                raise InvalidArgumentError(
                    f"processor {p!r} is malformed: each processor is "
                    '{"Type": ..., "Parameters": [{"ParameterName": ..., "ParameterValue": ...}]}'
                )
            params = {
                x["ParameterName"]: str(x["ParameterValue"]) for x in p.get("Parameters") or []
            }
            kind = p.get("Type")
            if kind not in ("Lambda", "MetadataExtraction", "AppendDelimiterToRecord"):
                raise InvalidArgumentError(
                    f"processor type {kind!r} is not supported: use Lambda, "
                    "MetadataExtraction or AppendDelimiterToRecord"
                )
            if kind == "AppendDelimiterToRecord":
                try:
                    params.get("Delimiter", "\\n").encode().decode("unicode_escape")
                except UnicodeDecodeError as err:
                    raise InvalidArgumentError(
                        f"Delimiter {params['Delimiter']!r} is not a valid escaped string: {err}"
                    ) from err
            if kind == "Lambda" and "LambdaArn" not in params:
                raise InvalidArgumentError("Lambda processor needs the LambdaArn parameter")
            if kind == "MetadataExtraction":
                query = params.get("MetadataExtractionQuery")
                if not query:
                    raise InvalidArgumentError(
                        "MetadataExtraction processor needs MetadataExtractionQuery"
                    )
                if not dyn:
                    raise InvalidArgumentError(
                        "MetadataExtraction requires dynamic partitioning to be enabled"
                    )
                _compile_jq(query)
            processors.append(Processor(kind, params))
    prefix, err_prefix = validate_prefixes(
        dest.get("Prefix", "") or "", dest.get("ErrorOutputPrefix") or None, dyn
    )
    _check_prefix_keys(prefix, "Prefix")
    if err_prefix is not None:
        _check_prefix_keys(err_prefix, "ErrorOutputPrefix")
    if prefix.query_keys and not any(p.type == "MetadataExtraction" for p in processors):
        raise InvalidArgumentError(
            "Prefix uses !{partitionKeyFromQuery:...} but no MetadataExtraction processor "
            "defines the keys"
        )
    if prefix.lambda_keys and not any(p.type == "Lambda" for p in processors):
        raise InvalidArgumentError(
            "Prefix uses !{partitionKeyFromLambda:...} but no Lambda processor is configured"
        )
    catalog: tuple[str, str] | None = None
    ct = dest.get("CatalogTable")
    if ct:
        catalog = (ct["DatabaseName"].lower(), ct["TableName"].lower())
    elif conversion is not None:
        catalog = (conversion.database, conversion.table)
    backup_bucket, backup_prefix = None, ""
    if dest.get("S3BackupMode", "Disabled") == "Enabled":
        bcfg = dest.get("S3BackupConfiguration") or {}
        backup_bucket = _bucket_from_arn(
            bcfg.get("BucketARN", dest["BucketARN"]), "s3BackupConfiguration.bucketARN"
        )
        backup_prefix = bcfg.get("Prefix", "") or ""
        problem = key_problem(str(backup_prefix))
        if problem:
            raise InvalidArgumentError(
                f"S3BackupConfiguration.Prefix {backup_prefix!r} is refused: {problem}"
            )
    ext = dest.get("FileExtension") or (".gz" if compression == "GZIP" else "")
    return StreamConfig(
        name=name,
        arn=f"arn:aws:firehose:{region}:{account_id}:deliverystream/{name}",
        version=version,
        created=created or time.time(),
        bucket=bucket,
        prefix=prefix,
        error_prefix=err_prefix,
        size_mb=size,
        interval_s=interval,
        compression=compression,
        processors=processors,
        dynamic_partitioning=dyn,
        conversion=conversion,
        catalog_table=catalog,
        backup_bucket=backup_bucket,
        backup_prefix=backup_prefix,
        file_extension=ext,
        destination=dest,
        account_id=account_id,
        region=region,
    )


@functools.lru_cache(maxsize=256)
def _compile_jq(query: str) -> Any:
    import jq

    try:
        return jq.compile(query)
    except ValueError as err:
        raise InvalidArgumentError(
            f"MetadataExtractionQuery {query!r} is not valid jq: {err}"
        ) from err


# -- delivery ---------------------------------------------------------------------------


@dataclass
class _Item:
    record_id: str
    arrival_ms: int
    raw: bytes
    data: bytes
    keys: dict[str, str] = field(default_factory=dict)


@dataclass
class _Failure:
    item: _Item
    error_type: str
    code: str
    message: str
    attempts: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Part:
    """Some of a group's records: converted one by one (``items``), or vectorised (the
    ``rows`` of ``records``; ``data`` their bytes after the delimiter, or ``table`` whose
    same rows are them converted)."""

    items: list[_Item] | None = None
    records: PendingRecords | None = None
    rows: np.ndarray | None = None
    data: bytes | bytearray = b""
    table: pa.Table | None = None


@dataclass
class _Group:
    """The records bound for one prefix, in record order."""

    oldest: int
    parts: list[_Part] = field(default_factory=list)


@dataclass(frozen=True)
class _VectorPlan:
    """How a delivery parses its records at once: the fields Arrow is asked for, whether
    other keys are inferred (to see keys that differ from a column only by case), the
    partition keys' paths, and the converter."""

    fields: list[pa.Field]
    infer: bool
    keys: dict[str, tuple[str, ...]]
    converter: RecordConverter | None


_JQ_WORDS = frozenset(
    {"and", "or", "not", "if", "then", "elif", "else", "end", "as", "def", "reduce"}
    | {"foreach", "try", "catch", "label", "import", "include", "__loc__"}
    | {"true", "false", "null"}
)
_JQ_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_JQ_ENTRY = re.compile(rf'\s*(?:({_JQ_NAME})|"([A-Za-z0-9_ -]*)")\s*:\s*((?:\.{_JQ_NAME})+)\s*')


def simple_query_paths(query: str) -> dict[str, tuple[str, ...]] | None:
    """``{key: .a.b, ...}`` as {key: ("a", "b")} (a later duplicate key wins, as in jq), or
    None for any other jq program."""
    text = query.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return None
    out: dict[str, tuple[str, ...]] = {}
    for entry in text[1:-1].split(","):
        m = _JQ_ENTRY.fullmatch(entry)
        if m is None:
            return None
        key = m.group(1) or m.group(2)
        path = tuple(m.group(3)[1:].split("."))
        if m.group(1) in _JQ_WORDS or _JQ_WORDS & set(path):
            return None
        out[key] = path
    return out or None


@dataclass(frozen=True)
class StreamDescription:
    """A delivery stream as DescribeDeliveryStream reports it. ``destination`` is Firehose's
    ExtendedS3DestinationDescription document (the configuration with its defaults)."""

    name: str
    arn: str
    status: str
    stream_type: str
    version_id: str
    created: float
    destination: dict[str, Any]
    buffered_records: int
    delivery_due_at: dt.datetime | None
    #: who created it (Firehose's description names no caller, so answers leave it out)
    created_by: str = LOCAL_ADMIN.arn


@dataclass(frozen=True)
class StreamPage:
    """One page of stream names, in name order."""

    names: list[str]
    has_more: bool


class RecordResult(NamedTuple):
    """One record's answer in a batch: its id, or why it was not stored. (A named tuple:
    a put of 500 records makes 500 of them, and a tuple is made several times faster
    than a frozen dataclass.)"""

    record_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None


def _accepted(ids: list[str]) -> list[RecordResult]:
    """``[RecordResult(i) for i in ids]``, built by tuple's own constructor over zipped
    columns (a third of the cost: a put answers 500 of them)."""
    nothing = itertools.repeat(None)
    rows = zip(ids, nothing, nothing, strict=False)  # the repeats are endless
    return list(map(tuple.__new__, itertools.repeat(RecordResult), rows))


@dataclass(frozen=True)
class BatchResult:
    """PutRecordBatch's answer: one result per record, in order."""

    failed_put_count: int
    records: list[RecordResult]


@dataclass
class DeliveryReport:
    """What one delivery wrote."""

    records: int = 0
    delivered: int = 0
    dropped: int = 0
    failed: int = 0
    objects: list[str] = field(default_factory=list)
    error_objects: list[str] = field(default_factory=list)
    partitions: list[list[str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "Records": self.records,
            "Delivered": self.delivered,
            "Dropped": self.dropped,
            "Failed": self.failed,
            "Objects": self.objects,
            "ErrorObjects": self.error_objects,
            "Partitions": self.partitions,
        }


@dataclass(frozen=True)
class BufferStatus:
    """A stream's buffer: what waits to be delivered and when the interval makes it due."""

    stream: str
    records: int
    bytes: int
    oldest_arrival_ms: int | None
    size_mb: int
    interval_s: int

    @property
    def due_at(self) -> dt.datetime | None:
        """When ``IntervalInSeconds`` makes the buffer due (UTC), or None when empty."""
        if self.oldest_arrival_ms is None:
            return None
        return _utc(self.oldest_arrival_ms + self.interval_s * 1000)


def _utc(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class _Delivery:
    """One delivery of a stream's pending records; pure computation until ``objects``."""

    def __init__(self, cfg: StreamConfig, catalog: CatalogStore, stream_uid: str) -> None:
        self.cfg = cfg
        self.catalog = catalog
        self.uid = stream_uid
        self.failures: list[_Failure] = []
        self.dropped = 0
        self._conv: RecordConverter | str | None = None

    def object_name(self, oldest_ms: int) -> str:
        t = _utc(oldest_ms)
        return (
            f"{self.cfg.name}-{self.cfg.version}-{t:%Y-%m-%d-%H-%M-%S}-{uuid.uuid4()}"
            f"{self.cfg.file_extension}"
        )

    def item(self, records: PendingRecords, i: int) -> _Item:
        rec = records.record(i)
        return _Item(record_id(self.uid, rec.seq), rec.arrival_ms, rec.data, rec.data)

    def items(self, records: PendingRecords) -> list[_Item]:
        return [self.item(records, i) for i in range(len(records))]

    def run(
        self, records: PendingRecords
    ) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]], list[Partition]]:
        """(data objects incl. backup, error objects, partitions) for these records."""
        outputs: list[tuple[str, bytes]] = []
        if self.cfg.backup_bucket is not None and len(records):
            oldest = int(records.arrivals.min())
            prefix = self.cfg.backup_prefix + f"{_utc(oldest):%Y/%m/%d/%H}/"
            backup = self._compress(records.data)
            outputs.append(
                (f"s3://{self.cfg.backup_bucket}/{prefix}{self.object_name(oldest)}", backup)
            )
        groups: dict[tuple[tuple[str, str], ...], _Group] = {}
        if self.cfg.lambda_processor is not None:
            items = self._transform(self.items(records), self.cfg.lambda_processor)
            self._one_by_one(items, groups)
        else:
            self._vectorised(records, groups)
        partitions: list[Partition] = []
        table = self._catalog_table()
        for keys, group in groups.items():
            body = self._body(group)
            if body is None:
                continue
            prefix = self.cfg.prefix.render(_utc(group.oldest), dict(keys))
            problem = key_problem(prefix)
            if problem:  # a partition key value such as '..' would leave the bucket
                for i in self._group_items(group):
                    self.failures.append(
                        _Failure(
                            i,
                            "partitioning-failed",
                            "DynamicPartitioning.InvalidPrefix",
                            f"the evaluated prefix {prefix!r} is refused: {problem}",
                        )
                    )
                continue
            uri = f"s3://{self.cfg.bucket}/{prefix}{self.object_name(group.oldest)}"
            outputs.append((uri, body))
            part = self._partition(table, f"s3://{self.cfg.bucket}/{prefix}")
            if part is not None:
                partitions.append(part)
        return outputs, self._error_objects(), partitions

    def _one_by_one(
        self, items: list[_Item], groups: dict[tuple[tuple[str, str], ...], _Group]
    ) -> None:
        """Partition keys, delimiter and grouping record by record (after a transform, or
        for records the vectorised path cannot take)."""
        query = self.cfg.metadata_query
        if query is not None:
            items = self._extract(items, query)
        delim = self.cfg.delimiter
        if delim is not None:
            for i in items:
                i.data += delim
        by_keys: dict[tuple[tuple[str, str], ...], list[_Item]] = {}
        for i in items:
            by_keys.setdefault(tuple(sorted(i.keys.items())), []).append(i)
        for keys, group in by_keys.items():
            oldest = min(i.arrival_ms for i in group)
            found = groups.setdefault(keys, _Group(oldest))
            found.oldest = min(found.oldest, oldest)
            found.parts.append(_Part(items=group))

    # vectorised ------------------------------------------------------------------------
    #: below this many records a failed vectorised parse is not split again
    SPLIT_MIN = 1024

    def _vectorised(
        self, records: PendingRecords, groups: dict[tuple[tuple[str, str], ...], _Group]
    ) -> None:
        """Records parsed by Arrow in one pass; when a stretch cannot be (a bad record, a
        value outside the proved forms), it is halved until the bad records are handled
        one by one, so one bad record costs little."""
        import numpy as np

        plan = self._plan() if self.cfg.metadata_query or self.cfg.conversion else None
        if plan is None and (self.cfg.metadata_query or self.cfg.conversion):
            self._one_by_one(self.items(records), groups)
            return
        stack = [np.arange(len(records), dtype=np.int64)]
        while stack:
            idx = stack.pop()
            part = records.take(idx)
            if self._vector_part(part, plan, groups):
                continue
            if len(idx) < self.SPLIT_MIN:
                self._one_by_one(self.items(part), groups)
            else:
                half = len(idx) // 2
                stack += [idx[half:], idx[:half]]

    def _plan(self) -> _VectorPlan | None:
        fields: dict[str, pa.Field] = {}
        converter: RecordConverter | None = None
        if self.cfg.conversion is not None:
            conv = self._converter()
            if isinstance(conv, str):
                return None
            parse = conv.parse_fields()
            if parse is None:
                return None
            converter = conv
            fields = {f.name: f for f in parse}
        keys: dict[str, tuple[str, ...]] = {}
        query = self.cfg.metadata_query
        if query is not None:
            import pyarrow as pa

            paths = simple_query_paths(query)
            wanted = self.cfg.prefix.query_keys
            if paths is None or not all(k in paths for k in wanted):
                return None
            for key, path in paths.items():
                if key not in wanted and len(path) > 1:
                    return None  # evaluated by jq, and could fail there
                leaf: pa.DataType = pa.string()
                for name in reversed(path[1:]):
                    leaf = pa.struct([pa.field(name, leaf)])
                have = fields.get(path[0])
                if have is not None and have.type != leaf:
                    return None
                fields[path[0]] = pa.field(path[0], leaf)
            keys = {k: paths[k] for k in wanted}
        return _VectorPlan(list(fields.values()), converter is not None, keys, converter)

    def _vector_part(
        self,
        records: PendingRecords,
        plan: _VectorPlan | None,
        groups: dict[tuple[tuple[str, str], ...], _Group],
    ) -> bool:
        """Deliver ``records`` vectorised into ``groups``; False (nothing done) when that
        cannot be proved equal to the one-by-one path."""
        delim = self.cfg.delimiter
        delimited = records if delim is None else _append_each(records, delim)
        data, offsets = delimited.data, delimited.offsets
        table: pa.Table | None = None
        values: list[pa.Array] = []
        if plan is not None:
            parsed = read_records(offsets, data, plan.fields, plan.infer)
            if parsed is None:
                return False
            for path in plan.keys.values():
                column = parsed.column(path[0]).combine_chunks()
                for name in path[1:]:
                    column = column.flatten()[column.type.get_field_index(name)]
                if column.null_count:
                    return False  # the one-by-one path names these records
                values.append(column)
            if plan.converter is not None:
                table = plan.converter.from_parsed(parsed)
                if table is None:
                    return False
            del parsed  # the converted columns are what is kept
        names = [f"partitionKeyFromQuery:{k}" for k in (plan.keys if plan else {})]
        order, stretches = _group_rows(names, values, len(records))
        if len(stretches) > 1 and table is None:  # one gather into group order, then slices
            delimited = delimited.take(order)
        for keys, start, stop in stretches:
            rows = order[start:stop]
            part = _Part(records=records, rows=rows)
            if table is not None:
                part.table = table  # its rows are gathered when the group is written
            else:
                first, last = int(delimited.offsets[start]), int(delimited.offsets[stop])
                part.data = delimited.data[first:last]
            oldest = int(records.arrivals[rows].min())
            found = groups.setdefault(keys, _Group(oldest))
            found.oldest = min(found.oldest, oldest)
            found.parts.append(part)
        return True

    def _group_items(self, group: _Group) -> list[_Item]:
        out: list[_Item] = []
        for part in group.parts:
            if part.items is not None:
                out.extend(part.items)
            elif part.records is not None and part.rows is not None:
                out.extend(self.items(part.records.take(part.rows)))
        return out

    # processors -----------------------------------------------------------------------
    def _transform(self, items: list[_Item], proc: Processor) -> list[_Item]:
        arn = proc.params["LambdaArn"]
        retries = int(proc.params.get("NumberOfRetries", "3"))
        event = {
            "invocationId": str(uuid.uuid4()),
            "deliveryStreamArn": self.cfg.arn,
            "region": self.cfg.region,
            "records": [
                {
                    "recordId": i.record_id,
                    "approximateArrivalTimestamp": i.arrival_ms,
                    "data": _b64(i.data),
                }
                for i in items
            ],
        }
        error: str = ""
        response: Any = None
        attempts = 0
        for attempts in range(1, retries + 2):  # noqa: B007 - attempts is reported
            try:
                fn = resolve_transform(arn)
                response = fn(event, None)
                break
            except LakeboxError as err:
                error, response = f"{err}", None
                break
            except Exception as err:
                error, response = f"{type(err).__name__}: {err}", None
        if response is None:
            self._fail_all(
                items,
                "Lambda.FunctionError",
                error or "the transform returned nothing",
                attempts,
                arn,
            )
            return []
        by_id = {i.record_id: i for i in items}
        out: list[_Item] = []
        seen: set[str] = set()
        results = response.get("records") if isinstance(response, dict) else None
        if not isinstance(results, list):
            self._fail_all(
                items,
                "Lambda.InvalidOutput",
                "the transform's response has no 'records' list",
                attempts,
                arn,
            )
            return []
        for res in results:
            rid = res.get("recordId") if isinstance(res, dict) else None
            item = by_id.get(rid) if isinstance(rid, str) else None
            if item is None or rid in seen:
                continue
            seen.add(rid)  # type: ignore[arg-type]
            result = res.get("result")
            if result == "Dropped":
                self.dropped += 1
                continue
            if result != "Ok":
                code = (
                    "Lambda.ProcessingFailed"
                    if result == "ProcessingFailed"
                    else "Lambda.InvalidResult"
                )
                msg = (
                    "the transform marked the record ProcessingFailed"
                    if result == "ProcessingFailed"
                    else f"invalid result {result!r}"
                )
                self.failures.append(
                    _Failure(item, "processing-failed", code, msg, attempts, {"lambdaArn": arn})
                )
                continue
            try:
                data = base64.b64decode(res.get("data", ""), validate=True)
            except (ValueError, TypeError):
                self.failures.append(
                    _Failure(
                        item,
                        "processing-failed",
                        "Lambda.InvalidData",
                        "the transform returned data that is not base64",
                        attempts,
                        {"lambdaArn": arn},
                    )
                )
                continue
            keys = (res.get("metadata") or {}).get("partitionKeys") or {}
            new = _Item(
                item.record_id,
                item.arrival_ms,
                item.raw,
                data,
                {f"partitionKeyFromLambda:{k}": str(v) for k, v in keys.items()},
            )
            out.append(new)
        missing = [i for i in items if i.record_id not in seen]
        for i in missing:
            self.failures.append(
                _Failure(
                    i,
                    "processing-failed",
                    "Lambda.MissingRecordId",
                    "the transform's response has no entry for this recordId",
                    attempts,
                    {"lambdaArn": arn},
                )
            )
        return out

    def _fail_all(
        self, items: list[_Item], code: str, message: str, attempts: int, arn: str
    ) -> None:
        for i in items:
            self.failures.append(
                _Failure(i, "processing-failed", code, message, attempts, {"lambdaArn": arn})
            )

    def _extract(self, items: list[_Item], query: str) -> list[_Item]:
        """Partition keys per record. All records go through jq in one call (as one JSON
        array, so a malformed or multi-document record fails the batch parse); when that
        fails, records are evaluated one by one to find the bad ones."""
        wanted = self.cfg.prefix.query_keys
        results: list[Any] | None = None
        if len(items) > 1:
            try:
                text = b"[" + b",".join(i.data for i in items) + b"]"
                batch = _compile_jq(f"[.[] | [({query})]]")
                results = batch.input_text(text.decode("utf-8")).first()
            except (ValueError, UnicodeDecodeError):
                results = None
        prog = _compile_jq(query)
        out = []
        for n, i in enumerate(items):
            try:
                if results is not None:
                    found = results[n]
                    if len(found) != 1:
                        raise ValueError("the query did not produce exactly one result")
                    result = found[0]
                else:
                    result = prog.input_text(i.data.decode("utf-8")).first()
                if not isinstance(result, dict):
                    raise ValueError("the query did not produce a JSON object")
                for key in wanted:
                    value = result.get(key)
                    if value is None:
                        raise ValueError(f"partition key {key!r} is missing or null")
                    if isinstance(value, dict | list):
                        raise ValueError(f"partition key {key!r} is not a scalar")
                    text_value = json.dumps(value) if isinstance(value, bool) else str(value)
                    i.keys[f"partitionKeyFromQuery:{key}"] = text_value
                out.append(i)
            except (ValueError, UnicodeDecodeError, StopIteration) as err:
                # StopIteration: jq produced nothing, e.g. for an empty record
                self.failures.append(
                    _Failure(
                        i,
                        "partitioning-failed",
                        "DynamicPartitioning.MetadataExtractionFailed",
                        f"{err}" or "the query produced no result",
                    )
                )
        return out

    # bodies -----------------------------------------------------------------------------
    def _compress(self, data: bytes | bytearray) -> bytes:
        if self.cfg.compression == "GZIP":
            return gzip.compress(data, compresslevel=6, mtime=0)
        return bytes(data)

    def _catalog_table(self) -> Table | None:
        if self.cfg.catalog_table is None:
            return None
        try:
            return self.catalog.get_table(*self.cfg.catalog_table)
        except EntityNotFoundError:
            return None

    def _converter(self) -> RecordConverter | str:
        """The schema converter, built once per delivery (or why there is none)."""
        if self._conv is None:
            conv = self.cfg.conversion
            assert conv is not None
            try:
                table = self.catalog.get_table(conv.database, conv.table)
                self._conv = RecordConverter(table.columns)
            except EntityNotFoundError as err:
                self._conv = str(err)
        return self._conv

    def _body(self, group: _Group) -> bytes | None:
        conv = self.cfg.conversion
        if conv is None:
            chunks = [
                b"".join(i.data for i in part.items) if part.items is not None else part.data
                for part in group.parts
            ]
            return self._compress(b"".join(chunks))  # a group holds records: empty ones too
        converter = self._converter()
        if isinstance(converter, str):
            for i in self._group_items(group):
                self._conversion_failure(i, "DataFormatConversion.InvalidSchema", converter)
            return None
        tables = []
        for part in group.parts:
            if part.table is not None:
                chosen = part.rows
                if chosen is None or len(chosen) == part.table.num_rows:
                    tables.append(part.table)
                else:
                    tables.append(part.table.take(_arrow_indices(chosen)))
            elif part.items is not None:
                rows = self._rows(converter, part.items)
                if rows:
                    tables.append(converter.table(rows))
        if not tables:
            return None
        import pyarrow as pa

        arrow = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
        buf = io.BytesIO()
        if conv.output == "PARQUET":
            import pyarrow.parquet as pq

            codec = {"UNCOMPRESSED": "none"}.get(conv.compression, conv.compression.lower())
            pq.write_table(arrow, buf, compression=codec)
        else:
            import pyarrow.orc as orc

            codec = {"NONE": "uncompressed"}.get(conv.compression, conv.compression.lower())
            orc.write_table(arrow, buf, compression=codec)
        return buf.getvalue()

    def _rows(self, converter: RecordConverter, items: list[_Item]) -> list[list[Any]]:
        """Records converted one by one; a bad one goes to the error output."""
        rows = []
        for i in items:
            try:
                rows.append(converter.row(loads(i.data)))
            except ValueError as err:  # JSONDecodeError and ConversionError
                code = (
                    "DataFormatConversion.MalformedData"
                    if not isinstance(err, ConversionError) or "record is a JSON" in str(err)
                    else "DataFormatConversion.InvalidData"
                )
                self._conversion_failure(i, code, str(err))
        return rows

    def _conversion_failure(self, item: _Item, code: str, message: str) -> None:
        conv = self.cfg.conversion
        assert conv is not None
        self.failures.append(
            _Failure(
                item,
                "format-conversion-failed",
                code,
                message,
                1,
                {
                    "lastErrorCode": code,
                    "lastErrorMessage": message,
                    "dataCatalogTableArn": (
                        f"arn:aws:glue:{self.cfg.region}:{self.cfg.account_id}:table/"
                        f"{conv.database}/{conv.table}"
                    ),
                },
            )
        )

    def _error_objects(self) -> list[tuple[str, bytes]]:
        by_type: dict[str, list[_Failure]] = {}
        for f in self.failures:
            by_type.setdefault(f.error_type, []).append(f)
        template = self.cfg.error_prefix or default_error_prefix()
        now = int(time.time() * 1000)
        out = []
        for kind, fails in by_type.items():
            oldest = min(f.item.arrival_ms for f in fails)
            lines = []
            for f in fails:
                doc = {
                    "attemptsMade": f.attempts,
                    "arrivalTimestamp": f.item.arrival_ms,
                    "errorCode": f.code,
                    "errorMessage": f.message,
                    "attemptEndingTimestamp": now,
                    "rawData": _b64(f.item.raw),
                    "recordId": f.item.record_id,
                    **f.extra,
                }
                lines.append(json.dumps(doc, separators=(",", ":")))
            prefix = template.render(_utc(oldest), error_type=kind)
            name = (
                f"{self.cfg.name}-{self.cfg.version}-{_utc(oldest):%Y-%m-%d-%H-%M-%S}-"
                f"{uuid.uuid4()}"
            )
            out.append(
                (f"s3://{self.cfg.bucket}/{prefix}{name}", ("\n".join(lines) + "\n").encode())
            )
        return out

    def _partition(self, table: Table | None, prefix_uri: str) -> Partition | None:
        """The catalog partition a delivered prefix belongs to: ``key=value`` folders by
        name, otherwise the folders below the table location in key order."""
        if table is None or not table.partition_keys or not table.location:
            return None
        base = table.location if table.location.endswith("/") else table.location + "/"
        base = base.replace("s3a://", "s3://").replace("s3n://", "s3://")
        if not prefix_uri.startswith(base):
            return None
        segments = [s for s in prefix_uri[len(base) :].split("/") if s]
        keys = [k.name.lower() for k in table.partition_keys]
        named = dict(s.split("=", 1) for s in segments if "=" in s)
        named = {k.lower(): v for k, v in named.items()}
        if all(k in named for k in keys):
            from urllib.parse import unquote

            values = [unquote(named[k]) for k in keys]
            depth = (
                max(
                    i
                    for i, s in enumerate(segments)
                    if "=" in s and s.split("=", 1)[0].lower() in keys
                )
                + 1
            )
        elif len(segments) >= len(keys):
            values, depth = segments[: len(keys)], len(keys)
        else:
            return None
        location = base + "".join(s + "/" for s in segments[:depth])
        return Partition(table.database, table.name, values, location)


def _append_each(records: PendingRecords, delim: bytes) -> PendingRecords:
    """The records, each followed by ``delim``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from lakebox.ingest.convert import binary_scalar

    big = pa.large_binary()
    joined = pc.binary_join_element_wise(
        records.binary(), binary_scalar(b"", big), binary_scalar(delim, big)
    )
    offsets = records.offsets + len(delim) * np.arange(len(records) + 1, dtype=np.int64)
    data = joined.buffers()[2].to_pybytes()[: int(offsets[-1])]
    return PendingRecords(records.seqs, records.arrivals, offsets, data)


def _arrow_indices(indices: np.ndarray) -> pa.Array:
    """Row numbers as an Arrow array, without a copy (``pa.array`` would first import
    numpy.ma to look for a mask)."""
    import pyarrow as pa

    return pa.Array.from_buffers(pa.int64(), len(indices), [None, pa.py_buffer(indices)])


def _numpy_indices(indices: pa.Array) -> np.ndarray:
    """Dictionary indices as int64 numbers, read from the array's buffer: its
    ``to_numpy()`` first asks whether pandas is installed, importing it if so (0.3-0.5 s
    of a stream's first delivery). Indices with nulls go through ``to_numpy()`` as before
    (which refuses them)."""
    import numpy as np
    import pyarrow as pa

    if indices.null_count or not pa.types.is_integer(indices.type):
        return indices.to_numpy().astype(np.int64)
    kind = "i" if pa.types.is_signed_integer(indices.type) else "u"
    dtype = np.dtype(f"{kind}{indices.type.bit_width // 8}")
    return np.frombuffer(
        indices.buffers()[1],
        dtype=dtype,
        count=len(indices),
        offset=indices.offset * dtype.itemsize,
    ).astype(np.int64)


def _group_rows(
    names: list[str], values: list[pa.Array], count: int
) -> tuple[np.ndarray, list[tuple[tuple[tuple[str, str], ...], int, int]]]:
    """Rows grouped by their partition key values (text): the row numbers in group order
    (ascending within a group), and per group its sorted (name, value) pairs and its
    stretch of that order; groups in order of their first row."""
    import numpy as np
    import pyarrow.compute as pc

    if not names:
        return np.arange(count, dtype=np.int64), [((), 0, count)]
    dictionaries, indices = [], []
    for column in values:
        encoded = pc.dictionary_encode(column)
        dictionaries.append(encoded.dictionary.to_pylist())
        indices.append(_numpy_indices(encoded.indices))
    # one row of dictionary indices per record, compared whole: a single number mixing
    # the keys' indices would overflow with a few keys of thousands of values each
    # and silently put records under another key's prefix
    keys = np.stack(indices, axis=1)
    uniques, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    rank = np.empty(len(uniques), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(uniques))
    order = np.argsort(rank[inverse], kind="stable")
    bounds = np.concatenate(([0], np.cumsum(np.bincount(rank[inverse]))))
    groups = []
    for g in np.argsort(first):
        labels = [words[int(at)] for words, at in zip(dictionaries, uniques[g], strict=True)]
        pairs = zip(names, labels, strict=True)
        r = int(rank[g])
        groups.append((tuple(sorted(pairs)), int(bounds[r]), int(bounds[r + 1])))
    return order.astype(np.int64), groups


def record_id(stream_uid: str, seq: int) -> str:
    return record_ids(stream_uid, [seq])[0]


def record_ids(stream_uid: str, seqs: Iterable[int]) -> list[str]:
    """The ids of records ``seqs``: the stream's uid and the 20-digit sequence number
    (%-formatting: a put names 500 records, and it is the fastest spelling)."""
    spelling = stream_uid.replace("%", "%%") + "%020d"
    return [spelling % s for s in seqs]


def record_seq(rid: str) -> int:
    """The log sequence number inside a record id (its last 20 digits)."""
    return int(rid[-20:])


def record_too_large(size: int, member: str) -> LakeboxError:
    """AWS's ValidationException for a record over 1,000 KiB."""
    return constraint_error(
        f"<{size} bytes>",
        member,
        f"Member must have length less than or equal to {MAX_RECORD_BYTES}",
    )


# -- the service ------------------------------------------------------------------------


class DeliveryStreams:
    """Firehose's control and data plane for one lake. Safe across processes: every
    operation on a stream holds that stream's file lock."""

    def __init__(
        self,
        lake: Lake | None = None,
        *,
        storage: Storage | None = None,
        catalog: CatalogStore | None = None,
        metadata_dir: Path | None = None,
        account_id: str = DEFAULT_ACCOUNT_ID,
        region: str = DEFAULT_REGION,
    ) -> None:
        if lake is not None:
            storage, catalog = lake.storage, lake.catalog
            metadata_dir = lake.config.metadata_dir
            account_id, region = lake.config.account_id, lake.config.region
        if storage is None or catalog is None or metadata_dir is None:
            raise InvalidArgumentError(
                "DeliveryStreams needs a Lake or storage, catalog and metadata_dir"
            )
        self.storage = storage
        self.catalog = catalog
        self.account_id = account_id
        self.region = region
        self.root = metadata_dir / "streams"
        self.root.mkdir(parents=True, exist_ok=True)
        #: write-ahead logs by stream uid (a re-created stream gets a new one)
        self._wals: dict[str, WriteAheadLog] = {}
        self._configs: dict[str, tuple[tuple[int, int, int], StreamConfig, str]] = {}
        #: why the last delivery started by a put failed (the put itself succeeded)
        self.last_delivery_error: Exception | None = None

    # -- helpers --------------------------------------------------------------------------
    def _dir(self, name: str) -> Path:
        """A stream's folder; a name that cannot be one is a stream that does not exist."""
        if not stream_folder_ok(name):
            raise ResourceNotFoundError(
                f"Firehose {name} under account {self.account_id} not found."
            )
        return self.root / name

    def _doc(self, name: str) -> dict[str, Any]:
        path = self._dir(name) / "stream.json"
        if not path.exists():
            raise ResourceNotFoundError(
                f"Firehose {name} under account {self.account_id} not found."
            )
        return read_metadata_json(path)

    def _parsed(self, name: str) -> tuple[StreamConfig, str]:
        """stream.json's configuration and uid; a file lakebox did not write this way is a
        damaged metadata file, named."""
        doc = self._doc(name)
        try:
            cfg = parse_config(
                name,
                doc["ExtendedS3DestinationConfiguration"],
                int(doc["VersionId"]),
                doc["CreateTimestamp"],
                account_id=self.account_id,
                region=self.region,
            )
            uid = doc["Uid"]
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise MetadataFileError(
                self._dir(name) / "stream.json", f"field {err} missing or of the wrong type"
            ) from err
        return cfg, str(uid)

    def config(self, name: str, *, principal: Principal = LOCAL_ADMIN) -> StreamConfig:
        return self._parsed(name)[0]

    @contextmanager
    def _locked(
        self, name: str
    ) -> Iterator[tuple[StreamConfig, WriteAheadLog, DeliveryState, str]]:
        folder = self._dir(name)
        if not (folder / "stream.json").exists():
            self._doc(name)
        with open(folder / "lock", "a+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                cfg, uid = self._config_cached(name)
                wal = self._wals.get(uid)
                if wal is None:
                    wal = self._wals[uid] = WriteAheadLog(folder)
                state = wal.load_state()
                if state.intent is not None:
                    self._undo(wal, state)
                yield cfg, wal, state, uid
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _config_cached(self, name: str) -> tuple[StreamConfig, str]:
        """The parsed configuration and stream uid, re-read only when stream.json changed
        (it is replaced atomically, so a new inode or mtime means a new definition)."""
        path = self._dir(name) / "stream.json"
        try:
            st = path.stat()
        except FileNotFoundError:
            self._doc(name)
            raise
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        hit = self._configs.get(name)
        if hit is not None and hit[0] == key:
            return hit[1], hit[2]
        cfg, uid = self._parsed(name)
        self._configs[name] = (key, cfg, uid)
        return cfg, uid

    def _undo(self, wal: WriteAheadLog, state: DeliveryState) -> None:
        """Remove what a crashed delivery wrote; its records are still pending."""
        assert state.intent is not None
        for uri in state.intent.get("objects", []):
            self.storage.delete(uri)
        state.intent = None
        wal.save_state(state)

    # -- control plane --------------------------------------------------------------------
    def create_delivery_stream(
        self,
        name: str,
        destination: Mapping[str, Any] | None,
        *,
        stream_type: str = "DirectPut",
        principal: Principal = LOCAL_ADMIN,
    ) -> str:
        """Create a stream delivering to ``destination`` (Firehose's
        ExtendedS3DestinationConfiguration document); answers the stream's ARN."""
        delivery_stream_name(name)
        if destination is None:
            raise InvalidArgumentError(
                "a destination is required: ExtendedS3DestinationConfiguration"
            )
        dest = dict(destination)
        if stream_type != "DirectPut":
            raise InvalidArgumentError(
                f"DeliveryStreamType {stream_type} is not supported: use DirectPut"
            )
        cfg = parse_config(name, dest, account_id=self.account_id, region=self.region)
        if cfg.catalog_table is not None:
            self.catalog.get_table(*cfg.catalog_table)
        folder = self._dir(name)
        try:
            folder.mkdir(parents=True)
        except FileExistsError:
            if (folder / "stream.json").exists():
                raise ResourceInUseError(
                    f"Firehose {name} under accountId {self.account_id} already exists"
                ) from None
        doc = {
            "DeliveryStreamName": name,
            "DeliveryStreamARN": cfg.arn,
            "DeliveryStreamType": stream_type,
            "VersionId": "1",
            "CreateTimestamp": cfg.created,
            "Uid": uuid.uuid4().hex[:12],
            "ExtendedS3DestinationConfiguration": dest,
            "LakeboxCreatedBy": principal.arn,
        }
        from lakebox.ingest.wal import write_json_atomic

        write_json_atomic(folder / "stream.json", doc)
        return cfg.arn

    def update_destination(
        self,
        name: str,
        current_version_id: str,
        update: Mapping[str, Any] | None = None,
        *,
        destination_id: str = DESTINATION_ID,
        principal: Principal = LOCAL_ADMIN,
    ) -> None:
        """Merge an update into the destination and bump VersionId (which object names
        carry). Records buffered under the old configuration are delivered with it first."""
        if destination_id != DESTINATION_ID:
            raise InvalidArgumentError(f"Destination {destination_id} not found")
        with self._locked(name) as (cfg, wal, state, uid):
            doc = self._doc(name)
            if str(current_version_id) != doc["VersionId"]:
                from lakebox.errors import ConcurrentModificationError

                raise ConcurrentModificationError(
                    f"Cannot update firehose: {name} since the current version "
                    f"id: {doc['VersionId']} and specified version id: "
                    f"{current_version_id} do not match"
                )
            dest = {**doc["ExtendedS3DestinationConfiguration"], **(update or {})}
            version = int(doc["VersionId"]) + 1
            new_cfg = parse_config(
                name,
                dest,
                version,
                doc["CreateTimestamp"],
                account_id=self.account_id,
                region=self.region,
            )
            if new_cfg.catalog_table is not None:
                self.catalog.get_table(*new_cfg.catalog_table)
            self._deliver(cfg, wal, state, uid)
            from lakebox.ingest.wal import write_json_atomic

            doc.update(VersionId=str(version), ExtendedS3DestinationConfiguration=dest)
            write_json_atomic(self._dir(name) / "stream.json", doc)

    def describe_delivery_stream(
        self, name: str, *, principal: Principal = LOCAL_ADMIN
    ) -> StreamDescription:
        doc = self._doc(name)
        cfg = self.config(name)
        dest = dict(doc["ExtendedS3DestinationConfiguration"])
        dest["BufferingHints"] = {"SizeInMBs": cfg.size_mb, "IntervalInSeconds": cfg.interval_s}
        dest.setdefault("CompressionFormat", cfg.compression)
        dest.setdefault("S3BackupMode", "Disabled")
        status = self.buffer_status(name)
        return StreamDescription(
            name=name,
            arn=cfg.arn,
            status="ACTIVE",
            stream_type=doc["DeliveryStreamType"],
            version_id=doc["VersionId"],
            created=cfg.created,
            destination=dest,
            buffered_records=status.records,
            delivery_due_at=status.due_at,
            created_by=doc.get("LakeboxCreatedBy", LOCAL_ADMIN.arn),
        )

    def delete_delivery_stream(
        self, name: str, *, allow_force_delete: bool = False, principal: Principal = LOCAL_ADMIN
    ) -> None:
        """Delivers what is buffered first (unless forced), then removes the stream."""
        if not allow_force_delete:
            self.flush(name)
        self._doc(name)
        folder = self._dir(name)
        graveyard = self.root / f".deleted-{name}-{uuid.uuid4().hex}"
        os.replace(folder, graveyard)
        shutil.rmtree(graveyard, ignore_errors=True)
        self._configs.pop(name, None)

    def list_delivery_streams(
        self,
        limit: int = 10,
        exclusive_start_name: str | None = None,
        *,
        principal: Principal = LOCAL_ADMIN,
    ) -> StreamPage:
        names = sorted(
            p.name
            for p in self.root.iterdir()
            if not p.name.startswith(".") and (p / "stream.json").exists()
        )
        if exclusive_start_name:
            names = [n for n in names if n > exclusive_start_name]
        limit = _int_in(limit, "limit", 1, 10000)
        return StreamPage(names[:limit], len(names) > limit)

    # -- data plane -----------------------------------------------------------------------
    def put_record(
        self, name: str, data: bytes | str, *, principal: Principal = LOCAL_ADMIN
    ) -> str:
        """Store one record; answers its record id."""
        datas = self._validate([data], "record")
        try:
            ids = self._append(name, datas)
        except OSError as err:
            raise ServiceUnavailableError(
                f"the record was not stored in stream {name}: {err}; "
                "nothing was kept, so it is safe to send it again"
            ) from err
        return ids[0]

    def put_record_batch(
        self, name: str, records: Sequence[bytes | str], *, principal: Principal = LOCAL_ADMIN
    ) -> BatchResult:
        """Firehose's PutRecordBatch. A request that breaks a constraint (no records, more
        than 500, a record over 1,000 KiB, more than 4 MiB in all) fails as a whole with
        ``ValidationException`` / ``InvalidArgumentException`` and nothing is kept, as in
        AWS. A call that cannot store its records answers per record, as AWS does with
        ``ServiceUnavailableException`` entries and ``failed_put_count``."""
        if not records:
            raise constraint_error(
                "[]", "records", "Member must have length greater than or equal to 1"
            )
        if len(records) > MAX_BATCH_RECORDS:
            raise constraint_error(
                f"[{len(records)} records]",
                "records",
                f"Member must have length less than or equal to {MAX_BATCH_RECORDS}",
            )
        datas = self._validate(records, "records")
        try:
            ids = self._append(name, datas)
        except OSError as err:
            failed = RecordResult(
                error_code="ServiceUnavailableException",
                error_message=f"the record was not stored: {err}",
            )
            return BatchResult(len(datas), [failed for _ in datas])
        return BatchResult(0, _accepted(ids))

    def put(
        self, name: str, *records: bytes | str | dict[str, Any], principal: Principal = LOCAL_ADMIN
    ) -> list[str]:
        """Convenience: put raw bytes, text or JSON objects (one JSON document each). Every
        record is checked before the first is stored, so a bad one stores nothing."""
        datas = [
            r
            if isinstance(r, bytes)
            else (r.encode() if isinstance(r, str) else json.dumps(r).encode())
            for r in records
        ]
        self._validate(datas, "records")
        out: list[str] = []
        for start in range(0, len(datas), MAX_BATCH_RECORDS):
            chunk = datas[start : start + MAX_BATCH_RECORDS]
            result = self.put_record_batch(name, chunk)
            if result.failed_put_count:
                first = next(r for r in result.records if r.error_code)
                raise ServiceUnavailableError(
                    f"{len(out)} records were stored in stream {name}, then "
                    f"{first.error_message}; send only records[{len(out)}:] again"
                )
            out.extend(r.record_id for r in result.records if r.record_id is not None)
        return out

    @staticmethod
    def _validate(records: Sequence[object], member: str) -> list[bytes]:
        """The records' data, or AWS's ValidationException for the first that breaks a
        constraint (the whole request fails, as Firehose's does)."""
        if set(map(type, records)) == {bytes}:  # the usual case, checked in bulk
            given = cast("list[bytes]", list(records))
            sizes = list(map(len, given))
            if max(sizes) <= MAX_RECORD_BYTES and sum(sizes) <= MAX_BATCH_BYTES:
                return given
        datas: list[bytes] = []
        for n, data in enumerate(records, 1):
            where = f"{member}.{n}.member.data" if member == "records" else f"{member}.data"
            if isinstance(data, str):
                data = data.encode()
            if not isinstance(data, bytes | bytearray | memoryview):
                raise constraint_error(None, where, "Member must not be null")
            data = bytes(data)
            if len(data) > MAX_RECORD_BYTES:
                raise record_too_large(len(data), where)
            datas.append(data)
        if sum(len(d) for d in datas) > MAX_BATCH_BYTES:
            raise InvalidArgumentError(f"the batch is larger than {MAX_BATCH_BYTES} bytes (4 MiB)")
        return datas

    def _append(self, name: str, datas: list[bytes]) -> list[str]:
        now = int(time.time() * 1000)
        with self._locked(name) as (cfg, wal, state, uid):
            seqs = wal.append(now, datas, state)
            try:
                self._maybe_deliver(cfg, wal, state, uid)
            except (LakeboxError, OSError) as err:
                # The records are durable and acknowledged; failing the put would make the
                # caller retry and deliver them twice. The next flush retries the delivery.
                self.last_delivery_error = err
        return record_ids(uid, seqs)

    def _maybe_deliver(
        self, cfg: StreamConfig, wal: WriteAheadLog, state: DeliveryState, uid: str
    ) -> DeliveryReport | None:
        if wal.pending_data_bytes(state) >= cfg.size_mb * 1024 * 1024:
            return self._deliver(cfg, wal, state, uid)
        oldest = wal.oldest_arrival_ms(state)
        if oldest is not None and time.time() * 1000 - oldest >= cfg.interval_s * 1000:
            return self._deliver(cfg, wal, state, uid)
        return None

    def flush(self, name: str, *, principal: Principal = LOCAL_ADMIN) -> DeliveryReport:
        """Deliver everything buffered now, whatever the buffering hints say."""
        with self._locked(name) as (cfg, wal, state, uid):
            return self._deliver(cfg, wal, state, uid)

    def flush_due(
        self,
        name: str | None = None,
        *,
        errors: dict[str, Exception] | None = None,
        principal: Principal = LOCAL_ADMIN,
    ) -> dict[str, DeliveryReport]:
        """Deliver the buffers whose hints are met: what Firehose's own timer does. A
        long-lived process calls it every second or so (``DeliveryTicker``). With ``errors``,
        a stream whose delivery fails is noted there and the other streams still go (its
        records stay buffered and the next call retries); without, the failure raises."""
        names = [name] if name else self.list_delivery_streams(10000).names
        out = {}
        for n in names:
            try:
                with self._locked(n) as (cfg, wal, state, uid):
                    report = self._maybe_deliver(cfg, wal, state, uid)
            except ResourceNotFoundError:
                if name:
                    raise
                continue  # deleted since it was listed
            except (LakeboxError, OSError) as err:
                if errors is None:
                    raise
                errors[n] = err
                continue
            if report is not None:
                out[n] = report
        return out

    def buffer_status(self, name: str, *, principal: Principal = LOCAL_ADMIN) -> BufferStatus:
        """What is buffered in ``name`` and when the interval makes it due."""
        with self._locked(name) as (cfg, wal, state, _uid):
            pending = wal.pending(state)
        return BufferStatus(
            name,
            len(pending),
            sum(len(r.data) for r in pending),
            pending[0].arrival_ms if pending else None,
            cfg.size_mb,
            cfg.interval_s,
        )

    def _delivered_upto(self, name: str) -> tuple[int, int | None, int]:
        """(first undelivered seq, oldest buffered arrival ms, interval) without a scan."""
        with self._locked(name) as (cfg, wal, state, _uid):
            return state.delivered, wal.oldest_arrival_ms(state), cfg.interval_s

    def wait_delivered(
        self,
        name: str,
        record_ids: list[str],
        timeout: float,
        poll: float = 0.5,
        *,
        principal: Principal = LOCAL_ADMIN,
    ) -> bool:
        """Block until the records ``record_ids`` of ``name`` are delivered, delivering the
        buffer when its hints make it due (never earlier), for at most ``timeout`` seconds.
        Another process delivering them counts too. Returns whether they were delivered; a
        delivery that fails is retried each poll and left in ``last_delivery_error``."""
        if not record_ids:
            return True
        last = max(record_seq(r) for r in record_ids)
        deadline = time.monotonic() + timeout
        while True:
            delivered, oldest, interval = self._delivered_upto(name)
            if delivered > last:
                return True
            if oldest is None:
                return False  # the log holds none of them: the stream was re-created
            to_due = oldest / 1000 + interval - time.time()
            if to_due <= 0:
                try:
                    self.flush_due(name)
                    continue
                except ResourceNotFoundError:
                    raise
                except (LakeboxError, OSError) as err:
                    self.last_delivery_error = err
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(max(0.01, min(poll, left, to_due if to_due > 0 else poll)))

    def _deliver(
        self, cfg: StreamConfig, wal: WriteAheadLog, state: DeliveryState, uid: str
    ) -> DeliveryReport:
        records = wal.pending_records(state)
        report = DeliveryReport(records=len(records))
        if not len(records):
            return report
        delivery = _Delivery(cfg, self.catalog, uid)
        outputs, errors, partitions = delivery.run(records)
        upto = int(records.seqs[-1]) + 1
        state.intent = {"upto": upto, "objects": [uri for uri, _ in outputs + errors]}
        wal.save_state(state)
        for n, (uri, body) in enumerate(outputs + errors):
            self.storage.write_bytes(uri, body)
            if n == 0:
                _failpoint("after-first-object")
        if partitions:
            self.catalog.add_partitions(partitions, if_not_exists=True)
        _failpoint("before-commit")
        state.delivered = upto
        state.intent = None
        state.deliveries += 1
        wal.save_state(state)
        wal.truncate_delivered(state)
        report.objects = [u for u, _ in outputs]
        report.error_objects = [u for u, _ in errors]
        report.failed = len(delivery.failures)
        report.dropped = delivery.dropped
        report.delivered = report.records - report.failed - report.dropped
        report.partitions = [p.values for p in partitions]
        return report


class DeliveryTicker:
    """Honours the buffering interval in a long-lived process: a daemon thread that runs
    ``flush_due`` every ``poll`` seconds until stopped. ``lakebox schedule run --loop``
    runs one; ``lakebox serve`` is meant to run one the same way (start it with the
    server, stop it on shutdown). Puts from any process are seen, since the state lives in
    the streams' logs. A stream whose delivery fails is reported once per distinct error
    through ``on_error`` and retried on every tick; its records stay buffered."""

    def __init__(
        self,
        streams: DeliveryStreams,
        poll: float = 1.0,
        on_delivery: Callable[[str, DeliveryReport], None] | None = None,
        on_error: Callable[[str, Exception], None] | None = None,
    ) -> None:
        self.streams = streams
        self.poll = poll
        self.on_delivery = on_delivery
        self.on_error = on_error
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reported: dict[str, str] = {}

    def tick(self) -> dict[str, DeliveryReport]:
        """One round: deliver every due buffer now (also usable without the thread)."""
        errors: dict[str, Exception] = {}
        reports = self.streams.flush_due(errors=errors)
        for name, report in reports.items():
            self._reported.pop(name, None)
            if self.on_delivery is not None:
                self.on_delivery(name, report)
        for name, err in errors.items():
            if self._reported.get(name) != str(err) and self.on_error is not None:
                self.on_error(name, err)
            self._reported[name] = str(err)
        return reports

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except (LakeboxError, OSError) as err:  # the streams folder itself failed
                if self._reported.get("") != str(err) and self.on_error is not None:
                    self.on_error("", err)
                self._reported[""] = str(err)
            self._stop.wait(self.poll)

    def start(self) -> DeliveryTicker:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="lakebox-stream-delivery", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the delivery in progress, if any (it is never cut short)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> DeliveryTicker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
