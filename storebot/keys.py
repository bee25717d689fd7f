"""Redis key names, namespaced per store.

Every key of a store's data carries the store id as a Redis Cluster hash tag
(``storebot:{demo}:products``), so one store's keys live in one slot and the
atomic sync commit works on a cluster as well as on a single server.

Example:
    >>> keys = StoreKeys("storebot", "demo")
    >>> keys("products")
    'storebot:{demo}:products'
    >>> keys("job", "abc", "errors")
    'storebot:{demo}:job:abc:errors'
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StoreKeys:
    """Builds the keys of one store's namespace."""

    prefix: str
    store_id: str

    def __call__(self, *parts: str) -> str:
        return ":".join((self.prefix, "{" + self.store_id + "}", *parts))

    @property
    def pattern(self) -> str:
        """A SCAN pattern matching every key of the store."""
        return f"{self.prefix}:{{{self.store_id}}}:*".replace("{", "\\{").replace("}", "\\}")


def global_key(prefix: str, *parts: str) -> str:
    """A key outside any store (the store registry and key lookups)."""
    return ":".join((prefix, *parts))
