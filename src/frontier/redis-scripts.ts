/**
 * The Lua scripts of the shared queue (redis-queue.ts), as string constants rather than `.lua` files beside the
 * module: the CLI is an esbuild bundle split into chunks (scripts/bundle.mjs), where a path computed from
 * `import.meta.url` would point into dist/cli/chunks/, and tsc copies no non-TS files. A constant goes wherever the
 * code goes, with no build step to forget. Each script is one atomic step of the queue; the data layout they share
 * is documented on PRELUDE.
 *
 * Every script takes KEYS[1] = the job's settings key (so a Redis Cluster routes the call to the job's slot) and
 * ARGV[1] = the job's key prefix `volley:{JOB}:`. The other keys are built from the prefix: per-host queues cannot be
 * declared in advance, and the `{JOB}` hash tag puts every one of them in the same slot as KEYS[1].
 * Time is always Redis's own (`TIME`), never a worker's clock. Redis 7 replicates a script's effects, not the
 * script, so reading TIME before writing is allowed.
 */

/**
 * The data layout (P = `volley:{JOB}:`):
 *
 *   P settings   hash     perHost, intervalMs, json (the run's settings), created (ms)
 *   P seq        string   the last request id given (INCR)
 *   P req        hash     id -> host "\n" payload, while the request is not final (deleted when it is)
 *   P q:HOST     list     ids pending for HOST, oldest first (Redis deletes an empty list)
 *   P hosts      zset     HOST -> its next allowed start (ms), for every host with pending work and in-flight below
 *                         perHost: the hosts a claim may take from are those scored <= now
 *   P inflight   hash     HOST -> requests leased (deleted at 0)
 *   P next       hash     HOST -> next allowed start (ms): pacing and pauses (deleted once the host is idle and due)
 *   P interval   hash     HOST -> its own gap between starts (Crawl-delay), when above the job's
 *   P leases     zset     id -> lease deadline (ms)
 *   P owner      hash     id -> the worker holding the lease
 *   P claimed    zset     id -> when it was leased (ms), for the oldest lease's age
 *   P tries      hash     id -> times leased
 *   P expired    hash     id -> times its lease expired
 *   P seen       set      fingerprints of requests enqueued with dedupe
 *   P stats      hash     enqueued, pending, duplicates, ok, failed
 *   P results    stream   one entry per final row: id, ok ("1"/"0"), row
 *   P workers    zset     worker -> last seen (ms)
 */
export const PRELUDE = `
local P = ARGV[1]
local K_SET, K_SEQ, K_REQ, K_HOSTS = P .. 'settings', P .. 'seq', P .. 'req', P .. 'hosts'
local K_INF, K_NEXT, K_IVL = P .. 'inflight', P .. 'next', P .. 'interval'
local K_LEASES, K_OWNER, K_CLAIMED, K_TRIES, K_EXP = P .. 'leases', P .. 'owner', P .. 'claimed', P .. 'tries', P .. 'expired'
local K_SEEN, K_STATS, K_RESULTS, K_WORKERS = P .. 'seen', P .. 'stats', P .. 'results', P .. 'workers'
local function qkey(host) return P .. 'q:' .. host end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function num(v) return tonumber(v) or 0 end
local function host_of(v)
  local i = string.find(v, '\\n', 1, true)
  return string.sub(v, 1, i - 1), string.sub(v, i + 1)
end
local function add_inflight(host, d)
  local n = redis.call('HINCRBY', K_INF, host, d)
  if n <= 0 then redis.call('HDEL', K_INF, host) end
end
-- Keeps the invariant of P hosts: a host is there, scored by its next start, exactly when it has pending work and
-- room under perHost. An idle host's pacing is forgotten once it is due.
local function sync(host, perHost, now)
  local inf = num(redis.call('HGET', K_INF, host))
  local pending = redis.call('EXISTS', qkey(host)) == 1
  local nextAt = num(redis.call('HGET', K_NEXT, host))
  if pending and inf < perHost then
    redis.call('ZADD', K_HOSTS, nextAt, host)
  else
    redis.call('ZREM', K_HOSTS, host)
    if not pending and inf == 0 and nextAt <= now then redis.call('HDEL', K_NEXT, host) end
  end
end
local gate = redis.call('HMGET', K_SET, 'perHost', 'intervalMs')
local perHost, interval = tonumber(gate[1]), tonumber(gate[2])
if not perHost then return redis.error_reply('VOLLEY_NO_JOB the job has no settings: define() it first') end
`;

/** ARGV: P, name=value pairs of the settings. Sets them when the job has none; returns the stored ones (flat). */
export const DEFINE = `
local K_SET = ARGV[1] .. 'settings'
if redis.call('EXISTS', K_SET) == 0 then
  local t = redis.call('TIME')
  local fields = {}
  for i = 2, #ARGV do fields[#fields + 1] = ARGV[i] end
  fields[#fields + 1] = 'created'
  fields[#fields + 1] = tostring(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
  redis.call('HSET', K_SET, unpack(fields))
end
return redis.call('HGETALL', K_SET)
`;

/** ARGV: P. The job's settings (flat), empty when it has none. */
export const SETTINGS = `return redis.call('HGETALL', ARGV[1] .. 'settings')`;

/**
 * ARGV: P, dedupe ("1"/"0"), then (fingerprint, host, payload) triples. Queues each at the back of its host's
 * queue under a new id; with dedupe, one whose fingerprint the job has seen is dropped. Returns {added, dropped}.
 */
export const ENQUEUE = `${PRELUDE}
local now = now_ms()
local dedupe = ARGV[2] == '1'
local added, dropped = 0, 0
local touched = {}
for i = 3, #ARGV, 3 do
  local key, host, payload = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if dedupe and redis.call('SADD', K_SEEN, key) == 0 then
    dropped = dropped + 1
  else
    local id = redis.call('INCR', K_SEQ)
    redis.call('HSET', K_REQ, id, host .. '\\n' .. payload)
    redis.call('RPUSH', qkey(host), id)
    touched[host] = true
    added = added + 1
  end
end
for host in pairs(touched) do sync(host, perHost, now) end
redis.call('HINCRBY', K_STATS, 'enqueued', added)
redis.call('HINCRBY', K_STATS, 'pending', added)
if dropped > 0 then redis.call('HINCRBY', K_STATS, 'duplicates', dropped) end
return {added, dropped}
`;

/**
 * ARGV: P, worker, max, leaseMs. Takes up to max requests from hosts whose gate is open (in-flight below perHost,
 * next start due), the longest-waiting hosts first; a paced host gives one request per claim. Stamps each host's
 * next start (now + its interval), counts the requests in flight, leases each to worker until now + leaseMs.
 * Returns a flat list of (id, payload, times leased).
 */
export const CLAIM = `${PRELUDE}
local now = now_ms()
local worker, max, leaseMs = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZADD', K_WORKERS, now, worker)
local out = {}
local taken = 0
local hosts = redis.call('ZRANGE', K_HOSTS, '-inf', now, 'BYSCORE', 'LIMIT', 0, max)
for _, host in ipairs(hosts) do
  if taken >= max then break end
  local ivl = math.max(interval, num(redis.call('HGET', K_IVL, host)))
  local room = math.min(perHost - num(redis.call('HGET', K_INF, host)), max - taken)
  if ivl > 0 then room = math.min(room, 1) end
  local got = 0
  if room > 0 then
    local ids = redis.call('LPOP', qkey(host), room)
    if ids then
      for _, id in ipairs(ids) do
        local v = redis.call('HGET', K_REQ, id)
        if v then
          local _, payload = host_of(v)
          redis.call('ZADD', K_LEASES, now + leaseMs, id)
          redis.call('HSET', K_OWNER, id, worker)
          redis.call('ZADD', K_CLAIMED, now, id)
          local tries = redis.call('HINCRBY', K_TRIES, id, 1)
          out[#out + 1] = id
          out[#out + 1] = payload
          out[#out + 1] = tries
          got = got + 1
        end
      end
    end
  end
  if got > 0 then
    add_inflight(host, got)
    -- Stamped even without pacing, so the hosts served last go to the back of the ready ones.
    redis.call('HSET', K_NEXT, host, now + ivl)
    taken = taken + got
  end
  sync(host, perHost, now)
end
if taken > 0 then redis.call('HINCRBY', K_STATS, 'pending', -taken) end
return out
`;

/**
 * The one place a final row is written (COMPLETE here, and a crawl's completion in redis-crawl-scripts.ts): when
 * worker still holds id's lease (so it is not final), appends the row to the results stream, deletes the request's
 * state, frees its host slot, and returns the host; else nil (the row is not written).
 */
export const FINAL_ROW = `
local function final_row(worker, id, good, row)
  local v = redis.call('HGET', K_REQ, id)
  if not (v and redis.call('HGET', K_OWNER, id) == worker) then return nil end
  local host = host_of(v)
  redis.call('XADD', K_RESULTS, '*', 'id', id, 'ok', good, 'row', row)
  redis.call('HDEL', K_REQ, id)
  redis.call('HDEL', K_OWNER, id)
  redis.call('ZREM', K_LEASES, id)
  redis.call('ZREM', K_CLAIMED, id)
  redis.call('HDEL', K_TRIES, id)
  redis.call('HDEL', K_EXP, id)
  add_inflight(host, -1)
  return host
end
`;

/**
 * ARGV: P, worker, then (id, ok "1"/"0", row) triples. For each request still leased by worker (so not final):
 * appends the row to the results stream, deletes the request's state, frees its host slot. Returns 1 for a row
 * written (the request's one final row), 0 for a lease this worker no longer holds.
 */
export const COMPLETE = `${PRELUDE}${FINAL_ROW}
local now = now_ms()
local worker = ARGV[2]
local out = {}
local ok, failed = 0, 0
local touched = {}
for i = 3, #ARGV, 3 do
  local id, good, row = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local host = final_row(worker, id, good, row)
  if host then
    touched[host] = true
    if good == '1' then ok = ok + 1 else failed = failed + 1 end
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
for host in pairs(touched) do sync(host, perHost, now) end
if ok > 0 then redis.call('HINCRBY', K_STATS, 'ok', ok) end
if failed > 0 then redis.call('HINCRBY', K_STATS, 'failed', failed) end
return out
`;

/** ARGV: P, worker, leaseMs, ids. Extends the leases worker still holds; 1 renewed, 0 lost. Marks worker alive. */
export const RENEW = `${PRELUDE}
local now = now_ms()
local worker, leaseMs = ARGV[2], tonumber(ARGV[3])
redis.call('ZADD', K_WORKERS, now, worker)
local out = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  if redis.call('HGET', K_OWNER, id) == worker then
    redis.call('ZADD', K_LEASES, now + leaseMs, id)
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
`;

/** Takes a lease off a request and puts it back pending: at the front of its host queue (front) or the back. */
const UNLEASE = `
local function unlease(id, front, now)
  local v = redis.call('HGET', K_REQ, id)
  redis.call('HDEL', K_OWNER, id)
  redis.call('ZREM', K_LEASES, id)
  redis.call('ZREM', K_CLAIMED, id)
  if not v then return nil end
  local host = host_of(v)
  if front then redis.call('LPUSH', qkey(host), id) else redis.call('RPUSH', qkey(host), id) end
  add_inflight(host, -1)
  redis.call('HINCRBY', K_STATS, 'pending', 1)
  return host
end
`;

/**
 * ARGV: P, worker, ids. The requests worker holds go back to the front of their host queues at once (in the order
 * given), their host slots freed. Returns how many were released.
 */
export const RELEASE = `${PRELUDE}${UNLEASE}
local now = now_ms()
local worker = ARGV[2]
local released = 0
local touched = {}
for i = #ARGV, 3, -1 do
  local id = ARGV[i]
  if redis.call('HGET', K_OWNER, id) == worker then
    local host = unlease(id, true, now)
    if host then touched[host] = true end
    released = released + 1
  end
end
for host in pairs(touched) do sync(host, perHost, now) end
return released
`;

/**
 * ARGV: P, maxExpiries, reaper, reaperLeaseMs, limit. Up to limit leases past their deadline: each counts an
 * expiry; one expired at most maxExpiries times goes back to the end of its host queue, slot freed; one expired
 * more often is leased to `reaper` instead (its host slot kept until then), for the caller to complete with its
 * LEASE_EXPIRED row through COMPLETE (so the one-final-row rule holds for it too; should the caller die first,
 * that lease expires and the next reap hands it out again). Returns {requeued, (id, payload, expiries)...}.
 */
export const REAP = `${PRELUDE}${UNLEASE}
local now = now_ms()
local maxExpiries, reaper, reaperLeaseMs, limit = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local ids = redis.call('ZRANGE', K_LEASES, '-inf', now, 'BYSCORE', 'LIMIT', 0, limit)
local out = {0}
local touched = {}
for _, id in ipairs(ids) do
  local n = redis.call('HINCRBY', K_EXP, id, 1)
  local v = redis.call('HGET', K_REQ, id)
  if n > maxExpiries and v then
    redis.call('HSET', K_OWNER, id, reaper)
    redis.call('ZADD', K_LEASES, now + reaperLeaseMs, id)
    local _, payload = host_of(v)
    out[#out + 1] = id
    out[#out + 1] = payload
    out[#out + 1] = n
  else
    local host = unlease(id, false, now)
    if host then touched[host] = true end
    out[1] = out[1] + 1
  end
end
for host in pairs(touched) do sync(host, perHost, now) end
return out
`;

/** ARGV: P, host, forMs, intervalMs. Pushes the host's next start to at least now + forMs; raises its own interval. */
export const PAUSE = `${PRELUDE}
local now = now_ms()
local host, forMs, ivl = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if forMs > 0 and now + forMs > num(redis.call('HGET', K_NEXT, host)) then redis.call('HSET', K_NEXT, host, now + forMs) end
if ivl > num(redis.call('HGET', K_IVL, host)) then redis.call('HSET', K_IVL, host, ivl) end
sync(host, perHost, now)
return now
`;

/**
 * ARGV: P, workerTtlMs. Returns {now, enqueued, pending, duplicates, ok, failed, leased, oldest claim (ms, or -1),
 * hosts waiting on a limit, live workers}. Writes nothing but the pruning of workers not seen within 10 TTLs.
 */
export const STATUS = `${PRELUDE}
local now = now_ms()
local ttl = tonumber(ARGV[2])
local s = redis.call('HMGET', K_STATS, 'enqueued', 'pending', 'duplicates', 'ok', 'failed')
local oldest = redis.call('ZRANGE', K_CLAIMED, 0, 0, 'WITHSCORES')
local waiting = redis.call('ZCOUNT', K_HOSTS, '(' .. now, '+inf')
local inf = redis.call('HGETALL', K_INF)
for i = 1, #inf, 2 do
  if tonumber(inf[i + 1]) >= perHost and redis.call('EXISTS', qkey(inf[i])) == 1 then waiting = waiting + 1 end
end
redis.call('ZREMRANGEBYSCORE', K_WORKERS, '-inf', now - 10 * ttl)
local workers = redis.call('ZCOUNT', K_WORKERS, now - ttl, '+inf')
return {now, num(s[1]), num(s[2]), num(s[3]), num(s[4]), num(s[5]), redis.call('ZCARD', K_LEASES), oldest[2] or -1, waiting, workers}
`;
