"""Crawler definitions and run records, named after Glue's API (``CreateCrawler``,
``GetCrawlerMetrics``) so the AWS-compatible shells can translate one to one."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from lakebox.errors import InvalidRequestError

UPDATE_IN_DATABASE = "UPDATE_IN_DATABASE"
LOG = "LOG"
DEPRECATE_IN_DATABASE = "DEPRECATE_IN_DATABASE"
DELETE_FROM_DATABASE = "DELETE_FROM_DATABASE"
CRAWL_EVERYTHING = "CRAWL_EVERYTHING"
CRAWL_NEW_FOLDERS_ONLY = "CRAWL_NEW_FOLDERS_ONLY"

UPDATE_BEHAVIORS = (UPDATE_IN_DATABASE, LOG)
DELETE_BEHAVIORS = (DEPRECATE_IN_DATABASE, DELETE_FROM_DATABASE, LOG)
RECRAWL_BEHAVIORS = (CRAWL_EVERYTHING, CRAWL_NEW_FOLDERS_ONLY)
CLASSIFIER_KINDS = ("grok", "regex", "csv", "json")
CSV_HEADER_OPTIONS = ("UNKNOWN", "PRESENT", "ABSENT")

RUNNING = "RUNNING"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
#: a run StopCrawler ended before it finished (Glue's LastCrawl.Status CANCELLED)
CANCELLED = "CANCELLED"


@dataclass
class Target:
    """One include path (``s3://bucket/prefix/`` or a local folder) and its exclusion globs,
    which are relative to the include path as in Glue's S3Target."""

    path: str
    exclusions: list[str] = field(default_factory=list)
    sample_size: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Target:
        return cls(data["path"], list(data.get("exclusions", [])), data.get("sample_size"))


@dataclass
class Classifier:
    """A custom classifier, tried before the built-in ones in the order given.

    ``grok``: ``pattern`` is a grok pattern (``%{IP:client} %{NUMBER:bytes:int}``) with
    optional ``custom_patterns`` (``NAME regex`` lines). ``regex``: ``pattern`` is a regular
    expression whose named groups are the columns. ``csv``: ``delimiter``, ``quote_symbol``,
    ``contains_header`` (UNKNOWN | PRESENT | ABSENT) and optional ``header`` names.
    ``json``: ``json_path`` such as ``$[*]`` selects the records inside each document.
    """

    name: str
    kind: str
    classification: str | None = None
    pattern: str | None = None
    custom_patterns: str | None = None
    delimiter: str | None = None
    quote_symbol: str | None = None
    contains_header: str = "UNKNOWN"
    header: list[str] | None = None
    allow_single_column: bool = False
    json_path: str | None = None

    def validate(self) -> None:
        from lakebox.names import glue_name  # its patterns cost `lakebox --help` ~15 ms

        glue_name(self.name, "classifier")
        if self.kind not in CLASSIFIER_KINDS:
            raise InvalidRequestError(
                f"classifier {self.name!r}: kind must be one of {', '.join(CLASSIFIER_KINDS)}"
            )
        if self.kind in ("grok", "regex") and not self.pattern:
            raise InvalidRequestError(
                f"classifier {self.name!r}: a {self.kind} classifier needs a pattern"
            )
        if self.kind == "json" and not self.json_path:
            raise InvalidRequestError(
                f"classifier {self.name!r}: a json classifier needs a json_path such as '$[*]'"
            )
        if self.contains_header not in CSV_HEADER_OPTIONS:
            raise InvalidRequestError(
                f"classifier {self.name!r}: contains_header must be UNKNOWN, PRESENT or ABSENT"
            )
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise InvalidRequestError(f"classifier {self.name!r}: delimiter must be one character")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Classifier:
        return cls(**data)


@dataclass
class Crawler:
    name: str
    database: str
    targets: list[Target]
    table_prefix: str = ""
    update_behavior: str = UPDATE_IN_DATABASE
    delete_behavior: str = DEPRECATE_IN_DATABASE
    recrawl_behavior: str = CRAWL_EVERYTHING
    #: Glue's Configuration Grouping.TableGroupingPolicy=CombineCompatibleSchemas
    combine_compatible_schemas: bool = False
    #: Glue's Configuration Grouping.TableLevelConfiguration (the bucket is level 1)
    table_level: int | None = None
    #: files read per leaf folder (Glue's S3Target.SampleSize); None reads every file's head
    sample_size: int | None = None
    classifiers: list[Classifier] = field(default_factory=list)
    description: str = ""
    #: the IAM role Glue's CreateCrawler names: a crawl's catalog changes act as a session
    #: of it (``lakebox.crawler.service.crawl_principal``)
    role: str = ""
    create_time: float = field(default_factory=time.time)
    update_time: float = field(default_factory=time.time)
    version: int = 1

    def validate(self) -> None:
        from lakebox.names import glue_name, table_prefix

        glue_name(self.name, "crawler")
        table_prefix(self.table_prefix)
        if not self.database:
            raise InvalidRequestError(f"crawler {self.name}: a target database is required")
        if not self.targets:
            raise InvalidRequestError(f"crawler {self.name}: give at least one target path")
        if self.update_behavior not in UPDATE_BEHAVIORS:
            raise InvalidRequestError(
                f"crawler {self.name}: UpdateBehavior must be one of {', '.join(UPDATE_BEHAVIORS)}"
            )
        if self.delete_behavior not in DELETE_BEHAVIORS:
            raise InvalidRequestError(
                f"crawler {self.name}: DeleteBehavior must be one of {', '.join(DELETE_BEHAVIORS)}"
            )
        if self.recrawl_behavior not in RECRAWL_BEHAVIORS:
            raise InvalidRequestError(
                f"crawler {self.name}: RecrawlBehavior must be one of "
                f"{', '.join(RECRAWL_BEHAVIORS)}"
            )
        if self.recrawl_behavior == CRAWL_NEW_FOLDERS_ONLY and (
            self.update_behavior != LOG or self.delete_behavior != LOG
        ):
            raise InvalidRequestError(
                f'crawler {self.name}: the SchemaChangePolicy for "Crawl new folders only" '
                "targets can have only LOG DeleteBehavior value and LOG UpdateBehavior value"
            )
        if self.table_level is not None and self.table_level < 1:
            raise InvalidRequestError(f"crawler {self.name}: table level must be 1 or more")
        for size in [self.sample_size, *(t.sample_size for t in self.targets)]:
            if size is not None and not 1 <= size <= 249:
                raise InvalidRequestError(
                    f"crawler {self.name}: sample size must be between 1 and 249 (as in Glue)"
                )
        names = set()
        for c in self.classifiers:
            c.validate()
            if c.name in names:
                raise InvalidRequestError(f"crawler {self.name}: classifier {c.name!r} twice")
            names.add(c.name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Crawler:
        data = dict(data)
        data["targets"] = [Target.from_dict(t) for t in data.get("targets", [])]
        data["classifiers"] = [Classifier.from_dict(c) for c in data.get("classifiers", [])]
        return cls(**data)


@dataclass
class SkippedFile:
    uri: str
    reason: str


@dataclass
class CrawlRun:
    """One run of a crawler and what it changed in the catalog."""

    id: str
    crawler: str
    state: str = RUNNING
    start_time: float = field(default_factory=time.time)
    end_time: float | None = None
    tables_created: list[str] = field(default_factory=list)
    tables_updated: list[str] = field(default_factory=list)
    tables_deprecated: list[str] = field(default_factory=list)
    tables_deleted: list[str] = field(default_factory=list)
    partitions_added: int = 0
    partitions_deleted: int = 0
    files_seen: int = 0
    files_read: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)
    #: schema changes not applied (UpdateBehavior LOG) and other notes, one line each
    log: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def duration(self) -> float | None:
        return None if self.end_time is None else self.end_time - self.start_time

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CrawlRun:
        data = dict(data)
        data["skipped"] = [SkippedFile(**s) for s in data.get("skipped", [])]
        return cls(**data)


@dataclass(frozen=True)
class Progress:
    """Reported to a progress callback: ``phase`` is listing, reading or writing."""

    phase: str
    done: int
    total: int
    uri: str | None = None
