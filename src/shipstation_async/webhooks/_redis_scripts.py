"""The Lua scripts of :class:`~shipstation_async.webhooks.redis_store.RedisStore`.

Every script is given the keys it touches (all under the store's one hash tag, so they share
one Redis Cluster slot) and runs atomically: a job and its delivery key and poll mark land
together, and a handled version is compared and set in one step.

The keys (names end so, after ``{prefix}:``):

- ``jobs``: a hash, job id -> the job's JSON. Never expires: it is accepted work.
- ``owners``: a hash, job id -> the store (process) that runs it.
- ``beats``: a sorted set, store -> when it last said it is alive (Redis's ``TIME``). A job
  whose owner has not beaten for a lease is free to take.
- ``keys``: a sorted set, delivery key -> until when it is remembered (a host's seconds).
- ``handled``: a hash, handler and record identity -> the version handled.
- ``handled-until``: a sorted set, the same fields -> until when they are remembered.
- ``letters``: a hash, dead letter id -> its JSON. ``marks``: a hash, poll mark -> value.
- ``claims``: a hash, handler and record identity (as in ``handled``) -> the store handing
  that record to that handler now and until when (Redis's ``TIME``, in ms): ``owner ms``.
  The key expires with the latest of them.

Scores that are a host's seconds (``keys``, ``handled-until``) are compared with the hosts'
``now`` as the other stores do; a key that holds them expires its margin after the latest of
them (measured from the writing host's clock, so Redis's own clock does not matter).
"""

from __future__ import annotations

_HELPERS = """
-- The owner is alive now (Redis's clock); owners silent for ttl_ms are forgotten.
local function beat(beats, owner, ttl_ms)
  local clock = redis.call('TIME')
  local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
  redis.call('ZADD', beats, now, owner)
  redis.call('ZREMRANGEBYSCORE', beats, '-inf', now - ttl_ms / 1000)
  redis.call('PEXPIRE', beats, ttl_ms)
  return now
end
-- A sorted set of deadlines (and ``also``) expires `margin` after the latest one.
local function expire_with(zset, also, host_now, margin)
  local top = redis.call('ZRANGE', zset, -1, -1, 'WITHSCORES')
  if top[2] == nil then return end
  local ms = math.max(1000, math.ceil((tonumber(top[2]) - host_now + margin) * 1000))
  redis.call('PEXPIRE', zset, ms)
  if also then redis.call('PEXPIRE', also, ms) end
end
-- new >= old as Python compares text: byte by byte (UTF-8 keeps code point order). Lua's
-- own < follows the server's locale.
local function not_older(new, old)
  if new == old then return true end
  for i = 1, math.min(#new, #old) do
    local a, b = string.byte(new, i), string.byte(old, i)
    if a ~= b then return a > b end
  end
  return #new > #old
end
-- Whether a store keeps `new` in place of `old` (events.replaces): not older, or either is a
-- version of the fall-back hour (ends with '~'), where the one handed over last is kept.
local function replaces(new, old)
  if string.sub(new, -1) == '~' or string.sub(old, -1) == '~' then return true end
  return not_older(new, old)
end
"""

# KEYS: jobs, owners, beats, keys, marks. ARGV: id, key, received_at, remember_until, body,
# owner, host now, margin, beat ttl ms, has mark ('1'/'0'), mark name, mark value.
# Returns 1 (added, or added already by this very call's earlier attempt) or 0 (a duplicate).
ADD_JOB = (
    _HELPERS
    + """
local jobs, owners, beats, keyset, marks = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id = ARGV[1]
if redis.call('HEXISTS', jobs, id) == 1 then return 1 end
local remembered = redis.call('ZSCORE', keyset, ARGV[2])
if remembered and tonumber(remembered) > tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', keyset, ARGV[4], ARGV[2])
redis.call('HSET', jobs, id, ARGV[5])
redis.call('HSET', owners, id, ARGV[6])
beat(beats, ARGV[6], tonumber(ARGV[9]))
if ARGV[10] == '1' then redis.call('HSET', marks, ARGV[11], ARGV[12]) end
expire_with(keyset, false, tonumber(ARGV[7]), tonumber(ARGV[8]))
return 1
"""
)

# KEYS: jobs, owners. ARGV: id, body, owner. Returns 1 (saved), 0 (no such job: finished)
# or -1 (another store took the job over: this one's lease ran out).
SAVE_JOB = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local holder = redis.call('HGET', KEYS[2], ARGV[1])
if holder and holder ~= ARGV[3] then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""

# KEYS: jobs, owners. ARGV: id.
DROP_JOB = """
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
"""

# KEYS: jobs, owners, beats. ARGV: owner, lease (s), since ('' at first), beat ttl ms.
# Takes every job that has no owner, is this owner's, or whose owner has not beaten for a
# lease. Returns {now, waiting, {id, body, id, body, ...}}: ``waiting`` counts jobs held by
# an owner not seen alive since ``since`` (it may have just died: ask again).
CLAIM = (
    _HELPERS
    + """
local jobs, owners, beats = KEYS[1], KEYS[2], KEYS[3]
local me, lease, since = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local now = beat(beats, me, tonumber(ARGV[4]))
local taken, waiting = {}, 0
for _, id in ipairs(redis.call('HKEYS', jobs)) do
  local holder = redis.call('HGET', owners, id)
  local take = (not holder) or holder == me
  if not take then
    local seen = redis.call('ZSCORE', beats, holder)
    if (not seen) or tonumber(seen) + lease <= now then
      take = true
    elseif since == '' or tonumber(seen) <= tonumber(since) then
      waiting = waiting + 1
    end
  end
  if take then
    redis.call('HSET', owners, id, me)
    taken[#taken + 1] = id
    taken[#taken + 1] = redis.call('HGET', jobs, id)
  end
end
return {tostring(now), waiting, taken}
"""
)

# KEYS: beats. ARGV: owner, beat ttl ms.
BEAT = (
    _HELPERS
    + """
beat(KEYS[1], ARGV[1], tonumber(ARGV[2]))
return 1
"""
)

# KEYS: owners, beats, claims. ARGV: owner. Gives this owner's jobs and claims back (a clean
# stop).
RELEASE = """
local held = redis.call('HGETALL', KEYS[1])
for i = 1, #held, 2 do
  if held[i + 1] == ARGV[1] then redis.call('HDEL', KEYS[1], held[i]) end
end
redis.call('ZREM', KEYS[2], ARGV[1])
local claims = redis.call('HGETALL', KEYS[3])
for i = 1, #claims, 2 do
  if string.match(claims[i + 1], '^(.*) ') == ARGV[1] then
    redis.call('HDEL', KEYS[3], claims[i])
  end
end
return 1
"""

_CLAIMS = """
local function now_ms()
  local clock = redis.call('TIME')
  return tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
end
-- A claim's holder, and whether it still holds (its time has not run out).
local function holder(claims, field, now)
  local held = redis.call('HGET', claims, field)
  if not held then return nil, false end
  local owner, deadline = string.match(held, '^(.*) (%d+)$')
  return owner, tonumber(deadline) > now
end
local function keep_until(claims, ttl)
  if redis.call('PTTL', claims) < ttl then redis.call('PEXPIRE', claims, ttl) end
end
"""

# KEYS: claims, handled. ARGV: owner, ttl ms, then fields. Claims each field for the owner
# unless another owner's claim on it holds. Returns {busy (1 or 0), handled version or '', ...}
# for each field in turn: the version read in the same step, so none is handled unseen
# between a process's read and its claim.
CLAIM_RECORDS = (
    _CLAIMS
    + """
local claims, handled, me, ttl = KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2])
local now = now_ms()
local answer = {}
for i = 3, #ARGV do
  local owner, holds = holder(claims, ARGV[i], now)
  local busy = 0
  if holds and owner ~= me then busy = 1 end
  if busy == 0 then redis.call('HSET', claims, ARGV[i], string.format('%s %d', me, now + ttl)) end
  answer[#answer + 1] = busy
  answer[#answer + 1] = redis.call('HGET', handled, ARGV[i]) or ''
end
keep_until(claims, ttl)
return answer
"""
)

# KEYS: claims. ARGV: owner, ttl ms, then fields. Renews the owner's claims among them.
RENEW_CLAIMS = (
    _CLAIMS
    + """
local claims, me, ttl = KEYS[1], ARGV[1], tonumber(ARGV[2])
local now = now_ms()
for i = 3, #ARGV do
  if holder(claims, ARGV[i], now) == me then
    redis.call('HSET', claims, ARGV[i], string.format('%s %d', me, now + ttl))
  end
end
keep_until(claims, ttl)
return 1
"""
)

# KEYS: claims. ARGV: owner, then fields. Drops the owner's claims among them.
RELEASE_CLAIMS = (
    _CLAIMS
    + """
local claims, me = KEYS[1], ARGV[1]
for i = 2, #ARGV do
  if holder(claims, ARGV[i], 0) == me then redis.call('HDEL', claims, ARGV[i]) end
end
return 1
"""
)

# KEYS: handled, handled-until. ARGV: until, host now, margin, then field, version pairs.
MARK_HANDLED = (
    _HELPERS
    + """
local handled, untils = KEYS[1], KEYS[2]
for i = 4, #ARGV, 2 do
  local field, version = ARGV[i], ARGV[i + 1]
  local old = redis.call('HGET', handled, field)
  if (not old) or replaces(version, old) then
    redis.call('HSET', handled, field, version)
    redis.call('ZADD', untils, ARGV[1], field)
  end
end
expire_with(untils, handled, tonumber(ARGV[2]), tonumber(ARGV[3]))
return 1
"""
)

# KEYS: keys, handled, handled-until. ARGV: now, batch. Returns the versions forgotten
# (a full batch: call again).
PRUNE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local gone = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #gone > 0 then
  redis.call('HDEL', KEYS[2], unpack(gone))
  redis.call('ZREM', KEYS[3], unpack(gone))
end
return #gone
"""

# KEYS: lead. ARGV: role, owner, ttl ms. Takes or renews a role (the poller) for this owner
# unless another owner holds it; the hash field expires with the key (one role per key use).
LEAD = """
local holder = redis.call('HGET', KEYS[1], ARGV[1])
if holder and holder ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""

NAMES = (
    "ADD_JOB",
    "SAVE_JOB",
    "DROP_JOB",
    "CLAIM",
    "BEAT",
    "RELEASE",
    "MARK_HANDLED",
    "PRUNE",
    "LEAD",
    "CLAIM_RECORDS",
    "RENEW_CLAIMS",
    "RELEASE_CLAIMS",
)
