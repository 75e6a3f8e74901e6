/**
 * The Lua scripts of the fleet-wide host state (issue 21): the dead-host breaker (redis-breaker.ts) and the shared
 * robots.txt files (redis-robots.ts). Run through `RedisQueue.run`, so, as the queue's own scripts
 * (redis-scripts.ts), each takes KEYS[1] = the job's settings key and ARGV[1] = the prefix `volley:{JOB}:`, builds
 * its keys from the prefix (one hash slot), and reads the time from Redis (`TIME`), never from a worker.
 *
 * The data layout (P = `volley:{JOB}:`):
 *
 *   P brk          hash    HOST -> "failures\tlastCode": closed hosts with a failure streak that has not tripped
 *   P brkopen      hash    HOST -> "failures\tlastCode\tcooldownMs\tprobeAt\tprobeUntil": open (or half-open) hosts;
 *                          probeUntil > now while a probe is out (0 when none): a probe whose worker died is
 *                          given up at probeUntil and the next request probes
 *   P brkver       string  bumped on every change of the two hashes: a worker's snapshot is fresh while it matches
 *   P robots:ORIGIN       string  a robots.txt outcome (JSON, redis-robots.ts), with a TTL
 *   P robots-lock:ORIGIN  string  the token of the worker fetching it (SET NX PX): the others wait
 *
 * The breaker's states and transitions are HostBreaker's (schedule/breaker.ts), which this mirrors step by step.
 */

const BREAKER_PRELUDE = `
local P = ARGV[1]
local K_BRK, K_OPEN, K_VER = P .. 'brk', P .. 'brkopen', P .. 'brkver'
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function split(v)
  local out = {}
  for part in string.gmatch(v, '[^\\t]+') do out[#out + 1] = part end
  return out
end
local function put_open(host, failures, code, cooldown, probeAt, probeUntil)
  redis.call('HSET', K_OPEN, host, failures .. '\\t' .. code .. '\\t' .. cooldown .. '\\t' .. probeAt .. '\\t' .. probeUntil)
  redis.call('INCR', K_VER)
end
`;

/**
 * ARGV: P, host, probeHoldMs. The moment before a request goes out. Replies {'closed'}; {'probe', failures, code}
 * (this caller is the host's one probe, held for probeHoldMs at most); or {'open', failures, code, msUntilProbe}.
 */
export const BRK_ADMIT = `${BREAKER_PRELUDE}
local host = ARGV[2]
local v = redis.call('HGET', K_OPEN, host)
if not v then return {'closed'} end
local s = split(v)
local failures, code, cooldown, probeAt, probeUntil = tonumber(s[1]), s[2], tonumber(s[3]), tonumber(s[4]), tonumber(s[5])
local now = now_ms()
if now < probeAt or probeUntil > now then return {'open', failures, code, math.max(0, probeAt - now)} end
put_open(host, failures, code, cooldown, probeAt, now + tonumber(ARGV[3]))
return {'probe', failures, code}
`;

/**
 * ARGV: P, host, outcome ('response' or an error code), admission ('closed' or 'probe'), hostFailure ('1' when the
 * code is one of HOST_FAILURE_CODES), maxHostErrors, cooldownMs, maxCooldownMs.
 * Replies {tripped (1 for the call that tripped it), state ('closed' | 'counting' | 'open'), failures, code,
 * msUntilProbe, probing (1 while a probe is out)}.
 */
export const BRK_RECORD = `${BREAKER_PRELUDE}
local host, outcome, admission = ARGV[2], ARGV[3], ARGV[4]
local hostFailure = ARGV[5] == '1'
local maxErrors, cooldownMs, maxCooldown = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local now = now_ms()
local v = redis.call('HGET', K_OPEN, host)
if v then
  if outcome == 'response' then
    redis.call('HDEL', K_OPEN, host)
    redis.call('INCR', K_VER)
    return {0, 'closed', 0, '', 0, 0}
  end
  local s = split(v)
  local failures, code, cooldown, probeAt, probeUntil = tonumber(s[1]), s[2], tonumber(s[3]), tonumber(s[4]), tonumber(s[5])
  if admission == 'probe' then
    probeUntil = 0
    if hostFailure then
      failures = failures + 1
      code = outcome
      cooldown = math.min(cooldown * 2, maxCooldown)
      probeAt = now + cooldown
    end
    put_open(host, failures, code, cooldown, probeAt, probeUntil)
  end
  return {0, 'open', failures, code, math.max(0, probeAt - now), probeUntil > now and 1 or 0}
end
if outcome == 'response' then
  if redis.call('HDEL', K_BRK, host) == 1 then redis.call('INCR', K_VER) end
  return {0, 'closed', 0, '', 0, 0}
end
local streak = redis.call('HGET', K_BRK, host)
if not hostFailure then
  if streak then return {0, 'counting', tonumber(split(streak)[1]), split(streak)[2], 0, 0} end
  return {0, 'closed', 0, '', 0, 0}
end
local failures = (streak and tonumber(split(streak)[1]) or 0) + 1
if failures >= maxErrors then
  redis.call('HDEL', K_BRK, host)
  put_open(host, failures, outcome, cooldownMs, now + cooldownMs, 0)
  return {1, 'open', failures, outcome, cooldownMs, 0}
end
redis.call('HSET', K_BRK, host, failures .. '\\t' .. outcome)
if not streak then redis.call('INCR', K_VER) end
return {0, 'counting', failures, outcome, 0, 0}
`;

/**
 * ARGV: P, the version the caller knows. Replies {version} when it is still current, else {version, open, counting}:
 * open = flat {host, failures, code, msUntilProbe, probing}, counting = the hosts with a streak.
 */
export const BRK_SNAPSHOT = `${BREAKER_PRELUDE}
local ver = redis.call('GET', K_VER) or '0'
if ver == ARGV[2] then return {ver} end
local now = now_ms()
local open = {}
local all = redis.call('HGETALL', K_OPEN)
for i = 1, #all, 2 do
  local s = split(all[i + 1])
  local probeAt, probeUntil = tonumber(s[4]), tonumber(s[5])
  open[#open + 1] = all[i]
  open[#open + 1] = tonumber(s[1])
  open[#open + 1] = s[2]
  open[#open + 1] = math.max(0, probeAt - now)
  open[#open + 1] = probeUntil > now and 1 or 0
end
return {ver, open, redis.call('HKEYS', K_BRK)}
`;

/**
 * ARGV: P, origin, token, lockMs. A robots.txt outcome for the origin: {1, json} when stored; {2} when the caller
 * now holds the lock and must fetch it; {0, msLeft} when another worker holds it (wait, ask again).
 */
export const ROBOTS_GET = `
local key, lock = ARGV[1] .. 'robots:' .. ARGV[2], ARGV[1] .. 'robots-lock:' .. ARGV[2]
local v = redis.call('GET', key)
if v then return {1, v} end
if redis.call('SET', lock, ARGV[3], 'NX', 'PX', tonumber(ARGV[4])) then return {2} end
return {0, math.max(0, redis.call('PTTL', lock))}
`;

/** ARGV: P, origin, token, json ('' to store nothing), ttlMs. Stores the outcome and drops the lock if still ours. */
export const ROBOTS_PUT = `
local key, lock = ARGV[1] .. 'robots:' .. ARGV[2], ARGV[1] .. 'robots-lock:' .. ARGV[2]
if ARGV[4] ~= '' then redis.call('SET', key, ARGV[4], 'PX', tonumber(ARGV[5])) end
if redis.call('GET', lock) == ARGV[3] then redis.call('DEL', lock) end
return 1
`;
