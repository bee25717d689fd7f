"""Stores: the tenants of a storebot deployment, their keys and origins.

A store has two keys. The **secret key** (``sk_...``) authenticates the
merchant API; it is shown once at creation and kept only as a SHA-256 digest.
The **publishable key** (``pk_...``) identifies the store to the widget and is
safe to put in a page; requests made with it are limited to the store's
allowed origins.

A store's own settings (its chat backend, model, endpoint and key) are
:class:`StoreSettings`: secret ones (names ending in ``api_key``) are kept
encrypted in Redis (:mod:`storebot.cipher`) and decrypted only when read, so
a key that cannot decrypt them fails the chat with a clear error, not the store.

Example:
    >>> registry = StoreRegistry(redis.Redis(), prefix="storebot")   # doctest: +SKIP
    >>> store, secret = registry.create("Northwind", origins=["https://shop.example"])  # doctest: +SKIP
    >>> registry.by_secret_key(secret).id == store.id                # doctest: +SKIP
    True
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

import redis

from storebot.cipher import SecretCipher, SecretUnreadable, is_secret
from storebot.errors import ConfigError, Conflict, NotFound, StorebotError, Unauthorized
from storebot.keys import StoreKeys, global_key

STORE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
SEALED = "fernet"  # a secret setting is stored as {"fernet": token}; a plain string is from before encryption


@dataclass(frozen=True)
class _Sealed:
    token: str


class StoreSettings(MutableMapping[str, Any]):
    """A store's own settings, a plain mapping whose secret values are decrypted only when read.

    Example:
        >>> s = StoreSettings({"llm_backend": "openai", "llm_api_key": "sk-1"})
        >>> s["llm_api_key"], "llm_api_key" in s, repr(s)
        ('sk-1', True, "StoreSettings({'llm_backend': 'openai', 'llm_api_key': '***'})")
    """

    def __init__(self, values: Mapping[str, Any] | None = None, *, cipher: SecretCipher | None = None) -> None:
        self._values: dict[str, Any] = dict(values or {})
        self._cipher = cipher

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any], cipher: SecretCipher | None) -> StoreSettings:
        """The settings as saved in Redis: sealed secrets stay sealed until read."""
        settings = cls(cipher=cipher)
        for name, value in stored.items():
            sealed = is_secret(name) and isinstance(value, dict) and isinstance(value.get(SEALED), str)
            settings._values[name] = _Sealed(value[SEALED]) if sealed else value
        return settings

    def __getitem__(self, name: str) -> Any:
        value = self._values[name]
        if isinstance(value, _Sealed):
            if self._cipher is None:
                raise SecretUnreadable(
                    f"The stored {name} is encrypted and no key was given to read it.",
                    fix="Read stores through storebot's services (they load STOREBOT_SECRETS_KEY).",
                )
            value = self._values[name] = self._cipher.decrypt(value.token, name=name)
        return value

    def __contains__(self, name: object) -> bool:  # without decrypting
        return name in self._values

    def __setitem__(self, name: str, value: Any) -> None:
        self._values[name] = value

    def __delitem__(self, name: str) -> None:
        del self._values[name]

    def pop(self, name: str, *default: Any) -> Any:  # type: ignore[override]
        """Remove ``name``; an unreadable secret is removed all the same (``default`` is returned for it)."""
        if name not in self._values:
            if default:
                return default[0]
            raise KeyError(name)
        try:
            return self[name]
        except SecretUnreadable:
            if not default:
                raise
            return default[0]
        finally:
            self._values.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({ {k: '***' if is_secret(k) else v for k, v in self._values.items()} })"


def sealed_settings(settings: Mapping[str, Any], cipher: SecretCipher | None) -> dict[str, Any]:
    """``settings`` as saved in Redis: secrets encrypted (already sealed ones re-encrypted with the first key)."""
    values = settings._values if isinstance(settings, StoreSettings) else dict(settings)
    stored: dict[str, Any] = {}
    for name, value in values.items():
        if not is_secret(name) or value in (None, ""):
            stored[name] = value
            continue
        if cipher is None:
            raise ConfigError(
                f"Cannot save the store's {name}: no encryption key.",
                fix="Save stores through storebot's services (they load STOREBOT_SECRETS_KEY).",
            )
        token = cipher.rotate(value.token) if isinstance(value, _Sealed) else cipher.encrypt(str(value))
        stored[name] = {SEALED: token}
    return stored


@dataclass
class Store:
    """A tenant: its id (the namespace of its data), name and allowed origins."""

    id: str
    name: str
    publishable_key: str
    origins: list[str] = field(default_factory=list)
    created_at: float = 0.0
    settings: MutableMapping[str, Any] = field(default_factory=StoreSettings)

    def to_dict(self) -> dict[str, Any]:
        """The store as JSON-ready data; secret settings show as ``***``."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["origins"] = list(self.origins)
        data["settings"] = {k: "***" if is_secret(k) else self.settings[k] for k in self.settings}
        return data

    def allows_origin(self, origin: str | None) -> bool:
        try:
            return bool(origin) and normalize_origin(origin or "") in self.origins
        except StorebotError:  # "null" (sandboxed frames, file://) or junk: a 403, never allowed
            return False


def normalize_origin(origin: str) -> str:
    """``https://Shop.example:443/`` -> ``https://shop.example``; raises on junk."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StorebotError(
            f"{origin!r} is not an origin.", fix="Write it as scheme and host, e.g. https://shop.example"
        )
    default_port = {"http": 80, "https": 443}[parts.scheme]
    port = f":{parts.port}" if parts.port and parts.port != default_port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:63]
    return slug or "store"


def _digest(secret_key: str) -> str:
    return hashlib.sha256(secret_key.encode()).hexdigest()


class StoreRegistry:
    """Creates stores and resolves API keys to them."""

    def __init__(self, client: redis.Redis, prefix: str = "storebot", cipher: SecretCipher | None = None) -> None:
        self.redis = client
        self.prefix = prefix
        self.cipher = cipher

    def _serialize(self, store: Store) -> str:
        return json.dumps(store.to_dict() | {"settings": sealed_settings(store.settings, self.cipher)})

    def _key(self, *parts: str) -> str:
        return global_key(self.prefix, *parts)

    def keys_for(self, store_id: str) -> StoreKeys:
        return StoreKeys(self.prefix, store_id)

    def create(self, name: str, origins: list[str] | None = None, store_id: str | None = None) -> tuple[Store, str]:
        """Create a store; returns it with its secret key, which is not stored."""
        if not name.strip():
            raise StorebotError("A store needs a name.", fix='Pass one, e.g. `storebot store create "My Shop"`.')
        store_id = store_id or slugify(name)
        if not STORE_ID_RE.match(store_id):
            raise StorebotError(
                f"Store id {store_id!r} is not valid.",
                fix="Use lowercase letters, digits and dashes, starting with a letter or digit.",
            )
        secret_key = "sk_" + secrets.token_urlsafe(32)
        store = Store(
            id=store_id,
            name=name.strip(),
            publishable_key="pk_" + secrets.token_urlsafe(18),
            origins=sorted({normalize_origin(o) for o in origins or []}),
            created_at=time.time(),
        )
        if not self.redis.set(self._key("store", store_id), self._serialize(store), nx=True):
            raise Conflict(f"A store with id {store_id!r} exists.", fix="Pick another name or pass --id.")
        with self.redis.pipeline() as pipe:
            pipe.set(self._key("secret", _digest(secret_key)), store_id)
            pipe.hset(self._key("store", store_id, "auth"), "secret_digest", _digest(secret_key))
            pipe.set(self._key("publishable", store.publishable_key), store_id)
            pipe.sadd(self._key("stores"), store_id)
            pipe.execute()
        return store, secret_key

    def get(self, store_id: str) -> Store:
        raw = self.redis.get(self._key("store", store_id))
        if raw is None:
            raise NotFound(f"No store {store_id!r}.", fix="List stores with `storebot store list`.")
        data = json.loads(raw)
        data["settings"] = StoreSettings.from_stored(data.get("settings") or {}, self.cipher)
        return Store(**data)

    def exists(self, store_id: str) -> bool:
        return bool(self.redis.exists(self._key("store", store_id)))

    def list(self) -> list[Store]:
        ids = sorted(m.decode() for m in self.redis.smembers(self._key("stores")))
        return [self.get(i) for i in ids if self.exists(i)]

    def save(self, store: Store) -> None:
        self.redis.set(self._key("store", store.id), self._serialize(store))

    def set_origins(self, store_id: str, origins: list[str]) -> Store:
        store = self.get(store_id)
        store.origins = sorted({normalize_origin(o) for o in origins})
        self.save(store)
        return store

    def by_secret_key(self, secret_key: str) -> Store:
        """The store a secret key belongs to; :class:`Unauthorized` if none."""
        if not secret_key.startswith("sk_"):
            raise Unauthorized(
                "A secret key (sk_...) is required.",
                fix="Send it as `Authorization: Bearer sk_...`; publishable keys only work for the widget.",
            )
        store_id = self.redis.get(self._key("secret", _digest(secret_key)))
        if store_id is None:
            raise Unauthorized(
                "Unknown secret key.", fix="Check the key, or rotate it with `storebot store rotate-key`."
            )
        stored = self.redis.hget(self._key("store", store_id.decode(), "auth"), "secret_digest")
        if stored is None or not hmac.compare_digest(stored.decode(), _digest(secret_key)):
            raise Unauthorized("This secret key has been rotated.", fix="Use the store's current secret key.")
        return self.get(store_id.decode())

    def by_publishable_key(self, publishable_key: str) -> Store:
        store_id = self.redis.get(self._key("publishable", publishable_key))
        if store_id is None:
            raise Unauthorized(
                "Unknown publishable key.", fix="Copy the store's pk_... key from `storebot store list`."
            )
        return self.get(store_id.decode())

    def rotate_secret(self, store_id: str) -> str:
        """Issue a new secret key; the old one stops working at once."""
        self.get(store_id)
        auth_key = self._key("store", store_id, "auth")
        old = self.redis.hget(auth_key, "secret_digest")
        secret_key = "sk_" + secrets.token_urlsafe(32)
        with self.redis.pipeline() as pipe:
            if old is not None:
                pipe.delete(self._key("secret", old.decode()))
            pipe.set(self._key("secret", _digest(secret_key)), store_id)
            pipe.hset(auth_key, "secret_digest", _digest(secret_key))
            pipe.execute()
        return secret_key

    def delete(self, store_id: str) -> int:
        """Delete a store, its keys and every key in its namespace; returns keys removed."""
        store = self.get(store_id)
        removed = 0
        for batch in _batched(self.redis.scan_iter(match=self.keys_for(store_id).pattern, count=1000), 500):
            removed += self.redis.delete(*batch)
        old = self.redis.hget(self._key("store", store_id, "auth"), "secret_digest")
        keys = [
            self._key("store", store_id),
            self._key("store", store_id, "auth"),
            self._key("publishable", store.publishable_key),
        ]
        if old is not None:
            keys.append(self._key("secret", old.decode()))
        removed += self.redis.delete(*keys)
        self.redis.srem(self._key("stores"), store_id)
        return removed


def _batched(iterable: Any, size: int) -> Any:
    batch: list[Any] = []
    for item in iterable:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
