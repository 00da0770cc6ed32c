"""One plugin per table format: what the catalog, CTAS and the writers know about it.

A plugin is engine-neutral: its SerDe class and input / output format names (how a table
finds its plugin), the CTAS ``format`` value that writes it, Athena's default compression and
the codecs it accepts. Engines bind plugins by ``name`` to their readers and writers
(``lakebox.engine.duckdb.formats`` for reading, ``lakebox.engine.duckdb.write`` for writing).

The built-in plugins are listed once, in ``BUILTIN_PLUGINS``; ``register_plugin`` adds others.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lakebox.catalog.model import Table
from lakebox.errors import UnsupportedError

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
ORC_SERDE = "org.apache.hadoop.hive.ql.io.orc.OrcSerde"
ORC_INPUT = "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat"
ORC_OUTPUT = "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat"
AVRO_SERDE = "org.apache.hadoop.hive.serde2.avro.AvroSerDe"
AVRO_INPUT = "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat"
AVRO_OUTPUT = "org.apache.hadoop.hive.ql.io.avro.AvroContainerOutputFormat"
ION_SERDE = "com.amazon.ionhiveserde.IonHiveSerDe"
ION_INPUT = "com.amazon.ionhiveserde.formats.IonInputFormat"
ION_OUTPUT = "com.amazon.ionhiveserde.formats.IonOutputFormat"
HIVE_JSON_SERDE = "org.apache.hive.hcatalog.data.JsonSerDe"
OPENX_JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
CLOUDTRAIL_SERDE = "com.amazon.emr.hive.serde.CloudTrailSerde"
CLOUDTRAIL_INPUT = "com.amazon.emr.cloudtrail.CloudTrailInputFormat"
LAZY_SIMPLE_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
OPEN_CSV_SERDE = "org.apache.hadoop.hive.serde2.OpenCSVSerde"
TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
MULTI_DELIMIT_SERDE = "org.apache.hadoop.hive.serde2.MultiDelimitSerDe"
#: the older class name AWS's documentation still shows
MULTI_DELIMIT_SERDE_CONTRIB = "org.apache.hadoop.hive.contrib.serde2.MultiDelimitSerDe"
REGEX_SERDE = "org.apache.hadoop.hive.serde2.RegexSerDe"
#: the hive-contrib class name older DDL uses for the same SerDe
REGEX_SERDE_ALIASES = ("org.apache.hadoop.hive.contrib.serde2.RegexSerDe",)
GROK_SERDE = "com.amazonaws.glue.serde.GrokSerDe"

#: the codecs of line-oriented formats (Athena name -> writer's name)
TEXT_CODECS = {"GZIP": "gzip", "ZSTD": "zstd", "NONE": "none"}
#: file-name extensions of compressed line-oriented files, by writer codec
TEXT_CODEC_EXTENSIONS = {"gzip": ".gz", "zstd": ".zst"}


@dataclass(frozen=True)
class WriteSpec:
    """How a format is written: the ``format`` name CTAS / UNLOAD take (or, for INSERT-only
    formats, the name messages use), Athena's default compression and the codecs accepted
    (Athena name -> the writer's name), and how its files are named and described."""

    format: str
    default_compression: str
    codecs: dict[str, str]
    extension: str
    #: CTAS and UNLOAD may choose it with ``format = ...`` (INSERT INTO only otherwise)
    ctas: bool = True
    #: extensions appended for a codec (text-like formats; binary formats compress inside)
    codec_extensions: dict[str, str] = field(default_factory=dict)
    #: the table property recording the compression of a written table; INSERT INTO reads
    #: ``write.compression`` first, then this (``orc.compress`` when None, as Athena's
    #: tables written by older engines may carry it)
    compression_property: str | None = None
    #: ``write.compression`` is recorded when the codec is not "none"
    records_write_compression: bool = False
    #: ``field_delimiter`` may be given (and is recorded as ``field.delim``)
    field_delimiter: bool = False
    #: text whose charset the table declares: lakebox writes UTF-8 only
    text: bool = False
    #: ``ion_encoding`` may be given
    ion_encoding: bool = False
    #: the CTAS table records an ``avro.schema.literal`` of its columns
    avro_schema: bool = False
    #: the CTAS table records the JSON SerDe's ``paths``
    json_paths: bool = False
    #: CTAS's ``<format>_compression`` property that names this format only
    legacy_compression_key: str | None = None


@dataclass(frozen=True)
class FormatPlugin:
    """One table format. ``name`` is what engines bind their readers and writers to."""

    name: str
    #: SerDe class names that select this plugin (the first is the one CTAS writes)
    serdes: tuple[str, ...] = ()
    #: input formats that select it when a table names no SerDe
    input_formats: tuple[str, ...] = ()
    #: input formats that select it whatever the SerDe says: CloudTrail tables in AWS's docs
    #: pair the Hive JsonSerDe with CloudTrailInputFormat, whose files are one JSON document
    #: of many records, not JSON lines
    framing_input_formats: tuple[str, ...] = ()
    #: the input / output format a written table records
    input_format: str | None = None
    output_format: str | None = None
    #: None: lakebox reads the format but does not write it
    write: WriteSpec | None = None

    @property
    def serde(self) -> str:
        return self.serdes[0]


BUILTIN_PLUGINS: tuple[FormatPlugin, ...] = (
    FormatPlugin(
        "parquet",
        (PARQUET_SERDE,),
        (PARQUET_INPUT,),
        input_format=PARQUET_INPUT,
        output_format=PARQUET_OUTPUT,
        write=WriteSpec(
            "PARQUET",
            "GZIP",
            {
                "GZIP": "gzip",
                "SNAPPY": "snappy",
                "ZSTD": "zstd",
                "LZ4": "lz4",
                "NONE": "uncompressed",
                "UNCOMPRESSED": "uncompressed",
            },
            ".parquet",
            compression_property="parquet.compression",
            legacy_compression_key="parquet_compression",
        ),
    ),
    FormatPlugin(
        "orc",
        (ORC_SERDE,),
        (ORC_INPUT,),
        input_format=ORC_INPUT,
        output_format=ORC_OUTPUT,
        write=WriteSpec(
            "ORC",
            "ZLIB",
            {
                "ZLIB": "zlib",
                "SNAPPY": "snappy",
                "ZSTD": "zstd",
                "LZ4": "lz4",
                "NONE": "uncompressed",
            },
            ".orc",
            compression_property="orc.compress",
            legacy_compression_key="orc_compression",
        ),
    ),
    FormatPlugin(
        "avro",
        (AVRO_SERDE,),
        (AVRO_INPUT,),
        input_format=AVRO_INPUT,
        output_format=AVRO_OUTPUT,
        write=WriteSpec(
            "AVRO",
            "NONE",
            {"DEFLATE": "deflate", "SNAPPY": "snappy", "NONE": "null"},
            ".avro",
            avro_schema=True,
        ),
    ),
    FormatPlugin(
        "json",
        (HIVE_JSON_SERDE,),
        input_format=TEXT_INPUT,
        output_format=TEXT_OUTPUT,
        write=WriteSpec(
            "JSON",
            "GZIP",
            TEXT_CODECS,
            ".json",
            codec_extensions=TEXT_CODEC_EXTENSIONS,
            records_write_compression=True,
            json_paths=True,
        ),
    ),
    FormatPlugin(
        "text",
        (LAZY_SIMPLE_SERDE,),
        (TEXT_INPUT,),
        input_format=TEXT_INPUT,
        output_format=TEXT_OUTPUT,
        write=WriteSpec(
            "TEXTFILE",
            "GZIP",
            TEXT_CODECS,
            "",
            codec_extensions=TEXT_CODEC_EXTENSIONS,
            records_write_compression=True,
            field_delimiter=True,
            text=True,
        ),
    ),
    FormatPlugin(
        "ion",
        (ION_SERDE,),
        (ION_INPUT,),
        input_format=ION_INPUT,
        output_format=ION_OUTPUT,
        write=WriteSpec(
            "ION",
            "GZIP",
            TEXT_CODECS,
            ".ion",
            codec_extensions=TEXT_CODEC_EXTENSIONS,
            records_write_compression=True,
            ion_encoding=True,
        ),
    ),
    # INSERT INTO only: Athena writes OpenCSVSerde tables whose columns are all strings
    FormatPlugin(
        "csv",
        (OPEN_CSV_SERDE,),
        input_format=TEXT_INPUT,
        output_format=TEXT_OUTPUT,
        write=WriteSpec(
            "CSV",
            "GZIP",
            TEXT_CODECS,
            ".csv",
            ctas=False,
            codec_extensions=TEXT_CODEC_EXTENSIONS,
            text=True,
        ),
    ),
    FormatPlugin("openx-json", (OPENX_JSON_SERDE,)),
    FormatPlugin(
        "cloudtrail",
        (CLOUDTRAIL_SERDE,),
        (CLOUDTRAIL_INPUT,),
        framing_input_formats=(CLOUDTRAIL_INPUT,),
    ),
    FormatPlugin("multidelimit", (MULTI_DELIMIT_SERDE, MULTI_DELIMIT_SERDE_CONTRIB)),
    FormatPlugin("regex", (REGEX_SERDE, *REGEX_SERDE_ALIASES)),
    FormatPlugin("grok", (GROK_SERDE,)),
)


class PluginRegistry:
    """Plugins by SerDe class, input format and CTAS format name (keys case-insensitive)."""

    def __init__(self, plugins: tuple[FormatPlugin, ...] = ()) -> None:
        self.by_name: dict[str, FormatPlugin] = {}
        self._by_serde: dict[str, FormatPlugin] = {}
        self._by_input_format: dict[str, FormatPlugin] = {}
        self._framing: dict[str, FormatPlugin] = {}
        #: CTAS / UNLOAD ``format`` values, in the order messages list them
        self.ctas_formats: dict[str, FormatPlugin] = {}
        for plugin in plugins:
            self.register(plugin)

    def register(self, plugin: FormatPlugin) -> None:
        self.by_name[plugin.name] = plugin
        for s in plugin.serdes:
            self._by_serde[s.lower()] = plugin
        for f in plugin.input_formats:
            self._by_input_format[f.lower()] = plugin
        for f in plugin.framing_input_formats:
            self._framing[f.lower()] = plugin
        if plugin.write is not None and plugin.write.ctas:
            self.ctas_formats[plugin.write.format] = plugin

    def known_serdes(self) -> list[str]:
        return sorted(self._by_serde)

    def by_serde(self, serde: str) -> FormatPlugin | None:
        return self._by_serde.get(serde.lower())

    def format_for(self, table: Table) -> FormatPlugin:
        """The plugin for a table: by a framing input format, then by SerDe class, then by
        input format."""
        framing = self._framing.get((table.input_format or "").lower())
        if framing is not None:
            return framing
        if table.serde_library:
            plugin = self._by_serde.get(table.serde_library.lower())
            if plugin is None:
                raise UnsupportedError(
                    f"SerDe {table.serde_library!r} of table {table.qualified_name} is not "
                    f"supported; known SerDes: {', '.join(self.known_serdes())}"
                )
            return plugin
        if table.input_format:
            plugin = self._by_input_format.get(table.input_format.lower())
            if plugin is not None:
                return plugin
        raise UnsupportedError(
            f"table {table.qualified_name} names no SerDe this lakebox can read "
            f"(input format {table.input_format!r})"
        )


#: the process's plugins: the built-in ones plus any ``register_plugin`` added
PLUGINS = PluginRegistry(BUILTIN_PLUGINS)


def register_plugin(plugin: FormatPlugin) -> None:
    PLUGINS.register(plugin)


def format_for(table: Table) -> FormatPlugin:
    return PLUGINS.format_for(table)


def plugin_for_serde(serde: str) -> FormatPlugin | None:
    return PLUGINS.by_serde(serde)


def ctas_format(name: str) -> FormatPlugin | None:
    """The plugin CTAS / UNLOAD ``format = name`` writes (None when unknown)."""
    return PLUGINS.ctas_formats.get(name.upper())


def ctas_format_names() -> list[str]:
    return list(PLUGINS.ctas_formats)


def known_serdes() -> list[str]:
    return PLUGINS.known_serdes()
