"""Secrets the portal must be able to read back (access-key secrets) are stored encrypted
with Fernet (AES-128-CBC + HMAC-SHA256, from the `cryptography` package), under a key
derived from SECRET_KEY with HKDF. The database only ever holds the token.

Rotating SECRET_KEY therefore makes stored secrets unreadable: keep the old key until every
access key has been rotated (a MultiFernet with old and new keys is the way to stage it).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

__all__ = ["InvalidToken", "seal", "unseal"]


def _fernet(purpose: bytes = b"access-keys") -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"primecloud/" + purpose
    ).derive(current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(plaintext: bytes) -> bytes:
    """Encrypt and authenticate ``plaintext``; a fresh random IV each time."""
    return _fernet().encrypt(plaintext)


def unseal(token: bytes) -> bytes:
    """Decrypt a token made by :func:`seal`; raises InvalidToken if it was altered or was
    sealed under another SECRET_KEY."""
    return _fernet().decrypt(bytes(token))
