"""Feed uploads parked in Redis between the web process and the worker.

The web process streams an upload into a Redis string in chunks (no shared
disk needed between web and worker hosts); the worker reads it back as a
file-like object, chunk by chunk, so the parsers stream it too.

Example:
    >>> uploads = UploadStore(redis.Redis(), StoreKeys("storebot", "demo"), max_bytes=50 << 20)  # doctest: +SKIP
    >>> size = uploads.put("job1", open("products.json", "rb"))  # doctest: +SKIP
    >>> uploads.open("job1").read(2)  # doctest: +SKIP
    b'{"'
"""

from __future__ import annotations

import io
from typing import BinaryIO

import redis

from storebot.errors import NotFound, PayloadTooLarge
from storebot.keys import StoreKeys

CHUNK = 1 << 20


class UploadStore:
    """Writes and reads uploaded feeds of one store."""

    def __init__(self, client: redis.Redis, keys: StoreKeys, *, max_bytes: int, ttl: int = 86400) -> None:
        self.redis = client
        self.keys = keys
        self.max_bytes = max_bytes
        self.ttl = ttl

    def _key(self, job_id: str) -> str:
        return self.keys("upload", job_id)

    def put(self, job_id: str, stream: BinaryIO) -> int:
        """Copy ``stream`` into Redis; raise :class:`PayloadTooLarge` past the limit."""
        key = self._key(job_id)
        self.redis.delete(key)
        size = 0
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > self.max_bytes:
                self.redis.delete(key)
                raise PayloadTooLarge(
                    f"The feed is larger than {self.max_bytes // (1 << 20)} MB.",
                    fix="Split it into several uploads, or raise STOREBOT_MAX_UPLOAD_MB.",
                )
            self.redis.append(key, chunk)
        self.redis.expire(key, self.ttl)
        return size

    def open(self, job_id: str) -> BinaryIO:
        key = self._key(job_id)
        if not self.redis.exists(key):
            raise NotFound(
                f"The upload of job {job_id} is gone (uploads are kept for a day).", fix="Upload the feed again."
            )
        return io.BufferedReader(_RedisBlobReader(self.redis, key), buffer_size=CHUNK)

    def delete(self, job_id: str) -> None:
        self.redis.delete(self._key(job_id))


class _RedisBlobReader(io.RawIOBase):
    """A read-only raw stream over a Redis string, fetched with GETRANGE."""

    def __init__(self, client: redis.Redis, key: str) -> None:
        self.redis = client
        self.key = key
        self.size = int(client.strlen(key))
        self.position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.position >= self.size:
            return 0
        end = min(self.position + len(buffer), self.size) - 1
        data = self.redis.getrange(self.key, self.position, end)
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)
