"""Service holes a security review found, each closed: S3 resources of the lake's account
given to other accounts' users, a world-readable identity database, policies read across
two snapshots, secrets in repr(), a key file that could be swapped for a link or silently
remade, unbounded password lengths, and names taken with a trailing newline."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from iam.signing import ENDPOINT, Keys, sign
from lakebox.iam import crypto
from lakebox.iam.crypto import SecretsError
from lakebox.iam.errors import ValidationError
from lakebox.iam.service import IamService
from lakebox.iam.sigv4 import AuthError

OTHER = "111122223333"


# -- H2: S3 resources belong to the lake's account ------------------------------------------


def test_an_admin_of_another_account_gets_no_s3_resource(iam: IamService) -> None:
    iam.create_account(OTHER)
    iam.create_user("ann", account_id=OTHER, admin=True)
    ann = iam.user_principal("ann", account_id=OTHER)
    for action, arn in (
        ("s3:GetObject", "arn:aws:s3:::lake-private/payroll.csv"),
        ("s3:PutObject", "arn:aws:s3:::lake-private/x"),
        ("s3:ListBucket", "arn:aws:s3:::lake-private"),
    ):
        decision, why = iam.decide(ann, action, arn)
        assert decision == "implicit"
        assert "another account (000000000000)" in why
        assert not iam.is_allowed(ann, action, arn)
    # the lake's own admin still gets them; a door that knows the owner says so
    iam.create_user("root-ish", admin=True)
    own = iam.user_principal("root-ish")
    assert iam.decide(own, "s3:GetObject", "arn:aws:s3:::lake-private/payroll.csv")[0] == "allow"
    arn = "arn:aws:s3:::anns-bucket/k"
    assert iam.decide(ann, "s3:GetObject", arn, resource_account=OTHER)[0] == "allow"
    assert iam.decide(own, "s3:GetObject", arn, resource_account=OTHER)[0] == "implicit"


def test_a_lake_made_for_another_account_owns_its_s3_resources(tmp_path: Path) -> None:
    iam = IamService(tmp_path / "_lakebox", account_id=OTHER)
    try:
        iam.create_user("u", admin=True)
        u = iam.user_principal("u")
        assert iam.decide(u, "s3:GetObject", "arn:aws:s3:::b/k")[0] == "allow"
    finally:
        iam.close()


# -- M7: the database is private -------------------------------------------------------------


def test_the_identity_database_is_created_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        iam = IamService(tmp_path / "_lakebox")
        try:
            iam.create_user("u")
            iam.create_access_key("u")
            db = tmp_path / "_lakebox" / "iam.sqlite"
            for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
                assert path.exists(), path
                assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        finally:
            iam.close()
    finally:
        os.umask(old)


def test_a_looser_existing_database_is_tightened(tmp_path: Path) -> None:
    IamService(tmp_path / "_lakebox").close()
    db = tmp_path / "_lakebox" / "iam.sqlite"
    db.chmod(0o644)
    IamService(tmp_path / "_lakebox").close()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


# -- L3: one snapshot of a principal's policies ------------------------------------------------


def test_attached_and_inline_policies_are_read_in_one_snapshot(iam: IamService) -> None:
    """State A: AdministratorAccess and an inline Deny of s3:*; state B: neither. A writer
    switching A to B between the two reads must not leave AdministratorAccess without its
    Deny (allow, which neither state gives)."""
    iam.create_user("u", admin=True)
    iam.put_user_policy(
        "u",
        "no-s3",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
            }
        ),
    )
    u = iam.user_principal("u")

    def switch() -> None:
        with iam.store.write() as con:
            con.execute("DELETE FROM attached_policies")
            con.execute("DELETE FROM inline_policies")

    switched = False

    def between_reads(sql: str) -> None:
        nonlocal switched
        if not switched and "FROM inline_policies" in sql:
            switched = True
            writer = threading.Thread(target=switch)
            writer.start()
            writer.join()

    con = iam.store._db.connection()
    con.set_trace_callback(between_reads)
    try:
        decision = iam.decide(u, "s3:GetObject", "arn:aws:s3:::b/k")[0]
    finally:
        con.set_trace_callback(None)
    assert switched
    assert decision == "deny"  # state A, read whole
    assert iam.decide(u, "s3:GetObject", "arn:aws:s3:::b/k")[0] == "implicit"  # state B


# -- L4: secrets out of repr() -----------------------------------------------------------------


def test_secrets_and_tokens_stay_out_of_repr(iam: IamService) -> None:
    iam.create_user("u")
    new = iam.create_access_key("u")
    assert new.secret_access_key not in repr(new)
    assert new.key.access_key_id in repr(new)
    iam.create_role(
        "r",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::000000000000:user/u"},
                    "Action": "sts:AssumeRole",
                },
            }
        ),
    )
    creds = iam.assume_role(iam.user_principal("u"), "arn:aws:iam::000000000000:role/r", "s1")
    text = repr(creds)
    assert creds.secret_access_key not in text and creds.session_token not in text
    assert creds.access_key_id in text


# -- L5: the key file -------------------------------------------------------------------------


@pytest.fixture
def keyed(iam: IamService, alice: Keys) -> Iterator[tuple[IamService, Path]]:
    yield iam, iam.metadata_dir / "iam" / "secrets.key"


def _fresh_authenticate(metadata: Path, keys: Keys) -> None:
    fresh = IamService(metadata)
    try:
        fresh.authenticate(sign(keys, "s3", ENDPOINT + "/b"))
    finally:
        fresh.close()


def test_a_symlinked_key_file_is_refused(
    keyed: tuple[IamService, Path], alice: Keys, tmp_path: Path
) -> None:
    iam, key_file = keyed
    elsewhere = tmp_path / "planted.key"
    elsewhere.write_bytes(key_file.read_bytes())
    key_file.unlink()
    key_file.symlink_to(elsewhere)
    with pytest.raises(SecretsError, match="symbolic link"):
        _fresh_authenticate(iam.metadata_dir, alice)


def test_a_looser_key_file_and_folder_are_tightened(
    keyed: tuple[IamService, Path], alice: Keys
) -> None:
    iam, key_file = keyed
    key_file.chmod(0o644)
    key_file.parent.chmod(0o755)
    _fresh_authenticate(iam.metadata_dir, alice)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700


def test_a_missing_key_file_is_not_silently_remade(
    keyed: tuple[IamService, Path], alice: Keys
) -> None:
    iam, key_file = keyed
    key_file.unlink()
    with pytest.raises(SecretsError) as caught:
        _fresh_authenticate(iam.metadata_dir, alice)
    assert str(key_file) in caught.value.message
    assert "missing" in caught.value.message
    assert not key_file.exists()
    # the way out without a backup: delete the keys sealed with the lost file, make new ones
    iam.delete_access_key(alice.access_key_id, user_name="alice")
    again = IamService(iam.metadata_dir)
    try:
        again.create_access_key("alice")
        assert key_file.exists()
    finally:
        again.close()


def test_a_new_store_makes_its_key_file(tmp_path: Path) -> None:
    iam = IamService(tmp_path / "_lakebox")
    try:
        iam.create_user("u")
        iam.create_access_key("u")
        assert (tmp_path / "_lakebox" / "iam" / "secrets.key").exists()
    finally:
        iam.close()


# -- L6: password length ----------------------------------------------------------------------


def test_overlong_passwords_are_refused_before_hashing(
    iam: IamService, monkeypatch: pytest.MonkeyPatch
) -> None:
    iam.create_user("u")
    iam.set_password("u", "a long password")
    assert iam.check_password("u", "a long password") is not None
    # a password that long cannot have been set: no scrypt run is spent on it
    calls: list[int] = []
    real = crypto.hashlib.scrypt

    def counting(*args: object, **kwargs: object) -> bytes:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(crypto.hashlib, "scrypt", counting)
    assert iam.check_password("u", "x" * 1_000_000) is None
    assert iam.check_password("nobody", "x" * 129) is None
    assert calls == []
    assert not crypto.check_password("x" * 129, "scrypt$15$8$1$AAAA$AAAA")


# -- M8: names with a trailing newline ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "path"), [("admin\n", "/"), ("admin", "/\n"), ("admin\n", "/\n"), ("ad\nmin", "/")]
)
def test_user_names_and_paths_with_a_newline_are_refused(
    iam: IamService, name: str, path: str
) -> None:
    with pytest.raises(ValidationError):
        iam.create_user(name, path=path)


def test_account_ids_and_session_names_with_a_newline_are_refused(iam: IamService) -> None:
    with pytest.raises(ValidationError):
        iam.create_account(OTHER + "\n")
    with pytest.raises(ValidationError):
        iam.create_account("\uff11" * 12)  # fullwidth digits are not an account id
    iam.create_user("admin", admin=True)
    iam.create_role(
        "r",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": {
                    "Effect": "Allow",
                    "Principal": {"AWS": "000000000000"},
                    "Action": "sts:AssumeRole",
                },
            }
        ),
    )
    with pytest.raises(ValidationError):
        iam.assume_role(iam.user_principal("admin"), "arn:aws:iam::000000000000:role/r", "sess\n")


def test_a_signature_for_another_service_names_both(iam: IamService, alice: Keys) -> None:
    request = sign(alice, "s3", ENDPOINT + "/b")
    with pytest.raises(AuthError) as caught:
        iam.authenticate(request, expected_service="glue")
    assert "'s3'" in caught.value.message and "'glue'" in caught.value.message
