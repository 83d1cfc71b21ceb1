"""The Lua scripts of the shared budget: one atomic script per operation, on Redis's clock.

Every instant is read from Redis's ``TIME`` inside the script, never from a host: hosts' clocks
drift apart, the server's is one clock for all of them. Hosts pass only durations (how long
ago an answer arrived, how long the answer took), measured on their monotonic clocks.

The keys of one budget (``KEYS``, in this order; all under one hash tag, so that they live in
one Redis Cluster slot, and no script touches a key it was not given):

1. ``holds``: a sorted set of the slots held (member: grant id; score: when the slot frees).
   A slot in flight frees at grant + W + lease unless its process renews it (a heartbeat):
   a process that dies holding it gives it back within the lease. An answered one frees at
   answer + W + margin (rule 1); one given up on at give-up + longest answer + W + margin.
2. ``flight``: the same ids while in flight (score: their lease's end).
3. ``meta``: a hash: ``born`` (the state exists: a missing one means Redis lost it), ``run``
   (the server's run_id when it was made: a state from an earlier run is not trusted),
   ``epoch`` and ``pause_until`` (rule 5), ``probe``/``probe_until``/``probe_needed`` (rule
   2; the probe's role passes on when its lease is not renewed), ``refused``
   (the last 429), ``room``/``room_until``/``room_set`` (rule 3, another client's use),
   ``limit`` (the server's limit, once one below a configured limit was reported),
   ``longest``, ``active``, ``sent``, ``rate_limited``, ``margin`` (rule 6: learned from
   the answers; every script holds slots by the larger of it and the configured one),
   ``foreign_at`` (when an answer last showed another client's use).
4. ``procs``: processes seen (member: process id; score: when last seen).
5. ``iwait``: processes with interactive calls waiting (score: until when the claim holds).
6. ``freed``: slots freed lately (member: grant id; score: when it freed), kept for one W:
   rule 6 asks whether the server still counted them.

Times are seconds as Lua numbers; scripts return them as strings (an integer reply would
truncate them).
"""

from __future__ import annotations

# Shared by every script: the keys, the clock, and small helpers.
_PRELUDE = """
local holds, flight, meta, procs, iwait, freed = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5],
  KEYS[6]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local function num(field, default)
  local value = redis.call('HGET', meta, field)
  if value then return tonumber(value) end
  return default
end
local function keep(ttl_ms)
  for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, ttl_ms) end
end
-- This run of the Redis server (its run_id; nil where INFO is refused).
local function server_run()
  local info = redis.pcall('INFO', 'server')
  if type(info) ~= 'string' then return nil end
  return string.match(info, 'run_id:(%x+)')
end
-- Whether the state is gone. A state an earlier run of the server wrote (loaded from a
-- snapshot, or kept by a replica promoted since) may lack the last slots granted before it:
-- it is dropped, as if Redis had lost it, and is made again full (RESTORE).
local function state_gone()
  if redis.call('EXISTS', meta) == 0 then return true end
  local run = server_run()
  if run and redis.call('HGET', meta, 'run') ~= run then
    redis.call('DEL', holds, flight, meta, iwait, freed)
    return true
  end
  return false
end
-- Whether this process must RESTORE first: the state is gone, or is a generation its slots
-- were never written into ('' : it knows none yet).
local function stale(known)
  if state_gone() then return true end
  return known ~= '' and known ~= redis.call('HGET', meta, 'born')
end
-- Slots whose hold ended move to ``freed``, scored by the end less the learned margin (when
-- the slot rule alone would have freed them: every hold is moved along when the margin
-- grows), for as long as rule 6 may look back at them (W plus the longest answer, twice).
-- The first slot used again (and the first after the margin grew) goes alone, as a probe
-- that checks the server frees slots when rule 1 does (``checking``, then ``checked``): a
-- server that counts longer costs one 429, not a window's worth.
local function purge(period)
  local ended = redis.call('ZRANGEBYSCORE', holds, '-inf', now, 'WITHSCORES')
  local learned = num('margin', 0)
  for index = 1, #ended, 2 do
    if not string.find(ended[index], ':phantom:', 1, true) then
      redis.call('ZADD', freed, tonumber(ended[index + 1]) - learned, ended[index])
    end
  end
  if #ended > 0 and redis.call('HEXISTS', meta, 'checked') == 0
      and redis.call('HEXISTS', meta, 'probe_needed') == 0
      and redis.call('HEXISTS', meta, 'probe') == 0 then
    redis.call('HSET', meta, 'probe_needed', 1, 'checking', 1)
  end
  redis.call('ZREMRANGEBYSCORE', freed, '-inf', now - 2 * (period + num('longest', 0)))
  redis.call('ZREMRANGEBYSCORE', holds, '-inf', now)
  redis.call('ZREMRANGEBYSCORE', flight, '-inf', now)
  redis.call('ZREMRANGEBYSCORE', iwait, '-inf', now)
end
"""

# ARGV: lane, id, process, limit, period, reserve, lease, other interactive calls of this
# process waiting besides this one (0/1),
# ttl ms, process ttl, the state's generation this process knows ('' at first).
# Returns {'grant', granted at, epoch, probe 0/1, held, processes, sent, 429s, learned margin,
# born},
# {'wait', seconds, epoch, processes, born} (time will bring room), {'answer', '-1', epoch,
# processes, born} (an answer must come first) or {'lost'}. ``born`` names the state's
# generation: a process that sees a new one gives Redis the slots it holds (RESTORE).
GRANT = (
    _PRELUDE
    + """
if stale(ARGV[11]) then return {'lost'} end
local born = redis.call('HGET', meta, 'born')
purge(tonumber(ARGV[5]))
local lane, id, proc = ARGV[1], ARGV[2], ARGV[3]
local limit = math.min(tonumber(ARGV[4]), num('limit', tonumber(ARGV[4])))
local period, lease = tonumber(ARGV[5]), tonumber(ARGV[7])
local reserve = math.max(0, math.min(tonumber(ARGV[6]), limit - 1))
redis.call('ZADD', procs, now, proc)
redis.call('ZREMRANGEBYSCORE', procs, '-inf', now - tonumber(ARGV[10]))
if ARGV[8] == '1' then
  redis.call('ZADD', iwait, now + 2, proc)
else
  redis.call('ZREM', iwait, proc)
end
local epoch = num('epoch', 0)
local function refuse(kind, seconds)
  -- An interactive call that must wait claims priority over bulk work everywhere; a claim
  -- is dropped by this process's next ask with no other interactive call waiting.
  if lane == 'interactive' then redis.call('ZADD', iwait, now + 2, proc) end
  keep(ARGV[9])  -- after every write, so that no key of this budget is left without a TTL
  return {kind, tostring(seconds), epoch, redis.call('ZCARD', procs), born}
end
local paused = num('pause_until', 0)
if now < paused then return refuse('wait', paused - now) end
local probe = redis.call('HGET', meta, 'probe')
if probe then
  if redis.call('ZSCORE', flight, probe) and now < num('probe_until', 0) then
    return refuse('answer', -1)
  end
  -- Its lease ran out (one lease, renewed by its process's heartbeat; its slot stays held
  -- for W + lease): the process that held it is gone; the next request probes instead.
  redis.call('HDEL', meta, 'probe')
  redis.call('HSET', meta, 'probe_needed', 1)
end
local held = redis.call('ZCARD', holds)
if held == 0 and now - num('active', 0) > 2 * period then
  redis.call('HSET', meta, 'probe_needed', 1)  -- rule 2: idle two windows, someone else may not be
end
local need = 1
if lane == 'bulk' then
  need = 1 + reserve
  local claims = redis.call('ZCARD', iwait)
  if ARGV[8] == '1' then claims = claims - 1 end
  if claims > 0 then return refuse('answer', -1) end  -- interactive calls elsewhere go first
end
local room_until = num('room_until', 0)
local by_room = now < room_until and num('room', 0) < need
if limit - held < need then
  local nth = redis.call('ZRANGE', holds, need - (limit - held) - 1, need - (limit - held) - 1,
    'WITHSCORES')
  if #nth == 0 or redis.call('ZSCORE', flight, nth[1]) then return refuse('answer', -1) end
  local at = tonumber(nth[2])
  if by_room then at = math.max(at, room_until) end
  return refuse('wait', at - now)
end
if by_room then return refuse('wait', room_until - now) end
local is_probe = 0
if redis.call('HGET', meta, 'probe_needed') then
  is_probe = 1
  redis.call('HSET', meta, 'probe', id, 'probe_until', tostring(now + lease))
  redis.call('HDEL', meta, 'probe_needed')
end
redis.call('ZADD', holds, now + period + lease, id)
redis.call('ZADD', flight, now + period + lease, id)
if now < room_until then redis.call('HINCRBY', meta, 'room', -1) end
redis.call('HSET', meta, 'active', tostring(now))
redis.call('HINCRBY', meta, 'sent', 1)
keep(ARGV[9])
return {'grant', tostring(now), epoch, is_probe, held + 1, redis.call('ZCARD', procs),
  num('sent', 0), num('rate_limited', 0), tostring(num('margin', 0)), born}
"""
)

# Rule 6, as the in-process ledger has it. An answer counted ``counted`` requests (this one
# among them). Ours that it may have counted besides this one: the slots held now, and those
# whose hold ended after this one's grant (``sent``; ``freed`` keeps ends less the margin,
# so the grant's margin ``granted_margin`` is taken off ``sent``). A surplus beyond them that
# slots freed shortly before the grant explain (and no other client was seen in the last two
# windows) means the server still counted them: it counts longer than answer + W. Every slot
# is then held that much longer (the step capped by the grant's margin plus the reach, the
# whole at W / 2, so that a surplus mistaken for ours cannot stall the budget), the slots
# freed under the old margin are held again, and the next slot used again goes alone. A
# surplus they cannot explain is another client's use (rule 3 follows). Returns the margin in
# force.
_LEARN_MARGIN = """
local function learn_margin(counted, sent, granted_margin, at, reset, period, margin)
  local before = sent - granted_margin
  local ours = redis.call('ZCARD', holds) - 1 + redis.call('ZCOUNT', freed, '(' .. before, '+inf')
  local surplus = counted - 1 - ours
  if surplus <= 0 then return margin end
  local reach = num('longest', 0) + 0.02 * period
  local recent = redis.call('ZRANGEBYSCORE', freed, '(' .. (before - reach), before, 'WITHSCORES')
  local n = #recent / 2
  if n < surplus then
    redis.call('HSET', meta, 'foreign_at', tostring(at))
    return margin
  end
  if at - num('foreign_at', at - 2 * period) < 2 * period then return margin end
  -- The surplus-th most recently freed was still counted: its hold (answer + W, before the
  -- margin) needed to last until the window that counted this request ends.
  local answered_plus_w = tonumber(recent[2 * (n - surplus + 1)])
  local leaves_by = at + (reset or period)
  local step = math.min(math.max(at, leaves_by) - answered_plus_w, granted_margin + reach)
  return hold_longer(math.min(step + 0.002, period / 2), margin)
end
"""

# Hold every slot ``needed`` beyond W from now on, if that is longer than ``margin``: the
# slots held are held that much longer, those freed under the old margin are held again, and
# the next slot used again goes alone. Returns the margin in force.
_HOLD_LONGER = """
local function hold_longer(needed, margin)
  if needed <= margin then return margin end
  local longer = needed - margin
  local held = redis.call('ZRANGE', holds, 0, -1, 'WITHSCORES')
  for index = 1, #held, 2 do
    redis.call('ZADD', holds, 'XX', tonumber(held[index + 1]) + longer, held[index])
  end
  local again = redis.call('ZRANGEBYSCORE', freed, '(' .. (now - needed), '+inf', 'WITHSCORES')
  for index = 1, #again, 2 do
    -- GT: a slot whose lease ran out before its answer landed may be in both sets.
    redis.call('ZADD', holds, 'GT', tonumber(again[index + 1]) + needed, again[index])
    redis.call('ZREM', freed, again[index])
  end
  redis.call('HSET', meta, 'margin', tostring(needed), 'distrust', 1)
  redis.call('HDEL', meta, 'checked', 'checking')  -- the next slot used again checks it
  return needed
end
"""

# ARGV: id, status, period, margin, ttl ms, answered seconds ago, answer took (seconds),
# granted at (Redis time), then the headers or '': limit, remaining, reset's upper bound (by
# the rounding the process learned of a whole-second Reset: rule 4), retry-after, reset as
# said; then the configured limit, the generation this process knows, and the margin in force
# at the grant (GRANT's reply).
# Returns {epoch, lowered limit or 0, the margin in force}, or {'lost'} (nothing written:
# RESTORE first).
COMPLETE = (
    _PRELUDE
    + _HOLD_LONGER
    + _LEARN_MARGIN
    + """
if stale(ARGV[15]) then return {'lost'} end
local id, status = ARGV[1], tonumber(ARGV[2])
local period = tonumber(ARGV[3])
-- A configured margin is the shared one's floor, so that ``freed`` keeps every end less the
-- margin it was held by (processes configured apart all hold by the largest).
if tonumber(ARGV[4]) > num('margin', 0) then redis.call('HSET', meta, 'margin', ARGV[4]) end
local margin = num('margin', 0)
local at = now - math.max(0, tonumber(ARGV[6]))
-- The longest answer first: ``freed`` is kept for as long as rule 6 may look back.
redis.call('HSET', meta, 'longest', tostring(math.max(num('longest', 0), tonumber(ARGV[7]))))
purge(period)
redis.call('ZREM', flight, id)
redis.call('ZADD', holds, math.max(at + period + margin, now), id)  -- rule 1: answer + W
-- Held again: not among the slots freed (its lease may have run out before its answer).
redis.call('ZREM', freed, id)
redis.call('HSET', meta, 'active', tostring(now))
keep(ARGV[5])
local was_probe = redis.call('HGET', meta, 'probe') == id
if was_probe then
  redis.call('HDEL', meta, 'probe')
  if status ~= 429 and redis.call('HGET', meta, 'checking') then
    redis.call('HSET', meta, 'checked', 1)
  end
  redis.call('HDEL', meta, 'checking')  -- a probe refused, or after a pause, proves nothing
end
local h_limit, h_remaining = tonumber(ARGV[9]), tonumber(ARGV[10])
local h_reset, retry_after = tonumber(ARGV[11]), tonumber(ARGV[12])
if h_reset then
  -- When the window that counted this request ends, at the latest: the rounding may add up
  -- to W; a Reset longer than W is taken as said.
  local said = tonumber(ARGV[13])
  h_reset = math.max(said, math.min(h_reset, period))
end
if h_limit and h_remaining then
  -- A 429's window was full without it: it counted one more than it shows of ours.
  local counted = h_limit - h_remaining + (status == 429 and 1 or 0)
  local granted_margin = tonumber(ARGV[16])
  margin = learn_margin(counted, tonumber(ARGV[8]), granted_margin, at, h_reset, period, margin)
end
if status == 429 then
  local pause = period
  if retry_after then
    pause = retry_after
  elseif h_reset then
    pause = h_reset
  end
  local resume = at + pause
  if was_probe then
    -- Rule 5: a refused probe means the window is still full past the Reset it announced:
    -- wait until W after the previous refusal, when all it had counted then has left.
    resume = math.max(resume, num('refused', at) + period + margin)
  end
  redis.call('HSET', meta, 'pause_until', tostring(math.max(num('pause_until', 0), resume)))
  redis.call('HSET', meta, 'refused', tostring(at), 'probe_needed', 1, 'distrust', 1)
  redis.call('HDEL', meta, 'probe', 'checking')  -- a probe after the pause proves nothing
  redis.call('HINCRBY', meta, 'rate_limited', 1)
  return {redis.call('HINCRBY', meta, 'epoch', 1), 0, tostring(margin)}
end
local lowered = 0
if h_limit and h_limit < num('limit', tonumber(ARGV[14])) then
  redis.call('HSET', meta, 'limit', h_limit)
  lowered = h_limit
elseif h_limit and h_limit > num('limit', h_limit) then
  -- Back up once the server says so, never past this process's configured limit.
  redis.call('HSET', meta, 'limit', math.min(h_limit, tonumber(ARGV[14])))
end
if h_limit and h_remaining then
  -- Rule 3: every slot held when this request was granted may be in the server's window
  -- (those freed since, by the purges of the answers between, wait in ``freed``). A count
  -- beyond that is another client's use of the key: follow the headers until the Reset.
  -- (Held at the grant: freed later than the grant less the margin then in force.)
  local ours = redis.call('ZCARD', holds)
    + redis.call('ZCOUNT', freed, '(' .. (tonumber(ARGV[8]) - tonumber(ARGV[16])), '+inf')
  if h_limit - h_remaining > ours then
    local uncounted = redis.call('ZCARD', flight)
    redis.call('HSET', meta, 'room', math.max(0, h_remaining - uncounted),
      'room_until', tostring(at + (h_reset or period)), 'room_set', tostring(at))
  elseif tonumber(ARGV[8]) > num('room_set', now) then
    -- Counted after the room's answer and explained by our own slots: it replaces the room.
    redis.call('HDEL', meta, 'room', 'room_until', 'room_set')
  end
end
if h_remaining == 0 and redis.call('HGET', meta, 'checked')
    and redis.call('HGET', meta, 'distrust') then
  -- A full window, once rule 1 was checked and the server refused a send or counted longer
  -- than it assumes: the next send goes alone (a server whose window outlasts W by less
  -- than its answers show refuses one send, not a burst).
  redis.call('HSET', meta, 'probe_needed', 1)
end
return {num('epoch', 0), lowered, tostring(margin)}
"""
)

# ARGV: id, sent (0/1), period, margin, ttl ms, given up seconds ago, the generation this
# process knows. Returns {1}, or
# {'lost'} (nothing written: RESTORE first).
FAIL = (
    _PRELUDE
    + """
if stale(ARGV[7]) then return {'lost'} end
local id = ARGV[1]
redis.call('ZREM', flight, id)
if ARGV[2] == '1' then
  -- It may still be counted: hold it until the give-up + the longest answer + W (rule 1).
  local at = now - math.max(0, tonumber(ARGV[6]))
  if tonumber(ARGV[4]) > num('margin', 0) then redis.call('HSET', meta, 'margin', ARGV[4]) end
  local frees = at + num('longest', 0) + tonumber(ARGV[3]) + num('margin', 0)
  redis.call('ZADD', holds, math.max(frees, now), id)
else
  redis.call('ZREM', holds, id)
end
if redis.call('HGET', meta, 'probe') == id then
  redis.call('HDEL', meta, 'probe')
  redis.call('HSET', meta, 'probe_needed', 1)  -- the next request probes instead
end
keep(ARGV[5])
return {1}
"""
)

# ARGV: process, period, lease, ttl ms, process ttl, the generation this process knows, then
# the ids it has in flight.
# Returns {'lost'} or {'ok', held, in flight, processes, this process's rank among them,
# paused for (seconds), epoch, 429s, sent, limit or -1, born}.
RENEW = (
    _PRELUDE
    + """
if stale(ARGV[6]) then return {'lost'} end
purge(tonumber(ARGV[2]))
local proc = ARGV[1]
local ends = now + tonumber(ARGV[2]) + tonumber(ARGV[3])
local probe = redis.call('HGET', meta, 'probe')
for index = 7, #ARGV do
  if ARGV[index] == probe then
    redis.call('HSET', meta, 'probe_until', tostring(now + tonumber(ARGV[3])))
  end
  if redis.call('ZSCORE', flight, ARGV[index]) then
    redis.call('ZADD', holds, 'XX', ends, ARGV[index])
    redis.call('ZADD', flight, 'XX', ends, ARGV[index])
  end
end
redis.call('ZADD', procs, now, proc)
redis.call('ZREMRANGEBYSCORE', procs, '-inf', now - tonumber(ARGV[5]))
keep(ARGV[4])
local members = redis.call('ZRANGE', procs, 0, -1)
table.sort(members)
local rank = 0
for index, member in ipairs(members) do
  if member == proc then rank = index - 1 end
end
return {'ok', redis.call('ZCARD', holds), redis.call('ZCARD', flight), #members, rank,
  tostring(math.max(0, num('pause_until', 0) - now)), num('epoch', 0),
  num('rate_limited', 0), num('sent', 0), num('limit', -1), redis.call('HGET', meta, 'born')}
"""
)

# ARGV: process, ttl ms, process ttl, paused for (seconds, 0: not paused), phantom slots,
# how long they hold (seconds), the limit a recreated state starts full with (0: empty), then
# triples (id, seconds its slot is still held, in flight 0/1). Recreates lost state (a probe
# goes first, as at cold start) and gives Redis what this process knows: its slots (each held
# to the later of the two ends), answers that did not reach Redis (no longer in flight; a
# probe among them is settled), a 429 pause it saw, and after an outage the slots the other
# processes' local shares may have spent meanwhile (phantoms); a state it recreates starts
# full for that long. Returns {lost 0/1, born, epoch}.
RESTORE = (
    _PRELUDE
    + """
local lost = 0
local phantoms = tonumber(ARGV[5])
if state_gone() then
  lost = 1
  redis.call('HSET', meta, 'born', tostring(now), 'probe_needed', 1, 'active', tostring(now))
  local run = server_run()
  if run then redis.call('HSET', meta, 'run', run) end
  -- The other processes' slots are not here yet (they restore on their next call): the new
  -- state starts full for a window, less this process's own.
  phantoms = math.max(phantoms, tonumber(ARGV[7]) - (#ARGV - 7) / 3)
end
local proc = ARGV[1]
for index = 8, #ARGV, 3 do
  local id, ends = ARGV[index], now + tonumber(ARGV[index + 1])
  redis.call('ZADD', holds, 'GT', ends, id)
  if ARGV[index + 2] == '1' then
    redis.call('ZADD', flight, 'GT', ends, id)
    if redis.call('HGET', meta, 'probe') == id then
      redis.call('HSET', meta, 'probe_until', tostring(ends))  -- its process is back
    end
  else
    redis.call('ZREM', flight, id)
    if redis.call('HGET', meta, 'probe') == id then
      redis.call('HDEL', meta, 'probe')
      redis.call('HSET', meta, 'probe_needed', 1)
    end
  end
end
local paused = tonumber(ARGV[4])
if paused > 0 and now + paused > num('pause_until', 0) then
  redis.call('HSET', meta, 'pause_until', tostring(now + paused), 'probe_needed', 1)
  redis.call('HINCRBY', meta, 'epoch', 1)
end
for index = 1, phantoms do
  redis.call('ZADD', holds, 'GT', now + tonumber(ARGV[6]), proc .. ':phantom:' .. index)
end
redis.call('ZADD', procs, now, proc)
redis.call('ZREMRANGEBYSCORE', procs, '-inf', now - tonumber(ARGV[3]))
keep(ARGV[2])
return {lost, redis.call('HGET', meta, 'born'), num('epoch', 0)}
"""
)
