"""The crawler service: definitions, runs, and applying what a crawl found to the catalog.

A run lists each target, drops excluded files, classifies a sample of the rest
(``classify``), groups them into tables and partitions (``plan``) and writes each table
with its partitions to the catalog (``_apply``), then handles tables whose files are gone
according to the DeleteBehavior. A file that cannot be read is reported and skipped; it
never fails the run.

Per-table atomicity: the catalog store has no multi-statement transaction, so a table is
created (or updated with compare-and-swap on its version) and its partitions added in a
second call; if adding partitions fails, the table change is undone before the error is
recorded, so readers never keep a half-written table.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from lakebox.catalog.model import Column, Partition, Table
from lakebox.catalog.permissions import LakePermissions
from lakebox.catalog.store import CatalogStore, SQLiteCatalogStore
from lakebox.config import LakeConfig
from lakebox.crawler.classify import FileClassifier, FileSchema, Unrecognized
from lakebox.crawler.globs import is_excluded, validate_patterns
from lakebox.crawler.infer import merge_fields
from lakebox.crawler.model import (
    CANCELLED,
    CRAWL_NEW_FOLDERS_ONLY,
    DELETE_FROM_DATABASE,
    DEPRECATE_IN_DATABASE,
    FAILED,
    RUNNING,
    SUCCEEDED,
    UPDATE_IN_DATABASE,
    Crawler,
    CrawlRun,
    Progress,
    SkippedFile,
)
from lakebox.crawler.plan import (
    DYNAMODB_DATA,
    Node,
    PartitionPlan,
    Planner,
    TablePlan,
    partition_value,
)
from lakebox.crawler.store import CrawlerStore
from lakebox.errors import (
    ConcurrentModificationError,
    EntityNotFoundError,
    InvalidRequestError,
    LakeboxError,
)
from lakebox.names import crawler_table_name
from lakebox.principal import LOCAL_ADMIN, Principal
from lakebox.storage import FileInfo, Storage, parse_uri
from lakebox.storage.locations import lake_uri

ProgressCallback = Callable[[Progress], None]

#: parameters the crawler owns; others on a table (set by users) are kept on update
STAT_KEYS = ("recordCount", "averageRecordSize", "objectCount", "sizeKey")
DEPRECATED_KEY = "DEPRECATED_BY_CRAWLER"
_DDB_MANIFEST = re.compile(r"(?:^|/)AWSDynamoDB/[^/]+/manifest-[^/]*$")


class CrawlError(LakeboxError):
    """A crawl finished but could not write every table it found."""

    code = "CrawlerRunException"


class CrawlAccessDenied(LakeboxError):
    """The crawler's role lacks a Lake Formation permission the crawl needs: the run fails
    with Lake Formation's message and changes nothing."""

    code = "AccessDeniedException"


class CrawlStopped(LakeboxError):
    """Raised by a progress callback to end a crawl part way (Glue's StopCrawler): the run
    is recorded CANCELLED; what it wrote before stays written, as in Glue."""

    code = "CrawlerStoppingException"


class CrawlerService:
    """Glue-style crawlers over one lake. Build it from a ``LakeConfig``, or from a
    catalog, storage and metadata folder: ``CrawlerService(catalog, storage, metadata_dir)``
    (as the lake's composition root does). Every public call takes the calling
    ``principal`` (the local administrator by default).

    A crawl acts as the crawler's role (``Crawler.role``, as a session of that role named
    ``AWS-Crawler``), not as whoever starts it: with Lake Formation on (``permissions``),
    its catalog changes need what Glue's own calls would need of that role, and a crawl
    whose role lacks them fails, recording Lake Formation's message, before it writes.
    """

    def __init__(
        self,
        config: LakeConfig | CatalogStore | None = None,
        storage: Storage | None = None,
        metadata_dir: Path | None = None,
        *,
        catalog: CatalogStore | None = None,
        permissions: LakePermissions | Callable[[], LakePermissions | None] | None = None,
    ) -> None:
        #: Lake Formation's permissions, or how to get them when a crawl starts (so a lake
        #: that never set Lake Formation up is not made to)
        self.permissions = permissions
        if isinstance(config, CatalogStore):
            catalog, config = config, None
        if config is not None:
            storage = storage or Storage(config)
            metadata_dir = metadata_dir or config.metadata_dir
            catalog = catalog or SQLiteCatalogStore(config.metadata_dir / "catalog.sqlite")
        if catalog is None or storage is None or metadata_dir is None:
            raise InvalidRequestError(
                "CrawlerService needs a LakeConfig, or a catalog, storage and metadata_dir"
            )
        self.catalog = catalog
        self.storage = storage
        self.metadata_dir = Path(metadata_dir)
        self.store = CrawlerStore(self.metadata_dir / "crawlers.sqlite")

    # -- definitions --------------------------------------------------------------------
    def create_crawler(self, crawler: Crawler, *, principal: Principal = LOCAL_ADMIN) -> Crawler:
        self._check(crawler)
        crawler.create_time = crawler.update_time = time.time()
        crawler.version = 1
        self.store.create(crawler)
        return crawler

    def update_crawler(
        self, name: str, *, principal: Principal = LOCAL_ADMIN, **changes: object
    ) -> Crawler:
        """Change fields of a crawler (``database``, ``targets``, ``update_behavior``, ...)."""
        current = self.store.get(name)
        allowed = {f.name for f in dataclasses.fields(Crawler)} - {
            "name",
            "create_time",
            "update_time",
            "version",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidRequestError(f"crawler fields cannot be changed: {', '.join(unknown)}")
        updated = Crawler.from_dict(
            {**current.to_dict(), **{k: _plain(v) for k, v in changes.items()}}
        )
        self._check(updated)
        updated.version = current.version + 1
        updated.update_time = time.time()
        self.store.update(updated, current.version)
        return updated

    def delete_crawler(self, name: str, *, principal: Principal = LOCAL_ADMIN) -> None:
        self.store.delete(name)

    def get_crawler(self, name: str, *, principal: Principal = LOCAL_ADMIN) -> Crawler:
        return self.store.get(name)

    def list_crawlers(self, *, principal: Principal = LOCAL_ADMIN) -> list[Crawler]:
        return self.store.all()

    def list_runs(
        self, name: str, limit: int | None = None, *, principal: Principal = LOCAL_ADMIN
    ) -> list[CrawlRun]:
        """Runs of a crawler, newest first."""
        self.store.get(name)
        return self.store.runs(name, limit)

    def _permissions(self) -> LakePermissions | None:
        found = self.permissions
        if found is None or not callable(found):
            return found
        return found()

    def _check(self, crawler: Crawler) -> None:
        crawler.validate()
        for t in crawler.targets:
            self.storage.check(t.path)
            validate_patterns(t.exclusions)
        FileClassifier(self.storage, crawler.classifiers)
        self.catalog.get_database(crawler.database)

    # -- runs ---------------------------------------------------------------------------
    def start_crawler(
        self,
        name: str,
        progress: ProgressCallback | None = None,
        *,
        principal: Principal = LOCAL_ADMIN,
        permissions: LakePermissions | None = None,
        authorize: Callable[[Principal], None] | None = None,
    ) -> CrawlRun:
        """Run a crawler to the end and return its run record (also kept in the store).

        ``principal`` starts it; the crawl itself acts as the crawler's role
        (``crawl_principal``), checked by ``permissions`` (the service's own by default)
        and by ``authorize`` (the door's IAM check of that principal, which raises when
        the role may not do what the crawl does): either failing fails the run before it
        changes anything."""
        crawler = self.store.get(name)
        run = CrawlRun(id=uuid.uuid4().hex, crawler=name, state=RUNNING)
        self.store.begin_run(run)
        lf = permissions if permissions is not None else self._permissions()
        try:
            guard = None
            acting = crawl_principal(crawler, principal)
            if authorize is not None:
                authorize(acting)
            if lf is not None and lf.active:
                guard = _Guard(lf, acting, run.id)
            _Crawl(self, crawler, run, progress, guard).run()
            run.state = SUCCEEDED
        except CrawlStopped as err:
            run.state, run.error = CANCELLED, str(err)
        except LakeboxError as err:
            run.state, run.error = FAILED, str(err)
        except BaseException as err:
            run.state, run.error = FAILED, f"internal error: {err!r}"
            raise
        finally:
            run.end_time = time.time()
            self.store.save_run(run)
        return run


class _Crawl:
    """State of one run."""

    def __init__(
        self,
        service: CrawlerService,
        crawler: Crawler,
        run: CrawlRun,
        progress: ProgressCallback | None,
        guard: _Guard | None = None,
    ) -> None:
        self.guard = guard
        self.svc = service
        self.catalog = service.catalog
        self.crawler = crawler
        self.run_rec = run
        self.progress = progress or (lambda _p: None)
        self.classifier = FileClassifier(service.storage, crawler.classifiers)
        self.touched: set[str] = set()
        self._base: tuple[str, str | None] = ("", None)

    def skip(self, uri: str, reason: str) -> None:
        self.run_rec.skipped.append(SkippedFile(uri, reason))

    def run(self) -> None:
        c = self.crawler
        self.catalog.get_database(c.database)
        if self.guard is not None:
            for target in c.targets:
                self.guard.location(lake_uri(target.path, self.svc.storage.config))
        incremental = c.recrawl_behavior == CRAWL_NEW_FOLDERS_ONLY
        known = self.svc.store.known_folders(c.name) if incremental else set()
        existing = {
            _norm(t.location): t for t in self.catalog.list_tables(c.database) if t.location
        }
        seen_folders: set[str] = set()
        plans: list[TablePlan] = []
        prefixes = []
        for target in c.targets:
            prefix = str(parse_uri(target.path).as_prefix())
            base = self.svc.storage.local_path(prefix)
            self._base = (prefix, str(base).rstrip("/") + "/" if base is not None else None)
            prefixes.append(prefix)
            self.progress(Progress("listing", 0, 0, prefix))
            files = self._list(prefix, target.exclusions)
            if not files and not target.path.endswith("/") and self.svc.storage.exists(target.path):
                self.skip(
                    target.path,
                    "the include path is a single file; crawl its folder "
                    "and exclude the other files instead",
                )
            self.run_rec.files_seen += len(files)
            folders = {_parent(f.uri) for f in files}
            seen_folders |= folders
            if incremental and known:
                files = [f for f in files if _parent(f.uri) not in known]
            sample = target.sample_size or c.sample_size
            schemas = self._classify(files, sample)
            if incremental and known:
                schemas = self._attach_to_existing(schemas, existing)
            root = _tree(prefix, schemas)
            anchors = {loc for loc in existing if loc.startswith(prefix)}
            planner = Planner(c.combine_compatible_schemas, c.table_level, self.skip, anchors)
            plans.extend(planner.plan(root))
        if self.guard is not None:
            self._authorize(plans, existing, prefixes)
        total = len(plans)
        failed: list[str] = []
        for i, plan in enumerate(plans):
            self.progress(Progress("writing", i, total, plan.location))
            try:
                self._apply(plan, existing)
            except LakeboxError as err:
                # one table's failure leaves the others' changes in place
                failed.append(plan.location)
                self.run_rec.log.append(f"table at {plan.location}: not written ({err})")
        self.progress(Progress("writing", total, total))
        if not incremental:
            self._handle_deleted(prefixes, existing, plans)
        self.svc.store.add_folders(c.name, seen_folders)
        if failed:
            raise CrawlError(
                f"{len(failed)} table(s) could not be written: {', '.join(failed)}; see the run log"
            )

    # -- listing and reading ------------------------------------------------------------
    def _local(self, uri: str) -> str | None:
        """Local path of a file below the current target, by string concatenation."""
        prefix, base = self._base
        if base is None or not uri.startswith(prefix):
            return None
        return base + uri[len(prefix) :]

    def _list(self, prefix: str, exclusions: list[str]) -> list[FileInfo]:
        out = []
        for f in self.svc.storage.list_files(prefix):
            rel = f.uri[len(prefix) :]
            if is_excluded(rel, exclusions):
                continue
            if _DDB_MANIFEST.search(rel) or rel.endswith(("/_started", "manifest-files.md5")):
                continue
            out.append(f)
        return out

    def _classify(self, files: list[FileInfo], sample_size: int | None) -> list[FileSchema]:
        by_folder: dict[str, list[FileInfo]] = {}
        for f in files:
            by_folder.setdefault(_parent(f.uri), []).append(f)
        total = (
            len(files)
            if sample_size is None
            else sum(min(len(v), sample_size) for v in by_folder.values())
        )
        done = 0
        out: list[FileSchema] = []
        for folder in sorted(by_folder):
            infos = by_folder[folder]
            read = infos if sample_size is None else infos[:sample_size]
            found: list[FileSchema] = []
            for info in read:
                self.progress(Progress("reading", done, total, info.uri))
                done += 1
                self.run_rec.files_read += 1
                try:
                    found.append(
                        self.classifier.classify(
                            info,
                            dynamodb=bool(DYNAMODB_DATA.search(info.uri)),
                            local=self._local(info.uri),
                        )
                    )
                except Unrecognized as err:
                    self.skip(info.uri, str(err))
                except LakeboxError as err:
                    self.skip(info.uri, f"unreadable: {err}")
                except (OSError, ValueError, EOFError) as err:
                    self.skip(info.uri, f"unreadable: {err}")
            out.extend(found)
            if found and len(read) < len(infos):
                out.extend(_assume_like(found, infos[len(read) :]))
        self.progress(Progress("reading", total, total))
        return out

    def _attach_to_existing(
        self, schemas: list[FileSchema], existing: dict[str, Table]
    ) -> list[FileSchema]:
        """Incremental crawls: files in new folders below a table this crawler made become
        new partitions of it (schema differences are only logged, as the policy is LOG);
        the rest are grouped into tables as usual."""
        rest = []
        pending: dict[str, dict[tuple[str, ...], tuple[str, list[FileSchema]]]] = {}
        for f in schemas:
            folder = _parent(f.uri)
            matches = [
                (loc, t)
                for loc, t in existing.items()
                if folder.startswith(loc)
                and t.partition_keys
                and "UPDATED_BY_CRAWLER" in t.parameters
            ]
            table = max(matches, key=lambda m: len(m[0]))[1] if matches else None
            if table is None:
                rest.append(f)
                continue
            parts = folder[len(_norm(table.location or "")) :].strip("/").split("/")
            if len(parts) != len(table.partition_keys):
                self.skip(
                    f.uri,
                    f"folder depth does not match the partitions of table {table.qualified_name}",
                )
                continue
            values = tuple(
                partition_value(p, k.name) for p, k in zip(parts, table.partition_keys, strict=True)
            )
            entry = pending.setdefault(table.name, {}).setdefault(values, (folder, []))
            entry[1].append(f)
        if self.guard is not None:
            for name in pending:
                self.guard.table(self.catalog.get_table(self.crawler.database, name), "ALTER")
        for name, parts_map in pending.items():
            table = self.catalog.get_table(self.crawler.database, name)
            have = {
                tuple(p.values) for p in self.catalog.get_partitions(table.database, table.name)
            }
            new = []
            for values, (loc, files) in sorted(parts_map.items()):
                if values in have:
                    continue
                fmt = files[0].format
                new.append(
                    Partition(
                        table.database,
                        table.name,
                        list(values),
                        loc,
                        {
                            "classification": fmt.classification,
                            "compressionType": fmt.compression or "none",
                            "typeOfData": "file",
                            **_stats(files),
                        },
                    )
                )
                known = {c.name: c.type for c in table.all_columns}
                found = merge_fields([f.columns for f in files]).fields
                drift = [
                    f"{n} {t.hive()}" for n, t in found if known.get(n) not in (None, t.hive())
                ] + [f"{n} (new)" for n, t in found if n not in known]
                if drift:
                    self.run_rec.log.append(
                        f"table {name}: partition {list(values)} differs from the table "
                        f"schema ({', '.join(drift)}); not applied (UpdateBehavior LOG)"
                    )
            self.run_rec.partitions_added += self.catalog.add_partitions(new, if_not_exists=True)
            self.touched.add(name)
        return rest

    # -- permissions --------------------------------------------------------------------
    def _authorize(
        self, plans: list[TablePlan], existing: dict[str, Table], prefixes: list[str]
    ) -> None:
        """Check everything the crawl is about to change before it changes any of it: a
        table to create needs CREATE_TABLE on the database, one to update ALTER, one to
        drop DROP and one to deprecate ALTER (Lake Formation's rules for the Glue calls the
        crawl makes)."""
        assert self.guard is not None
        c = self.crawler
        planned = set()
        creates = False
        for plan in plans:
            old = existing.get(_norm(plan.location))
            planned.add(_norm(plan.location))
            if old is None:
                creates = True
            elif "UPDATED_BY_CRAWLER" in old.parameters:
                self.guard.table(old, "ALTER")
        if creates:
            self.guard.database(c.database, "CREATE_TABLE")
        if c.recrawl_behavior == CRAWL_NEW_FOLDERS_ONLY:
            return
        for loc, table in existing.items():
            if table.parameters.get("UPDATED_BY_CRAWLER") != c.name or loc in planned:
                continue
            if not any(loc.startswith(p) for p in prefixes):
                continue
            if c.delete_behavior == DELETE_FROM_DATABASE:
                self.guard.table(table, "DROP")
            elif c.delete_behavior == DEPRECATE_IN_DATABASE:
                self.guard.table(table, "ALTER")

    # -- writing ------------------------------------------------------------------------
    def _apply(self, plan: TablePlan, existing: dict[str, Table]) -> None:
        c = self.crawler
        old = existing.get(_norm(plan.location))
        if old is not None and "UPDATED_BY_CRAWLER" not in old.parameters:
            self.run_rec.log.append(
                f"table {old.name} (not made by a crawler) already covers {plan.location}; "
                "left unchanged"
            )
            return
        name = old.name if old else self._new_name(plan, existing)
        table = self._table(plan, name)
        partitions = [self._partition(plan, name, p) for p in plan.partitions.values()]
        self.touched.add(name)
        if old is None:
            self.catalog.create_table(table)
            if self.guard is not None:
                self.guard.created(c.database, name)
            try:
                self.run_rec.partitions_added += self.catalog.add_partitions(
                    partitions, if_not_exists=True
                )
            except LakeboxError:
                self.catalog.drop_table(c.database, name, if_exists=True)
                if self.guard is not None:
                    self.guard.dropped(c.database, name)
                raise
            existing[_norm(plan.location)] = table
            self.run_rec.tables_created.append(name)
            return
        if c.update_behavior != UPDATE_IN_DATABASE:
            diff = _describe_change(old, table)
            if diff:
                self.run_rec.log.append(
                    f"table {name}: schema change not applied (UpdateBehavior LOG): {diff}"
                )
            if [k.name for k in old.partition_keys] == [k.name for k in table.partition_keys]:
                self._add_partitions(old, partitions)
            elif partitions:
                self.run_rec.log.append(
                    f"table {name}: partitions not added, their keys differ from the table's"
                )
            return
        self._update(old, table, partitions)

    def _update(self, old: Table, table: Table, partitions: list[Partition]) -> None:
        """Schema change applied: columns keep their old order, new ones are appended."""
        order = {col.name: i for i, col in enumerate(old.columns)}
        table.columns.sort(key=lambda col: order.get(col.name, len(order)))
        params = {k: v for k, v in old.parameters.items() if k != DEPRECATED_KEY}
        params.update(table.parameters)
        table.parameters = params
        table.create_time = old.create_time
        if [k.name for k in old.partition_keys] != [k.name for k in table.partition_keys]:
            # new partition keys invalidate every partition: replace the table whole
            old_parts = self.catalog.get_partitions(old.database, old.name)
            self.catalog.create_table(table, replace=True)
            try:
                added = self.catalog.add_partitions(partitions, if_not_exists=True)
            except LakeboxError:
                self.catalog.create_table(old, replace=True)
                self.catalog.add_partitions(old_parts, if_not_exists=True)
                raise
            self.run_rec.partitions_added += added
            self.run_rec.tables_updated.append(table.name)
            return
        for attempt in range(5):
            if _same_definition(old, table):
                break
            table.version = old.version
            try:
                saved = self.catalog.update_table(table)
            except ConcurrentModificationError:
                if attempt == 4:
                    raise
                old = self.catalog.get_table(old.database, old.name)
                continue
            try:
                self._add_partitions(saved, partitions)
            except LakeboxError:
                old.version = saved.version
                self.catalog.update_table(old)
                raise
            self.run_rec.tables_updated.append(table.name)
            return
        self._add_partitions(old, partitions)

    def _add_partitions(self, table: Table, partitions: list[Partition]) -> None:
        if not partitions:
            return
        have = {tuple(p.values) for p in self.catalog.get_partitions(table.database, table.name)}
        new = [p for p in partitions if tuple(p.values) not in have]
        self.run_rec.partitions_added += self.catalog.add_partitions(new, if_not_exists=True)

    def _new_name(self, plan: TablePlan, existing: dict[str, Table]) -> str:
        base = crawler_table_name(plan.name_hint, self.crawler.table_prefix.lower(), room=9)
        taken = {t.name for t in existing.values()}
        if base not in taken and not self.catalog.table_exists(self.crawler.database, base):
            return base
        digest = hashlib.sha1(plan.location.encode()).hexdigest()[:8]
        return f"{base}_{digest}"

    def _table(self, plan: TablePlan, name: str) -> Table:
        fmt = plan.format
        serde_params = dict(fmt.serde_parameters)
        if fmt.classification == "json":
            serde_params["paths"] = ",".join(n for n, _ in plan.columns)
        for col, path in plan.extractors.items():
            serde_params[f"ion.{col}.path_extractor"] = path
        params = {
            "classification": fmt.classification,
            "compressionType": fmt.compression or "none",
            "typeOfData": "file",
            "CrawlerSchemaDeserializerVersion": "1.0",
            "CrawlerSchemaSerializerVersion": "1.0",
            "UPDATED_BY_CRAWLER": self.crawler.name,
            "CRAWL_RUN_ID": self.run_rec.id,
            **dict(fmt.table_parameters),
            **_stats(plan.files),
        }
        if plan.avro_schema:
            params["avro.schema.literal"] = plan.avro_schema
        return Table(
            database=self.crawler.database,
            name=name,
            columns=[Column(n, t.hive()) for n, t in plan.columns],
            partition_keys=[Column(k, "string") for k in plan.partition_keys],
            location=plan.location,
            input_format=fmt.input_format,
            output_format=fmt.output_format,
            serde_library=fmt.serde_library,
            serde_parameters=serde_params,
            parameters=params,
        )

    def _partition(self, plan: TablePlan, name: str, part: PartitionPlan) -> Partition:
        params = {
            "classification": plan.format.classification,
            "compressionType": plan.format.compression or "none",
            "typeOfData": "file",
            **_stats(part.files),
        }
        return Partition(self.crawler.database, name, list(part.values), part.location, params)

    # -- deletions ----------------------------------------------------------------------
    def _handle_deleted(
        self, prefixes: list[str], existing: dict[str, Table], plans: list[TablePlan]
    ) -> None:
        c = self.crawler
        planned = {_norm(p.location): p for p in plans}
        for loc, table in list(existing.items()):
            if table.parameters.get("UPDATED_BY_CRAWLER") != c.name:
                continue
            if not any(loc.startswith(p) for p in prefixes):
                continue
            if table.name not in self.touched:
                self._gone(table)
                continue
            plan = planned.get(loc)
            if plan is None or not table.partition_keys:
                continue
            live = set(plan.partitions)
            stale = [
                p.values
                for p in self.catalog.get_partitions(c.database, table.name)
                if tuple(p.values) not in live
            ]
            if not stale:
                continue
            if c.delete_behavior == DELETE_FROM_DATABASE:
                self.run_rec.partitions_deleted += self.catalog.drop_partitions(
                    c.database, table.name, stale, if_exists=True
                )
            else:
                self.run_rec.log.append(
                    f"table {table.name}: {len(stale)} partition(s) without files kept "
                    f"(DeleteBehavior {c.delete_behavior})"
                )

    def _gone(self, table: Table) -> None:
        behavior = self.crawler.delete_behavior
        if behavior == DELETE_FROM_DATABASE:
            if self.catalog.drop_table(table.database, table.name, if_exists=True):
                self.run_rec.tables_deleted.append(table.name)
                if self.guard is not None:
                    self.guard.dropped(table.database, table.name)
            return
        if behavior == DEPRECATE_IN_DATABASE:
            if DEPRECATED_KEY in table.parameters:
                return
            try:
                current = self.catalog.get_table(table.database, table.name)
                # Glue writes the time of deprecation, in epoch milliseconds
                current.parameters[DEPRECATED_KEY] = str(int(time.time() * 1000))
                self.catalog.update_table(current)
            except (EntityNotFoundError, ConcurrentModificationError) as err:
                self.run_rec.log.append(f"table {table.name}: not deprecated ({err})")
                return
            self.run_rec.tables_deprecated.append(table.name)
            return
        self.run_rec.log.append(
            f"table {table.name}: its files are gone; kept (DeleteBehavior LOG)"
        )


#: the session name of a crawler's role, as Glue's crawlers name it
CRAWLER_SESSION = "AWS-Crawler"
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/(?:[\w+=,.@/-]*/)?([\w+=,.@-]+)$")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")


def crawl_principal(crawler: Crawler, starter: Principal) -> Principal:
    """Who a crawl acts as: a session of the crawler's role (named or given by ARN; a
    name is in the starter's account), or the starter when the crawler names no role."""
    role = crawler.role
    if not role:
        return starter
    found = _ROLE_ARN.match(role)
    if found is not None:
        account, name = found.group(1), found.group(2)
    elif _ROLE_NAME.match(role):
        account, name = starter.account_id, role
    else:
        raise InvalidRequestError(
            f"crawler {crawler.name}: Role {role!r} is neither a role name nor a role ARN"
        )
    arn = f"arn:aws:sts::{account}:assumed-role/{name}/{CRAWLER_SESSION}"
    return Principal(account, arn, "assumed-role")


class _Guard:
    """Lake Formation's checks of one crawl, as the principal it acts as; each decision is
    recorded under the run's id."""

    def __init__(self, lf: LakePermissions, principal: Principal, run_id: str) -> None:
        self.lf = lf
        self.principal = principal
        self.run_id = run_id

    def _decide(self, action: str, resource: str, allowed: bool) -> None:
        self.lf.record(self.principal, action, resource, allowed, self.run_id)
        if not allowed:
            raise CrawlAccessDenied(f"Insufficient Lake Formation permission(s) on {resource}")

    def location(self, uri: str) -> None:
        if self.principal.is_local_admin:
            return
        allowed = self.lf.location_access(self.principal, uri)
        if allowed and not self.lf.governed_location(uri):
            return  # not registered (nor a parent of one, nor the audit bucket)
        self._decide("glue:StartCrawler", uri, allowed)

    def database(self, database: str, wanted: str) -> None:
        if self.principal.is_local_admin:
            return
        held = self.lf.database_permissions(self.principal, database)
        self._decide("glue:CreateTable", database, "ALL" in held or wanted in held)

    def table(self, table: Table, wanted: str) -> None:
        if self.principal.is_local_admin:
            return
        held = self.lf.table_permissions(self.principal, table)
        action = "glue:DeleteTable" if wanted == "DROP" else "glue:UpdateTable"
        self._decide(action, table.qualified_name, "ALL" in held or wanted in held)

    def created(self, database: str, table: str) -> None:
        # the local administrator too: a record left by an earlier object of the same
        # name must not make its creator this one's
        self.lf.note_created(self.principal, database, table)

    def dropped(self, database: str, table: str) -> None:
        self.lf.note_dropped(database, table)


def _plain(value: object) -> object:
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def _norm(location: str) -> str:
    return str(parse_uri(location).as_prefix())


def _parent(uri: str) -> str:
    return uri.rsplit("/", 1)[0] + "/"


def _tree(prefix: str, schemas: list[FileSchema]) -> Node:
    name = [p for p in prefix.split("/") if p][-1]
    root = Node(name, prefix, level=_level(prefix))
    for s in schemas:
        rel = s.uri[len(prefix) :]
        node = root
        for part in rel.split("/")[:-1]:
            node = node.child(part)
        node.files.append(s)
    return root


def _level(prefix: str) -> int:
    """Absolute depth of a folder: the bucket, or a local path's first folder, is level 1."""
    uri = parse_uri(prefix)
    key = uri.key.strip("/")
    return 1 + (len(key.split("/")) if key else 0) - (0 if uri.is_s3 else 1)


def _assume_like(found: list[FileSchema], rest: list[FileInfo]) -> list[FileSchema]:
    """Files of a sampled folder that were not read share the sampled files' schema; their
    record counts are estimated from the sampled files' bytes per record."""
    model = found[0]
    size = sum(f.size for f in found) or 1
    records = sum(f.records for f in found)
    out = []
    for info in rest:
        est = records * info.size // size
        out.append(
            dataclasses.replace(
                model,
                uri=info.uri,
                size=info.size,
                mtime=info.mtime,
                records=est,
                record_bytes=model.record_bytes * info.size // size,
            )
        )
    return out


def _stats(files: list[FileSchema]) -> dict[str, str]:
    records = sum(f.records for f in files)
    size = sum(f.size for f in files)
    record_bytes = sum(f.record_bytes for f in files)
    return {
        "recordCount": str(records),
        "averageRecordSize": str(record_bytes // records if records else 0),
        "objectCount": str(len(files)),
        "sizeKey": str(size),
    }


def _without_run_id(params: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in params.items() if k != "CRAWL_RUN_ID"}


def _same_definition(a: Table, b: Table) -> bool:
    return (
        a.columns == b.columns
        and a.partition_keys == b.partition_keys
        and a.serde_library == b.serde_library
        and a.input_format == b.input_format
        and a.output_format == b.output_format
        and a.serde_parameters == b.serde_parameters
        and _without_run_id(a.parameters) == _without_run_id(b.parameters)
        and _norm(a.location or "") == _norm(b.location or "")
    )


def _describe_change(old: Table, new: Table) -> str:
    before = {c.name: c.type for c in old.columns}
    after = {c.name: c.type for c in new.columns}
    parts = []
    added = [n for n in after if n not in before]
    removed = [n for n in before if n not in after]
    changed = [
        f"{n} {before[n]} -> {after[n]}" for n in after if n in before and before[n] != after[n]
    ]
    if added:
        parts.append("added " + ", ".join(added))
    if removed:
        parts.append("removed " + ", ".join(removed))
    if changed:
        parts.append("changed " + ", ".join(changed))
    if old.serde_library != new.serde_library:
        parts.append(f"SerDe {old.serde_library} -> {new.serde_library}")
    return "; ".join(parts)
