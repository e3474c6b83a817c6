"""Encryption at rest for secrets we must keep but never show (a community's own provider API key).

AES-256-GCM with a key from `AIGYM_SECRETS_KEY` (32 bytes, base64). The associated data binds a
ciphertext to its owner, so a ciphertext copied onto another community does not decrypt.
`cryptography` is imported only on the paths that encrypt or decrypt.
"""

from __future__ import annotations

import os

from shared.platform.config import SECRETS_KEY_ENV, get_settings, require

_VERSION = b"\x01"


def _key() -> bytes:
    return require(get_settings().secrets_key, SECRETS_KEY_ENV, "secrets cannot be kept at rest")


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
