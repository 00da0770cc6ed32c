"""Grouping classified files into tables and partitions, as the Glue crawler does.

Starting at the include path, a folder becomes a table when every file below it sits at
the same depth, shares one format (classification, compression, SerDe settings) and the
schemas are similar: each leaf folder's columns cover more than 70% of the union and there
are at most five distinct column sets (Glue's partition threshold and cluster limit). The
folder levels below the table become partition keys: ``key=value`` folders give ``key``,
other levels ``partition_<n>``. Otherwise each sub-folder is tried on its own.
``combine_compatible_schemas`` skips the similarity test (Glue's CombineCompatibleSchemas)
and ``table_level`` pins tables to one absolute depth (TableLevelConfiguration).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

from lakebox.crawler import infer
from lakebox.crawler.classify import LAZY_SIMPLE_SERDE, OPEN_CSV_SERDE, FileFormat, FileSchema
from lakebox.crawler.infer import HType
from lakebox.names import is_valid_column

SIMILARITY = 0.7
MAX_CLUSTERS = 5
_HIVE_FOLDER = re.compile(r"^([^=/]+)=(.*)$")
DYNAMODB_DATA = re.compile(r"(?:^|/)AWSDynamoDB/[^/]+/data(?:/|$)")


@dataclass
class Node:
    name: str
    uri: str
    level: int
    files: list[FileSchema] = field(default_factory=list)
    children: dict[str, Node] = field(default_factory=dict)
    #: path of this folder relative to the include path
    rel: str = ""

    def child(self, name: str) -> Node:
        node = self.children.get(name)
        if node is None:
            rel = f"{self.rel}{name}/"
            node = Node(name, f"{self.uri}{name}/", self.level + 1, rel=rel)
            self.children[name] = node
        return node

    def walk(self, parts: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], FileSchema]]:
        out = [(parts, f) for f in self.files]
        for name in sorted(self.children):
            out.extend(self.children[name].walk((*parts, name)))
        return out

    def contains_dynamodb_export(self) -> bool:
        """Whether a DynamoDB export's ``data/`` folder lies strictly below this folder."""
        for _, f in self.walk():
            m = DYNAMODB_DATA.search(f.uri)
            if m and len(f.uri[: m.end()].rstrip("/")) + 1 > len(self.uri):
                return True
        return False


@dataclass
class PartitionPlan:
    values: tuple[str, ...]
    location: str
    files: list[FileSchema] = field(default_factory=list)


@dataclass
class TablePlan:
    name_hint: str
    location: str
    format: FileFormat
    columns: list[tuple[str, HType]]
    partition_keys: list[str]
    partitions: dict[tuple[str, ...], PartitionPlan]
    files: list[FileSchema]
    extractors: dict[str, str] = field(default_factory=dict)
    avro_schema: str | None = None


def format_key(fmt: FileFormat) -> tuple[object, ...]:
    """Files whose keys are equal can share a table. Quoting is left out for delimited
    text: a file that happens to quote a value still belongs with its siblings."""
    if fmt.serde_library in (LAZY_SIMPLE_SERDE, OPEN_CSV_SERDE):
        params = dict(fmt.table_parameters)
        return (
            fmt.classification,
            fmt.compression,
            params.get("delimiter"),
            params.get("skip.header.line.count"),
        )
    return (
        fmt.classification,
        fmt.compression,
        fmt.serde_library,
        fmt.serde_parameters,
        fmt.variant,
    )


def merged_format(files: list[FileSchema]) -> FileFormat:
    fmts = [f.format for f in files]
    quoted = [f for f in fmts if f.serde_library == OPEN_CSV_SERDE]
    return quoted[0] if quoted else fmts[0]


def _positional_names_agree(files: list[FileSchema]) -> bool:
    """Delimited text is read by position, so files can share a table only when one's
    header is a prefix of the other's."""
    longest: list[str] = []
    for f in files:
        if f.format.serde_library not in (LAZY_SIMPLE_SERDE, OPEN_CSV_SERDE):
            return True
        names = [n for n, _ in f.columns]
        short, long_ = sorted((names, longest), key=len)
        if long_[: len(short)] != short:
            return False
        longest = long_
    return True


def similar(groups: list[frozenset[str]]) -> bool:
    distinct = set(groups)
    if len(distinct) <= 1:
        return True
    if len(distinct) > MAX_CLUSTERS:
        return False
    union = frozenset().union(*distinct)
    return all(len(g) / len(union) > SIMILARITY for g in distinct)


class Planner:
    def __init__(
        self,
        combine: bool,
        table_level: int | None,
        skip: Callable[[str, str], None],
        anchors: set[str] | None = None,
    ) -> None:
        self.combine = combine
        self.table_level = table_level
        self.skip = skip
        #: locations of tables already in the catalog: later runs keep them as tables, so
        #: a folder above one never swallows it when its siblings disappear or change
        self.anchors = anchors or set()

    def plan(self, root: Node) -> list[TablePlan]:
        out: list[TablePlan] = []
        self._visit(root, out)
        return out

    def _visit(self, node: Node, out: list[TablePlan]) -> None:
        entries = node.walk()
        if not entries:
            return
        if node.name == "data" and DYNAMODB_DATA.search(node.uri):
            self._table(node, entries, out, force=True)
            return
        if node.uri in self.anchors:
            self._table(node, entries, out, force=True)
            return
        below_anchor = any(a.startswith(node.uri) and a != node.uri for a in self.anchors)
        if self.table_level is not None:
            if node.level < self.table_level:
                for f in node.files:
                    self.skip(f.uri, f"file above the crawler's table level {self.table_level}")
                for c in sorted(node.children):
                    self._visit(node.children[c], out)
                return
            self._table(node, entries, out, force=True)
            return
        if not below_anchor and not node.contains_dynamodb_export() and self._compatible(entries):
            self._table(node, entries, out)
            return
        for c in sorted(node.children):
            self._visit(node.children[c], out)
        if node.files and node.children:
            for f in node.files:
                self.skip(
                    f.uri,
                    f"file beside sub-folders of another schema or depth in "
                    f"{node.uri}; move it into a folder of its own",
                )
        elif node.files:
            self._table(node, [((), f) for f in node.files], out, force=True)

    def _compatible(self, entries: list[tuple[tuple[str, ...], FileSchema]]) -> bool:
        if len({len(parts) for parts, _ in entries}) != 1:
            return False
        if len({format_key(f.format) for _, f in entries}) != 1:
            return False
        if not _positional_names_agree([f for _, f in entries]):
            return False
        if self.combine:
            return True
        leaves: dict[tuple[str, ...], set[str]] = {}
        for parts, f in entries:
            leaves.setdefault(parts, set()).update(f.column_names)
        return similar([frozenset(v) for v in leaves.values()])

    def _table(
        self,
        node: Node,
        entries: list[tuple[tuple[str, ...], FileSchema]],
        out: list[TablePlan],
        force: bool = False,
    ) -> None:
        """A table at ``node``. Forced tables keep the largest group of files that agree
        on format and depth; the others are reported as skipped."""
        if force:
            groups: dict[tuple[object, ...], list[tuple[tuple[str, ...], FileSchema]]] = {}
            for parts, f in entries:
                groups.setdefault((len(parts), format_key(f.format)), []).append((parts, f))
            best = max(groups.values(), key=len)
            for group in groups.values():
                if group is best:
                    continue
                for _, f in group:
                    self.skip(
                        f.uri,
                        f"format or folder depth differs from the other files of "
                        f"table folder {node.uri}",
                    )
            entries = best
        depth = len(entries[0][0])
        keys = partition_keys([parts for parts, _ in entries], depth)
        partitions: dict[tuple[str, ...], PartitionPlan] = {}
        files = []
        for parts, f in entries:
            files.append(f)
            if not depth:
                continue
            values = tuple(partition_value(p, k) for p, k in zip(parts, keys, strict=True))
            plan = partitions.get(values)
            if plan is None:
                plan = PartitionPlan(values, node.uri + "".join(f"{p}/" for p in parts))
                partitions[values] = plan
            plan.files.append(f)
        fmt = merged_format(files)
        columns = list(infer.merge_fields([f.columns for f in files]).fields)
        columns = [(n, t) for n, t in columns if n not in keys]
        extractors: dict[str, str] = {}
        for f in files:
            for col, path in f.extractors.items():
                extractors.setdefault(col, path)
        avro = {f.avro_schema for f in files}
        hint = node.name
        if node.name == "data" and DYNAMODB_DATA.search(node.uri):
            hint = dynamodb_table_hint(node.uri)
        out.append(
            TablePlan(
                hint,
                node.uri,
                fmt,
                columns,
                keys,
                partitions,
                files,
                extractors,
                avro.pop() if len(avro) == 1 else None,
            )
        )


def dynamodb_table_hint(uri: str) -> str:
    """Name for an export's table: the folder holding ``AWSDynamoDB/`` (the export prefix,
    usually named after the DynamoDB table), else the export id."""
    parts = [p for p in uri.split("/") if p]
    at = len(parts) - 1 - parts[::-1].index("AWSDynamoDB")
    if at > 0 and parts[at - 1] not in ("s3:", "file:"):
        return parts[at - 1]
    return parts[at + 1]


def partition_keys(paths: list[tuple[str, ...]], depth: int) -> list[str]:
    keys = []
    for level in range(depth):
        names = set()
        for parts in paths:
            m = _HIVE_FOLDER.match(parts[level])
            names.add(m.group(1).lower() if m else None)
        name = names.pop() if len(names) == 1 else None
        # a key Glue could not store as a column ('..=1', a control character) is unnamed
        keys.append(name if name and is_valid_column(name) else f"partition_{level}")
    return keys


def partition_value(folder: str, key: str) -> str:
    """``key=value`` folders give their value when the level is named ``key``; otherwise
    the whole folder name is the value."""
    m = _HIVE_FOLDER.match(folder)
    if m and m.group(1).lower() == key:
        return unquote(m.group(2))
    return unquote(folder)
