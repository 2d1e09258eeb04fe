"""Photos and signatures on the tablet are encrypted as the database is: AES-256-GCM under a
key derived from the replica's key, with the file's sha256 name as associated data, so a
file copied over another photo's name does not open as that photo.

    key = file_key(database_key)
    raw = seal(data, key, sha256)      # MAGIC | nonce | ciphertext and tag
    data = unseal(raw, key, sha256)    # a file from before encryption passes unchanged

What is hashed, uploaded and verified is always the plain content; only the bytes at rest
differ.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from fieldapp.errors import InvalidInput

MAGIC = b"FAS1"  # no JPEG or PNG starts so: plain files from before are told apart
NONCE = 12


def file_key(database_key: bytes) -> bytes:
    """A key of its own for files: the database's key is not used in two ciphers."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"fieldapp attachments v1").derive(database_key)


def seal(data: bytes, key: bytes, name: str) -> bytes:
    nonce = os.urandom(NONCE)
    return MAGIC + nonce + AESGCM(key).encrypt(nonce, data, name.encode())


def is_sealed(raw: bytes) -> bool:
    return raw[:len(MAGIC)] == MAGIC


def unseal(raw: bytes, key: bytes | None, name: str) -> bytes:
    if not is_sealed(raw):
        return raw
    if key is None:
        raise InvalidInput("blob_sealed", f"{name} is encrypted and no key was given",
                           sha256=name)
    nonce = raw[len(MAGIC):len(MAGIC) + NONCE]
    try:
        return AESGCM(key).decrypt(nonce, raw[len(MAGIC) + NONCE:], name.encode())
    except InvalidTag as exc:
        raise InvalidInput("blob_damaged", f"{name} fails its authentication check",
                           sha256=name) from exc
