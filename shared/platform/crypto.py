"""Encryption at rest for secrets we must keep but never show (a community's own provider API key).

AES-256-GCM with a key from `AIGYM_SECRETS_KEY` (32 bytes, base64). The associated data binds a
ciphertext to its owner, so a ciphertext copied onto another community does not decrypt.
`cryptography` is imported only on the paths that encrypt or decrypt.
"""

from __future__ import annotations

import base64
import os

from shared.platform.errors import ConfigError

ENV = "AIGYM_SECRETS_KEY"
_VERSION = b"\x01"


def _key() -> bytes:
    raw = os.environ.get(ENV, "")
    try:
        key = base64.b64decode(raw, validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ConfigError(f"{ENV} must be 32 bytes, base64-encoded")
    return key


def encrypt(plaintext: str, *, bound_to: str) -> bytes:
    """Encrypt `plaintext` for storage; `bound_to` (e.g. the community id) must match on decryption."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    return _VERSION + nonce + AESGCM(_key()).encrypt(nonce, plaintext.encode(), bound_to.encode())


def decrypt(ciphertext: bytes, *, bound_to: str) -> str:
    """Decrypt what `encrypt` produced for the same `bound_to`."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if ciphertext[:1] != _VERSION:
        raise ValueError("unknown ciphertext version")
    nonce, body = ciphertext[1:13], ciphertext[13:]
    return AESGCM(_key()).decrypt(nonce, body, bound_to.encode()).decode()
