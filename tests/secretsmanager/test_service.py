"""The secret store: versions and staging labels move as Secrets Manager's do, values are
sealed at rest under the lake's secrets key, and secrets stay in their account."""

from __future__ import annotations

import os
import stat
import uuid
from pathlib import Path

import pytest

from lakebox.iam.crypto import SecretsError
from lakebox.secrets.errors import (
    AccessDenied,
    InvalidNextToken,
    InvalidParameter,
    InvalidRequest,
    ResourceExists,
    ResourceNotFound,
)
from lakebox.secrets.service import (
    CURRENT,
    KEY_FILE,
    PENDING,
    PREVIOUS,
    Filter,
    SecretsService,
    SecretValue,
)

A = "111111111111"
B = "222222222222"


@pytest.fixture
def store(tmp_path: Path) -> SecretsService:
    made = SecretsService(tmp_path, region="us-east-1")
    yield made
    made.close()


def _stages(store: SecretsService, name: str) -> dict[str, list[str]]:
    return store.describe_secret(A, name).version_stages()


def test_put_moves_current_and_leaves_previous(store: SecretsService) -> None:
    secret, first = store.create_secret(A, "db/pw", value=SecretValue(string="one"))
    assert first is not None
    assert secret.arn.startswith(f"arn:aws:secretsmanager:us-east-1:{A}:secret:db/pw-")
    assert len(secret.arn.rsplit("-", 1)[1]) == 6
    _, second, held = store.put_secret_value(A, "db/pw", SecretValue(string="two"))
    assert held == (CURRENT,)
    assert _stages(store, "db/pw") == {first: [PREVIOUS], second: [CURRENT]}
    _, third, _ = store.put_secret_value(A, secret.arn, SecretValue(string="three"))
    # the first version loses its last label: deprecated, hidden from the listing
    assert _stages(store, "db/pw") == {second: [PREVIOUS], third: [CURRENT]}
    _, page = store.list_versions(A, "db/pw")
    assert [v.version_id for v in page.items] == [second, third]
    _, every = store.list_versions(A, "db/pw", include_deprecated=True)
    assert [v.version_id for v in every.items] == [first, second, third]
    assert store.get_secret_value(A, "db/pw").value.string == "three"
    assert store.get_secret_value(A, "db/pw", stage=PREVIOUS).value.string == "two"
    assert store.get_secret_value(A, "db/pw", version_id=first).value.string == "one"


def test_pending_label_and_explicit_moves(store: SecretsService) -> None:
    _, first = store.create_secret(A, "rot", value=SecretValue(string="v1"))
    _, pending, held = store.put_secret_value(A, "rot", SecretValue(string="v2"), stages=[PENDING])
    assert held == (PENDING,)
    assert store.get_secret_value(A, "rot").value.string == "v1"
    assert store.get_secret_value(A, "rot", stage=PENDING).value.string == "v2"
    with pytest.raises(InvalidParameter, match="RemoveFromVersionId"):
        store.update_version_stage(A, "rot", CURRENT, move_to=pending)
    store.update_version_stage(A, "rot", CURRENT, remove_from=first, move_to=pending)
    assert _stages(store, "rot") == {first: [PREVIOUS], pending: [CURRENT, PENDING]}
    store.update_version_stage(A, "rot", PENDING, remove_from=pending)
    with pytest.raises(InvalidParameter, match="AWSCURRENT"):
        store.update_version_stage(A, "rot", CURRENT, remove_from=pending)
    store.update_version_stage(A, "rot", "blue", move_to=first)
    assert store.get_secret_value(A, "rot", stage="blue").value.string == "v1"


def test_client_request_token_is_idempotent(store: SecretsService) -> None:
    token = str(uuid.uuid4())
    made, version = store.create_secret(A, "idem", token=token, value=SecretValue(string="x"))
    again, same = store.create_secret(A, "idem", token=token, value=SecretValue(string="x"))
    assert (again.arn, same) == (made.arn, version)
    with pytest.raises(ResourceExists):
        store.create_secret(A, "idem", token=token, value=SecretValue(string="other"))
    with pytest.raises(ResourceExists):
        store.create_secret(A, "idem", value=SecretValue(string="x"))
    put = str(uuid.uuid4())
    store.put_secret_value(A, "idem", SecretValue(string="y"), token=put)
    store.put_secret_value(A, "idem", SecretValue(string="y"), token=put)
    with pytest.raises(ResourceExists):
        store.put_secret_value(A, "idem", SecretValue(string="z"), token=put)
    assert len(store.describe_secret(A, "idem").versions) == 2


def test_delete_restore_and_force(store: SecretsService) -> None:
    store.create_secret(A, "gone", value=SecretValue(binary=b"\x00\x01"))
    with pytest.raises(InvalidParameter, match="between 7 and 30"):
        store.delete_secret(A, "gone", recovery_days=6)
    with pytest.raises(InvalidParameter, match="ForceDeleteWithoutRecovery"):
        store.delete_secret(A, "gone", recovery_days=7, force=True)
    deleted = store.delete_secret(A, "gone", recovery_days=7)
    assert deleted.deleted is not None and deleted.purge_at is not None
    assert (deleted.purge_at - deleted.deleted).days == 7
    with pytest.raises(InvalidRequest, match="marked for deletion"):
        store.get_secret_value(A, "gone")
    with pytest.raises(InvalidRequest, match="scheduled for deletion"):
        store.create_secret(A, "gone")
    assert store.list_secrets(A).items == []
    assert [s.name for s in store.list_secrets(A, include_deleted=True).items] == ["gone"]
    store.restore_secret(A, "gone")
    assert store.get_secret_value(A, "gone").value.binary == b"\x00\x01"
    store.delete_secret(A, "gone", force=True)
    with pytest.raises(ResourceNotFound):
        store.describe_secret(A, "gone")
    store.create_secret(A, "gone")  # the name is free again


def test_secrets_stay_in_their_account(store: SecretsService) -> None:
    secret, _ = store.create_secret(A, "mine", value=SecretValue(string="a"))
    with pytest.raises(ResourceNotFound):
        store.get_secret_value(B, "mine")
    with pytest.raises(AccessDenied, match=A):
        store.get_secret_value(B, secret.arn)
    store.create_secret(B, "mine", value=SecretValue(string="b"))
    assert store.get_secret_value(B, "mine").value.string == "b"
    assert store.get_secret_value(A, "mine").value.string == "a"
    # a partial ARN (no random suffix) finds the secret too
    partial = secret.arn.rsplit("-", 1)[0]
    assert store.get_secret_value(A, partial).value.string == "a"


def test_values_are_sealed_at_rest(tmp_path: Path) -> None:
    store = SecretsService(tmp_path, region="us-east-1")
    try:
        store.create_secret(A, "plain", value=SecretValue(string="correct-horse-battery"))
        store.put_secret_value(A, "plain", SecretValue(binary=b"binary-staple-value"))
    finally:
        store.close()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"correct-horse-battery" not in data, path
            assert b"binary-staple-value" not in data, path
    key = tmp_path / KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    # without its key, a store holding sealed values refuses to make a new one
    key.unlink()
    again = SecretsService(tmp_path, region="us-east-1")
    try:
        with pytest.raises(SecretsError, match=r"Secrets Manager key file .* is missing"):
            again.get_secret_value(A, "plain")
    finally:
        again.close()


def test_key_file_must_not_be_a_link(tmp_path: Path) -> None:
    store = SecretsService(tmp_path, region="us-east-1")
    store.create_secret(A, "s", value=SecretValue(string="v"))
    store.close()
    key = tmp_path / KEY_FILE
    moved = tmp_path / "elsewhere.key"
    key.rename(moved)
    os.symlink(moved, key)
    again = SecretsService(tmp_path, region="us-east-1")
    try:
        with pytest.raises(SecretsError, match=r"Secrets Manager key file .* symbolic link"):
            again.get_secret_value(A, "s")
    finally:
        again.close()


def test_list_filters_and_pages(store: SecretsService) -> None:
    for i in range(5):
        store.create_secret(
            A, f"app/{i}", description=f"number {i}", tags=[{"Key": f"team{i % 2}", "Value": "x"}]
        )
    store.create_secret(A, "other")
    names = [s.name for s in store.list_secrets(A, filters=[Filter("name", ("app/",))]).items]
    assert names == [f"app/{i}" for i in range(5)]
    odd = store.list_secrets(A, filters=[Filter("tag-key", ("team1",))]).items
    assert [s.name for s in odd] == ["app/1", "app/3"]
    not_app = store.list_secrets(A, filters=[Filter("name", ("!app",))]).items
    assert [s.name for s in not_app] == ["other"]
    first = store.list_secrets(A, max_results=4)
    assert len(first.items) == 4 and first.next_token
    rest = store.list_secrets(A, max_results=4, next_token=first.next_token)
    assert len(rest.items) == 2 and rest.next_token is None
    with pytest.raises(InvalidNextToken):
        store.list_secrets(A, next_token="garbage")


@pytest.mark.parametrize("name", ["", "has space", "a" * 513, "semi;colon", "back\\slash"])
def test_bad_names_are_refused(store: SecretsService, name: str) -> None:
    with pytest.raises(InvalidParameter):
        store.create_secret(A, name)


def test_both_values_refused(store: SecretsService) -> None:
    from lakebox.secrets.service import check_value

    with pytest.raises(InvalidParameter, match="both"):
        check_value("s", b"b")
    store.create_secret(A, "empty")
    with pytest.raises(ResourceNotFound, match="AWSCURRENT"):
        store.get_secret_value(A, "empty")


def test_the_value_bound_is_in_bytes_not_characters(store: SecretsService) -> None:
    """AWS allows 65,536 bytes of SecretString (UTF-8) or SecretBinary: 40,000 "é" are
    80,000 bytes, too many, though fewer than 65,536 characters."""
    from lakebox.secrets.service import MAX_VALUE, check_value

    with pytest.raises(InvalidParameter, match="bytes"):
        check_value("é" * 40_000, None)
    with pytest.raises(InvalidParameter):
        check_value(None, b"x" * (MAX_VALUE + 1))
    exact = "é" * (MAX_VALUE // 2)  # 65,536 bytes exactly
    store.create_secret(A, "multibyte", value=check_value(exact, None))
    assert store.get_secret_value(A, "multibyte").value.string == exact
