"""Encryption at rest for secret store settings (names ending in ``api_key``), with Fernet.

The key is ``STOREBOT_SECRETS_KEY``: one Fernet key, or several comma-separated
for rotation (the first encrypts, every one decrypts: :class:`~cryptography.fernet.MultiFernet`;
:mod:`storebot.secrets_rotation` moves stored secrets to the first key so the old one can go).
Unset, storebot generates a key once into ``DATA_DIR/secrets.key`` (mode 0600) and
logs that it did; every process sharing that DATA_DIR (web server, worker, beat)
reads the same file. A deployment on several hosts must set ``SECRETS_KEY``.

Generate a key with::

    python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"

Only the store settings layer (:mod:`storebot.stores`) uses this module: the
rest of storebot sees plain values.

Example:
    >>> cipher = SecretCipher([Fernet.generate_key().decode()])
    >>> token = cipher.encrypt("sk-live-123")
    >>> "sk-live" in token, cipher.decrypt(token)
    (False, 'sk-live-123')
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from storebot.errors import ConfigError

log = logging.getLogger(__name__)

SECRET_SUFFIX = "api_key"
KEY_FILE = "secrets.key"
GENERATE_HINT = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'


def is_secret(name: str) -> bool:
    """Whether a store setting is kept encrypted at rest (``llm_api_key`` and any other ``*api_key``)."""
    return name.endswith(SECRET_SUFFIX)


class SecretUnreadable(ConfigError):
    """A stored secret cannot be decrypted with the configured key(s)."""

    status = 503
    code = "secret_unreadable"


class SecretCipher:
    """Encrypts and decrypts secret setting values with one or more Fernet keys (the first encrypts).

    ``keys`` may also be a callable returning them, called on first use, so that a
    process that never touches a secret never reads or generates a key.

    Example:
        >>> old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
        >>> token = SecretCipher([old]).encrypt("sk-1")
        >>> SecretCipher([new, old]).decrypt(token)
        'sk-1'
    """

    def __init__(self, keys: Sequence[str] | Callable[[], Sequence[str]]) -> None:
        self._keys = keys

    @cached_property
    def _fernet(self) -> MultiFernet:
        return MultiFernet(self._fernets)

    @cached_property
    def _fernets(self) -> list[Fernet]:
        keys = self._keys() if callable(self._keys) else self._keys
        fernets = []
        for position, key in enumerate(keys, 1):
            try:
                fernets.append(Fernet(key.strip()))
            except (ValueError, TypeError) as exc:
                raise ConfigError(
                    f"STOREBOT_SECRETS_KEY: key {position} is not a Fernet key ({exc}).",
                    fix=f"Use 32 url-safe base64-encoded bytes, e.g. generate one with: {GENERATE_HINT}",
                ) from None
        if not fernets:
            raise ConfigError("STOREBOT_SECRETS_KEY holds no key.", fix=f"Generate one with: {GENERATE_HINT}")
        return fernets

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str, *, name: str = "secret") -> str:
        """The plain value, or :class:`SecretUnreadable` when no configured key opens ``token``."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise _unreadable(name) from None

    def rotate(self, token: str) -> str:
        """``token`` re-encrypted with the first key; unchanged if no configured key opens it."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:  # keep what we cannot read: the right key may come back
            return token

    def is_current(self, token: str) -> bool:
        """Whether the first (encrypting) key opens ``token``, so rotating it would change nothing."""
        try:
            self._fernets[0].decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def rotate_or_raise(self, token: str, *, name: str = "secret") -> str:
        """``token`` re-encrypted with the first key, or :class:`SecretUnreadable` when no configured key opens it."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise _unreadable(name) from None

    @classmethod
    def from_settings(cls, settings: dict[str, Any], data_dir: Path) -> SecretCipher:
        """The cipher of ``SECRETS_KEY``, else of the key generated once under ``data_dir`` (read lazily)."""
        configured = [k for k in str(settings.get("SECRETS_KEY") or "").split(",") if k.strip()]
        if configured:
            return cls(configured)
        return cls(lambda: [embedded_key(Path(data_dir) / KEY_FILE)])


def _unreadable(name: str) -> SecretUnreadable:
    return SecretUnreadable(
        f"The stored {name} cannot be decrypted: it was encrypted with another STOREBOT_SECRETS_KEY "
        "(or another DATA_DIR/secrets.key).",
        fix="Restore the key that encrypted it (list it after the new one in STOREBOT_SECRETS_KEY, "
        f"comma-separated), or set the value again: `storebot store config <store> {name}=...`.",
    )


def embedded_key(path: Path) -> str:
    """The key in ``path``, generated (mode 0600, atomically, once across processes) when missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secrets-")  # mkstemp creates it 0600
        try:
            with os.fdopen(fd, "w") as out:
                out.write(Fernet.generate_key().decode() + "\n")
            os.link(tmp, path)  # fails if another process got there first: then its key is the key
            log.warning(
                "Generated the key that encrypts store secrets at rest: %s (mode 0600). Back it up with the data, "
                "or set STOREBOT_SECRETS_KEY (generate one with: %s).",
                path,
                GENERATE_HINT,
            )
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return path.read_text().strip()
