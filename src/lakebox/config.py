"""Lake configuration: where the lake lives and how to reach object storage."""

from __future__ import annotations

import ipaddress
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from lakebox.errors import ConfigError, LakeNotFoundError
from lakebox.principal import DEFAULT_ACCOUNT_ID, DEFAULT_REGION

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")

DEFAULT_HOME = ".lakebox"

#: the engines a lake runs its queries on (``LAKEBOX_ENGINE``); DuckDB is the default
ENGINES = ("duckdb", "spark")
#: Spark local mode on every core of the machine
DEFAULT_SPARK_MASTER = "local[*]"
_SPARK_MASTER = re.compile(r"^(local(\[(\*|[1-9]\d*)\])?|spark://[A-Za-z0-9.\-]+:\d{1,5})$")


def check_spark_master(master: str) -> str:
    """``master`` when the Spark engine can use it, else a ConfigError naming the forms."""
    if not _SPARK_MASTER.match(master):
        raise ConfigError(
            f"spark master {master!r} is not local, local[N], local[*] or spark://host:port "
            "(LAKEBOX_SPARK_MASTER)"
        )
    return master


#: the address the Spark driver (the lakebox process) gives its executors: loopback, so by
#: default only executors on this machine reach it
DEFAULT_SPARK_DRIVER_HOST = "127.0.0.1"
_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def check_spark_driver_host(host: str) -> str:
    """``host`` when executors could be told to reach the driver there (a host name or an
    IP address; not a wildcard such as 0.0.0.0, which is where to listen, not where to
    connect), else a ConfigError naming the setting."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if _HOST_NAME.match(host) and not host.replace(".", "").isdigit():
            return host
    else:
        if not address.is_unspecified:
            return host
    raise ConfigError(
        f"spark driver host {host!r} is not a host name or IP address the executors can "
        "connect to (LAKEBOX_SPARK_DRIVER_HOST)"
    )


#: where ``./dev spark-jars`` (``python -m lakebox.engine.spark.s3a``) keeps the S3A jars
#: the Spark engine needs in S3 mode
SPARK_JARS_SUBDIR = ("lakebox", "spark-jars")


def spark_jar_cache() -> Path:
    """``$XDG_CACHE_HOME/lakebox/spark-jars`` (``~/.cache/lakebox/spark-jars``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base, *SPARK_JARS_SUBDIR)


def spark_jars_setting() -> tuple[Path, ...] | None:
    """The jars ``LAKEBOX_SPARK_JARS`` names (files, or folders whose ``*.jar`` are all
    taken; separated by ``:`` or ``,``), or None when it is unset. A name that is not a
    jar or a folder is a ConfigError naming it."""
    text = os.environ.get("LAKEBOX_SPARK_JARS", "").strip()
    if not text:
        return None
    found: list[Path] = []
    for item in re.split(r"[,:]", text):
        if not item.strip():
            continue
        path = Path(item.strip()).expanduser()
        if path.is_dir():
            found.extend(sorted(path.glob("*.jar")))
        elif path.is_file() and path.suffix == ".jar":
            found.append(path.resolve())
        else:
            raise ConfigError(
                f"LAKEBOX_SPARK_JARS names {item.strip()!r}, which is neither a .jar file nor "
                "a folder"
            )
    return tuple(found)


@dataclass(frozen=True)
class S3Settings:
    """How to reach an S3-compatible endpoint. Unset values fall back to the usual AWS
    environment variables and profiles (resolved by botocore)."""

    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    profile: str | None = None

    @classmethod
    def from_env(cls) -> S3Settings:
        """From ``LAKEBOX_S3_*`` (what a lake hands its job processes, whose ``AWS_*``
        keys are the job role's, for the lakebox server: ``env``), else the AWS
        variables."""
        env = os.environ
        if env.get("LAKEBOX_S3_ACCESS_KEY_ID") or env.get("LAKEBOX_S3_PROFILE"):
            return cls(
                endpoint_url=env.get("LAKEBOX_S3_ENDPOINT") or None,
                region=env.get("LAKEBOX_S3_REGION") or None,
                access_key_id=env.get("LAKEBOX_S3_ACCESS_KEY_ID") or None,
                secret_access_key=env.get("LAKEBOX_S3_SECRET_ACCESS_KEY") or None,
                session_token=env.get("LAKEBOX_S3_SESSION_TOKEN") or None,
                profile=env.get("LAKEBOX_S3_PROFILE") or None,
            )
        return cls(
            endpoint_url=env.get("LAKEBOX_S3_ENDPOINT")
            or env.get("AWS_ENDPOINT_URL_S3")
            or env.get("AWS_ENDPOINT_URL"),
            region=env.get("LAKEBOX_S3_REGION")
            or env.get("AWS_REGION")
            or env.get("AWS_DEFAULT_REGION"),
            access_key_id=env.get("AWS_ACCESS_KEY_ID"),
            secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
            session_token=env.get("AWS_SESSION_TOKEN"),
            profile=env.get("AWS_PROFILE"),
        )

    def credentials(self) -> tuple[str | None, str | None, str | None]:
        """The keys (access key, secret, session token): those set here, else botocore's
        for ``profile`` (or its default chain: environment, profiles, instance roles),
        frozen now; all None when there are none. ConfigError for an unknown profile or a
        broken config file."""
        if self.access_key_id:
            return self.access_key_id, self.secret_access_key, self.session_token
        import botocore.session

        try:
            found = botocore.session.Session(profile=self.profile).get_credentials()
        except Exception as err:  # an unknown profile, a broken config file
            raise ConfigError(f"cannot resolve the lake's S3 credentials: {err}") from err
        if found is None:
            return None, None, None
        frozen = found.get_frozen_credentials()
        return frozen.access_key, frozen.secret_key, frozen.token

    def env(self) -> dict[str, str]:
        """These settings as ``LAKEBOX_S3_*`` variables, for a child process's lake (keys
        resolved now from the profile or environment when none are set)."""
        key, secret, token = self.credentials()
        values = {
            "LAKEBOX_S3_ENDPOINT": self.endpoint_url,
            "LAKEBOX_S3_REGION": self.region,
            "LAKEBOX_S3_ACCESS_KEY_ID": key,
            "LAKEBOX_S3_SECRET_ACCESS_KEY": secret,
            "LAKEBOX_S3_SESSION_TOKEN": token,
        }
        if not key and self.profile:
            values["LAKEBOX_S3_PROFILE"] = self.profile
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class LakeConfig:
    """``home`` holds metadata (catalog database, caches) and, in local mode, one folder
    per bucket. ``storage`` is ``local`` (buckets are folders) or ``s3``."""

    home: Path
    storage: str = "local"
    s3: S3Settings = field(default_factory=S3Settings)
    default_database: str = "default"
    #: local folders outside the lake that ``file://`` locations (and plain paths) may
    #: name; nothing else outside the lake's buckets can be read or written
    allowed_paths: tuple[Path, ...] = ()
    #: the lake's AWS account and region: every ARN of every service is built from them
    account_id: str = DEFAULT_ACCOUNT_ID
    region: str = DEFAULT_REGION
    #: the engine queries run on: "duckdb" (embedded) or "spark" (docs/scale-out.md)
    engine: str = "duckdb"
    #: the Spark engine's ``spark.master``: ``local[*]``, ``local[N]`` or a standalone
    #: cluster's ``spark://host:7077``
    spark_master: str = DEFAULT_SPARK_MASTER
    #: the address the Spark engine's executors reach the driver at (``spark.driver.host``)
    spark_driver_host: str = DEFAULT_SPARK_DRIVER_HOST

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ConfigError(
                f"unknown engine {self.engine!r} (LAKEBOX_ENGINE): use one of {', '.join(ENGINES)}"
            )
        check_spark_master(self.spark_master)
        check_spark_driver_host(self.spark_driver_host)
        if not _ACCOUNT_ID.match(self.account_id):
            raise ConfigError(
                f"account id {self.account_id!r} is not 12 digits (LAKEBOX_ACCOUNT_ID)"
            )
        if not _REGION.match(self.region):
            raise ConfigError(
                f"region {self.region!r} is not a region name like us-east-1 (LAKEBOX_REGION)"
            )

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        """``arn:aws:<service>:<region>:<account>:<resource>`` for this lake (IAM's ARNs
        name no region: ``regional=False``)."""
        region = self.region if regional else ""
        return f"arn:aws:{service}:{region}:{self.account_id}:{resource}"

    @classmethod
    def from_env(
        cls,
        home: str | os.PathLike[str] | None = None,
        storage: str | None = None,
        s3: S3Settings | None = None,
        allowed_paths: tuple[str | os.PathLike[str], ...] | None = None,
        account_id: str | None = None,
        region: str | None = None,
        engine: str | None = None,
        spark_master: str | None = None,
        spark_driver_host: str | None = None,
    ) -> LakeConfig:
        """``LAKEBOX_ACCOUNT_ID`` and ``LAKEBOX_REGION`` (then ``AWS_REGION``,
        ``AWS_DEFAULT_REGION``) set the account and region; defaults 000000000000 and
        us-east-1. ``LAKEBOX_ENGINE`` (``duckdb``, the default, or ``spark``) and
        ``LAKEBOX_SPARK_MASTER`` (default ``local[*]``) choose the query engine;
        ``LAKEBOX_SPARK_DRIVER_HOST`` (default 127.0.0.1) is where Spark's executors reach
        the driver."""
        root = Path(home or os.environ.get("LAKEBOX_HOME") or DEFAULT_HOME).expanduser().resolve()
        mode = (storage or os.environ.get("LAKEBOX_STORAGE") or "local").lower()
        if mode not in ("local", "s3"):
            raise ConfigError(f"unknown storage mode {mode!r}: use 'local' or 's3'")
        if allowed_paths is None:
            text = os.environ.get("LAKEBOX_ALLOWED_PATHS", "")
            allowed_paths = tuple(p for p in text.split(os.pathsep) if p.strip())
        allowed = tuple(Path(p).expanduser().resolve() for p in allowed_paths)
        env = os.environ
        return cls(
            home=root,
            storage=mode,
            s3=s3 or S3Settings.from_env(),
            allowed_paths=allowed,
            account_id=account_id or env.get("LAKEBOX_ACCOUNT_ID") or DEFAULT_ACCOUNT_ID,
            region=region
            or env.get("LAKEBOX_REGION")
            or env.get("AWS_REGION")
            or env.get("AWS_DEFAULT_REGION")
            or DEFAULT_REGION,
            engine=(engine or env.get("LAKEBOX_ENGINE") or "duckdb").strip().lower(),
            spark_master=spark_master or env.get("LAKEBOX_SPARK_MASTER") or DEFAULT_SPARK_MASTER,
            spark_driver_host=(
                spark_driver_host
                or env.get("LAKEBOX_SPARK_DRIVER_HOST", "").strip()
                or DEFAULT_SPARK_DRIVER_HOST
            ),
        )

    @property
    def metadata_dir(self) -> Path:
        return self.home / "_lakebox"

    @property
    def cache_dir(self) -> Path:
        return self.metadata_dir / "cache"

    def exists(self) -> bool:
        """A lake lives here: its metadata folder exists."""
        return self.metadata_dir.is_dir()

    def open_home(self, create: bool = True) -> None:
        """Check that ``home`` holds a lake, making one when ``create``. Read-only commands
        pass ``create=False`` so a typo in ``--home`` is reported, not a new empty lake."""
        home, meta = self.home, self.metadata_dir
        if home.exists() and not home.is_dir():
            raise ConfigError(
                f"lake home {home} is a file, not a folder: point --home (or LAKEBOX_HOME) "
                "at a folder"
            )
        if meta.is_dir():
            return
        if meta.exists():
            raise ConfigError(
                f"{meta} is a file, but lakebox keeps its metadata folder there: move it away"
            )
        if not create:
            where = shlex.quote(str(home))
            raise LakeNotFoundError(
                f"no lake at {home}: create one with `lakebox init {where}` (or run a "
                f'command that creates something, e.g. `lakebox sql "CREATE DATABASE '
                f'mydb" --home {where}`)'
            )
        try:
            meta.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ConfigError(f"cannot create a lake at {home}: {err.strerror or err}") from err
