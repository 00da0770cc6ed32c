"""The storage facade. Every component asks it for files by URI and never learns whether
a bucket is a local folder or a real S3 bucket.

Backends are fsspec filesystems picked from a registry by storage mode; ``engine_path``
turns a URI into what DuckDB opens (a local path, or an ``s3://`` URI served by the same
fsspec filesystem registered with DuckDB, since httpfs cannot always be loaded).

fsspec (which imports asyncio and ssl, ~60 ms) loads on the first use of a filesystem
object: listings, atomic writes, ``makedirs`` and path resolution of local files use the
operating system directly, so a local query such as ``SELECT 1`` never imports it.
"""

from __future__ import annotations

import errno
import os
import posixpath
import shutil
import tempfile
from collections.abc import Callable
from operator import itemgetter
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar, overload

from lakebox.config import LakeConfig
from lakebox.errors import InvalidLocationError, StorageError
from lakebox.storage.uri import ObjectURI, check_bucket, check_key, parse_uri
from lakebox.storage.watch import listing_cache, make_key

if TYPE_CHECKING:
    import fsspec


#: what a listing holds for each file: ``FileInfo``, or the caller's own record
R = TypeVar("R")
#: builds a caller's record of one listed file from (uri, path the engine opens, size,
#: modification time, change time): the planner's ``DataFile`` takes exactly these, so
#: a 10,000-file listing builds 10,000 records, not 10,000 ``FileInfo`` and a copy of each
RowMaker = Callable[[str, str, int, float, float], R]


class Listing(NamedTuple, Generic[R]):
    """Files under a prefix and the version of that listing: a number naming this exact
    snapshot while the folder is watched (see ``lakebox.storage.watch``), None when it
    cannot be kept current (S3, network file systems). ``files`` may be shared with
    other callers: never mutate it."""

    files: list[R]
    version: int | None


class FileInfo(NamedTuple):
    """One listed object (a NamedTuple: a 10,000-file listing builds 10,000 of them)."""

    uri: str
    size: int
    mtime: float
    #: what the engine opens for this object (set by listings; see Storage.engine_path)
    path: str = ""
    #: local files: the inode change time, which a rewrite changes even when it restores
    #: the modification time (``cp -p``); 0 where the store has none (S3)
    ctime: float = 0.0


def _file_info(uri: str, path: str, size: int, mtime: float, ctime: float) -> FileInfo:
    return FileInfo(uri, size, mtime, path, ctime)


#: the URI: first in FileInfo and in the planner's records
_by_uri: Callable[[Any], str] = itemgetter(0)


#: ``os.open`` flag for a handle that only names a file (Linux)
_O_PATH = getattr(os, "O_PATH", 0)


def real_path(path: str) -> str:
    """``os.path.realpath(path)``, asked of the kernel where it can answer: the path
    opened as a handle (symbolic links followed, as the I/O after the check will follow
    them) and the handle's name read back from /proc, three system calls. Python's
    realpath checks each component itself (a dozen ``lstat`` calls, ~0.1 ms): the
    boundary check runs for every location a query lists, 84 times for an 84-partition
    table. Anything the kernel cannot name that way (a missing file, no /proc, a path
    outside this process's root) is left to ``os.path.realpath``."""
    if _O_PATH:
        try:
            fd = os.open(path, _O_PATH | os.O_CLOEXEC)
        except (OSError, ValueError):
            return os.path.realpath(path)
        try:
            real = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            real = ""
        finally:
            os.close(fd)
        # a name that is not an absolute path ("(unreachable)/...", "anon_inode:...") or
        # of a file deleted meanwhile is not the file's path
        if real.startswith("/") and not real.endswith(" (deleted)"):
            return real
    return os.path.realpath(path)


def is_hidden(name: str) -> bool:
    """Athena (Hadoop) skips files whose name starts with ``_`` or ``.``."""
    return name.startswith(("_", "."))


class Storage:
    """Resolves URIs for one lake. ``fs_for`` returns the fsspec filesystem and the path in
    it; local buckets live under ``<home>/<bucket>/``."""

    def __init__(self, config: LakeConfig) -> None:
        self.config = config
        self.mode = config.storage
        self._local_fs: fsspec.AbstractFileSystem | None = None
        self._s3: fsspec.AbstractFileSystem | None = None
        # the boundary compares real paths: symlinks resolved once here, per path below
        self._real_home = os.path.realpath(config.home)
        self._real_meta = os.path.realpath(config.metadata_dir)
        self._real_allowed = tuple(os.path.realpath(p) for p in config.allowed_paths)

    # -- resolution -------------------------------------------------------------------
    @property
    def _local(self) -> fsspec.AbstractFileSystem:
        """fsspec's local filesystem, imported on first use."""
        if self._local_fs is None:
            from fsspec.implementations.local import LocalFileSystem

            self._local_fs = LocalFileSystem()
        return self._local_fs

    @property
    def s3fs(self) -> fsspec.AbstractFileSystem:
        if self._s3 is None:
            self._s3 = make_s3_filesystem(self.config)
        return self._s3

    def fs_for(self, location: str | ObjectURI) -> tuple[fsspec.AbstractFileSystem, str]:
        """The filesystem and path behind a location, after ``resolve``'s checks."""
        path, local = self.resolve(location)
        return (self._local if local else self.s3fs), path

    def resolve(self, location: str | ObjectURI) -> tuple[str, bool]:
        """The storage boundary: the path behind a location and whether it is a local file,
        after checking that it stays inside the lake. Every open, listing, write and delete
        comes through here (or ``check``), so no door can reach a file outside the lake's
        buckets, the ``file://`` folders allowed by ``LakeConfig.allowed_paths``, or
        lakebox's own metadata folder."""
        if isinstance(location, str):
            uri = parse_uri(location)
        else:
            uri = location
            if uri.is_s3:
                check_bucket(uri.bucket)
                check_key(uri.key)
        if not uri.is_s3:
            self._check_file(uri.key)
            return uri.key, True
        if self.mode == "s3":
            return f"{uri.bucket}/{uri.key}", False
        path = str(self.config.home / uri.bucket / uri.key) + (
            "/" if uri.key.endswith("/") or not uri.key else ""
        )
        real = real_path(path)
        if not self._in_lake(real):
            raise InvalidLocationError(
                f"refused {uri}: a symbolic link in the lake leads outside it "
                f"(to {real}); lakebox does not follow such links"
            )
        return path, True

    def check(self, location: str) -> str:
        """``location`` if I/O there would be allowed (the same rules as ``fs_for``), else
        InvalidLocationError: for locations that are stored now and used later (table
        locations, output locations, stream and export prefixes, crawler targets)."""
        self.resolve(location)
        return location

    def _in_lake(self, real: str) -> bool:
        """Whether a resolved local path is in one of the lake's buckets."""
        home, meta = self._real_home, self._real_meta
        return (real.startswith(home + os.sep) or real == home) and not (
            real == meta or real.startswith(meta + os.sep)
        )

    def _check_file(self, path: str) -> None:
        real = real_path(path)
        meta = self._real_meta
        if real == meta or real.startswith(meta + os.sep):
            raise InvalidLocationError(
                f"refused file://{path}: it is inside lakebox's metadata folder {meta}, "
                "which only lakebox itself writes"
            )
        if self._in_lake(real) or any(
            real == root or real.startswith(root.rstrip(os.sep) + os.sep)
            for root in self._real_allowed
        ):
            return
        raise InvalidLocationError(
            f"refused file://{path}: it is outside the lake ({self._real_home}). Put the data "
            "in a bucket (s3://bucket/...), or allow its folder with LAKEBOX_ALLOWED_PATHS "
            f"(folders separated by '{os.pathsep}')"
        )

    def engine_path(self, location: str) -> str:
        """What the engine opens for this URI: a local path, or ``s3://`` for S3 mode."""
        uri = parse_uri(location)
        if uri.is_s3 and self.mode == "s3":
            return f"s3://{uri.bucket}/{uri.key}"
        return self.resolve(uri)[0]

    def local_path(self, location: str) -> Path | None:
        """The local file behind a URI, or None when the object lives in S3."""
        path, local = self.resolve(location)
        return Path(path) if local else None

    def to_uri(self, fs: fsspec.AbstractFileSystem, path: str, like: ObjectURI) -> str:
        if like.is_s3 and fs is not self._local_fs:
            return f"s3://{path}"
        if like.is_s3:
            rel = os.path.relpath(path, self.config.home / like.bucket)
            return f"s3://{like.bucket}/{rel.replace(os.sep, '/')}"
        return f"file://{path}"

    # -- listing ----------------------------------------------------------------------
    def list_files(
        self, location: str, recursive: bool = True, include_hidden: bool = False
    ) -> list[FileInfo]:
        """Files under a prefix (folder semantics: ``s3://b/x`` lists ``s3://b/x/...``), sorted.

        Hidden files (``_SUCCESS``, ``.crc``) and hidden folders are skipped as Athena does.
        """
        return list(self.listing(location, recursive, include_hidden).files)

    @overload
    def listing(
        self, location: str, recursive: bool = True, include_hidden: bool = False
    ) -> Listing[FileInfo]: ...

    @overload
    def listing(
        self,
        location: str,
        recursive: bool = True,
        include_hidden: bool = False,
        *,
        row: RowMaker[R],
    ) -> Listing[R]: ...

    def listing(
        self,
        location: str,
        recursive: bool = True,
        include_hidden: bool = False,
        *,
        row: RowMaker[Any] | None = None,
    ) -> Listing[Any]:
        """``list_files`` with the listing's version; a repeated listing of a local folder
        that has not changed since is served from the process's watched-listing cache.
        ``row`` builds each file's record (``RowMaker``; default ``FileInfo``), sorted by
        URI: its first field must be the URI, and it must be a class or module-level
        function whose records depend on its arguments alone (the cache keeps records
        per ``row``, by identity)."""
        make: RowMaker[Any] = row or _file_info
        uri = parse_uri(location).as_prefix()
        root, local = self.resolve(uri)
        root = root.rstrip("/")
        if local:
            cache = listing_cache()
            if cache is None:
                files = self._list_local(root, str(uri), recursive, include_hidden, make)
                return Listing(files, None)
            key = make_key(root, str(uri), recursive, include_hidden, make)
            with cache.lock:
                entry = cache.lookup(key)
                if entry is not None:
                    return Listing(entry.files, entry.version)
                rec = cache.begin(root)
                try:
                    files = self._list_local(
                        root, str(uri), recursive, include_hidden, make, rec.watch if rec else None
                    )
                except BaseException:
                    if rec is not None:
                        cache.abandon(rec)
                    raise
                version = cache.store(key, files, rec) if rec is not None else None
            return Listing(files, version)
        found = self._list_remote(self.s3fs, root, uri, location, recursive, include_hidden)
        if row is not None:
            return Listing([row(f.uri, f.path, f.size, f.mtime, f.ctime) for f in found], None)
        return Listing(found, None)

    def listing_version(
        self, location: str, recursive: bool = True, include_hidden: bool = False
    ) -> int | None:
        """The version of the cached listing of ``location`` while nothing under it has
        changed, else None (whatever records it was made with: listings of one unchanged
        snapshot share their version). Never lists: a cheap way to ask whether what was
        derived from a listing is still current."""
        uri = parse_uri(location).as_prefix()
        root, local = self.resolve(uri)
        cache = listing_cache() if local else None
        if cache is None:
            return None
        key = make_key(root.rstrip("/"), str(uri), recursive, include_hidden)
        with cache.lock:
            return cache.version(key)

    def _list_remote(
        self,
        fs: fsspec.AbstractFileSystem,
        root: str,
        uri: ObjectURI,
        location: str,
        recursive: bool,
        include_hidden: bool,
    ) -> list[FileInfo]:
        try:
            if not fs.isdir(root):
                return []
            found = fs.find(root, maxdepth=None if recursive else 1, detail=True)
        except FileNotFoundError:
            return []
        except OSError as err:
            raise StorageError(f"cannot list {location}: {err}") from err
        out: list[FileInfo] = []
        for path, info in found.items():
            if info.get("type") == "directory":
                continue
            rel = posixpath.relpath(path.replace(os.sep, "/"), root.replace(os.sep, "/"))
            if not include_hidden and any(is_hidden(p) for p in rel.split("/")):
                continue
            if path.endswith("/"):  # S3 folder markers
                continue
            out.append(
                FileInfo(
                    self.to_uri(fs, path, uri),
                    int(info.get("size") or 0),
                    _mtime(info),
                    f"s3://{path}" if fs is not self._local_fs else path,
                )
            )
        out.sort(key=_by_uri)
        return out

    def _list_local(
        self,
        root: str,
        prefix_uri: str,
        recursive: bool,
        include_hidden: bool,
        make: RowMaker[R],
        watch: Callable[[str], None] | None = None,
    ) -> list[R]:
        """os.scandir walk: listing is on the planning path of every query, and fsspec's
        generic ``find`` costs ~0.5 ms per folder here. ``watch`` is called with each
        folder before it is read (see ``lakebox.storage.watch``); ``make`` builds each
        file's record."""
        out: list[R] = []
        append = out.append
        stack = [(root, prefix_uri)]
        while stack:
            folder, base = stack.pop()
            if watch is not None:
                watch(folder)
            try:
                entries = list(os.scandir(folder))
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError as err:
                raise StorageError(f"cannot list {base}: {err}") from err
            for entry in entries:
                name = entry.name
                if name[0] in "_." and (not include_hidden or name.startswith(".lakebox-tmp-")):
                    continue
                if entry.is_symlink() and not self._link_allowed(entry.path):
                    continue  # a link leading out of the lake is not followed
                if entry.is_dir():
                    if recursive:
                        stack.append((entry.path, f"{base}{name}/"))
                    continue
                try:
                    st = entry.stat()
                except FileNotFoundError:
                    continue  # removed while listing
                append(make(base + name, entry.path, st.st_size, st.st_mtime, st.st_ctime))
        out.sort(key=_by_uri)
        return out

    def _link_allowed(self, path: str) -> bool:
        real = real_path(path)
        if self._in_lake(real):
            return True
        meta = self._real_meta
        if real == meta or real.startswith(meta + os.sep):
            return False
        return any(
            real == root or real.startswith(root.rstrip(os.sep) + os.sep)
            for root in self._real_allowed
        )

    def list_dirs(self, location: str) -> list[str]:
        """Immediate sub-folders of a prefix, as URIs ending in ``/``."""
        uri = parse_uri(location).as_prefix()
        fs, root = self.fs_for(uri)
        root = root.rstrip("/")
        try:
            entries = fs.ls(root, detail=True)
        except (FileNotFoundError, NotADirectoryError):
            return []
        dirs = [
            self.to_uri(fs, e["name"].rstrip("/"), uri) + "/"
            for e in entries
            if e.get("type") == "directory"
            and (fs is not self._local_fs or not e.get("islink") or self._link_allowed(e["name"]))
        ]
        return sorted(dirs)

    def info(self, location: str) -> FileInfo:
        fs, path = self.fs_for(location)
        try:
            info = fs.info(path)
        except FileNotFoundError as err:
            raise StorageError(f"no such object: {location}") from err
        return FileInfo(location, int(info.get("size") or 0), _mtime(info))

    def exists(self, location: str) -> bool:
        fs, path = self.fs_for(location)
        return bool(fs.exists(path))

    def is_empty(self, location: str) -> bool:
        return not self.list_files(location, include_hidden=True)

    # -- reading and writing ---------------------------------------------------------
    def open(self, location: str, mode: str = "rb") -> IO[Any]:
        fs, path = self.fs_for(location)
        try:
            return fs.open(path, mode)
        except FileNotFoundError as err:
            raise StorageError(f"no such object: {location}") from err

    def read_bytes(self, location: str) -> bytes:
        with self.open(location) as fh:
            return fh.read()

    def write_bytes(self, location: str, data: bytes) -> None:
        """Write an object atomically: readers see the old state or the whole new object."""
        self.write_with(location, lambda fh: fh.write(data))

    def write_with(self, location: str, writer: Callable[[IO[bytes]], object]) -> None:
        path, local = self.resolve(location)
        if local:
            target = Path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".lakebox-tmp-", dir=target.parent)
            try:
                with os.fdopen(fd, "wb") as fh:
                    writer(fh)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            return
        with self.s3fs.open(path, "wb") as fh:  # an S3 PUT is atomic
            writer(fh)

    def move_in(self, location: str, source: Path) -> None:
        """Put the local file ``source`` at ``location`` in one step and remove it: a
        rename for a local bucket (``source`` is staged on the buckets' file system, in
        the metadata folder, so readers see the old object or the whole new one; a bucket
        on another file system is copied next to the target first), an upload in S3 mode
        (a PUT is atomic)."""
        path, local = self.resolve(location)
        if not local:
            self.s3fs.put_file(str(source), path)
            source.unlink(missing_ok=True)
            return
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, target)
        except OSError as err:
            if err.errno != errno.EXDEV:
                raise
            with open(source, "rb") as fh:
                self.write_with(location, lambda out: shutil.copyfileobj(fh, out, 1 << 20))
            source.unlink(missing_ok=True)

    def delete(self, location: str) -> None:
        fs, path = self.fs_for(location)
        try:
            fs.rm_file(path)
        except FileNotFoundError:
            pass

    def delete_prefix(self, location: str) -> None:
        for f in self.list_files(location, include_hidden=True):
            self.delete(f.uri)

    def makedirs(self, location: str) -> None:
        path, local = self.resolve(location)
        if local:
            Path(path).mkdir(parents=True, exist_ok=True)

    def ensure_bucket(self, bucket: str) -> None:
        check_bucket(bucket)
        if self.mode == "s3":
            if not self.s3fs.exists(bucket):
                region = self.config.s3.region
                extra = (
                    {"CreateBucketConfiguration": {"LocationConstraint": region}}
                    if region and region != "us-east-1"
                    else {}
                )
                self.s3fs.call_s3("create_bucket", Bucket=bucket, **extra)
                self.s3fs.invalidate_cache()
        else:
            (self.config.home / bucket).mkdir(parents=True, exist_ok=True)


def _mtime(info: dict[str, Any]) -> float:
    for key in ("mtime", "LastModified", "last_modified", "created"):
        value = info.get(key)
        if value is None:
            continue
        if hasattr(value, "timestamp"):
            return float(value.timestamp())
        try:
            return float(value)
        except (TypeError, ValueError):
            continue
    return 0.0


def make_s3_filesystem(config: LakeConfig) -> fsspec.AbstractFileSystem:
    """An s3fs filesystem from the lake's S3 settings (env / profile fill the gaps)."""
    try:
        import s3fs
    except ImportError as err:  # pragma: no cover - s3fs is a core dependency
        raise StorageError("S3 mode needs the 's3fs' package") from err
    s3 = config.s3
    kwargs: dict[str, Any] = {"use_listings_cache": False, "skip_instance_cache": True}
    client_kwargs: dict[str, Any] = {}
    if s3.endpoint_url:
        client_kwargs["endpoint_url"] = s3.endpoint_url
    if s3.region:
        client_kwargs["region_name"] = s3.region
    if s3.access_key_id:
        kwargs["key"] = s3.access_key_id
        kwargs["secret"] = s3.secret_access_key
        if s3.session_token:
            kwargs["token"] = s3.session_token
    if s3.profile:
        kwargs["profile"] = s3.profile
    kwargs["client_kwargs"] = client_kwargs
    return s3fs.S3FileSystem(**kwargs)


def open_storage(config: LakeConfig) -> Storage:
    return Storage(config)
