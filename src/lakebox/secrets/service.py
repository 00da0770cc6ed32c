"""The secret store behind Secrets Manager: secrets of each account, their versions and
the staging labels that point at them, kept in ``_lakebox/secretsmanager.sqlite``.

A version's value is never written in clear: it is sealed with AES-256-GCM
(``lakebox.iam.crypto.SecretBox``) under a key of its own, ``_lakebox/secretsmanager/
secrets.key`` (0600 in a 0700 folder, read without following a link), with the secret's
ARN and the version id as associated data, so a sealed value copied onto another row does
not open. The key is not the identity store's: a copy of one key file opens only one kind
of secret, and either can be rotated or restored on its own (``lakebox backup`` copies
both with the stores).

The rules are Secrets Manager's: a version gets ``AWSCURRENT`` when it is put unless
other labels are named, and the version that loses ``AWSCURRENT`` gets ``AWSPREVIOUS``; a
label is on at most one version; a version without labels is deprecated (kept, hidden
from listings unless asked, the oldest of them dropped past 100 versions); a
``ClientRequestToken`` is the new version's id, so a retried call with the same token and
value succeeds once and one with another value is refused; a deleted secret keeps its
versions for its recovery window (7-30 days) and refuses to be read, and is removed for
good when the window ends.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets as _random
import string
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakebox import util
from lakebox.iam.crypto import SecretBox, SecretsError
from lakebox.metadata.sqlite import Connection, SQLiteStore
from lakebox.secrets.errors import (
    AccessDenied,
    InvalidNextToken,
    InvalidParameter,
    InvalidRequest,
    LimitExceeded,
    ResourceExists,
    ResourceNotFound,
)

FILE = "secretsmanager.sqlite"
#: the secrets' own key, beside (not inside) the identity store's ``iam/secrets.key``
KEY_FILE = "secretsmanager/secrets.key"

CURRENT = "AWSCURRENT"
PREVIOUS = "AWSPREVIOUS"
PENDING = "AWSPENDING"

MAX_VALUE = 65536
MAX_DESCRIPTION = 2048
MAX_TAGS = 50
MAX_LABELS = 20
#: versions kept per secret: past it the oldest deprecated ones are dropped (as AWS does)
MAX_VERSIONS = 100
_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
_TOKEN = re.compile(r"^[\x21-\x7e]{32,64}$")
_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")

_MIGRATIONS = (
    """
    CREATE TABLE secrets (
        arn TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        name TEXT NOT NULL,
        description TEXT,
        kms_key_id TEXT,
        tags TEXT NOT NULL,
        created REAL NOT NULL,
        last_changed REAL NOT NULL,
        last_accessed REAL,
        deleted REAL,
        purge_at REAL,
        UNIQUE (account_id, name)
    );
    CREATE TABLE versions (
        arn TEXT NOT NULL REFERENCES secrets(arn) ON DELETE CASCADE,
        version_id TEXT NOT NULL,
        sealed BLOB,
        created REAL NOT NULL,
        last_accessed REAL,
        PRIMARY KEY (arn, version_id)
    );
    CREATE TABLE stages (
        arn TEXT NOT NULL,
        stage TEXT NOT NULL,
        version_id TEXT NOT NULL,
        PRIMARY KEY (arn, stage)
    );
    """,
)


#: the identity key's words in ``SecretBox``'s messages -> this key's (same rules, own file)
_WORDS = (
    ("identity key file", "Secrets Manager key file"),
    ("identity key folder", "Secrets Manager key folder"),
    ("the identity store holds secret access keys", "the secret store holds secret values"),
    ("no secret access key can be checked", "no secret value can be read"),
    ("this lake's identity store", "this lake's secret store"),
)


class _SecretValueBox(SecretBox):
    """The identity store's sealing (``SecretBox``), its errors worded for secret values."""

    @staticmethod
    def _reworded(err: SecretsError) -> SecretsError:
        text = str(err)
        for before, after in _WORDS:
            text = text.replace(before, after)
        return SecretsError(text)

    def seal(self, secret: str, key_id: str) -> bytes:
        try:
            return super().seal(secret, key_id)
        except SecretsError as err:
            raise self._reworded(err) from err

    def open(self, sealed: bytes, key_id: str) -> str:
        try:
            return super().open(sealed, key_id)
        except SecretsError as err:
            text = f"the secret value {key_id} cannot be decrypted with {self.key_file}"
            if "cannot be decrypted" in str(err):
                raise SecretsError(
                    f"{text}: the key file does not belong to this lake's secret store"
                ) from err
            raise self._reworded(err) from err


def _now() -> float:
    return dt.datetime.now(dt.UTC).timestamp()


def _time(value: float | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromtimestamp(value, dt.UTC)


def _day(value: float) -> float:
    """Secrets Manager keeps last-accessed dates to the day."""
    when = dt.datetime.fromtimestamp(value, dt.UTC)
    return dt.datetime(when.year, when.month, when.day, tzinfo=dt.UTC).timestamp()


@dataclass(frozen=True)
class SecretValue:
    """A secret's string or binary value (exactly one of them)."""

    string: str | None = None
    binary: bytes | None = None

    def seal_text(self) -> str:
        """What is sealed: a kind letter, then the string or the bytes in base64."""
        if self.binary is not None:
            return "B" + base64.b64encode(self.binary).decode("ascii")
        return "S" + (self.string or "")

    @classmethod
    def from_sealed_text(cls, text: str) -> SecretValue:
        if text.startswith("B"):
            return cls(binary=base64.b64decode(text[1:]))
        return cls(string=text[1:])


@dataclass(frozen=True)
class Version:
    version_id: str
    stages: tuple[str, ...]
    created: dt.datetime
    last_accessed: dt.datetime | None
    has_value: bool = True


@dataclass(frozen=True)
class Secret:
    arn: str
    account_id: str
    name: str
    description: str | None
    kms_key_id: str | None
    tags: tuple[tuple[str, str], ...]
    created: dt.datetime
    last_changed: dt.datetime
    last_accessed: dt.datetime | None
    deleted: dt.datetime | None
    purge_at: dt.datetime | None
    versions: tuple[Version, ...] = field(default=())

    def version_stages(self) -> dict[str, list[str]]:
        """VersionIdsToStages: the labelled versions only (as AWS answers it)."""
        return {v.version_id: list(v.stages) for v in self.versions if v.stages}


@dataclass(frozen=True)
class Fetched:
    """GetSecretValue's answer."""

    secret: Secret
    version_id: str
    value: SecretValue
    stages: tuple[str, ...]
    created: dt.datetime


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_token: str | None


@dataclass(frozen=True)
class Filter:
    """One of ListSecrets' filters: ``key`` is name, description, tag-key, tag-value or
    all; a value matches by prefix, and one starting with ``!`` excludes."""

    key: str
    values: tuple[str, ...]


FILTER_KEYS = ("name", "description", "tag-key", "tag-value", "all")


def _suffix() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(_random.choice(alphabet) for _ in range(6))


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidParameter(
            f"Invalid name {str(name)[:80]!r}: a secret name has 1 to 512 characters among "
            "letters, digits and /_+=.@-"
        )
    return name


def check_token(token: Any, member: str = "ClientRequestToken") -> str:
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise InvalidParameter(
            f"{member} must be 32 to 64 printable ASCII characters (a UUID is usual)"
        )
    return token


def check_value(string_value: Any, binary_value: Any) -> SecretValue | None:
    """The value a request carries, or None for none; both at once is refused."""
    if string_value is not None and binary_value is not None:
        raise InvalidParameter(
            "You can't specify both a binary secret value and a string secret value in the "
            "same secret."
        )
    if string_value is not None:
        # AWS's bound is in bytes of UTF-8, not characters: 65,536 "é" are 131,072 bytes
        if (
            not isinstance(string_value, str)
            or len(string_value.encode("utf-8", "surrogatepass")) > MAX_VALUE
        ):
            raise InvalidParameter(
                f"SecretString must be a string of at most {MAX_VALUE} bytes (UTF-8)"
            )
        return SecretValue(string=string_value)
    if binary_value is not None:
        if not isinstance(binary_value, bytes | bytearray) or len(binary_value) > MAX_VALUE:
            raise InvalidParameter(f"SecretBinary must be at most {MAX_VALUE} bytes")
        return SecretValue(binary=bytes(binary_value))
    return None


def check_description(description: Any) -> str | None:
    if description is None:
        return None
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        raise InvalidParameter(f"Description must be a string of at most {MAX_DESCRIPTION} chars")
    return description


def check_tags(tags: Any) -> list[tuple[str, str]]:
    if tags is None:
        return []
    if not isinstance(tags, list) or len(tags) > MAX_TAGS:
        raise InvalidParameter(f"Tags must be a list of at most {MAX_TAGS} Key/Value objects")
    out = []
    for tag in tags:
        key = tag.get("Key") if isinstance(tag, dict) else None
        value = tag.get("Value", "") if isinstance(tag, dict) else None
        if not isinstance(key, str) or not 1 <= len(key) <= 128:
            raise InvalidParameter("a tag's Key must be a string of 1 to 128 characters")
        if not isinstance(value, str) or len(value) > 256:
            raise InvalidParameter(f"the Value of tag {key!r} must be at most 256 characters")
        if key.lower().startswith("aws:"):
            raise InvalidParameter(f"tag key {key!r}: the aws: prefix is reserved for AWS")
        out.append((key, value))
    return out


def check_stages(stages: Any, member: str = "VersionStages") -> list[str]:
    if not isinstance(stages, list) or not 1 <= len(stages) <= MAX_LABELS:
        raise InvalidParameter(f"{member} must be a list of 1 to {MAX_LABELS} staging labels")
    for stage in stages:
        check_stage(stage, member)
    return list(dict.fromkeys(stages))


def check_stage(stage: Any, member: str = "VersionStage") -> str:
    if not isinstance(stage, str) or not 1 <= len(stage) <= 256:
        raise InvalidParameter(f"{member}: a staging label is a string of 1 to 256 characters")
    return stage


def page_token(offset: int) -> str:
    return util.page_token(offset)


def page_offset(token: Any) -> int:
    offset = util.page_offset(token)
    if offset is None:
        raise InvalidNextToken(f"NextToken {str(token)[:64]!r} is not a token lakebox gave")
    return offset


def page_size(value: Any, default: int = 100) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise InvalidParameter("MaxResults must be an integer from 1 to 100")
    return value


class SecretsService:
    """Secrets Manager's secrets, one SQLite store and one key file per lake."""

    def __init__(self, metadata_dir: Path, *, region: str) -> None:
        from lakebox.iam.store import _private_database

        path = metadata_dir / FILE
        _private_database(path)  # sealed values, still: owner-only, as the identity store
        self._db = SQLiteStore(path, _MIGRATIONS)
        self.region = region
        self.box = _SecretValueBox(metadata_dir / KEY_FILE, has_sealed=self._has_sealed)

    def close(self) -> None:
        self._db.close()

    def _has_sealed(self) -> bool:
        con = self._db.connection()
        return bool(
            con.execute(
                "SELECT EXISTS (SELECT 1 FROM versions WHERE sealed IS NOT NULL)"
            ).fetchall()[0][0]
        )

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._db.transaction() as con:
            con.execute(
                "DELETE FROM stages WHERE arn IN (SELECT arn FROM secrets WHERE "
                "purge_at IS NOT NULL AND purge_at <= ?)",
                (_now(),),
            )
            con.execute(
                "DELETE FROM versions WHERE arn IN (SELECT arn FROM secrets WHERE "
                "purge_at IS NOT NULL AND purge_at <= ?)",
                (_now(),),
            )
            con.execute(
                "DELETE FROM secrets WHERE purge_at IS NOT NULL AND purge_at <= ?", (_now(),)
            )
            yield con

    # -- finding a secret --------------------------------------------------------------------
    def _row(self, con: Connection, account: str, secret_id: Any) -> Any:
        """The row of ``secret_id`` (a name, a full ARN, or an ARN without its random
        suffix) in ``account``."""
        if not isinstance(secret_id, str) or not 1 <= len(secret_id) <= 2048:
            raise InvalidParameter("SecretId must be a secret's name or ARN (1 to 2048 chars)")
        now = _now()
        live = "(purge_at IS NULL OR purge_at > ?)"
        if secret_id.startswith("arn:"):
            parts = secret_id.split(":", 6)
            if len(parts) != 7 or parts[2] != "secretsmanager" or parts[5] != "secret":
                raise InvalidParameter(
                    f"SecretId {secret_id[:200]!r} is not a Secrets Manager secret ARN "
                    "(arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>)"
                )
            if parts[4] != account:
                raise AccessDenied(
                    f"the secret {secret_id[:200]} belongs to account {parts[4]}, not to the "
                    f"caller's account {account} (lakebox has no resource policies to share it)"
                )
            if parts[3] != self.region:
                raise ResourceNotFound(
                    f"Secrets Manager can't find the specified secret: {secret_id[:200]} is "
                    f"in region {parts[3]}, this lake is in {self.region}"
                )
            row = con.execute(
                f"SELECT * FROM secrets WHERE arn = ? AND {live}", (secret_id, now)
            ).fetchone()
            if row is None:  # a partial ARN: the name without its suffix
                row = con.execute(
                    f"SELECT * FROM secrets WHERE account_id = ? AND name = ? AND {live}",
                    (account, parts[6], now),
                ).fetchone()
        else:
            row = con.execute(
                f"SELECT * FROM secrets WHERE account_id = ? AND name = ? AND {live}",
                (account, secret_id, now),
            ).fetchone()
        if row is None:
            raise ResourceNotFound("Secrets Manager can't find the specified secret.")
        return row

    def resource_arn(self, account: str, secret_id: Any) -> str:
        """The ARN a request for ``secret_id`` is authorized against: the secret's, or for
        one that does not exist (yet) its name with a wildcard suffix
        (``secret:db-??????``), which policies naming ``secret:db-*`` match."""
        try:
            return str(self._row(self._db.connection(), account, secret_id)[0])
        except InvalidParameter:  # malformed: the handler says so, not an access denial
            return f"arn:aws:secretsmanager:{self.region}:{account}:secret:*"
        except (ResourceNotFound, AccessDenied):
            pass
        if isinstance(secret_id, str) and secret_id.startswith("arn:"):
            return secret_id
        name = secret_id if isinstance(secret_id, str) else "*"
        return f"arn:aws:secretsmanager:{self.region}:{account}:secret:{name}-??????"

    def _secret(self, con: Connection, row: Any) -> Secret:
        """The secret of ``row`` as it is now (read again: the caller may have changed it)."""
        arn = row[0]
        row = con.execute("SELECT * FROM secrets WHERE arn = ?", (arn,)).fetchone()
        stages: dict[str, list[str]] = {}
        for stage, version_id in con.execute(
            "SELECT stage, version_id FROM stages WHERE arn = ? ORDER BY stage", (arn,)
        ).fetchall():
            stages.setdefault(version_id, []).append(stage)
        versions = tuple(
            Version(
                v[0],
                tuple(stages.get(v[0], ())),
                _time(v[1]) or _time(0.0),  # type: ignore[arg-type]
                _time(v[2]),
                v[3],
            )
            for v in con.execute(
                "SELECT version_id, created, last_accessed, sealed IS NOT NULL FROM versions "
                "WHERE arn = ? ORDER BY created, version_id",
                (arn,),
            ).fetchall()
        )
        return Secret(
            arn=arn,
            account_id=row[1],
            name=row[2],
            description=row[3],
            kms_key_id=row[4],
            tags=tuple((k, v) for k, v in json.loads(row[5])),
            created=_time(row[6]),  # type: ignore[arg-type]
            last_changed=_time(row[7]),  # type: ignore[arg-type]
            last_accessed=_time(row[8]),
            deleted=_time(row[9]),
            purge_at=_time(row[10]),
            versions=versions,
        )

    @staticmethod
    def _not_deleted(row: Any, what: str = "perform this operation on") -> None:
        if row[9] is not None:
            raise InvalidRequest(f"You can't {what} the secret because it was marked for deletion.")

    # -- versions ----------------------------------------------------------------------------
    def _same_value(
        self, arn: str, version_id: str, sealed: bytes | None, value: SecretValue | None
    ) -> bool:
        if sealed is None or value is None:
            return sealed is None and value is None
        return self.box.open(sealed, f"{arn}/{version_id}") == value.seal_text()

    def _put_version(
        self,
        con: Connection,
        arn: str,
        token: str,
        value: SecretValue,
        stages: Sequence[str],
    ) -> bool:
        """Add version ``token`` holding ``value`` with ``stages``; False when that very
        version exists already with the same value (a retried call), refused when it
        exists with another."""
        found = con.execute(
            "SELECT sealed FROM versions WHERE arn = ? AND version_id = ?", (arn, token)
        ).fetchone()
        if found is not None:
            if self._same_value(arn, token, found[0], value):
                return False
            raise ResourceExists(
                f"A version with VersionId {token} already exists and has a different value; "
                "use a new ClientRequestToken for a new value."
            )
        now = _now()
        con.execute(
            "INSERT INTO versions VALUES (?, ?, ?, ?, NULL)",
            (arn, token, self.box.seal(value.seal_text(), f"{arn}/{token}"), now),
        )
        for stage in stages:
            self._move_stage(con, arn, stage, token)
        con.execute("UPDATE secrets SET last_changed = ? WHERE arn = ?", (now, arn))
        self._prune(con, arn)
        return True

    def _move_stage(self, con: Connection, arn: str, stage: str, version_id: str) -> None:
        """Point ``stage`` at ``version_id``; moving AWSCURRENT leaves AWSPREVIOUS on the
        version that had it."""
        held = con.execute(
            "SELECT version_id FROM stages WHERE arn = ? AND stage = ?", (arn, stage)
        ).fetchone()
        if held is not None and held[0] == version_id:
            return
        labels = con.execute(
            "SELECT COUNT(*) FROM stages WHERE arn = ? AND version_id = ?", (arn, version_id)
        ).fetchone()[0]
        if labels >= MAX_LABELS:
            raise LimitExceeded(f"version {version_id} already has {MAX_LABELS} staging labels")
        con.execute("INSERT OR REPLACE INTO stages VALUES (?, ?, ?)", (arn, stage, version_id))
        if stage == CURRENT and held is not None:
            con.execute("INSERT OR REPLACE INTO stages VALUES (?, ?, ?)", (arn, PREVIOUS, held[0]))

    @staticmethod
    def _prune(con: Connection, arn: str) -> None:
        count = con.execute("SELECT COUNT(*) FROM versions WHERE arn = ?", (arn,)).fetchone()[0]
        if count <= MAX_VERSIONS:
            return
        con.execute(
            "DELETE FROM versions WHERE rowid IN (SELECT v.rowid FROM versions v WHERE v.arn = ? "
            "AND NOT EXISTS (SELECT 1 FROM stages s WHERE s.arn = v.arn AND "
            "s.version_id = v.version_id) ORDER BY v.created LIMIT ?)",
            (arn, count - MAX_VERSIONS),
        )

    # -- operations ---------------------------------------------------------------------------
    def create_secret(
        self,
        account: str,
        name: Any,
        *,
        token: Any = None,
        value: SecretValue | None = None,
        description: Any = None,
        kms_key_id: Any = None,
        tags: Any = None,
    ) -> tuple[Secret, str | None]:
        """A new secret (and its first version, AWSCURRENT, when a value is given); the
        secret and the version id."""
        name = check_name(name)
        token = check_token(token) if token is not None else str(uuid.uuid4())
        description = check_description(description)
        tag_list = check_tags(tags)
        if kms_key_id is not None and not isinstance(kms_key_id, str):
            raise InvalidParameter("KmsKeyId must be a string")
        with self._write() as con:
            row = con.execute(
                "SELECT * FROM secrets WHERE account_id = ? AND name = ?", (account, name)
            ).fetchone()
            if row is not None:
                if row[9] is not None:
                    raise InvalidRequest(
                        "You can't create this secret because a secret with this name is "
                        "already scheduled for deletion."
                    )
                version = con.execute(
                    "SELECT sealed FROM versions WHERE arn = ? AND version_id = ?",
                    (row[0], token),
                ).fetchone()
                if version is not None and self._same_value(row[0], token, version[0], value):
                    return self._secret(con, row), token if value is not None else None
                raise ResourceExists(
                    f"The operation failed because the secret {name} already exists."
                )
            arn = f"arn:aws:secretsmanager:{self.region}:{account}:secret:{name}-{_suffix()}"
            now = _now()
            con.execute(
                "INSERT INTO secrets VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)",
                (arn, account, name, description, kms_key_id, json.dumps(tag_list), now, now),
            )
            if value is not None:
                self._put_version(con, arn, token, value, [CURRENT])
            else:  # the token is remembered, so a retry of this create is recognised
                con.execute("INSERT INTO versions VALUES (?, ?, NULL, ?, NULL)", (arn, token, now))
            row = con.execute("SELECT * FROM secrets WHERE arn = ?", (arn,)).fetchone()
            return self._secret(con, row), token if value is not None else None

    def get_secret_value(
        self, account: str, secret_id: Any, *, version_id: Any = None, stage: Any = None
    ) -> Fetched:
        if version_id is not None:
            check_token(version_id, "VersionId")
        if stage is not None:
            check_stage(stage)
        with self._write() as con:
            row = self._row(con, account, secret_id)
            self._not_deleted(row)
            arn = row[0]
            if version_id is None:
                wanted = stage or CURRENT
                held = con.execute(
                    "SELECT version_id FROM stages WHERE arn = ? AND stage = ?", (arn, wanted)
                ).fetchone()
                if held is None:
                    raise ResourceNotFound(
                        f"Secrets Manager can't find the specified secret value for staging "
                        f"label: {wanted}"
                    )
                version_id = held[0]
            found = con.execute(
                "SELECT sealed, created FROM versions WHERE arn = ? AND version_id = ?",
                (arn, version_id),
            ).fetchone()
            if found is None or found[0] is None:
                raise ResourceNotFound(
                    f"Secrets Manager can't find the specified secret value for VersionId: "
                    f"{version_id}"
                )
            labels = tuple(
                r[0]
                for r in con.execute(
                    "SELECT stage FROM stages WHERE arn = ? AND version_id = ? ORDER BY stage",
                    (arn, version_id),
                ).fetchall()
            )
            if stage is not None and stage not in labels:
                raise ResourceNotFound(
                    f"Secrets Manager can't find the specified secret value for VersionId: "
                    f"{version_id} and staging label: {stage}"
                )
            today = _day(_now())
            con.execute(
                "UPDATE versions SET last_accessed = ? WHERE arn = ? AND version_id = ?",
                (today, arn, version_id),
            )
            con.execute("UPDATE secrets SET last_accessed = ? WHERE arn = ?", (today, arn))
            value = SecretValue.from_sealed_text(self.box.open(found[0], f"{arn}/{version_id}"))
            return Fetched(self._secret(con, row), version_id, value, labels, _time(found[1]))  # type: ignore[arg-type]

    def put_secret_value(
        self,
        account: str,
        secret_id: Any,
        value: SecretValue | None,
        *,
        token: Any = None,
        stages: Any = None,
    ) -> tuple[Secret, str, tuple[str, ...]]:
        if value is None:
            raise InvalidParameter("You must provide either SecretString or SecretBinary.")
        token = check_token(token) if token is not None else str(uuid.uuid4())
        labels = check_stages(stages) if stages is not None else [CURRENT]
        with self._write() as con:
            row = self._row(con, account, secret_id)
            self._not_deleted(row)
            self._put_version(con, row[0], token, value, labels)
            secret = self._secret(con, row)
        held = next((v.stages for v in secret.versions if v.version_id == token), ())
        return secret, token, held

    def update_secret(
        self,
        account: str,
        secret_id: Any,
        *,
        value: SecretValue | None = None,
        token: Any = None,
        description: Any = None,
        kms_key_id: Any = None,
    ) -> tuple[Secret, str | None]:
        description = check_description(description)
        if kms_key_id is not None and not isinstance(kms_key_id, str):
            raise InvalidParameter("KmsKeyId must be a string")
        token = check_token(token) if token is not None else str(uuid.uuid4())
        with self._write() as con:
            row = self._row(con, account, secret_id)
            self._not_deleted(row)
            now = _now()
            if description is not None:
                con.execute(
                    "UPDATE secrets SET description = ?, last_changed = ? WHERE arn = ?",
                    (description, now, row[0]),
                )
            if kms_key_id is not None:
                con.execute(
                    "UPDATE secrets SET kms_key_id = ?, last_changed = ? WHERE arn = ?",
                    (kms_key_id, now, row[0]),
                )
            version = None
            if value is not None:
                self._put_version(con, row[0], token, value, [CURRENT])
                version = token
            return self._secret(con, row), version

    def describe_secret(self, account: str, secret_id: Any) -> Secret:
        con = self._db.connection()
        return self._secret(con, self._row(con, account, secret_id))

    def list_secrets(
        self,
        account: str,
        *,
        filters: Sequence[Filter] = (),
        include_deleted: bool = False,
        max_results: Any = None,
        next_token: Any = None,
        descending: bool = False,
    ) -> Page:
        size = page_size(max_results)
        offset = page_offset(next_token)
        con = self._db.connection()
        rows = con.execute(
            "SELECT * FROM secrets WHERE account_id = ? AND (purge_at IS NULL OR purge_at > ?) "
            f"ORDER BY created {'DESC' if descending else 'ASC'}, name",
            (account, _now()),
        ).fetchall()
        chosen = [r for r in rows if (include_deleted or r[9] is None) and _matches(r, filters)]
        window = chosen[offset : offset + size]
        more = offset + size < len(chosen)
        return Page(
            [self._secret(con, r) for r in window], page_token(offset + size) if more else None
        )

    def list_versions(
        self,
        account: str,
        secret_id: Any,
        *,
        include_deprecated: bool = False,
        max_results: Any = None,
        next_token: Any = None,
    ) -> tuple[Secret, Page]:
        size = page_size(max_results)
        offset = page_offset(next_token)
        secret = self.describe_secret(account, secret_id)
        versions = [v for v in secret.versions if v.has_value and (include_deprecated or v.stages)]
        window = versions[offset : offset + size]
        more = offset + size < len(versions)
        return secret, Page(window, page_token(offset + size) if more else None)

    def update_version_stage(
        self,
        account: str,
        secret_id: Any,
        stage: Any,
        *,
        remove_from: Any = None,
        move_to: Any = None,
    ) -> Secret:
        stage = check_stage(stage)
        for member, given in (("RemoveFromVersionId", remove_from), ("MoveToVersionId", move_to)):
            if given is not None:
                check_token(given, member)
        if remove_from is None and move_to is None:
            raise InvalidParameter("give RemoveFromVersionId, MoveToVersionId or both")
        with self._write() as con:
            row = self._row(con, account, secret_id)
            self._not_deleted(row)
            arn = row[0]
            held = con.execute(
                "SELECT version_id FROM stages WHERE arn = ? AND stage = ?", (arn, stage)
            ).fetchone()
            holder = held[0] if held is not None else None
            if move_to is not None:
                exists = con.execute(
                    "SELECT 1 FROM versions WHERE arn = ? AND version_id = ? AND sealed IS NOT "
                    "NULL",
                    (arn, move_to),
                ).fetchone()
                if exists is None:
                    raise ResourceNotFound(
                        f"Secrets Manager can't find the specified secret version: {move_to}"
                    )
            if holder is not None and holder != move_to and remove_from != holder:
                raise InvalidParameter(
                    f"The staging label {stage} is currently attached to version {holder}, "
                    f"so you must explicitly reference that version in RemoveFromVersionId."
                )
            if remove_from is not None and holder != remove_from:
                raise InvalidParameter(
                    f"The staging label {stage} is not attached to version {remove_from}."
                )
            if move_to is None:
                if stage == CURRENT:
                    raise InvalidParameter(
                        "You can't remove the staging label AWSCURRENT without moving it to "
                        "another version (give MoveToVersionId)."
                    )
                con.execute("DELETE FROM stages WHERE arn = ? AND stage = ?", (arn, stage))
            else:
                self._move_stage(con, arn, stage, move_to)
            con.execute("UPDATE secrets SET last_changed = ? WHERE arn = ?", (_now(), arn))
            return self._secret(con, row)

    def delete_secret(
        self,
        account: str,
        secret_id: Any,
        *,
        recovery_days: Any = None,
        force: Any = None,
    ) -> Secret:
        if force is not None and not isinstance(force, bool):
            raise InvalidParameter("ForceDeleteWithoutRecovery must be true or false")
        if force and recovery_days is not None:
            raise InvalidParameter(
                "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays."
            )
        if recovery_days is None:
            recovery_days = 30
        if (
            isinstance(recovery_days, bool)
            or not isinstance(recovery_days, int)
            or not 7 <= recovery_days <= 30
        ):
            raise InvalidParameter(
                "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive)."
            )
        with self._write() as con:
            row = self._row(con, account, secret_id)
            arn = row[0]
            now = _now()
            if force:
                secret = self._secret(con, row)
                con.execute("DELETE FROM stages WHERE arn = ?", (arn,))
                con.execute("DELETE FROM versions WHERE arn = ?", (arn,))
                con.execute("DELETE FROM secrets WHERE arn = ?", (arn,))
                return _with(secret, deleted=now, purge_at=now)
            if row[9] is not None:
                raise InvalidRequest(
                    "You can't perform this operation on the secret because it was already "
                    "scheduled for deletion."
                )
            purge = now + recovery_days * 86400
            con.execute(
                "UPDATE secrets SET deleted = ?, purge_at = ? WHERE arn = ?", (now, purge, arn)
            )
            return self._secret(con, row)

    def restore_secret(self, account: str, secret_id: Any) -> Secret:
        with self._write() as con:
            row = self._row(con, account, secret_id)
            con.execute(
                "UPDATE secrets SET deleted = NULL, purge_at = NULL WHERE arn = ?", (row[0],)
            )
            return self._secret(con, row)

    def tag_resource(self, account: str, secret_id: Any, tags: Any) -> None:
        added = check_tags(tags)
        with self._write() as con:
            row = self._row(con, account, secret_id)
            self._not_deleted(row)
            current = dict(json.loads(row[5]))
            current.update(added)
            if len(current) > MAX_TAGS:
                raise InvalidParameter(f"a secret has at most {MAX_TAGS} tags")
            con.execute(
                "UPDATE secrets SET tags = ? WHERE arn = ?",
                (json.dumps(sorted(current.items())), row[0]),
            )

    def untag_resource(self, account: str, secret_id: Any, keys: Any) -> None:
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise InvalidParameter("TagKeys must be a list of strings")
        with self._write() as con:
            row = self._row(con, account, secret_id)
            self._not_deleted(row)
            current = {k: v for k, v in json.loads(row[5]) if k not in keys}
            con.execute(
                "UPDATE secrets SET tags = ? WHERE arn = ?",
                (json.dumps(sorted(current.items())), row[0]),
            )


def _with(secret: Secret, *, deleted: float, purge_at: float) -> Secret:
    from dataclasses import replace

    return replace(secret, deleted=_time(deleted), purge_at=_time(purge_at))


def _matches(row: Any, filters: Sequence[Filter]) -> bool:
    """Whether a secret row passes every filter (AND across filters, OR across a
    filter's values; prefix match, ``!`` negates)."""
    name, description = row[2], row[3] or ""
    tags = json.loads(row[5])
    for f in filters:
        fields: list[str]
        if f.key == "name":
            fields = [name]
        elif f.key == "description":
            fields = [description]
        elif f.key == "tag-key":
            fields = [k for k, _ in tags]
        elif f.key == "tag-value":
            fields = [v for _, v in tags]
        else:
            fields = [name, description] + [k for k, _ in tags] + [v for _, v in tags]
        positive = [v for v in f.values if not v.startswith("!")]
        negative = [v[1:] for v in f.values if v.startswith("!")]
        if positive and not any(x.startswith(v) for v in positive for x in fields):
            return False
        if any(x.startswith(v) for v in negative for x in fields):
            return False
    return True


__all__ = [
    "CURRENT",
    "FILE",
    "FILTER_KEYS",
    "KEY_FILE",
    "PENDING",
    "PREVIOUS",
    "Fetched",
    "Filter",
    "Page",
    "Secret",
    "SecretValue",
    "SecretsService",
    "Version",
]
