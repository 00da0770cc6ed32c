"""The embedded DuckDB engine.

One in-memory database per lake; each statement runs on its own cursor
(``DuckDBStatement``) so its temporary scan views and registered Arrow objects stay private
to it and vanish with it. A write's ``COPY`` runs on a second database of the lake, the
writer's, without DuckDB's asynchronous I/O threads (``write_cursor``, which says why). In
S3 mode the
lake's fsspec S3 filesystem is registered with DuckDB, so ``s3://`` paths work without the
httpfs extension (which cannot be downloaded on every machine); httpfs is used when it is
already installed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import duckdb.func

from lakebox.catalog.model import Table
from lakebox.engine.base import Engine, ExecutionWatch
from lakebox.engine.duckdb import compaction, rules
from lakebox.engine.duckdb.statement import DuckDBStatement
from lakebox.engine.duckdb.translate import DUCKDB_SETTINGS
from lakebox.storage import Storage


class DuckDBEngine(Engine):
    name = "duckdb"
    plan_settings = compaction.SETTINGS

    def __init__(
        self, storage: Storage, threads: int | None = None, memory_limit: str | None = None
    ) -> None:
        self.storage = storage
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        #: the thread opening the database ahead of the first query (``warm``)
        self._warming: threading.Thread | None = None
        self._log_lock = threading.Lock()
        self._log_users = 0
        self.threads = threads or int(os.environ.get("LAKEBOX_THREADS", "0") or 0) or None
        self.memory_limit = memory_limit or os.environ.get("LAKEBOX_MEMORY_LIMIT")
        #: how ``s3://`` is read: "httpfs" or "fsspec" (set when the engine starts)
        self.s3_reader = "none"
        #: the lake's background builder of compacted copies: its own database, one thread
        self.copies = compaction.CopyBuilder(
            self._builder_connection, storage, storage.config.cache_dir
        )
        #: the rules' functions made on the open database so far (set with ``_con``)
        self._functions: _Functions | None = None
        #: the writer's database (``write_cursor``), opened by the first write, and the
        #: rules' functions made on it
        self._writer: duckdb.DuckDBPyConnection | None = None
        self._writer_functions: _Functions | None = None
        self._writer_log_users = 0

    @property
    def base(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._con is None:
                self._con = self._connect()
                self._functions = _Functions(self._con.cursor())
            return self._con

    def ensure_functions(self, names: frozenset[str]) -> None:
        """Create the rules' macros and UDFs among ``names`` that the database lacks
        (``rules.called_functions``): a statement calls this before its SQL runs."""
        if names:
            _ = self.base
            functions = self._functions
            assert functions is not None
            functions.ensure(names)

    @property
    def is_open(self) -> bool:
        """Whether the database is open (a first query or ``warm`` opened it)."""
        return self._con is not None

    def warm(self) -> None:
        """Open the database in the background now (about 0.1 s: settings, macros, UDFs),
        for a caller about to query: its first query then finds it open. A failure is left
        for that query to report."""
        with self._lock:
            if self._con is not None or self._warming is not None:
                return
            # not a daemon: the interpreter's exit waits for it (0.1 s at most). A daemon
            # thread still inside DuckDB when a short script ends is stopped at its next
            # Python callback, through C++ frames, which aborts the process
            self._warming = threading.Thread(
                target=self._warm, name="lakebox-engine-start", daemon=False
            )
            self._warming.start()

    def open(self) -> None:
        """Open the database now, on the calling thread (about 20 ms of CPU: DuckDB's own
        start, settings), as ``duckdb.connect`` opens DuckDB's: for a caller whose next
        step is a query (``lakebox.connect``), which then neither waits for the start nor
        shares the CPU with it. A failure is left for that query to report."""
        warming = self._warming
        if warming is not None:
            warming.join()
        self._warm()

    def _warm(self) -> None:
        try:
            _ = self.base
        except Exception:  # nothing may escape a thread as a traceback
            pass  # the first query opens it again, and reports why it cannot

    def _builder_connection(self) -> duckdb.DuckDBPyConnection:
        """The copy builder's own database: one thread, an eighth of the memory (it runs
        beside the lake's queries, whose database may take DuckDB's default 80%), and the
        careful CSV settings from the start (a build is one single-threaded scan anyway, and
        the fast ones refuse some files)."""
        from lakebox.engine.duckdb.formats.text import SET_CSV_FALLBACK

        # without asynchronous I/O: a build is a Parquet write, which ``close`` may interrupt
        # (see ``write_cursor``)
        con = self._connect(threads=1, async_io=False)
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        con.execute(f"SET memory_limit = '{max(256, pages * page_size // 8 // 2**20)}MB'")
        con.execute(SET_CSV_FALLBACK)
        return con

    def _connect(
        self, threads: int | None = None, async_io: bool = True
    ) -> duckdb.DuckDBPyConnection:
        """A new database with Athena's settings (``translate.DUCKDB_SETTINGS``), without
        the rules' macros and UDFs: only translated SQL calls them, and a statement creates
        those it calls on the lake's database (``ensure_functions``); the copy builder's
        database runs the format readers' scans alone, which call none of them.
        ``async_io=False``: without DuckDB's asynchronous I/O threads (``async_threads``, a
        setting of the whole database, fixed here for its life)."""
        config: dict[str, str | bool | int | float | list[str]] = {}
        threads = threads or self.threads
        if threads:
            config["threads"] = str(threads)
        if not async_io:
            config["async_threads"] = "0"
        if self.memory_limit:
            config["memory_limit"] = self.memory_limit
        con = duckdb.connect(":memory:", config=config)
        # global scope: every query's cursor starts with Athena's settings (3 SETs per
        # cursor cost ~1.5 ms a query)
        con.execute(_GLOBAL_SETTINGS)
        if self.storage.mode == "s3":
            self._register_s3(con)
        return con

    def _register_s3(self, con: duckdb.DuckDBPyConnection) -> None:
        """httpfs when it is installed (``LAKEBOX_S3_READER=auto|httpfs``), else fsspec."""
        choice = os.environ.get("LAKEBOX_S3_READER", "auto").lower()
        if choice in ("auto", "httpfs") and self._load_httpfs(con):
            self.s3_reader = "httpfs"
            return
        if not con.filesystem_is_registered("s3"):
            con.register_filesystem(self.storage.s3fs)
        self.s3_reader = "fsspec"

    def _load_httpfs(self, con: duckdb.DuckDBPyConnection) -> bool:
        con.execute("SET autoinstall_known_extensions = false")
        try:
            con.execute("LOAD httpfs")
        except duckdb.Error:
            return False
        s3 = self.storage.config.s3
        opts = ["TYPE s3", "URL_STYLE 'path'"]
        if s3.endpoint_url:
            scheme, _, host = s3.endpoint_url.partition("://")
            opts += [f"ENDPOINT '{host.rstrip('/')}'", f"USE_SSL {str(scheme == 'https').lower()}"]
        if s3.region:
            opts.append(f"REGION '{s3.region}'")
        if s3.access_key_id:
            opts += [f"KEY_ID '{s3.access_key_id}'", f"SECRET '{s3.secret_access_key}'"]
            if s3.session_token:
                opts.append(f"SESSION_TOKEN '{s3.session_token}'")
        else:
            opts.append("PROVIDER credential_chain")
        con.execute(f"CREATE OR REPLACE SECRET lakebox_s3 ({', '.join(opts)})")
        return True

    @contextmanager
    def logged_reads(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Log every file read (DuckDB's FileSystem log) while the block runs and yield a
        connection that reads the log: a scan cutoff counts columnar bytes as the engine
        reads them. The log is switched off and cleared once no block needs it."""
        base = self.base
        with self._log_lock:
            if self._log_users == 0:
                base.execute("CALL enable_logging('FileSystem')")
            self._log_users += 1
        reader = base.cursor()
        try:
            yield reader
        finally:
            reader.close()
            with self._log_lock:
                self._log_users -= 1
                if self._log_users == 0:
                    base.execute("CALL disable_logging()")
                    base.execute("CALL truncate_duckdb_logs()")

    def statement(self, watch: ExecutionWatch | None = None) -> DuckDBStatement:
        return DuckDBStatement(
            self.cursor(),
            self.storage,
            self.storage.config.cache_dir,
            watch,
            self.copies,
            functions=self.ensure_functions,
            writer=self.write_cursor,
        )

    @contextmanager
    def write_cursor(
        self, functions: frozenset[str], logged: bool
    ) -> Iterator[tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyConnection | None]]:
        """A private connection of the writer's database, with the rules' ``functions``
        made on it, for a write's ``COPY`` (``DuckDBStatement.open_write``), and, when
        ``logged``, a reader of its file-read log (logging on while the block runs, as in
        ``logged_reads``).

        Why a second database: DuckDB 2.0.0 can deadlock when a Parquet ``COPY`` fails
        (interrupted by a cancel or a scan cutoff, or failing on an error) while its file
        writer has writes queued on the asynchronous I/O threads. The failing statement
        aborts the writer while holding the writer's submission lock and waits for the
        queued write tasks, and the I/O thread running one of them waits for that lock:
        neither ever returns, nor does the statement (``TaskExecutor::DrainTasks`` under
        ``AsyncFileWriter::AbortWrite``; DuckDB alone showed it in about one in 40
        interrupted ``COPY ... (FORMAT parquet)``). Without async I/O threads a write is
        done on the thread that asks for it and nothing is left to wait for. The setting
        is the whole database's (``SET async_threads`` would change it under the lake's
        other queries while they run, and DuckDB's readers behave differently without
        them: a damaged Parquet footer fails differently), so the writes have a database
        of their own, made without them, and the lake's scans keep theirs."""
        with self._lock:
            if self._writer is None:
                self._writer = self._connect(async_io=False)
                self._writer_functions = _Functions(self._writer.cursor())
            writer, made = self._writer, self._writer_functions
        assert made is not None
        if functions:
            made.ensure(functions)
        if logged:
            with self._log_lock:
                if self._writer_log_users == 0:
                    writer.execute("CALL enable_logging('FileSystem')")
                self._writer_log_users += 1
        con = writer.cursor()
        reader = writer.cursor() if logged else None
        try:
            yield con, reader
        finally:
            if reader is not None:
                reader.close()
                with self._log_lock:
                    self._writer_log_users -= 1
                    if self._writer_log_users == 0:
                        writer.execute("CALL disable_logging()")
                        writer.execute("CALL truncate_duckdb_logs()")

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A private connection (its temporary views and registrations are its own); it
        inherits the global settings made in ``_connect``."""
        return self.base.cursor()

    def validate_table(self, table: Table) -> None:
        from lakebox.engine.duckdb.formats import reader_for

        reader_for(table).validate(table)

    def close(self) -> None:
        warming = self._warming
        if warming is not None:
            warming.join()  # it would open the database after this close
        self.copies.close()
        with self._lock:
            if self._functions is not None:
                self._functions.close()
                self._functions = None
            if self._con is not None:
                self._con.close()
                self._con = None
            if self._writer_functions is not None:
                self._writer_functions.close()
                self._writer_functions = None
            if self._writer is not None:
                self._writer.close()
                self._writer = None


#: ``translate.DUCKDB_SETTINGS`` for every cursor of a database, in one statement
_GLOBAL_SETTINGS = "; ".join(
    f"SET GLOBAL {name} = " + (str(value).lower() if isinstance(value, bool) else f"'{value}'")
    for name, value in DUCKDB_SETTINGS.items()
)


class _Functions:
    """The rules' macros and UDFs on one database, each created the first time a statement
    calls it (``rules.called_functions``), in the rules' order, by their own connection of
    the database (a macro is in its catalog, a UDF in its system catalog: every cursor
    sees both; the connection keeps the UDFs' Python functions alive)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._lock = threading.Lock()
        self._made: set[str] = set()

    def ensure(self, names: frozenset[str]) -> None:
        if names <= self._made:
            return
        with self._lock:
            for name, function in rules.function_catalog().functions.items():
                if name not in names or name in self._made:
                    continue
                if isinstance(function, str):
                    self._con.execute(function)
                else:
                    self._con.create_function(
                        function.name,
                        function.call,
                        list(function.parameters),
                        function.returns,
                        null_handling=duckdb.func.FunctionNullHandling.SPECIAL,
                    )
                self._made.add(name)

    def close(self) -> None:
        self._con.close()
