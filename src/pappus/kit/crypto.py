"""Field encryption at rest (AES-256-GCM) for PII and tokens.

The key comes from PAPPUS_ENCRYPTION_KEY (32 bytes, urlsafe base64). Without it, the embedded
mode generates one on first use and keeps it in the database's platform secrets, which protects
nothing against a database leak: production sets the variable (docs/operations in README).
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "v1:"


def new_key() -> str:
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode()


def _aes(key: str) -> AESGCM:
    raw = base64.urlsafe_b64decode(key.encode() + b"=" * (-len(key) % 4))
    if len(raw) != 32:
        raise ValueError("the encryption key must be 32 bytes, urlsafe base64")
    return AESGCM(raw)


def encrypt(key: str, plaintext: str, context: str) -> str:
    """`context` (e.g. the row's id) is authenticated, so a ciphertext cannot be moved."""
    nonce = os.urandom(12)
    sealed = _aes(key).encrypt(nonce, plaintext.encode(), context.encode())
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt(key: str, token: str, context: str) -> str:
    if not token.startswith(PREFIX):
        raise ValueError("unknown ciphertext version")
    data = base64.urlsafe_b64decode(token[len(PREFIX) :].encode())
    return _aes(key).decrypt(data[:12], data[12:], context.encode()).decode()
