"""Envelope encryption for the store: AES-256-GCM, one data key per object, wrapped by a master key.

The master key never lives in the store folder: it comes from ``VEIL_MASTER_KEY`` (base64 of 32
bytes), or from a key file named by ``--key-file`` / ``VEIL_MASTER_KEY_FILE`` that sits outside
the store and is readable by its owner only. Each object gets a fresh random data key; the object
blob holds ``MAGIC | nonce | ciphertext+tag`` and the catalog holds the data key wrapped by the
master key. The blob is bound to its blob id and object key through the GCM associated data, and
the wrapped key to the blob id, object key, subject, creation time and retention (see
:mod:`veilcv.store.rows`), so a blob or a wrapped key moved onto another object, or a row whose
subject or dates were edited, fails to decrypt. Rotating the master key re-wraps the data keys
only; destroying a wrapped key (crypto-shredding) makes its blob unreadable for good. Keys for
other purposes (the catalog rows' MACs) are derived from the master key with HKDF-SHA256.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from veilcv.errors import InputError, StoreError

ENV_KEY = "VEIL_MASTER_KEY"
ENV_KEY_FILE = "VEIL_MASTER_KEY_FILE"
KEY_BYTES = 32
NONCE_BYTES = 12
BLOB_MAGIC = b"VEILOBJ2"  # 2: the associated data names the object key as well as the blob id
WRAP_VERSION = b"\x01"
_KEYGEN_HINT = "use `veil store keygen -o FILE` to make one"


@dataclass(frozen=True)
class MasterKey:
    """A 32-byte AES key; ``repr`` never shows the bytes."""

    raw: bytes = field(repr=False)
    origin: str = "memory"

    def __post_init__(self) -> None:
        if len(self.raw) != KEY_BYTES:
            raise InputError(f"{self.origin}: expected a {KEY_BYTES}-byte key, got {len(self.raw)} bytes")

    @property
    def key_id(self) -> str:
        """A public fingerprint that tells keys apart without revealing them."""
        return hashlib.sha256(b"veilcv-master-key-id\x00" + self.raw).hexdigest()[:16]


def generate_key_text() -> str:
    """A new random master key as base64 text (what the env var and key files hold)."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def parse_key_text(text: str, origin: str) -> MasterKey:
    """Decode base64 key text; ``origin`` names the env var or file in error messages."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise InputError(
            f"{origin}: expected base64 of {KEY_BYTES} bytes, got undecodable text; {_KEYGEN_HINT}"
        ) from None
    if len(raw) != KEY_BYTES:
        raise InputError(
            f"{origin}: expected base64 of {KEY_BYTES} bytes, got {len(raw)} bytes; {_KEYGEN_HINT}"
        )
    return MasterKey(raw, origin)


def load_master_key(
    key_file: str | os.PathLike[str] | None = None,
    *,
    store_root: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> MasterKey:
    """Load the master key from ``key_file``, else ``VEIL_MASTER_KEY_FILE``, else ``VEIL_MASTER_KEY``.

    A key file inside ``store_root`` is refused (a key beside the data protects nothing), as is a
    key file that group or others can read.
    """
    env = os.environ if env is None else env
    if key_file is None and env.get(ENV_KEY_FILE):
        key_file = env[ENV_KEY_FILE]
    if key_file is not None:
        path = Path(key_file)
        if store_root is not None and _is_inside(path, Path(store_root)):
            raise InputError(
                f"{path}: expected the master key file outside the store folder, got one inside it; "
                "move it elsewhere (a key beside the data protects nothing)"
            )
        try:
            mode = path.stat().st_mode
            text = path.read_text(encoding="ascii")
        except FileNotFoundError:
            raise InputError(f"{path}: key file not found; {_KEYGEN_HINT}") from None
        except IsADirectoryError:
            raise InputError(f"{path}: expected a key file, got a folder; {_KEYGEN_HINT}") from None
        except UnicodeDecodeError:
            raise InputError(
                f"{path}: expected a key file (base64 text of 32 bytes), got binary data; {_KEYGEN_HINT}"
            ) from None
        except OSError as exc:
            raise InputError(f"{path}: cannot read key file: {exc.strerror or exc}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise InputError(
                f"{path}: expected key file permissions 600, got {stat.S_IMODE(mode):03o}; use chmod 600"
            )
        return parse_key_text(text, str(path))
    text = env.get(ENV_KEY)
    if not text:
        raise InputError(
            f"no master key: set {ENV_KEY_FILE} (a key file) or {ENV_KEY} (base64 of 32 bytes), "
            f"or pass --key-file; {_KEYGEN_HINT}"
        )
    return parse_key_text(text, ENV_KEY)


def _is_inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


class Envelope:
    """Seal and open object blobs under one master key."""

    def __init__(self, master: MasterKey) -> None:
        self._aead = AESGCM(master.raw)
        self.key_id = master.key_id
        self.row_key = derive_key(master, "catalog-row-mac")

    def wrap(self, data_key: bytes, label: str) -> bytes:
        """Encrypt a data key (or any store secret) under the master key, bound to ``label``."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        return WRAP_VERSION + nonce + self._aead.encrypt(nonce, data_key, _aad("wrap", label))

    def unwrap(self, wrapped: bytes, label: str) -> bytes:
        """Decrypt a wrapped key; a wrong master key or a moved key raises :class:`StoreError`."""
        if len(wrapped) < 1 + NONCE_BYTES + 16 or wrapped[:1] != WRAP_VERSION:
            raise StoreError(f"wrapped key for {label}: expected format version 1, got corrupt bytes")
        nonce, body = wrapped[1 : 1 + NONCE_BYTES], wrapped[1 + NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, _aad("wrap", label))
        except InvalidTag:
            raise StoreError(f"wrapped key for {label} does not open with master key {self.key_id}") from None

    def seal(self, blob_label: str, plaintext: bytes, wrap_label: str | None = None) -> tuple[bytes, bytes]:
        """Encrypt ``plaintext`` under a fresh data key; return ``(blob, wrapped_data_key)``.

        The blob is bound to ``blob_label``, the wrapped key to ``wrap_label`` (default: the same).
        """
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = secrets.token_bytes(NONCE_BYTES)
        body = AESGCM(data_key).encrypt(nonce, plaintext, _aad("blob", blob_label))
        return BLOB_MAGIC + nonce + body, self.wrap(data_key, wrap_label or blob_label)

    def open(self, blob_label: str, blob: bytes, wrapped: bytes, wrap_label: str | None = None) -> bytes:
        """Decrypt a blob; any tampering with blob, key or the labels raises :class:`StoreError`."""
        data_key = self.unwrap(wrapped, wrap_label or blob_label)
        return open_blob(data_key, blob_label, blob)


def open_blob(data_key: bytes, blob_label: str, blob: bytes, magic: bytes = BLOB_MAGIC) -> bytes:
    """Decrypt one blob with its (unwrapped) data key."""
    head = len(magic)
    if len(blob) < head + NONCE_BYTES + 16 or blob[:head] != magic:
        raise StoreError(f"object blob {blob_label}: expected an encrypted veilcv blob, got corrupt bytes")
    nonce, body = blob[head : head + NONCE_BYTES], blob[head + NONCE_BYTES :]
    try:
        return AESGCM(data_key).decrypt(nonce, body, _aad("blob", blob_label))
    except InvalidTag:
        raise StoreError(f"object blob {blob_label} failed authentication (tampered or swapped)") from None


def derive_key(master: MasterKey, purpose: str) -> bytes:
    """A 32-byte key for one ``purpose``, derived from the master key (HKDF-SHA256)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=f"veilcv:{purpose}".encode())
    return hkdf.derive(master.raw)


def _aad(kind: str, label: str) -> bytes:
    return f"veilcv-{kind}:{label}".encode()
