"""The identity service on a real metadata folder: what is stored and how, IAM's rules for
names and limits, passwords, authorization decisions, AssumeRole and the first admin."""

from __future__ import annotations

import configparser
import datetime as dt
import json
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from iam.signing import ENDPOINT, Keys, sign
from lakebox.admin.backup import backup, restore
from lakebox.config import LakeConfig
from lakebox.iam.crypto import SecretsError
from lakebox.iam.errors import (
    AccessDenied,
    DeleteConflict,
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    MalformedPolicyDocument,
    NoSuchEntity,
    ValidationError,
)
from lakebox.iam.service import IamService
from lakebox.iam.sigv4 import AuthError
from lakebox.lakehouse import Lake
from lakebox.metadata import sqlite as metadb
from lakebox.metadata.sqlite import MetadataCorruptError, MetadataVersionError
from lakebox.principal import LOCAL_ADMIN, Principal, local_admin
from metadata.damage import damage

OTHER = "111122223333"


def _allow(action: str, resource: str = "*") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}],
        }
    )


def _trust(principal: str | list[str]) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
            ],
        }
    )


# -- storage ------------------------------------------------------------------------------


def test_secrets_are_encrypted_at_rest_with_a_private_key_file(
    iam: IamService, alice: Keys
) -> None:
    store = iam.metadata_dir / "iam.sqlite"
    raw = store.read_bytes() + Path(f"{store}-wal").read_bytes()
    assert alice.access_key_id.encode() in raw
    assert alice.secret_access_key.encode() not in raw
    key_file = iam.metadata_dir / "iam" / "secrets.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    with sqlite3.connect(store) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == 1


def test_keys_work_after_reopening_the_store(iam: IamService, alice: Keys) -> None:
    again = IamService(iam.metadata_dir)
    try:
        assert again.authenticate(sign(alice, "s3", ENDPOINT + "/b")).principal.name == "alice"
    finally:
        again.close()


def test_a_foreign_key_file_is_reported_not_misread(iam: IamService, alice: Keys) -> None:
    key_file = iam.metadata_dir / "iam" / "secrets.key"
    key_file.write_text("c2hvcnQ=\n")
    fresh = IamService(iam.metadata_dir)
    try:
        with pytest.raises(SecretsError, match="restore it from a backup"):
            fresh.authenticate(sign(alice, "s3", ENDPOINT + "/b"))
    finally:
        fresh.close()
    key_file.write_text("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=\n")  # 32 other bytes
    other = IamService(iam.metadata_dir)
    try:
        with pytest.raises(SecretsError, match="does not belong"):
            other.authenticate(sign(alice, "s3", ENDPOINT + "/b"))
    finally:
        other.close()


def test_a_store_from_a_newer_lakebox_is_refused(tmp_path: Path) -> None:
    meta = tmp_path / "_lakebox"
    meta.mkdir()
    with sqlite3.connect(meta / "iam.sqlite") as con:
        con.execute("PRAGMA user_version = 99")
    with pytest.raises(MetadataVersionError, match="schema version 99"):
        IamService(meta)


def test_the_lakehouse_builds_iam_lazily(tmp_path: Path) -> None:
    lake = Lake(LakeConfig(home=tmp_path / "lake"))
    try:
        assert not (lake.config.metadata_dir / "iam.sqlite").exists()
        lake.iam.create_user("u")
        assert lake.iam is lake.iam
        assert [u.name for u in lake.iam.list_users()] == ["u"]
    finally:
        lake.close()


# -- names, accounts, limits ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "a" * 65, "has space", "slash/no", "ünïcode", "semi;colon"])
def test_bad_user_names_are_refused(iam: IamService, name: str) -> None:
    with pytest.raises(ValidationError, match="userName"):
        iam.create_user(name)


def test_good_user_names(iam: IamService) -> None:
    for name in ("a", "x" * 64, "first.last@example.com", "a+b=c,d-e_f"):
        assert iam.create_user(name).name == name


def test_user_names_are_unique_without_regard_to_case(iam: IamService) -> None:
    iam.create_user("Alice")
    with pytest.raises(EntityAlreadyExists, match="alice"):
        iam.create_user("alice")
    assert iam.get_user("ALICE").name == "Alice"


def test_accounts(iam: IamService) -> None:
    with pytest.raises(ValidationError, match="12 digits"):
        iam.create_account("123")
    with pytest.raises(NoSuchEntity, match="create-account"):
        iam.create_user("bob", account_id=OTHER)
    iam.create_account(OTHER, "analytics")
    with pytest.raises(EntityAlreadyExists):
        iam.create_account(OTHER)
    bob = iam.create_user("bob", account_id=OTHER)
    assert bob.arn == f"arn:aws:iam::{OTHER}:user/bob"
    iam.create_user("bob")  # same name, other account
    assert [a.account_id for a in iam.list_accounts()] == ["000000000000", OTHER]
    assert [u.account_id for u in iam.list_users(all_accounts=True)] == ["000000000000", OTHER]


def test_two_access_keys_per_user(iam: IamService) -> None:
    iam.create_user("u")
    first = iam.create_access_key("u")
    iam.create_access_key("u")
    with pytest.raises(LimitExceeded, match="AccessKeysPerUser"):
        iam.create_access_key("u")
    assert first.key.access_key_id.startswith("AKIA") and len(first.key.access_key_id) == 20
    assert len(first.secret_access_key) == 40
    assert [k.status for k in iam.list_access_keys("u")] == ["Active", "Active"]


def test_deleting_a_user_who_owns_things_conflicts_unless_forced(iam: IamService) -> None:
    iam.create_user("u")
    iam.create_access_key("u")
    iam.put_user_policy("u", "p", _allow("s3:*"))
    with pytest.raises(DeleteConflict, match="access keys and inline policies"):
        iam.delete_user("u")
    iam.delete_user("u", force=True)
    with pytest.raises(NoSuchEntity):
        iam.get_user("u")
    iam.create_user("u")  # nothing of the old user is left behind
    assert iam.list_access_keys("u") == [] and iam.list_user_policies("u") == []


def test_malformed_policies_are_refused_on_put(iam: IamService) -> None:
    iam.create_user("u")
    with pytest.raises(MalformedPolicyDocument, match=r"Statement\[0\]\.Effect"):
        iam.put_user_policy(
            "u", "p", '{"Version": "2012-10-17", "Statement": [{"Effect": "allow"}]}'
        )
    assert iam.list_user_policies("u") == []


def test_only_administrator_access_can_be_attached(iam: IamService) -> None:
    iam.create_user("u")
    with pytest.raises(NoSuchEntity, match="AdministratorAccess"):
        iam.attach_user_policy("u", "arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.attach_user_policy("u", "arn:aws:iam::aws:policy/AdministratorAccess")
    assert iam.attached_user_policies("u") == ["arn:aws:iam::aws:policy/AdministratorAccess"]


# -- passwords ------------------------------------------------------------------------------


def test_passwords_are_salted_slow_hashes(iam: IamService) -> None:
    iam.create_user("u")
    iam.create_user("v")
    iam.set_password("u", "correct horse")
    iam.set_password("v", "correct horse")
    with sqlite3.connect(iam.metadata_dir / "iam.sqlite") as con:
        hashes = [r[0] for r in con.execute("SELECT password_hash FROM login_profiles")]
    assert all(h.startswith("scrypt$15$8$1$") for h in hashes)
    assert hashes[0] != hashes[1]  # salted
    assert all("correct horse" not in h for h in hashes)
    assert iam.check_password("u", "correct horse") == Principal(
        "000000000000", "arn:aws:iam::000000000000:user/u", "user"
    )
    assert iam.check_password("u", "wrong horse") is None
    assert iam.check_password("nobody", "correct horse") is None
    assert iam.check_password("bad name!", "correct horse") is None


def test_login_profile_rules(iam: IamService) -> None:
    iam.create_user("u")
    with pytest.raises(InvalidInput, match="8 to 128"):
        iam.create_login_profile("u", "short")
    profile = iam.create_login_profile("u", "long enough", password_reset_required=True)
    assert profile.password_reset_required
    with pytest.raises(EntityAlreadyExists, match="Login Profile"):
        iam.create_login_profile("u", "another one")
    iam.set_password("u", "another one")
    assert iam.check_password("u", "another one") is not None
    assert iam.check_password("u", "long enough") is None


# -- authorization --------------------------------------------------------------------------


def test_admins_may_do_anything_in_their_account(iam: IamService) -> None:
    iam.create_user("admin", admin=True)
    admin = iam.user_principal("admin")
    iam.authorize(admin, "glue:DeleteTable", "arn:aws:glue:us-east-1:000000000000:table/db/t")
    iam.authorize(admin, "s3:PutObject", "arn:aws:s3:::bucket/key")
    iam.authorize(LOCAL_ADMIN, "iam:CreateUser", "arn:aws:iam::000000000000:user/x")
    root = Principal("000000000000", "arn:aws:iam::000000000000:root", "root")
    iam.authorize(root, "athena:StartQueryExecution", "*")


def test_no_allow_means_deny_and_an_inline_policy_allows(iam: IamService) -> None:
    iam.create_user("ann")
    ann = iam.user_principal("ann")
    table = "arn:aws:glue:us-east-1:000000000000:table/sales/orders"
    with pytest.raises(AccessDenied) as caught:
        iam.authorize(ann, "glue:GetTable", table)
    assert (caught.value.action, caught.value.resource) == ("glue:GetTable", table)
    assert "no identity-based policy allows the glue:GetTable action" in caught.value.message
    iam.put_user_policy("ann", "read-sales", _allow("glue:Get*", "arn:aws:glue:*:*:table/sales/*"))
    iam.authorize(ann, "glue:GetTable", table)
    assert not iam.is_allowed(ann, "glue:DeleteTable", table)
    assert not iam.is_allowed(
        ann, "glue:GetTable", "arn:aws:glue:us-east-1:000000000000:table/hr/pay"
    )


def test_explicit_deny_beats_administrator_access(iam: IamService) -> None:
    iam.create_user("boss", admin=True)
    iam.put_user_policy(
        "boss",
        "no-deletes",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": {"Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"},
            }
        ),
    )
    boss = iam.user_principal("boss")
    with pytest.raises(AccessDenied, match="explicit deny"):
        iam.authorize(boss, "s3:DeleteObject", "arn:aws:s3:::b/k")
    iam.authorize(boss, "s3:GetObject", "arn:aws:s3:::b/k")
    iam.delete_user_policy("boss", "no-deletes")
    iam.authorize(boss, "s3:DeleteObject", "arn:aws:s3:::b/k")  # the cache saw the change


def test_no_one_reaches_another_accounts_resources(iam: IamService) -> None:
    iam.create_account(OTHER)
    iam.create_user("admin", admin=True)
    foreign = f"arn:aws:glue:us-east-1:{OTHER}:table/db/t"
    for who in (iam.user_principal("admin"), LOCAL_ADMIN):
        with pytest.raises(AccessDenied, match=f"another account \\({OTHER}\\)"):
            iam.authorize(who, "glue:GetTable", foreign)
    iam.authorize(local_admin(OTHER), "glue:GetTable", foreign)
    iam.create_user("eve", account_id=OTHER, admin=True)
    eve = iam.user_principal("eve", account_id=OTHER)
    assert not iam.is_allowed(
        eve, "glue:GetTable", "arn:aws:glue:us-east-1:000000000000:table/db/t"
    )
    assert iam.is_allowed(eve, "glue:GetTable", foreign)


# -- AssumeRole ----------------------------------------------------------------------------


def test_assume_role_named_in_trust_needs_no_identity_policy(iam: IamService) -> None:
    iam.create_user("ann")
    iam.create_role("etl", _trust("arn:aws:iam::000000000000:user/ann"), max_session_duration=7200)
    iam.put_role_policy("etl", "glue", _allow("glue:*"))
    ann = iam.user_principal("ann")
    creds = iam.assume_role(
        ann, "arn:aws:iam::000000000000:role/etl", "job-1", duration_seconds=7200
    )
    assert creds.access_key_id.startswith("ASIA")
    remaining = creds.expiration - dt.datetime.now(dt.UTC)
    assert dt.timedelta(seconds=7190) < remaining <= dt.timedelta(seconds=7200)
    session = Keys(creds.access_key_id, creds.secret_access_key, creds.session_token)
    caller = iam.authenticate(sign(session, "glue", ENDPOINT + "/", method="POST", body=b"{}"))
    iam.authorize(
        caller.principal, "glue:CreateTable", "arn:aws:glue:us-east-1:000000000000:table/d/t"
    )
    assert not iam.is_allowed(caller.principal, "s3:GetObject", "arn:aws:s3:::b/k")
    assert iam.caller_user_id(caller.principal) == f"{iam.get_role('etl').role_id}:job-1"


def test_assume_role_refusals(iam: IamService) -> None:
    iam.create_user("ann")
    iam.create_user("bob")
    iam.create_role("etl", _trust("arn:aws:iam::000000000000:user/ann"))
    iam.create_role("any", _trust("000000000000"))
    ann, bob = iam.user_principal("ann"), iam.user_principal("bob")
    with pytest.raises(AccessDenied, match="sts:AssumeRole"):
        iam.assume_role(bob, "arn:aws:iam::000000000000:role/etl", "s1")
    with pytest.raises(AccessDenied):
        iam.assume_role(ann, "arn:aws:iam::000000000000:role/missing", "s1")
    with pytest.raises(ValidationError, match="MaxSessionDuration"):
        iam.assume_role(ann, "arn:aws:iam::000000000000:role/etl", "s1", duration_seconds=7200)
    with pytest.raises(ValidationError, match="900"):
        iam.assume_role(ann, "arn:aws:iam::000000000000:role/etl", "s1", duration_seconds=899)
    with pytest.raises(ValidationError, match="roleSessionName"):
        iam.assume_role(ann, "arn:aws:iam::000000000000:role/etl", "a b")
    with pytest.raises(ValidationError, match="RoleArn"):
        iam.assume_role(ann, "arn:aws:s3:::etl", "s1")
    # a trust policy naming the account leaves the decision to the caller's own policies
    with pytest.raises(AccessDenied):
        iam.assume_role(bob, "arn:aws:iam::000000000000:role/any", "s1")
    iam.put_user_policy(
        "bob", "assume", _allow("sts:AssumeRole", "arn:aws:iam::000000000000:role/any")
    )
    iam.assume_role(bob, "arn:aws:iam::000000000000:role/any", "s1")


def test_cross_account_roles_need_both_sides(iam: IamService) -> None:
    iam.create_account(OTHER)
    iam.create_role("shared", _trust("000000000000"), account_id=OTHER)
    iam.create_user("ann")
    ann = iam.user_principal("ann")
    role = f"arn:aws:iam::{OTHER}:role/shared"
    with pytest.raises(AccessDenied):
        iam.assume_role(ann, role, "s1")  # the trust allows, ann's policies do not
    iam.put_user_policy("ann", "assume", _allow("sts:AssumeRole", role))
    creds = iam.assume_role(ann, role, "s1")
    assert creds.assumed_role_arn == f"arn:aws:sts::{OTHER}:assumed-role/shared/s1"
    iam.create_role("private", _trust(OTHER), account_id=OTHER)
    with pytest.raises(AccessDenied):
        iam.assume_role(ann, f"arn:aws:iam::{OTHER}:role/private", "s1")


# -- the first admin ------------------------------------------------------------------------


def test_bootstrap_writes_working_keys_to_a_private_file_once(iam: IamService) -> None:
    path = iam.bootstrap()
    assert path is not None and path.is_relative_to(iam.metadata_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    profile = configparser.ConfigParser()
    profile.read(path)
    keys = Keys(
        profile["default"]["aws_access_key_id"], profile["default"]["aws_secret_access_key"]
    )
    caller = iam.authenticate(
        sign(keys, "sts", ENDPOINT + "/", method="POST", body=b"Action=GetCallerIdentity")
    )
    assert caller.principal.arn == "arn:aws:iam::000000000000:user/admin"
    iam.authorize(caller.principal, "iam:CreateUser", "arn:aws:iam::000000000000:user/x")
    assert iam.bootstrap() is None
    assert path.read_text().count("aws_access_key_id") == 1


def test_bootstrap_does_nothing_when_users_exist(iam: IamService) -> None:
    iam.create_user("someone")
    assert iam.bootstrap() is None
    assert not (iam.metadata_dir / "iam" / "admin-credentials").exists()


def test_the_store_is_registered_with_its_schema_version() -> None:
    from lakebox.iam import store

    assert metadb.schema_version(store.FILE) == len(store._MIGRATIONS)


def test_a_damaged_store_is_refused_naming_the_file(tmp_path: Path) -> None:
    meta = tmp_path / "lake" / "_lakebox"
    first = IamService(meta)
    first.create_user("u")
    first.close()
    damage(meta / "iam.sqlite", "junk")
    with pytest.raises(MetadataCorruptError, match=r"iam\.sqlite"):
        IamService(meta)


def test_backup_and_restore_keep_keys_working(tmp_path: Path) -> None:
    home = tmp_path / "lake"
    lake = Lake(LakeConfig(home=home))
    try:
        lake.iam.create_user("u")
        new = lake.iam.create_access_key("u")
    finally:
        lake.close()
    keys = Keys(new.key.access_key_id, new.secret_access_key)
    backup(home, tmp_path / "saved")
    restored = tmp_path / "elsewhere"
    restore(tmp_path / "saved", restored)
    iam = IamService(restored / "_lakebox")
    try:
        assert iam.authenticate(sign(keys, "s3", ENDPOINT + "/b")).principal.name == "u"
        key_file = restored / "_lakebox" / "iam" / "secrets.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    finally:
        iam.close()


_RACER = """
import sys
from pathlib import Path
from lakebox.iam.service import IamService
iam = IamService(Path(sys.argv[1]))
path = iam.bootstrap()
iam.create_user(sys.argv[2])
new = iam.create_access_key(sys.argv[2])
print(path or "-", new.key.access_key_id, new.secret_access_key)
"""


def test_processes_starting_together_share_one_key_file_and_one_admin(tmp_path: Path) -> None:
    meta = tmp_path / "lake" / "_lakebox"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, str(meta), f"user{i}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    lines = []
    for proc in racers:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        lines.append(out.split())
    assert sum(1 for path, _, _ in lines if path != "-") == 1
    iam = IamService(meta)
    try:
        for _, key_id, secret in lines:
            iam.authenticate(sign(Keys(key_id, secret), "s3", ENDPOINT + "/b"))
        assert [u.name for u in iam.list_users()] == ["admin", "user0", "user1", "user2", "user3"]
    finally:
        iam.close()


def test_deleting_a_role_ends_its_sessions(iam: IamService) -> None:
    iam.create_user("ann")
    iam.create_role("etl", _trust("arn:aws:iam::000000000000:user/ann"))
    creds = iam.assume_role(iam.user_principal("ann"), "arn:aws:iam::000000000000:role/etl", "s1")
    keys = Keys(creds.access_key_id, creds.secret_access_key, creds.session_token)
    iam.authenticate(sign(keys, "s3", ENDPOINT + "/b"))
    iam.put_role_policy("etl", "p", _allow("s3:*"))
    with pytest.raises(DeleteConflict, match="policies"):
        iam.delete_role("etl")
    iam.delete_role("etl", force=True)
    with pytest.raises(AuthError) as caught:
        iam.authenticate(sign(keys, "s3", ENDPOINT + "/b"))
    assert caught.value.code == "InvalidAccessKeyId"


def test_principal_for_credentials(iam: IamService, alice: Keys) -> None:
    assert iam.principal_for(alice.access_key_id, alice.secret_access_key).name == "alice"
    with pytest.raises(AuthError) as caught:
        iam.principal_for(alice.access_key_id, "x" * 40)
    assert caught.value.reason == "bad-signature"
    with pytest.raises(AuthError) as caught:
        iam.principal_for("AKIANOSUCHKEY0000000", alice.secret_access_key)
    assert caught.value.code == "InvalidClientTokenId"


def test_time_condition_keys_are_filled(iam: IamService) -> None:
    iam.create_user("ann")
    iam.put_user_policy(
        "ann",
        "until-2100",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": {
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": "*",
                    "Condition": {
                        "DateLessThan": {"aws:CurrentTime": "2100-01-01T00:00:00Z"},
                        "NumericGreaterThan": {"aws:EpochTime": 1700000000},
                    },
                },
            }
        ),
    )
    ann = iam.user_principal("ann")
    assert iam.is_allowed(ann, "s3:GetObject", "arn:aws:s3:::b/k")
    iam.put_user_policy(
        "ann",
        "until-2100",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": {
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": "*",
                    "Condition": {"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
                },
            }
        ),
    )
    assert not iam.is_allowed(ann, "s3:GetObject", "arn:aws:s3:::b/k")


def test_threads_authenticate_and_authorize_at_once(iam: IamService, alice: Keys) -> None:
    import threading

    requests = [sign(alice, "s3", ENDPOINT + f"/b/k{i}") for i in range(40)]
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for request in requests:
                caller = iam.authenticate(request)
                iam.authorize(caller.principal, "s3:GetObject", "arn:aws:s3:::b/k")
        except BaseException as err:  # reported below
            failures.append(err)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    iam.put_user_policy("alice", "p", _allow("s3:GetObject"))  # a write while they read
    for thread in threads:
        thread.join(60)
    assert failures == []


def test_unrestricted_is_only_everything_in_the_lakes_account_with_no_deny(
    iam: IamService,
) -> None:
    """The guard for work no policy can bound (a function's code, a rule's admin-run
    targets): another account's root or administrator, or an administrator with any Deny,
    is not unrestricted, though each is allowed ``*`` on ``*`` by is_allowed."""
    assert iam.unrestricted(LOCAL_ADMIN)
    assert iam.unrestricted(Principal("000000000000", "arn:aws:iam::000000000000:root", "root"))
    iam.create_user("chief", admin=True)
    assert iam.unrestricted(iam.user_principal("chief"))
    iam.put_user_policy(
        "chief",
        "no-lambda",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": {"Effect": "Deny", "Action": "lambda:*", "Resource": "*"},
            }
        ),
    )
    chief = iam.user_principal("chief")
    assert iam.is_allowed(chief, "*", "*")
    assert not iam.unrestricted(chief)
    iam.create_user("narrow")
    iam.put_user_policy("narrow", "all-glue", _allow("glue:*"))
    assert not iam.unrestricted(iam.user_principal("narrow"))
    iam.create_account(OTHER)
    assert not iam.unrestricted(Principal(OTHER, f"arn:aws:iam::{OTHER}:root", "root"))
    iam.create_user("theirs", account_id=OTHER, admin=True)
    theirs = iam.user_principal("theirs", account_id=OTHER)
    assert iam.is_allowed(theirs, "*", "*")
    assert not iam.unrestricted(theirs)
