"""The identity store: ``_lakebox/iam.sqlite``, one SQLite file with versioned schema
(``lakebox.metadata.sqlite``). Names of users and roles are unique per account without
regard to case, as IAM's are. Secrets are stored sealed (``crypto.SecretBox``), session
tokens as their SHA-256 only. Every write bumps ``generation``, so whoever caches
policies (``IamService``) knows when to read them again."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lakebox.iam.errors import EntityAlreadyExists
from lakebox.iam.model import (
    AccessKey,
    Account,
    LoginProfile,
    Role,
    User,
)
from lakebox.metadata.sqlite import Connection, SQLiteStore

FILE = "iam.sqlite"

_MIGRATIONS = (
    """
    CREATE TABLE meta (id INTEGER PRIMARY KEY CHECK (id = 1), generation INTEGER NOT NULL);
    INSERT INTO meta VALUES (1, 0);
    CREATE TABLE accounts (
        account_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created REAL NOT NULL
    );
    CREATE TABLE users (
        account_id TEXT NOT NULL REFERENCES accounts(account_id),
        name TEXT NOT NULL COLLATE NOCASE,
        user_id TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        created REAL NOT NULL,
        PRIMARY KEY (account_id, name)
    );
    CREATE TABLE roles (
        account_id TEXT NOT NULL REFERENCES accounts(account_id),
        name TEXT NOT NULL COLLATE NOCASE,
        role_id TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        trust_policy TEXT NOT NULL,
        description TEXT NOT NULL,
        max_session_duration INTEGER NOT NULL,
        created REAL NOT NULL,
        PRIMARY KEY (account_id, name)
    );
    CREATE TABLE access_keys (
        access_key_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        user_name TEXT NOT NULL COLLATE NOCASE,
        sealed_secret BLOB NOT NULL,
        status TEXT NOT NULL,
        created REAL NOT NULL
    );
    CREATE INDEX access_keys_user ON access_keys (account_id, user_name);
    CREATE TABLE sessions (
        access_key_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        role_name TEXT NOT NULL COLLATE NOCASE,
        role_id TEXT NOT NULL,
        session_name TEXT NOT NULL,
        source_arn TEXT NOT NULL,
        sealed_secret BLOB NOT NULL,
        token_sha256 TEXT NOT NULL,
        session_policy TEXT,
        expires REAL NOT NULL,
        created REAL NOT NULL
    );
    CREATE INDEX sessions_expiry ON sessions (expires);
    CREATE TABLE inline_policies (
        account_id TEXT NOT NULL,
        owner_kind TEXT NOT NULL CHECK (owner_kind IN ('user', 'role')),
        owner_name TEXT NOT NULL COLLATE NOCASE,
        policy_name TEXT NOT NULL,
        document TEXT NOT NULL,
        PRIMARY KEY (account_id, owner_kind, owner_name, policy_name)
    );
    CREATE TABLE attached_policies (
        account_id TEXT NOT NULL,
        owner_kind TEXT NOT NULL CHECK (owner_kind IN ('user', 'role')),
        owner_name TEXT NOT NULL COLLATE NOCASE,
        policy_arn TEXT NOT NULL,
        PRIMARY KEY (account_id, owner_kind, owner_name, policy_arn)
    );
    CREATE TABLE login_profiles (
        account_id TEXT NOT NULL,
        user_name TEXT NOT NULL COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        reset_required INTEGER NOT NULL,
        created REAL NOT NULL,
        PRIMARY KEY (account_id, user_name)
    );
    """,
)


def _private_database(path: Path) -> None:
    """Make ``path`` (and its -wal / -shm, which SQLite creates with the database's mode)
    readable by its owner only before SQLite first opens it: it holds sealed secrets,
    password hashes and token hashes, and its folder is shared with the other stores. An
    existing file left looser by an older lakebox is tightened. Best effort: a folder this
    process cannot write, or a file of another user, is left to SQLite, which says what is
    wrong."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError:
        pass  # it exists (or cannot be made: SQLite's own open reports why)
    else:
        os.close(fd)
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            info = name.lstat()
            if not stat.S_ISLNK(info.st_mode) and info.st_mode & 0o077:
                name.chmod(0o600)
        except OSError:
            continue


def _time(value: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(value, dt.UTC)


def _now() -> float:
    return dt.datetime.now(dt.UTC).timestamp()


class IamStore:
    """Rows of the identity store; the service above it validates and decides."""

    def __init__(self, path: Path) -> None:
        self.path = path
        _private_database(path)
        self._db = SQLiteStore(path, _MIGRATIONS)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction; bumps the generation."""
        with self._db.transaction() as con:
            con.execute("UPDATE meta SET generation = generation + 1")
            yield con

    def policies_of(
        self, account_id: str, kind: str, owner: str
    ) -> tuple[int, list[str], list[tuple[str, str]]]:
        """The generation, attached policy ARNs and inline ``(name, document)`` policies
        of a user or role, read in one snapshot: a writer that detaches one policy and
        puts another between the reads cannot make a caller seem to hold both, or none."""
        con = self._db.connection()
        if con.in_transaction:  # already inside this thread's write: one snapshot anyway
            return self._policies_of(con, account_id, kind, owner)
        con.execute("BEGIN")
        try:
            return self._policies_of(con, account_id, kind, owner)
        finally:
            con.execute("COMMIT")

    @staticmethod
    def _policies_of(
        con: Connection, account_id: str, kind: str, owner: str
    ) -> tuple[int, list[str], list[tuple[str, str]]]:
        generation = int(con.execute("SELECT generation FROM meta").fetchall()[0][0])
        attached = con.execute(
            "SELECT policy_arn FROM attached_policies WHERE account_id = ? AND owner_kind = ? "
            "AND owner_name = ? ORDER BY policy_arn",
            (account_id, kind, owner),
        ).fetchall()
        inline = con.execute(
            "SELECT policy_name, document FROM inline_policies WHERE account_id = ? AND "
            "owner_kind = ? AND owner_name = ? ORDER BY policy_name",
            (account_id, kind, owner),
        ).fetchall()
        return generation, [r[0] for r in attached], [(r[0], r[1]) for r in inline]

    def has_sealed_secrets(self) -> bool:
        """Whether any access key, or session not yet expired, holds a secret sealed with
        the key file (expired sessions are never opened again)."""
        rows = self._read(
            "SELECT EXISTS (SELECT 1 FROM access_keys) "
            "OR EXISTS (SELECT 1 FROM sessions WHERE expires > ?)",
            (_now(),),
        )
        return bool(rows[0][0])

    def _read(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        return self._db.connection().execute(sql, args).fetchall()

    def generation(self) -> int:
        return int(self._read("SELECT generation FROM meta")[0][0])

    # -- accounts ---------------------------------------------------------------------------
    def insert_account(self, con: Connection, account_id: str, name: str) -> Account:
        try:
            con.execute(
                "INSERT INTO accounts VALUES (?, ?, ?)", (account_id, name, created := _now())
            )
        except sqlite3.IntegrityError:
            raise EntityAlreadyExists(f"Account {account_id} already exists.") from None
        return Account(account_id, name, _time(created))

    def account(self, account_id: str) -> Account | None:
        rows = self._read("SELECT * FROM accounts WHERE account_id = ?", (account_id,))
        return Account(rows[0][0], rows[0][1], _time(rows[0][2])) if rows else None

    def accounts(self) -> list[Account]:
        rows = self._read("SELECT * FROM accounts ORDER BY account_id")
        return [Account(r[0], r[1], _time(r[2])) for r in rows]

    # -- users ------------------------------------------------------------------------------
    _USER_COLUMNS = "account_id, name, user_id, path, created"

    @staticmethod
    def _user(row: Any) -> User:
        return User(row[0], row[1], row[2], row[3], _time(row[4]))

    def insert_user(self, con: Connection, user: User) -> None:
        try:
            con.execute(
                f"INSERT INTO users ({self._USER_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                (user.account_id, user.name, user.user_id, user.path, user.created.timestamp()),
            )
        except sqlite3.IntegrityError:
            raise EntityAlreadyExists(f"User with name {user.name} already exists.") from None

    def user(self, account_id: str, name: str) -> User | None:
        rows = self._read(
            f"SELECT {self._USER_COLUMNS} FROM users WHERE account_id = ? AND name = ?",
            (account_id, name),
        )
        return self._user(rows[0]) if rows else None

    def users(self, account_id: str | None = None) -> list[User]:
        if account_id is None:
            rows = self._read(f"SELECT {self._USER_COLUMNS} FROM users ORDER BY account_id, name")
        else:
            rows = self._read(
                f"SELECT {self._USER_COLUMNS} FROM users WHERE account_id = ? ORDER BY name",
                (account_id,),
            )
        return [self._user(r) for r in rows]

    def count_users(self) -> int:
        return int(self._read("SELECT count(*) FROM users")[0][0])

    # -- roles ------------------------------------------------------------------------------
    _ROLE_COLUMNS = (
        "account_id, name, role_id, path, trust_policy, description, max_session_duration, created"
    )

    @staticmethod
    def _role(row: Any) -> Role:
        return Role(row[0], row[1], row[2], row[3], row[4], row[5], int(row[6]), _time(row[7]))

    def insert_role(self, con: Connection, role: Role) -> None:
        try:
            con.execute(
                f"INSERT INTO roles ({self._ROLE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    role.account_id,
                    role.name,
                    role.role_id,
                    role.path,
                    role.trust_policy,
                    role.description,
                    role.max_session_duration,
                    role.created.timestamp(),
                ),
            )
        except sqlite3.IntegrityError:
            raise EntityAlreadyExists(f"Role with name {role.name} already exists.") from None

    def role(self, account_id: str, name: str) -> Role | None:
        rows = self._read(
            f"SELECT {self._ROLE_COLUMNS} FROM roles WHERE account_id = ? AND name = ?",
            (account_id, name),
        )
        return self._role(rows[0]) if rows else None

    def roles(self, account_id: str) -> list[Role]:
        rows = self._read(
            f"SELECT {self._ROLE_COLUMNS} FROM roles WHERE account_id = ? ORDER BY name",
            (account_id,),
        )
        return [self._role(r) for r in rows]

    # -- access keys ------------------------------------------------------------------------
    @staticmethod
    def _key(row: Any) -> AccessKey:
        return AccessKey(row[0], row[1], row[2], row[3], _time(row[4]))

    def insert_key(self, con: Connection, key: AccessKey, sealed: bytes) -> None:
        con.execute(
            "INSERT INTO access_keys (access_key_id, account_id, user_name, sealed_secret, "
            "status, created) VALUES (?, ?, ?, ?, ?, ?)",
            (
                key.access_key_id,
                key.account_id,
                key.user_name,
                sealed,
                key.status,
                key.created.timestamp(),
            ),
        )

    def keys(self, account_id: str, user_name: str) -> list[AccessKey]:
        rows = self._read(
            "SELECT access_key_id, account_id, user_name, status, created FROM access_keys "
            "WHERE account_id = ? AND user_name = ? ORDER BY created, access_key_id",
            (account_id, user_name),
        )
        return [self._key(r) for r in rows]

    def key(self, access_key_id: str) -> tuple[AccessKey, bytes] | None:
        rows = self._read(
            "SELECT access_key_id, account_id, user_name, status, created, sealed_secret "
            "FROM access_keys WHERE access_key_id = ?",
            (access_key_id,),
        )
        return (self._key(rows[0]), bytes(rows[0][5])) if rows else None

    # -- sessions ---------------------------------------------------------------------------
    def insert_session(
        self,
        con: Connection,
        *,
        access_key_id: str,
        account_id: str,
        role_name: str,
        role_id: str,
        session_name: str,
        source_arn: str,
        sealed: bytes,
        token_sha256: str,
        expires: dt.datetime,
    ) -> None:
        con.execute(
            "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                access_key_id,
                account_id,
                role_name,
                role_id,
                session_name,
                source_arn,
                sealed,
                token_sha256,
                None,  # session policies: not supported yet
                expires.timestamp(),
                _now(),
            ),
        )
        # sessions expired for a day are of no use to anyone: keep the table small
        con.execute("DELETE FROM sessions WHERE expires < ?", (_now() - 86400,))

    def session(self, access_key_id: str) -> dict[str, Any] | None:
        con = self._db.connection()
        cur = con.execute("SELECT * FROM sessions WHERE access_key_id = ?", (access_key_id,))
        row = cur.fetchone()
        if row is None:
            return None
        names = [d[0] for d in cur.description]
        found = dict(zip(names, row, strict=True))
        found["expires"] = _time(found["expires"])
        found["sealed_secret"] = bytes(found["sealed_secret"])
        return found

    # -- policies ---------------------------------------------------------------------------
    def inline_policies(self, account_id: str, kind: str, owner: str) -> list[tuple[str, str]]:
        rows = self._read(
            "SELECT policy_name, document FROM inline_policies WHERE account_id = ? AND "
            "owner_kind = ? AND owner_name = ? ORDER BY policy_name",
            (account_id, kind, owner),
        )
        return [(r[0], r[1]) for r in rows]

    def attached_policies(self, account_id: str, kind: str, owner: str) -> list[str]:
        rows = self._read(
            "SELECT policy_arn FROM attached_policies WHERE account_id = ? AND owner_kind = ? "
            "AND owner_name = ? ORDER BY policy_arn",
            (account_id, kind, owner),
        )
        return [r[0] for r in rows]

    # -- login profiles ---------------------------------------------------------------------
    def login_profile(self, account_id: str, user_name: str) -> tuple[LoginProfile, str] | None:
        rows = self._read(
            "SELECT account_id, user_name, created, reset_required, password_hash "
            "FROM login_profiles WHERE account_id = ? AND user_name = ?",
            (account_id, user_name),
        )
        if not rows:
            return None
        r = rows[0]
        return LoginProfile(r[0], r[1], _time(r[2]), bool(r[3])), r[4]
