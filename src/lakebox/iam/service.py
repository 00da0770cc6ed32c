"""The identity service (``lake.iam``): accounts, users, roles, access keys, passwords,
temporary credentials; request authentication (SigV4) and authorization (IAM identity
policies).

Every identity lives in an account (12 digits). The lake's own account (its
configuration's ``account_id``, 000000000000 unless set) exists from the start; others
are made with ``create_account``. Calls name the account they act in; ``None`` is the
lake's account.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from lakebox.iam import model, policy, sigv2
from lakebox.iam.crypto import SecretBox, check_password, hash_password, write_private_file
from lakebox.iam.errors import (
    AccessDenied,
    DeleteConflict,
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
    ValidationError,
)
from lakebox.iam.model import (
    ADMINISTRATOR_ACCESS,
    AccessKey,
    Account,
    LoginProfile,
    NewAccessKey,
    Role,
    SessionCredentials,
    User,
)
from lakebox.iam.sigv4 import (
    AuthError,
    Caller,
    Protocol,
    Signature,
    SignedRequest,
    check_time,
    protocol_of,
    read_signature,
    verify,
)
from lakebox.iam.store import FILE, IamStore
from lakebox.principal import DEFAULT_ACCOUNT_ID, Principal

#: IAM allows two access keys per user
MAX_KEYS_PER_USER = 2
#: AssumeRole's DurationSeconds bounds (the upper one is also the role's MaxSessionDuration)
MIN_SESSION_SECONDS = 900
MAX_SESSION_SECONDS = 43200
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
BOOTSTRAP_USER = "admin"
#: where ``bootstrap`` writes the first admin's keys (in the lake's metadata folder)
CREDENTIALS_FILE = "iam/admin-credentials"
KEY_FILE = "iam/secrets.key"

_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _new_id(prefix: str, length: int) -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def _new_secret() -> str:
    """40 characters of base64, as AWS's secret access keys look."""
    return base64.b64encode(secrets.token_bytes(30)).decode()


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class IamService:
    """Identities of one lake; see the module docstring. Thread-safe."""

    def __init__(
        self,
        metadata_dir: Path,
        *,
        account_id: str = DEFAULT_ACCOUNT_ID,
        clock: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self.metadata_dir = metadata_dir
        self.account_id = model.account_id(account_id)
        self._clock = clock
        self.store = IamStore(metadata_dir / FILE)
        self.box = SecretBox(metadata_dir / KEY_FILE, has_sealed=self.store.has_sealed_secrets)
        self._lock = threading.Lock()
        self._policies: dict[str, tuple[int, list[policy.Policy]]] = {}
        if self.store.account(self.account_id) is None:
            try:
                with self.store.write() as con:
                    self.store.insert_account(con, self.account_id, "default")
            except EntityAlreadyExists:
                pass  # another process made it first

    def close(self) -> None:
        self.store.close()

    def policy_version(self) -> int:
        """Changes whenever any identity, key or policy changes (for caches keyed by it)."""
        return self.store.generation()

    # -- accounts ---------------------------------------------------------------------------
    def _account(self, account_id: str | None) -> str:
        account = model.account_id(account_id or self.account_id)
        if self.store.account(account) is None:
            raise NoSuchEntity(
                f"The account {account} does not exist in this lake; create it with "
                f"'lakebox iam create-account {account}'."
            )
        return account

    def create_account(self, account_id: str, name: str | None = None) -> Account:
        account_id = model.account_id(account_id)
        with self.store.write() as con:
            return self.store.insert_account(
                con, account_id, model.account_name(name or account_id)
            )

    def list_accounts(self) -> list[Account]:
        return self.store.accounts()

    # -- users ------------------------------------------------------------------------------
    def create_user(
        self,
        name: str,
        *,
        account_id: str | None = None,
        path: str = "/",
        admin: bool = False,
    ) -> User:
        """A new user; ``admin`` attaches AdministratorAccess."""
        account = self._account(account_id)
        user = User(
            account, model.user_name(name), _new_id("AIDA", 17), model.iam_path(path), _utcnow()
        )
        with self.store.write() as con:
            self.store.insert_user(con, user)
            if admin:
                con.execute(
                    "INSERT INTO attached_policies VALUES (?, 'user', ?, ?)",
                    (account, user.name, ADMINISTRATOR_ACCESS),
                )
        return user

    def get_user(self, name: str, *, account_id: str | None = None) -> User:
        account = self._account(account_id)
        user = self.store.user(account, model.user_name(name))
        if user is None:
            raise NoSuchEntity(f"The user with name {name} cannot be found.")
        return user

    def list_users(
        self, *, account_id: str | None = None, all_accounts: bool = False
    ) -> list[User]:
        if all_accounts:
            return self.store.users()
        return self.store.users(self._account(account_id))

    def delete_user(self, name: str, *, account_id: str | None = None, force: bool = False) -> None:
        """Delete a user. As in IAM, a user who still has access keys, policies or a password
        cannot be deleted (DeleteConflict) unless ``force`` deletes those first."""
        user = self.get_user(name, account_id=account_id)
        account, uname = user.account_id, user.name
        with self.store.write() as con:
            owned = {
                "access keys": "SELECT count(*) FROM access_keys WHERE account_id = ? "
                "AND user_name = ?",
                "inline policies": "SELECT count(*) FROM inline_policies WHERE account_id = ? "
                "AND owner_kind = 'user' AND owner_name = ?",
                "attached policies": "SELECT count(*) FROM attached_policies WHERE "
                "account_id = ? AND owner_kind = 'user' AND owner_name = ?",
                "a login profile": "SELECT count(*) FROM login_profiles WHERE account_id = ? "
                "AND user_name = ?",
            }
            found = [
                what
                for what, sql in owned.items()
                if con.execute(sql, (account, uname)).fetchone()[0]
            ]
            if found and not force:
                raise DeleteConflict(
                    f"Cannot delete entity, must delete {' and '.join(found)} first (user {uname})."
                )
            for table, column in (
                ("access_keys", "user_name"),
                ("login_profiles", "user_name"),
            ):
                con.execute(
                    f"DELETE FROM {table} WHERE account_id = ? AND {column} = ?", (account, uname)
                )
            for table in ("inline_policies", "attached_policies"):
                con.execute(
                    f"DELETE FROM {table} WHERE account_id = ? AND owner_kind = 'user' "
                    "AND owner_name = ?",
                    (account, uname),
                )
            con.execute("DELETE FROM users WHERE account_id = ? AND name = ?", (account, uname))

    # -- access keys ------------------------------------------------------------------------
    def create_access_key(self, user_name: str, *, account_id: str | None = None) -> NewAccessKey:
        user = self.get_user(user_name, account_id=account_id)
        with self.store.write() as con:
            count = con.execute(
                "SELECT count(*) FROM access_keys WHERE account_id = ? AND user_name = ?",
                (user.account_id, user.name),
            ).fetchone()[0]
            if count >= MAX_KEYS_PER_USER:
                raise LimitExceeded(
                    f"Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER} "
                    f"(user {user.name}; delete one with 'lakebox iam delete-access-key')"
                )
            key_id = _new_id("AKIA", 16)
            secret = _new_secret()
            key = AccessKey(key_id, user.account_id, user.name, "Active", _utcnow())
            self.store.insert_key(con, key, self.box.seal(secret, key_id))
        return NewAccessKey(key, secret)

    def list_access_keys(self, user_name: str, *, account_id: str | None = None) -> list[AccessKey]:
        user = self.get_user(user_name, account_id=account_id)
        return self.store.keys(user.account_id, user.name)

    def delete_access_key(
        self, access_key_id: str, *, user_name: str | None = None, account_id: str | None = None
    ) -> None:
        account = self._account(account_id)
        found = self.store.key(access_key_id)
        if (
            found is None
            or found[0].account_id != account
            or (user_name is not None and found[0].user_name.lower() != user_name.lower())
        ):
            raise NoSuchEntity(f"The Access Key with id {access_key_id} cannot be found.")
        with self.store.write() as con:
            con.execute("DELETE FROM access_keys WHERE access_key_id = ?", (access_key_id,))

    def update_access_key(
        self, access_key_id: str, status: str, *, account_id: str | None = None
    ) -> None:
        if status not in ("Active", "Inactive"):
            raise ValidationError(f"status must be Active or Inactive, not {status!r}")
        account = self._account(account_id)
        found = self.store.key(access_key_id)
        if found is None or found[0].account_id != account:
            raise NoSuchEntity(f"The Access Key with id {access_key_id} cannot be found.")
        with self.store.write() as con:
            con.execute(
                "UPDATE access_keys SET status = ? WHERE access_key_id = ?", (status, access_key_id)
            )

    # -- roles ------------------------------------------------------------------------------
    def create_role(
        self,
        name: str,
        trust_policy: str,
        *,
        account_id: str | None = None,
        path: str = "/",
        description: str = "",
        max_session_duration: int = 3600,
    ) -> Role:
        account = self._account(account_id)
        policy.parse(trust_policy, kind="trust")
        if not MIN_SESSION_SECONDS * 4 <= max_session_duration <= MAX_SESSION_SECONDS:
            raise ValidationError(
                f"1 validation error detected: Value {max_session_duration} at "
                "'maxSessionDuration' failed to satisfy constraint: Member must have value "
                "between 3600 and 43200"
            )
        if len(description) > 1000:
            raise ValidationError("a role's description is at most 1000 characters")
        role = Role(
            account,
            model.role_name(name),
            _new_id("AROA", 17),
            model.iam_path(path),
            trust_policy,
            description,
            max_session_duration,
            _utcnow(),
        )
        with self.store.write() as con:
            self.store.insert_role(con, role)
        return role

    def get_role(self, name: str, *, account_id: str | None = None) -> Role:
        account = self._account(account_id)
        role = self.store.role(account, model.role_name(name))
        if role is None:
            raise NoSuchEntity(f"The role with name {name} cannot be found.")
        return role

    def list_roles(self, *, account_id: str | None = None) -> list[Role]:
        return self.store.roles(self._account(account_id))

    def delete_role(self, name: str, *, account_id: str | None = None, force: bool = False) -> None:
        """Delete a role and end its sessions at once. As in IAM, a role with policies
        cannot be deleted (DeleteConflict) unless ``force`` deletes them first."""
        role = self.get_role(name, account_id=account_id)
        with self.store.write() as con:
            owned = con.execute(
                "SELECT (SELECT count(*) FROM inline_policies WHERE account_id = ?1 AND "
                "owner_kind = 'role' AND owner_name = ?2) + (SELECT count(*) FROM "
                "attached_policies WHERE account_id = ?1 AND owner_kind = 'role' AND "
                "owner_name = ?2)",
                (role.account_id, role.name),
            ).fetchone()[0]
            if owned and not force:
                raise DeleteConflict(
                    f"Cannot delete entity, must remove its policies first (role {role.name})."
                )
            for table in ("inline_policies", "attached_policies"):
                con.execute(
                    f"DELETE FROM {table} WHERE account_id = ? AND owner_kind = 'role' "
                    "AND owner_name = ?",
                    (role.account_id, role.name),
                )
            con.execute(
                "DELETE FROM sessions WHERE account_id = ? AND role_name = ?",
                (role.account_id, role.name),
            )
            con.execute(
                "DELETE FROM roles WHERE account_id = ? AND name = ?", (role.account_id, role.name)
            )

    # -- policies ---------------------------------------------------------------------------
    def _owner(self, kind: str, name: str, account_id: str | None) -> tuple[str, str]:
        if kind == "user":
            user = self.get_user(name, account_id=account_id)
            return user.account_id, user.name
        role = self.get_role(name, account_id=account_id)
        return role.account_id, role.name

    def put_user_policy(
        self, user_name: str, policy_name: str, document: str, *, account_id: str | None = None
    ) -> None:
        self._put_inline("user", user_name, policy_name, document, account_id)

    def put_role_policy(
        self, role_name: str, policy_name: str, document: str, *, account_id: str | None = None
    ) -> None:
        self._put_inline("role", role_name, policy_name, document, account_id)

    def _put_inline(
        self, kind: str, owner: str, name: str, document: str, account_id: str | None
    ) -> None:
        account, owner = self._owner(kind, owner, account_id)
        model.policy_name(name)
        policy.parse(document, kind="identity")
        with self.store.write() as con:
            con.execute(
                "INSERT OR REPLACE INTO inline_policies VALUES (?, ?, ?, ?, ?)",
                (account, kind, owner, name, document),
            )

    def get_user_policy(
        self, user_name: str, policy_name: str, *, account_id: str | None = None
    ) -> str:
        return self._get_inline("user", user_name, policy_name, account_id)

    def get_role_policy(
        self, role_name: str, policy_name: str, *, account_id: str | None = None
    ) -> str:
        return self._get_inline("role", role_name, policy_name, account_id)

    def _get_inline(self, kind: str, owner: str, name: str, account_id: str | None) -> str:
        account, owner = self._owner(kind, owner, account_id)
        for found, document in self.store.inline_policies(account, kind, owner):
            if found == name:
                return document
        raise NoSuchEntity(f"The {kind} policy with name {name} cannot be found.")

    def list_user_policies(self, user_name: str, *, account_id: str | None = None) -> list[str]:
        account, owner = self._owner("user", user_name, account_id)
        return [n for n, _ in self.store.inline_policies(account, "user", owner)]

    def list_role_policies(self, role_name: str, *, account_id: str | None = None) -> list[str]:
        account, owner = self._owner("role", role_name, account_id)
        return [n for n, _ in self.store.inline_policies(account, "role", owner)]

    def delete_user_policy(
        self, user_name: str, policy_name: str, *, account_id: str | None = None
    ) -> None:
        self._delete_inline("user", user_name, policy_name, account_id)

    def delete_role_policy(
        self, role_name: str, policy_name: str, *, account_id: str | None = None
    ) -> None:
        self._delete_inline("role", role_name, policy_name, account_id)

    def _delete_inline(self, kind: str, owner: str, name: str, account_id: str | None) -> None:
        self._get_inline(kind, owner, name, account_id)
        account, owner = self._owner(kind, owner, account_id)
        with self.store.write() as con:
            con.execute(
                "DELETE FROM inline_policies WHERE account_id = ? AND owner_kind = ? AND "
                "owner_name = ? AND policy_name = ?",
                (account, kind, owner, name),
            )

    def attach_user_policy(
        self, user_name: str, policy_arn: str, *, account_id: str | None = None
    ) -> None:
        self._attach("user", user_name, policy_arn, account_id)

    def attach_role_policy(
        self, role_name: str, policy_arn: str, *, account_id: str | None = None
    ) -> None:
        self._attach("role", role_name, policy_arn, account_id)

    def _attach(self, kind: str, owner: str, arn: str, account_id: str | None) -> None:
        account, owner = self._owner(kind, owner, account_id)
        if arn != ADMINISTRATOR_ACCESS:
            raise NoSuchEntity(
                f"Policy {arn} does not exist or is not attachable (lakebox knows one managed "
                f"policy, {ADMINISTRATOR_ACCESS}; use inline policies for the rest)."
            )
        with self.store.write() as con:
            con.execute(
                "INSERT OR IGNORE INTO attached_policies VALUES (?, ?, ?, ?)",
                (account, kind, owner, arn),
            )

    def attached_user_policies(self, user_name: str, *, account_id: str | None = None) -> list[str]:
        account, owner = self._owner("user", user_name, account_id)
        return self.store.attached_policies(account, "user", owner)

    def attached_role_policies(self, role_name: str, *, account_id: str | None = None) -> list[str]:
        account, owner = self._owner("role", role_name, account_id)
        return self.store.attached_policies(account, "role", owner)

    def detach_user_policy(
        self, user_name: str, policy_arn: str, *, account_id: str | None = None
    ) -> None:
        self._detach("user", user_name, policy_arn, account_id)

    def detach_role_policy(
        self, role_name: str, policy_arn: str, *, account_id: str | None = None
    ) -> None:
        self._detach("role", role_name, policy_arn, account_id)

    def _detach(self, kind: str, owner: str, arn: str, account_id: str | None) -> None:
        account, owner = self._owner(kind, owner, account_id)
        with self.store.write() as con:
            gone = con.execute(
                "DELETE FROM attached_policies WHERE account_id = ? AND owner_kind = ? AND "
                "owner_name = ? AND policy_arn = ?",
                (account, kind, owner, arn),
            ).rowcount
        if not gone:
            raise NoSuchEntity(f"Policy {arn} was not found (not attached to {kind} {owner}).")

    # -- passwords --------------------------------------------------------------------------
    @staticmethod
    def _check_new_password(password: str) -> None:
        if not isinstance(password, str) or not (
            MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH
        ):
            raise InvalidInput(
                f"a password has {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
            )
        if any(ord(c) < 32 or ord(c) == 127 for c in password):
            raise InvalidInput("a password may not hold control characters")

    def create_login_profile(
        self,
        user_name: str,
        password: str,
        *,
        account_id: str | None = None,
        password_reset_required: bool = False,
    ) -> LoginProfile:
        """IAM's CreateLoginProfile: fails if the user already has a password."""
        user = self.get_user(user_name, account_id=account_id)
        if self.store.login_profile(user.account_id, user.name) is not None:
            raise EntityAlreadyExists(f"Login Profile for user {user.name} already exists.")
        return self.set_password(
            user.name,
            password,
            account_id=user.account_id,
            password_reset_required=password_reset_required,
        )

    def set_password(
        self,
        user_name: str,
        password: str,
        *,
        account_id: str | None = None,
        password_reset_required: bool = False,
    ) -> LoginProfile:
        """Set (or replace) a user's password, kept as a salted scrypt hash."""
        user = self.get_user(user_name, account_id=account_id)
        self._check_new_password(password)
        hashed = hash_password(password)
        created = _utcnow()
        with self.store.write() as con:
            con.execute(
                "INSERT OR REPLACE INTO login_profiles VALUES (?, ?, ?, ?, ?)",
                (
                    user.account_id,
                    user.name,
                    hashed,
                    int(password_reset_required),
                    created.timestamp(),
                ),
            )
        return LoginProfile(user.account_id, user.name, created, password_reset_required)

    def get_login_profile(self, user_name: str, *, account_id: str | None = None) -> LoginProfile:
        user = self.get_user(user_name, account_id=account_id)
        found = self.store.login_profile(user.account_id, user.name)
        if found is None:
            raise NoSuchEntity(f"Login Profile for User {user.name} cannot be found.")
        return found[0]

    def update_login_profile(
        self,
        user_name: str,
        *,
        password: str | None = None,
        password_reset_required: bool | None = None,
        account_id: str | None = None,
    ) -> None:
        """IAM's UpdateLoginProfile: a new password and/or reset flag for a user who has one."""
        profile = self.get_login_profile(user_name, account_id=account_id)
        reset = (
            profile.password_reset_required
            if password_reset_required is None
            else password_reset_required
        )
        if password is not None:
            self.set_password(
                profile.user_name,
                password,
                account_id=profile.account_id,
                password_reset_required=reset,
            )
            return
        with self.store.write() as con:
            con.execute(
                "UPDATE login_profiles SET reset_required = ? WHERE account_id = ? AND "
                "user_name = ?",
                (int(reset), profile.account_id, profile.user_name),
            )

    def delete_login_profile(self, user_name: str, *, account_id: str | None = None) -> None:
        profile = self.get_login_profile(user_name, account_id=account_id)
        with self.store.write() as con:
            con.execute(
                "DELETE FROM login_profiles WHERE account_id = ? AND user_name = ?",
                (profile.account_id, profile.user_name),
            )

    def check_password(
        self, user_name: str, password: str, *, account_id: str | None = None
    ) -> Principal | None:
        """The user's principal when ``password`` is theirs, else None (also for unknown
        users and users with no password; their check costs the same hashing time)."""
        if not isinstance(password, str) or len(password) > MAX_PASSWORD_LENGTH:
            return None  # no password that long can be set: not worth 32 MiB of scrypt
        try:
            user = self.get_user(user_name, account_id=account_id)
            found = self.store.login_profile(user.account_id, user.name)
        except (NoSuchEntity, ValidationError):
            user, found = None, None
        # each check holds 32 MiB for a fraction of a second: a flood of logins waits here instead of
        # taking the machine's memory
        with _PASSWORD_CHECKS:
            if user is None or found is None:
                check_password(password, _dummy_hash())
                return None
            if not check_password(password, found[1]):
                return None
        return Principal(user.account_id, user.arn, "user")

    # -- principals and policies -------------------------------------------------------------
    def user_principal(self, user_name: str, *, account_id: str | None = None) -> Principal:
        user = self.get_user(user_name, account_id=account_id)
        return Principal(user.account_id, user.arn, "user")

    def _identity_policies(self, principal: Principal) -> list[policy.Policy]:
        """The parsed policies of ``principal`` (cached until the store changes)."""
        generation = self.store.generation()
        with self._lock:
            cached = self._policies.get(principal.arn)
            if cached is not None and cached[0] == generation:
                return cached[1]
        found: list[policy.Policy] = []
        kind, owner = _owner_of(principal)
        if kind is not None and owner is not None:
            # attached and inline policies from one snapshot, cached under its generation
            generation, attached, inline = self.store.policies_of(principal.account_id, kind, owner)
            for arn in attached:
                if arn == ADMINISTRATOR_ACCESS:
                    found.append(policy.ADMINISTRATOR)
            for _, document in inline:
                found.append(policy.parse(document, kind="identity"))
        with self._lock:
            if len(self._policies) > 4096:
                self._policies.clear()
            self._policies[principal.arn] = (generation, found)
        return found

    def unrestricted(self, caller: Principal) -> bool:
        """Whether ``caller`` may do anything at all in the lake's account: the local
        administrator, the lake account's root, or a principal of the lake's account whose
        policies allow every action on every resource, unconditionally, and deny nothing.

        Doors that run work with more power than any IAM policy can express (a function's
        code runs as the lake's operating-system user; a rule's targets start as the lake's
        administrator) ask this rather than ``is_allowed(caller, "*", "*")``, which another
        account's administrator passes and an explicit Deny of some action does not stop."""
        if caller.is_local_admin:
            return True
        if caller.account_id != self.account_id:
            return False
        if caller.kind == "root":
            return True
        everything = False
        for pol in self._identity_policies(caller):
            for stmt in pol.statements:
                if stmt.effect == "Deny":
                    return False
                if (
                    not stmt.not_action
                    and not stmt.not_resource
                    and not stmt.conditions
                    and "*" in stmt.actions
                    and "*" in stmt.resources
                ):
                    everything = True
        return everything

    def is_allowed(
        self,
        caller: Principal,
        action: str,
        resource: str,
        context: Mapping[str, Any] | None = None,
        *,
        resource_account: str | None = None,
    ) -> bool:
        try:
            self.authorize(caller, action, resource, context, resource_account=resource_account)
        except AccessDenied:
            return False
        return True

    def decide(
        self,
        caller: Principal,
        action: str,
        resource: str,
        context: Mapping[str, Any] | None = None,
        *,
        resource_account: str | None = None,
    ) -> tuple[policy.Decision, str]:
        """The decision on ``caller`` performing ``action`` on ``resource`` and why, in
        words: ``allow``, ``deny`` (an explicit Deny) or ``implicit`` (no Allow, or the
        resource belongs to another account). See docs/identity.md.

        ``resource_account`` is the account that owns the resource, for a door that knows
        it; otherwise it is the ARN's account field, and for S3 ARNs (which carry none) the
        lake's own account: until buckets record an owner, every bucket belongs to the
        lake's account, so a user of another account gets none of them, whatever its
        policies say."""
        account = resource_account or self._resource_account(resource)
        if account and account not in ("aws", caller.account_id) and not _crosses_by_design(action):
            return "implicit", f"because the resource belongs to another account ({account})"
        if caller.kind in ("local-admin", "root"):
            return "allow", "as the account's root"
        keys = _context_keys(caller, context)
        decision = policy.evaluate(self._identity_policies(caller), action, resource, keys)
        why = {
            "allow": "by an identity-based policy",
            "deny": "with an explicit deny in an identity-based policy",
            "implicit": f"because no identity-based policy allows the {action} action",
        }[decision]
        return decision, why

    def _resource_account(self, resource: str) -> str:
        """The account owning ``resource``: its ARN's account, the lake's for S3."""
        if resource.startswith("arn:aws:s3:"):
            return self.account_id
        return policy.arn_account(resource)

    def authorize(
        self,
        caller: Principal,
        action: str,
        resource: str,
        context: Mapping[str, Any] | None = None,
        *,
        resource_account: str | None = None,
    ) -> None:
        """Raise AccessDenied unless ``caller`` may perform ``action`` (``s3:GetObject``) on
        ``resource`` (an ARN, or ``*`` for actions on no resource). ``context`` adds
        condition keys (``{"aws:SourceIp": "10.0.0.1"}``); ``resource_account`` names the
        resource's owner when the ARN does not (see :meth:`decide`)."""
        decision, why = self.decide(
            caller, action, resource, context, resource_account=resource_account
        )
        if decision != "allow":
            raise AccessDenied(
                f"User: {caller.arn} is not authorized to perform: {action} on resource: "
                f"{resource} {why}",
                action,
                resource,
            )

    def principal_of_arn(self, arn: str) -> Principal:
        """The principal an IAM ARN names: a user, an account's root, or a role (as a
        session of it would be evaluated). NoSuchEntity when it does not exist."""
        parts = arn.split(":", 5) if isinstance(arn, str) else []
        if len(parts) != 6 or parts[:3] != ["arn", "aws", "iam"]:
            raise InvalidInput(f"{arn!r} is not an IAM user, role or root ARN")
        account, resource = self._account(parts[4]), parts[5]
        if resource == "root":
            return Principal(account, f"arn:aws:iam::{account}:root", "root")
        kind, _, rest = resource.partition("/")
        name = rest.rsplit("/", 1)[-1]
        if kind == "user":
            return Principal(account, self.get_user(name, account_id=account).arn, "user")
        if kind == "role":
            role = self.get_role(name, account_id=account)
            return Principal(account, role.arn, "role")
        raise InvalidInput(f"{arn!r} is not an IAM user, role or root ARN")

    # -- authentication ---------------------------------------------------------------------
    def authenticate(
        self,
        request: SignedRequest,
        now: dt.datetime | None = None,
        *,
        expected_service: str | None = None,
    ) -> Caller:
        """The verified caller of a SigV4-signed request; raises AuthError (see
        ``lakebox.iam.sigv4``) for anything else. ``expected_service`` is the signing name
        of the service the door routed the request to (``s3``, ``glue``, ...): a signature
        scoped to another service is refused, so a request signed for one service (or a
        presigned URL made for it) cannot be replayed at another."""
        sig = read_signature(request)
        if expected_service is not None and sig.service != expected_service:
            raise AuthError(
                "bad-signature",
                f"Credential should be scoped to a valid service: the request is signed for "
                f"{sig.service!r}, it was sent to {expected_service!r}",
                protocol_of(expected_service),
            )
        when = now or self._clock()
        check_time(sig, when)
        principal, secret = self._credentials(
            sig.access_key_id, sig.session_token, when, sig.protocol
        )
        chunks = verify(request, sig, secret)
        return Caller(principal, sig.access_key_id, sig.service, sig.region, chunks)

    def authenticate_sigv2(
        self,
        request: SignedRequest,
        *,
        bucket_host: str = "",
        region: str = "",
        now: dt.datetime | None = None,
    ) -> Caller:
        """The verified caller of an S3 request signed with Signature Version 2 (see
        ``lakebox.iam.sigv2``): the same key and session-token look-up as SigV4, errors in
        S3's codes. ``bucket_host`` is the bucket a virtual-hosted request names in its
        Host (it is signed as the path's first segment); ``region`` the lake's."""
        sig = sigv2.read_signature(request)
        when = now or self._clock()
        sigv2.check_time(sig, when)
        principal, secret = self._credentials(sig.access_key_id, sig.session_token, when, "s3")
        sigv2.verify(request, sig, secret, bucket_host)
        return Caller(principal, sig.access_key_id, "s3", region)

    def check_key(self, sig: Signature, now: dt.datetime | None = None) -> None:
        """Raise AuthError unless the signature's access key (and session token) may sign
        now: a door refuses an unknown key from a request's headers, before its body."""
        self._credentials(sig.access_key_id, sig.session_token, now or self._clock(), sig.protocol)

    def principal_for(
        self,
        access_key_id: str,
        secret_access_key: str,
        session_token: str | None = None,
        now: dt.datetime | None = None,
    ) -> Principal:
        """The principal whose credentials these are (for doors that are handed keys, not
        signed requests: ``--profile``, a Python API caller); raises AuthError otherwise."""
        principal, secret = self._credentials(
            access_key_id, session_token, now or self._clock(), "query"
        )
        if not hmac.compare_digest(secret.encode(), secret_access_key.encode()):
            raise AuthError(
                "bad-signature",
                f"the secret access key given for {access_key_id} is not its secret",
                "query",
            )
        return principal

    def _credentials(
        self, key_id: str, token: str | None, now: dt.datetime, protocol: Protocol
    ) -> tuple[Principal, str]:
        """The principal of an access key and its secret, if the key may be used now."""
        if key_id.startswith("ASIA"):
            return self._session_secret(key_id, token, now, protocol)
        if token is not None:
            raise AuthError(
                "invalid-token", "The security token included in the request is invalid.", protocol
            )
        found = self.store.key(key_id)
        user = self.store.user(found[0].account_id, found[0].user_name) if found else None
        if found is None or found[0].status != "Active" or user is None:
            raise AuthError(
                "unknown-key",
                "The security token included in the request is invalid."
                if protocol != "s3"
                else "The AWS Access Key Id you provided does not exist in our records.",
                protocol,
            )
        return Principal(user.account_id, user.arn, "user"), self.box.open(found[1], key_id)

    def _session_secret(
        self, key_id: str, token: str | None, now: dt.datetime, protocol: Protocol
    ) -> tuple[Principal, str]:
        found = self.store.session(key_id)
        if found is None:
            raise AuthError(
                "unknown-key", "The security token included in the request is invalid.", protocol
            )
        given = hashlib.sha256((token or "").encode("utf-8")).hexdigest()
        if token is None or not hmac.compare_digest(given, found["token_sha256"]):
            raise AuthError(
                "invalid-token",
                "The security token included in the request is invalid.",
                protocol,
            )
        if now >= found["expires"]:
            raise AuthError(
                "expired-token",
                "The security token included in the request is expired",
                protocol,
            )
        arn = (
            f"arn:aws:sts::{found['account_id']}:assumed-role/{found['role_name']}/"
            f"{found['session_name']}"
        )
        return (
            Principal(found["account_id"], arn, "assumed-role"),
            self.box.open(found["sealed_secret"], key_id),
        )

    # -- STS --------------------------------------------------------------------------------
    def assume_role(
        self,
        caller: Principal,
        role_arn: str,
        session_name: str,
        *,
        duration_seconds: int = 3600,
        external_id: str | None = None,
    ) -> SessionCredentials:
        """STS AssumeRole: the role's trust policy must allow ``caller`` (and, unless it
        names the caller itself, so must the caller's own policies); returns temporary
        credentials that expire after ``duration_seconds``."""
        model.session_name(session_name)
        account, role_name = _role_of_arn(role_arn)
        if self.store.account(account) is None:
            raise AccessDenied(
                f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on "
                f"resource: {role_arn}",
                "sts:AssumeRole",
                role_arn,
            )
        role = self.store.role(account, role_name)
        if role is None:
            raise AccessDenied(
                f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on "
                f"resource: {role_arn}",
                "sts:AssumeRole",
                role_arn,
            )
        if not MIN_SESSION_SECONDS <= duration_seconds <= role.max_session_duration:
            raise ValidationError(
                f"The requested DurationSeconds exceeds the MaxSessionDuration set for this "
                f"role ({role.max_session_duration})"
                if duration_seconds > role.max_session_duration
                else f"1 validation error detected: Value {duration_seconds} at "
                "'durationSeconds' failed to satisfy constraint: Member must have value "
                f"greater than or equal to {MIN_SESSION_SECONDS}"
            )
        keys = _context_keys(caller, None)
        keys["sts:rolesessionname"] = session_name
        if external_id is not None:
            keys["sts:externalid"] = external_id
        trust = policy.parse(role.trust_policy, kind="trust")
        named = policy.trust_allows(trust, caller, "sts:AssumeRole", keys)
        if named is None:
            raise AccessDenied(
                f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on "
                f"resource: {role.arn}",
                "sts:AssumeRole",
                role.arn,
            )
        if named == "account" or caller.account_id != role.account_id:
            self.authorize(caller, "sts:AssumeRole", role.arn)
        key_id = _new_id("ASIA", 16)
        secret = _new_secret()
        token = "LBX" + base64.b64encode(secrets.token_bytes(96)).decode()
        expires = (self._clock() + dt.timedelta(seconds=duration_seconds)).replace(microsecond=0)
        with self.store.write() as con:
            self.store.insert_session(
                con,
                access_key_id=key_id,
                account_id=role.account_id,
                role_name=role.name,
                role_id=role.role_id,
                session_name=session_name,
                source_arn=caller.arn,
                sealed=self.box.seal(secret, key_id),
                token_sha256=hashlib.sha256(token.encode()).hexdigest(),
                expires=expires,
            )
        return SessionCredentials(
            key_id,
            secret,
            token,
            expires,
            role.account_id,
            role.name,
            role.role_id,
            session_name,
            caller.arn,
        )

    def caller_user_id(self, caller: Principal) -> str:
        """GetCallerIdentity's ``UserId``: a user's id, ``<role id>:<session>`` for a
        role session, the account id for the root."""
        kind, owner = _owner_of(caller)
        if kind == "user" and owner is not None:
            user = self.store.user(caller.account_id, owner)
            if user is not None:
                return user.user_id
        if kind == "role" and owner is not None:
            role = self.store.role(caller.account_id, owner)
            if role is not None:
                return f"{role.role_id}:{caller.arn.rsplit('/', 1)[-1]}"
        return caller.account_id

    # -- first start ------------------------------------------------------------------------
    def bootstrap(self) -> Path | None:
        """When the lake has no users at all: create ``admin`` (AdministratorAccess) in the
        lake's account, give it an access key and write the key to a file only the owner
        can read, in the AWS credentials-file format; returns that file's path. Returns
        None (and changes nothing) when any user exists."""
        key_id, secret = _new_id("AKIA", 16), _new_secret()
        path = self.metadata_dir / CREDENTIALS_FILE
        now = _utcnow()
        user = User(self.account_id, BOOTSTRAP_USER, _new_id("AIDA", 17), "/", now)
        with self._lock, self.store.write() as con:
            # decided under the store's write lock: of two processes, one bootstraps
            if con.execute("SELECT count(*) FROM users").fetchone()[0]:
                return None
            self.store.insert_user(con, user)
            con.execute(
                "INSERT INTO attached_policies VALUES (?, 'user', ?, ?)",
                (self.account_id, user.name, ADMINISTRATOR_ACCESS),
            )
            key = AccessKey(key_id, self.account_id, user.name, "Active", now)
            self.store.insert_key(con, key, self.box.seal(secret, key_id))
            # written before the commit: a failure leaves neither the user nor the file
            write_private_file(
                path,
                "# lakebox: the first administrator of this lake (user admin, account "
                f"{self.account_id}).\n"
                "# Use with AWS_SHARED_CREDENTIALS_FILE=<this file>; keep it secret.\n"
                "[default]\n"
                f"aws_access_key_id = {key_id}\n"
                f"aws_secret_access_key = {secret}\n",
            )
        return path


#: password checks run at once, at most (each takes scrypt's 32 MiB)
MAX_PASSWORD_CHECKS = 4
_PASSWORD_CHECKS = threading.BoundedSemaphore(MAX_PASSWORD_CHECKS)


@functools.cache
def _dummy_hash() -> str:
    """A hash to spend the same time on when a user has no password (made once, on first need)."""
    return hash_password("lakebox: a password no one has")


def _owner_of(principal: Principal) -> tuple[str | None, str | None]:
    """(``user`` | ``role``, its name) of an IAM user, a role or a role's session."""
    arn = principal.arn
    if principal.kind == "user" and ":user/" in arn:
        return "user", arn.rsplit("/", 1)[-1]
    if principal.kind == "assumed-role" and ":assumed-role/" in arn:
        return "role", arn.split(":assumed-role/", 1)[1].split("/")[0]
    if principal.kind == "role" and ":role/" in arn:
        return "role", arn.rsplit("/", 1)[-1]
    return None, None


def _role_of_arn(arn: str) -> tuple[str, str]:
    parts = arn.split(":", 5) if isinstance(arn, str) else []
    if (
        len(parts) != 6
        or parts[0] != "arn"
        or parts[2] != "iam"
        or not parts[5].startswith("role/")
    ):
        raise ValidationError(
            f"RoleArn {arn!r} is not a role ARN (arn:aws:iam::<account>:role/<name>)"
        )
    account = model.account_id(parts[4])
    return account, model.role_name(parts[5].rsplit("/", 1)[-1])


def _crosses_by_design(action: str) -> bool:
    """Actions whose resource's own policy decides access across accounts (a role's trust
    policy for AssumeRole)."""
    return action.lower() in ("sts:assumerole",)


def _context_keys(caller: Principal, extra: Mapping[str, Any] | None) -> dict[str, Any]:
    keys: dict[str, Any] = {
        "aws:principalarn": caller.arn,
        "aws:principalaccount": caller.account_id,
        "aws:principaltype": {"user": "User", "assumed-role": "AssumedRole"}.get(
            caller.kind, "Account"
        ),
    }
    if caller.kind == "user":
        keys["aws:username"] = caller.name
    now = _utcnow()
    keys["aws:currenttime"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    keys["aws:epochtime"] = str(int(now.timestamp()))
    for key, value in (extra or {}).items():
        keys[key.lower()] = value
    return keys


__all__ = ["IamService"]
