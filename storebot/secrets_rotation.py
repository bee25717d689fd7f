"""Re-encrypt every store's secret settings with the first ``STOREBOT_SECRETS_KEY``, so an old key can be dropped.

After a key rotation (``STOREBOT_SECRETS_KEY=new,old``) a store's secrets stay
encrypted with the old key until the store is saved again. :func:`reencrypt_secrets`
walks every store and re-encrypts each sealed secret with the first key, seals
any plain-text secret left from before encryption existed, and reports what it
did: when no store has a secret it could not read, the old key can go.

It works on the stored JSON, changing nothing but the secret values, and writes
each store in one Redis transaction that is retried if a save (the web server,
``storebot store config``) changed the store meanwhile, so it is safe to run
while storebot serves, and safe to run again: a secret already under the first
key is left as it is. A secret no configured key opens, or a store whose record
cannot be parsed, is reported (by store id and setting name, never the value)
and left untouched.

Example:
    >>> report = reencrypt_secrets(services.stores, dry_run=True)  # doctest: +SKIP
    >>> report.totals(), report.unreadable()                         # doctest: +SKIP
    ({'rotated': 2, 'sealed': 1, 'current': 5, 'unreadable': 0}, [])
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import redis

from storebot.cipher import SecretCipher, SecretUnreadable, is_secret
from storebot.errors import ConfigError
from storebot.keys import global_key
from storebot.stores import SEALED, StoreRegistry

OUTCOMES = ("rotated", "sealed", "current", "unreadable")
MAX_ATTEMPTS = 5  # a store saved this many times during one rotation is reported, not fought over


@dataclass
class StoreSecretsReport:
    """What re-encryption did (or, in a dry run, would do) to one store's secrets, by setting name.

    Example:
        >>> r = StoreSecretsReport("acme", rotated=["llm_api_key"])
        >>> r.counts(), r.changed
        ({'rotated': 1, 'sealed': 0, 'current': 0, 'unreadable': 0}, True)
    """

    store_id: str
    rotated: list[str] = field(default_factory=list)  # sealed with an older key, now with the first
    sealed: list[str] = field(default_factory=list)  # plain text from before encryption, now encrypted
    current: list[str] = field(default_factory=list)  # already under the first key: left as is
    unreadable: list[str] = field(default_factory=list)  # no configured key opens it: left as is
    error: str = ""  # the store's record itself could not be read or written: left as is
    written: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.rotated or self.sealed)

    def counts(self) -> dict[str, int]:
        return {outcome: len(getattr(self, outcome)) for outcome in OUTCOMES}

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"store": self.store_id, **self.counts(), "unreadable_settings": list(self.unreadable)}
        return data | {"error": self.error, "written": self.written}


@dataclass
class SecretsRotationReport:
    """The outcome of :func:`reencrypt_secrets` over every store.

    Example:
        >>> report = SecretsRotationReport([StoreSecretsReport("acme", unreadable=["llm_api_key"])])
        >>> report.unreadable(), report.ok
        ([('acme', 'llm_api_key')], False)
    """

    stores: list[StoreSecretsReport]
    dry_run: bool = False

    def totals(self) -> dict[str, int]:
        return {outcome: sum(s.counts()[outcome] for s in self.stores) for outcome in OUTCOMES}

    def unreadable(self) -> list[tuple[str, str]]:
        """``(store id, setting name)`` of every secret no configured key could decrypt."""
        return [(s.store_id, name) for s in self.stores for name in s.unreadable]

    def failed_stores(self) -> list[StoreSecretsReport]:
        """Stores whose record could not be read or written at all."""
        return [s for s in self.stores if s.error]

    @property
    def ok(self) -> bool:
        """Whether every secret is now (or, in a dry run, would be) under the first key."""
        return not self.unreadable() and not self.failed_stores()

    def to_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "totals": self.totals(), "stores": [s.to_dict() for s in self.stores]}


def reencrypt_secrets(registry: StoreRegistry, *, dry_run: bool = False) -> SecretsRotationReport:
    """Re-encrypt every store's secret settings with the registry cipher's first key; see the module docstring."""
    if registry.cipher is None:
        raise ConfigError(
            "Cannot re-encrypt store secrets: no encryption key.",
            fix="Run it through storebot's services (they load STOREBOT_SECRETS_KEY).",
        )
    ids = sorted(m.decode() for m in registry.redis.smembers(global_key(registry.prefix, "stores")))
    reports = [_reencrypt_store(registry.redis, registry.prefix, registry.cipher, i, dry_run) for i in ids]
    return SecretsRotationReport([r for r in reports if r is not None], dry_run=dry_run)


def _reencrypt_store(
    client: redis.Redis, prefix: str, cipher: SecretCipher, store_id: str, dry_run: bool
) -> StoreSecretsReport | None:
    """One store, in a WATCH/MULTI transaction retried while a concurrent save changes it; None if it is gone."""
    key = global_key(prefix, "store", store_id)
    for _ in range(MAX_ATTEMPTS):
        with client.pipeline() as pipe:
            try:
                pipe.watch(key)
                raw = pipe.get(key)
                if raw is None:  # deleted since it was listed
                    return None
                try:
                    record = json.loads(raw)
                    settings = record.get("settings") or {}
                    if not isinstance(settings, dict):
                        raise TypeError(f"settings is a {type(settings).__name__}")
                except (ValueError, TypeError, AttributeError) as exc:
                    return StoreSecretsReport(store_id, error=f"its record is not readable JSON ({exc})")
                report = StoreSecretsReport(store_id)
                updated = {name: _reencrypt_value(cipher, name, value, report) for name, value in settings.items()}
                if not report.changed or dry_run:
                    pipe.unwatch()
                    return report
                pipe.multi()
                pipe.set(key, json.dumps(record | {"settings": updated}))
                pipe.execute()  # raises WatchError if the store was saved since the GET: then read it again
                report.written = True
                return report
            except redis.WatchError:
                continue
    return StoreSecretsReport(store_id, error=f"it was saved {MAX_ATTEMPTS} times while being re-encrypted; run again")


def _reencrypt_value(cipher: SecretCipher, name: str, value: Any, report: StoreSecretsReport) -> Any:
    """The stored form of one setting under the first key, recording the outcome; a non-secret is returned as is."""
    if not is_secret(name) or value in (None, ""):
        return value
    if isinstance(value, str):  # plain text from before encryption existed
        report.sealed.append(name)
        return {SEALED: cipher.encrypt(value)}
    token = value.get(SEALED) if isinstance(value, dict) else None
    if not isinstance(token, str):  # neither plain text nor a Fernet token: keep it for a human to look at
        report.unreadable.append(name)
        return value
    if cipher.is_current(token):
        report.current.append(name)
        return value
    try:
        rotated = cipher.rotate_or_raise(token, name=name)
    except SecretUnreadable:
        report.unreadable.append(name)
        return value
    report.rotated.append(name)
    return value | {SEALED: rotated}
