"""Secrets at rest: secret access keys encrypted, passwords hashed.

Secret access keys must be readable again (the verifier computes an HMAC with them), so
they are encrypted with AES-256-GCM under a key kept in a file of the lake's metadata
folder (``_lakebox/iam/secrets.key``, mode 0600 in a 0700 folder). Each secret has its own
random 96-bit nonce, and its access key id is the associated data, so a ciphertext copied
onto another key's row does not decrypt. A copy of ``iam.sqlite`` without the key file
reveals no secret; ``lakebox backup`` copies both.

Passwords are never readable again: scrypt (RFC 7914, ``hashlib.scrypt``) with a random
16-byte salt and N=2**15, r=8, p=1 (32 MiB of memory and a third of a second of a busy
shared core per guess, measured 2026-12), a 32-byte result, compared in constant time.
The parameters are stored with each hash, so stronger ones later do not invalidate older
hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

from lakebox.iam.errors import IamError

KEY_BYTES = 32
NONCE_BYTES = 12
#: scrypt's cost parameters for new password hashes
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_SALT_BYTES = 16
SCRYPT_LENGTH = 32
_SCRYPT_MAXMEM = 128 * 1024 * 1024
#: the longest password hashed or checked (IAM's own limit)
MAX_PASSWORD_CHARS = 128


class SecretsError(IamError):
    """The key file or an encrypted secret cannot be used."""

    code = "ServiceFailure"
    status = 500


def private_folder(folder: Path) -> None:
    """Make ``folder`` (mode 0700), or tighten it when an older lakebox, a copy or a
    permissive umask left it open to others."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.lstat()
    if stat.S_ISDIR(info.st_mode) and info.st_mode & 0o077 and info.st_uid == os.geteuid():
        folder.chmod(0o700)


def _write_private(path: Path, data: bytes) -> None:
    """Create ``path`` readable only by its owner; fails if it exists."""
    private_folder(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _create_once(path: Path, data: bytes) -> None:
    """Make ``path`` (owner-only) holding ``data`` unless it exists. The file appears whole
    (written aside, then hard-linked into place), so a process that finds it never reads
    it half-written, and of two processes making it at once one wins."""
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    try:
        _write_private(partial, data)
        try:
            os.link(partial, path)
        except FileExistsError:
            pass  # another process made it first: theirs is the key
    finally:
        partial.unlink(missing_ok=True)


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` to a new file only its owner can read (replacing an older one
    atomically, so the secret is never readable by others even for a moment)."""
    private_folder(path.parent)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    try:
        _write_private(partial, text.encode("utf-8"))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


class SecretBox:
    """Encrypts and decrypts secret access keys with the lake's key file (made on first
    use). ``has_sealed`` says whether the store already holds secrets sealed under some
    key: then a missing key file is an error (a new key would open none of them and
    silently replace the lost one), not a reason to make one."""

    def __init__(self, key_file: Path, has_sealed: Callable[[], bool] | None = None) -> None:
        self.key_file = key_file
        self._has_sealed = has_sealed
        self._aead: object | None = None

    def _cipher(self) -> object:
        if self._aead is None:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            self._aead = AESGCM(self._key())
        return self._aead

    def _key(self) -> bytes:
        path = self.key_file
        try:
            private_folder(path.parent)
        except OSError as err:
            raise SecretsError(
                f"cannot use the identity key folder {path.parent}: {err.strerror or err}"
            ) from err
        if not os.path.lexists(path):
            if self._has_sealed is not None and self._has_sealed():
                raise SecretsError(
                    f"the identity key file {path} is missing, but the identity store holds "
                    "secret access keys sealed with it; restore the file from a backup of "
                    "this lake (a new key would open none of them)"
                )
            try:
                _create_once(path, base64.b64encode(secrets.token_bytes(KEY_BYTES)) + b"\n")
            except OSError as err:
                raise SecretsError(
                    f"cannot create the identity key file {path}: {err.strerror or err}"
                ) from err
        try:
            key = base64.b64decode(_read_private(path).strip(), validate=True)
        except (OSError, ValueError) as err:
            raise SecretsError(
                f"cannot read the identity key file {path} ({err}); restore it from a "
                "backup of this lake: without it no secret access key can be checked"
            ) from err
        if len(key) != KEY_BYTES:
            raise SecretsError(
                f"the identity key file {path} does not hold a {KEY_BYTES}-byte key; "
                "restore it from a backup of this lake"
            )
        return key

    def seal(self, secret: str, key_id: str) -> bytes:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        cipher = self._cipher()
        assert isinstance(cipher, AESGCM)
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + cipher.encrypt(nonce, secret.encode("utf-8"), key_id.encode("ascii"))

    def open(self, sealed: bytes, key_id: str) -> str:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        cipher = self._cipher()
        assert isinstance(cipher, AESGCM)
        try:
            plain = cipher.decrypt(
                sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], key_id.encode("ascii")
            )
        except (InvalidTag, ValueError) as err:
            raise SecretsError(
                f"the secret of access key {key_id} cannot be decrypted with {self.key_file}: "
                "the key file does not belong to this lake's identity store"
            ) from err
        return plain.decode("utf-8")


def _read_private(path: Path) -> bytes:
    """The bytes of a secret file, opened without following a symbolic link; it must be a
    regular file of this process's user (tightened to 0600 if looser)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as err:
        if os.path.islink(path):
            raise SecretsError(
                f"the identity key file {path} is a symbolic link; it must be a plain file"
            ) from err
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SecretsError(f"the identity key file {path} is not a plain file")
        if info.st_uid != os.geteuid():
            raise SecretsError(
                f"the identity key file {path} belongs to user id {info.st_uid}, not to "
                f"this process's user ({os.geteuid()}); lakebox will not trust it"
            )
        if info.st_mode & 0o077:
            os.fchmod(fd, 0o600)
        chunks = []
        while chunk := os.read(fd, 4096):
            chunks.append(chunk)
            if sum(map(len, chunks)) > 4096:
                raise SecretsError(f"the identity key file {path} is too large to be a key")
        return b"".join(chunks)
    finally:
        os.close(fd)


def hash_password(password: str) -> str:
    """``scrypt$<log2 N>$<r>$<p>$<salt b64>$<hash b64>`` of ``password``."""
    salt = secrets.token_bytes(SCRYPT_SALT_BYTES)
    digest = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        maxmem=_SCRYPT_MAXMEM,
        dklen=SCRYPT_LENGTH,
    )
    b64 = base64.b64encode
    return "$".join(
        (
            "scrypt",
            str(SCRYPT_N.bit_length() - 1),
            str(SCRYPT_R),
            str(SCRYPT_P),
            b64(salt).decode(),
            b64(digest).decode(),
        )
    )


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (constant-time comparison of the hashes).
    A password longer than any that can be set is refused before hashing."""
    if len(password) > MAX_PASSWORD_CHARS:
        return False
    try:
        scheme, log_n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=2 ** int(log_n),
            r=int(r),
            p=int(p),
            maxmem=_SCRYPT_MAXMEM,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)
