"""The Lua scripts of the Redis backend's tracking: a batch's write, a page's reads, and both in one call.

A tracking batch is one script (seen-checks, profile and trend increments, TTLs, the bounds), so two workers
delivering the same events count them once and no reader sees half a batch; a page view is one script that
writes its view and reads the page's state, so it costs one round trip. Scripts that write declare it
(``#!lua``): Redis then refuses them whole under ``maxmemory`` before they run, where a script without the line
could be stopped after its first writes (a partial write); the read-only one says ``no-writes``.

Decayed sums are kept as increments scaled by ``2^((t − E)/H)`` against an epoch ``E`` (``recommenders.decay``),
rebased when it ages.
"""

from __future__ import annotations

from recommenders import decay

WRITE_KEYS = ("session", "customer profile", "trend meta", "trend key set", "recent list", "interaction log",
              "seen ids", "sessions index", "ledger", "live segment run", "customer coupons")  # fmt: skip
"""The keys every tracking script receives first, in this order (1-based in Lua); the trending zsets follow."""
READ_KEYS_AT = 9
"""Where the reads' three keys (ledger, live run, coupon set) start among ``KEYS``."""

_APPLY_BODY = f"""
-- KEYS: see WRITE_KEYS; then the trending zsets the events name. ARGV[1]: the write as JSON (events, settings,
-- and the key prefixes of the sessions it may evict)
local p = cjson.decode(ARGV[1])
local REBASE = {decay.REBASE_AFTER}
local epochs = {{}}
local function fmt(x) return string.format('%.17g', x) end
-- increments summed per key and field (member) over the write's events, then written once each: a session's
-- events mostly raise the same few fields; pending sums are written before a rebase rescales what is stored
local sums, trend_sums = {{}}, {{}}
local function add(into, key, field, amount)
  local fields = into[key]
  if not fields then fields = {{}}; into[key] = fields end
  fields[field] = (fields[field] or 0) + amount
end
local function write_hash(key)
  for field, amount in pairs(sums[key] or {{}}) do redis.call('HINCRBYFLOAT', key, field, fmt(amount)) end
  sums[key] = nil
end
local function write_trends()
  for z, members in pairs(trend_sums) do
    for member, amount in pairs(members) do redis.call('ZINCRBY', KEYS[z], fmt(amount), member) end
    redis.call('SADD', KEYS[4], KEYS[z])
  end
  trend_sums = {{}}
end
local function rebase_hash(key, factor)
  write_hash(key)
  local all = redis.call('HGETALL', key)
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, 1) ~= '_' then redis.call('HSET', key, all[i], fmt(tonumber(all[i + 1]) * factor)) end
  end
end
local function hash_growth(key, ts, half)
  local e = epochs[key] or tonumber(redis.call('HGET', key, '_e'))
  if not e then e = ts; redis.call('HSET', key, '_e', fmt(e)) end
  if (ts - e) / half > REBASE then
    rebase_hash(key, 2 ^ ((e - ts) / half)); e = ts; redis.call('HSET', key, '_e', fmt(e))
  end
  epochs[key] = e
  return 2 ^ ((ts - e) / half)
end
local function trend_growth(ts, half)
  local e = epochs['~trend'] or tonumber(redis.call('HGET', KEYS[3], 'e'))
  if not e then e = ts; redis.call('HSET', KEYS[3], 'e', fmt(e)) end
  if (ts - e) / half > REBASE then
    local factor = 2 ^ ((e - ts) / half)
    write_trends()
    for _, key in ipairs(redis.call('SMEMBERS', KEYS[4])) do
      redis.call('ZUNIONSTORE', key, 1, key, 'WEIGHTS', fmt(factor))
    end
    e = ts; redis.call('HSET', KEYS[3], 'e', fmt(e))
  end
  epochs['~trend'] = e
  return 2 ^ ((ts - e) / half)
end
local accepted, duplicates, recent, dropped, forgotten = 0, 0, false, 0, 0
if p.ids == 1 then redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', p.now - p.dedup_ttl * 1000) end
for _, ev in ipairs(p.events) do
  local fresh = true
  if ev.d ~= '' then fresh = redis.call('ZADD', KEYS[7], 'NX', p.now, ev.d) == 1 end
  if not fresh then
    duplicates = duplicates + 1
  else
    accepted = accepted + 1
    if ev.i ~= '' then
      if p.log_max > 0 then
        redis.call('XADD', KEYS[6], 'MAXLEN', '~', p.log_max, '*', 'u', p.user, 's', p.sid, 'i', ev.i, 'k', ev.k,
          't', fmt(ev.ts))
      end
      if ev.r == 1 then redis.call('LPUSH', KEYS[5], ev.i); recent = true end
    end
    if #ev.f > 0 then
      local amount = ev.a * hash_growth(KEYS[1], ev.ts, p.hs)
      for _, f in ipairs(ev.f) do add(sums, KEYS[1], f, amount) end
      if p.customer == 1 then
        amount = ev.a * hash_growth(KEYS[2], ev.ts, p.hc)
        for _, f in ipairs(ev.f) do add(sums, KEYS[2], f, amount) end
      end
    end
    if #ev.z > 0 then
      local amount = ev.t * trend_growth(ev.ts, p.ht)
      for _, z in ipairs(ev.z) do add(trend_sums, z, ev.i, amount) end
    end
  end
end
write_hash(KEYS[1])
write_hash(KEYS[2])
write_trends()
if p.src ~= '' then redis.call('HSETNX', KEYS[1], '_s', p.src) end
if p.customer == 1 then
  redis.call('HSET', KEYS[1], '_c', p.cid)
  if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], p.ttl_c) end
end
if recent then
  redis.call('LTRIM', KEYS[5], 0, p.recent_max - 1)
  if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('HSET', KEYS[1], '_e', fmt(p.now)) end
end
if p.ids == 1 then
  local over = redis.call('ZCARD', KEYS[7]) - p.max_ids
  if over > 0 then redis.call('ZREMRANGEBYRANK', KEYS[7], 0, over - 1); forgotten = over end
  redis.call('EXPIRE', KEYS[7], p.dedup_ttl)
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('EXPIRE', KEYS[1], p.ttl_s)
  if redis.call('EXISTS', KEYS[5]) == 1 then redis.call('EXPIRE', KEYS[5], p.ttl_s) end
end
if p.ids == 1 or redis.call('EXISTS', KEYS[1]) == 1 then
  -- the sessions index bounds how many sessions are kept: the least recently active go first, with their keys
  redis.call('ZADD', KEYS[8], p.now, p.sid)
  redis.call('ZREMRANGEBYSCORE', KEYS[8], '-inf', p.now - p.ttl_s * 1000)
  local over = redis.call('ZCARD', KEYS[8]) - p.max_sessions
  if over > 0 then
    local gone = redis.call('ZPOPMIN', KEYS[8], over)
    for i = 1, #gone, 2 do
      local sid = gone[i]
      forgotten = forgotten + redis.call('ZCARD', p.seen_prefix .. sid)
      redis.call('DEL', p.session_prefix .. sid, p.session_prefix .. sid .. p.recent_suffix, p.seen_prefix .. sid)
      dropped = dropped + 1
    end
  end
end
"""
APPLY = "#!lua\n" + _APPLY_BODY + "return {accepted, duplicates, dropped, forgotten}\n"
"""KEYS as :data:`WRITE_KEYS` then the trending zsets; ARGV[1] the write."""

_READS_FUNCTION = """
-- a page's state: the session hash and recent list, the linked customer's profile and, for a signed customer
-- (cid ~= ''), their ledger, live segment record and coupons. KEYS[s], KEYS[l]: the session hash and recent list;
-- KEYS[r .. r + 2]: the signed customer's ledger, the live segment run, the customer's coupon set. The prefixes of
-- the keys found by reading (linked profile, the run's records, coupons) are ARGV[x .. x + 4] (read_prefixes()).
local function page_reads(s, l, r, cid, x)
  local reply = {redis.call('HGETALL', KEYS[s]), {}, redis.call('LRANGE', KEYS[l], 0, -1), false, false, {}}
  local linked = redis.call('HGET', KEYS[s], '_c')
  if linked then reply[2] = redis.call('HGETALL', ARGV[x] .. linked .. ARGV[x + 1]) end
  if cid ~= '' then
    reply[4] = redis.call('GET', KEYS[r])
    local live = redis.call('GET', KEYS[r + 1])
    if live then
      reply[5] = redis.call('HGET', ARGV[x + 2] .. cmsgpack.unpack(live)['version'] .. ARGV[x + 3], cid)
    end
    for i, code in ipairs(redis.call('SMEMBERS', KEYS[r + 2])) do
      reply[6][i] = redis.call('GET', ARGV[x + 4] .. code)
    end
  end
  return reply
end
"""
_EXPOSE_FUNCTION = """
-- experiment exposures: each {u, a, v, t, l}: KEYS[u] the unit's record, KEYS[a] its arm's sums, v the arm, t the
-- record's TTL in seconds, KEYS[l] (l > 0: a customer unit) the ledger whose lifetime spend is the unit's covariate.
-- Only a unit's first exposure writes, and only it reads the ledger: a later one costs one EXISTS.
local function expose(list, now)
  local lifetime = {}
  local first = 0
  for _, e in ipairs(list) do
    if redis.call('EXISTS', KEYS[e.u]) == 0 then
      local x = 0
      if e.l > 0 then
        if lifetime[e.l] == nil then
          local raw = redis.call('GET', KEYS[e.l])
          lifetime[e.l] = raw and (cmsgpack.unpack(raw)['lifetime_minor'] or 0) or 0
        end
        x = lifetime[e.l]
      end
      redis.call('SET', KEYS[e.u], cmsgpack.pack({e.v, now, x}), 'EX', e.t)
      first = first + 1
      redis.call('HINCRBY', KEYS[e.a], 'n', 1)
      if e.l > 0 then redis.call('HINCRBY', KEYS[e.a], 'customers', 1) end
      if x ~= 0 then
        redis.call('HINCRBY', KEYS[e.a], 'x', x)
        redis.call('HINCRBYFLOAT', KEYS[e.a], 'xx', string.format('%.17g', x * x))
      end
    end
  end
  return first
end
"""
EXPOSE = "#!lua\n" + _EXPOSE_FUNCTION + "return expose(cjson.decode(ARGV[1]), tonumber(ARGV[2]))\n"
"""KEYS: the exposures' unit, arm and ledger keys; ARGV[1] the exposures (JSON), ARGV[2] the time."""
PAGE_READS = "#!lua flags=no-writes\n" + _READS_FUNCTION + "return page_reads(1, 2, 3, ARGV[1], 2)\n"
"""KEYS: session, recent list, ledger, live run, coupon set; ARGV: the signed customer id or '', the prefixes."""
READ_AND_EXPOSE = (
    "#!lua\n" + _READS_FUNCTION + _EXPOSE_FUNCTION
    + "expose(cjson.decode(ARGV[7]), tonumber(ARGV[8]))\nreturn page_reads(1, 2, 3, ARGV[1], 2)\n"
)  # fmt: skip
"""A page view that records nothing but exposures: KEYS as :data:`PAGE_READS` then the exposures' keys; ARGV as
:data:`PAGE_READS`, then the exposures and the time."""
VIEW_AND_READ = (
    "#!lua\n" + _APPLY_BODY + _READS_FUNCTION + _EXPOSE_FUNCTION
    + "if ARGV[8] then expose(cjson.decode(ARGV[8]), tonumber(ARGV[9])) end\n"
    + f"return page_reads(1, 5, {READ_KEYS_AT}, ARGV[2], 3)\n"
)  # fmt: skip
"""A page view: KEYS and ARGV[1] as in :data:`APPLY` (then the exposures' keys), ARGV[2] the signed customer id,
then the prefixes, the exposures and the time (when there are any)."""
