"""The atomic step of a sync: apply staged records and deletions to the live catalog.

A sync stages its changed records and its deletions under job-specific keys,
then calls :func:`commit_staged`, which runs one Lua script: Redis applies it
as a single atomic step, so readers see either the old catalog or the new one
and a sync that dies before this point leaves the live catalog untouched.

The script also records each touched id in the kind's ``changes`` hash
(``id -> upsert|delete``), which the indexer drains, and keeps the
reviews-by-product sets in step for reviews.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from storebot.keys import StoreKeys

COLLECTIONS = ("products", "reviews", "policies")

_COMMIT_LUA = """
local records, hashes, changes, staged, staged_hashes, staged_deletes, version = unpack(KEYS)
local kind, by_product_prefix = ARGV[1], ARGV[2]

local function unlink_review(id)
  local old = redis.call('HGET', records, id)
  if old then
    local ok, doc = pcall(cjson.decode, old)
    if ok and doc['product_id'] then
      redis.call('SREM', by_product_prefix .. tostring(doc['product_id']), id)
    end
  end
end

local upserts, deletes = 0, 0
local items = redis.call('HGETALL', staged)
local staged_hash = redis.call('HGETALL', staged_hashes)
for i = 1, #items, 2 do
  local id, doc = items[i], items[i + 1]
  if kind == 'reviews' then
    unlink_review(id)
    local decoded = cjson.decode(doc)
    redis.call('SADD', by_product_prefix .. tostring(decoded['product_id']), id)
  end
  redis.call('HSET', records, id, doc)
  redis.call('HSET', changes, id, 'upsert')
  upserts = upserts + 1
end
for i = 1, #staged_hash, 2 do
  redis.call('HSET', hashes, staged_hash[i], staged_hash[i + 1])
end
for _, id in ipairs(redis.call('SMEMBERS', staged_deletes)) do
  if redis.call('HEXISTS', records, id) == 1 then
    if kind == 'reviews' then unlink_review(id) end
    redis.call('HDEL', records, id)
    redis.call('HDEL', hashes, id)
    redis.call('HSET', changes, id, 'delete')
    deletes = deletes + 1
  end
end
redis.call('DEL', staged, staged_hashes, staged_deletes)
local v = redis.call('INCR', version)
return {upserts, deletes, v}
"""


@dataclass(frozen=True)
class CommitResult:
    upserted: int
    deleted: int
    version: int


@dataclass(frozen=True)
class Staging:
    """The keys a job stages into before it commits."""

    records: str
    hashes: str
    deletes: str

    @classmethod
    def for_job(cls, keys: StoreKeys, kind: str, job_id: str) -> Staging:
        return cls(
            records=keys("staging", job_id, kind, "records"),
            hashes=keys("staging", job_id, kind, "hashes"),
            deletes=keys("staging", job_id, kind, "deletes"),
        )

    def clear(self, client: redis.Redis) -> None:
        client.delete(self.records, self.hashes, self.deletes)


def commit_staged(client: redis.Redis, keys: StoreKeys, kind: str, staging: Staging) -> CommitResult:
    """Atomically apply ``staging`` to the live ``kind`` collection."""
    if kind not in COLLECTIONS:
        raise ValueError(f"unknown collection {kind!r}")
    script = client.register_script(_COMMIT_LUA)
    upserted, deleted, version = script(
        keys=[
            keys(kind),
            keys("hashes", kind),
            keys("changes", kind),
            staging.records,
            staging.hashes,
            staging.deletes,
            keys("version", kind),
        ],
        args=[kind, keys("product_reviews", "")],
    )
    return CommitResult(int(upserted), int(deleted), int(version))
