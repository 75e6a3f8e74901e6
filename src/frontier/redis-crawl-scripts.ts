import { FINAL_ROW, PRELUDE } from './redis-scripts.js';

/**
 * The Lua scripts of a crawl through the shared queue (redis-crawl.ts), beside the queue's own (redis-scripts.ts,
 * whose PRELUDE and data layout they extend, and whose FINAL_ROW writes every final row). Constants, not `.lua`
 * files, for the reason given there.
 *
 * The crawl's keys (P = `volley:{JOB}:`, the same hash slot as the queue's):
 *
 *   P crawl            hash    maxPages (-1: none), depth (the level being crawled), admitted (seeds and links
 *                              queued or staged: what maxPages counts), deepest, duplicates, overMaxPages,
 *                              outOfScope, filtered
 *   P crawl:seen:HHHH  hash    the seen set, in 65,536 buckets: a URL key's SHA-1 starts with the bucket's 4 hex
 *                              digits HHHH (2 bytes), and the next 14 bytes are its field (value ''). Small hashes are
 *                              listpacks, ~18 B an entry: from ~1M URLs on, about 20-25 B a URL, not the ~80 B of
 *                              one big set's entries (and their 16-byte members); a bucket past 128 entries (about
 *                              8M URLs) becomes a hash table, still exact. `seen` in P crawl counts them.
 *   P crawl:stage:D    list    links found for depth D (host "\n" payload), not yet requests: a level is promoted
 *                              into the host queues only once the level before it has nothing pending or leased
 *   P crawl:claims     hash    URL -> the request whose redirect claimed it, until that request's row is final
 *
 * Breadth-first across the fleet, as the local frontier is in one process: a level's links wait in its stage list
 * until the level above is done (no request pending or leased), so the first time a URL is seen is by a shortest
 * path, whatever order the workers finish in. The promotion is chunked (PROMOTE moves at most `chunk` per call):
 * no script holds Redis for the length of a whole level.
 */
const CRAWL_PRELUDE = `
local K_CRAWL, K_CLAIMS = P .. 'crawl', P .. 'crawl:claims'
local function stage_key(d) return P .. 'crawl:stage:' .. d end
-- A URL's place in the seen set: the first 16 bytes of its SHA-1, 2 for the bucket and 14, as bytes, for the field.
-- Exact for any crawl: a collision among 2^64 URLs is as likely as not.
local function seen_slot(url)
  local hex = redis.sha1hex(url)
  local b = {}
  for i = 5, 32, 2 do b[#b + 1] = tonumber(string.sub(hex, i, i + 1), 16) end
  return P .. 'crawl:seen:' .. string.sub(hex, 1, 4), string.char(unpack(b))
end
local newlySeen = 0
-- true when url was not seen (it is now).
local function seen_add(url)
  local key, field = seen_slot(url)
  if redis.call('HSETNX', key, field, '') == 1 then
    newlySeen = newlySeen + 1
    return true
  end
  return false
end
local function seen_has(url)
  local key, field = seen_slot(url)
  return redis.call('HEXISTS', key, field) == 1
end
local function seen_done()
  if newlySeen > 0 then redis.call('HINCRBY', K_CRAWL, 'seen', newlySeen) end
end
local crawlConf = redis.call('HMGET', K_CRAWL, 'maxPages', 'admitted', 'depth')
if not crawlConf[1] then return redis.error_reply('VOLLEY_NO_CRAWL the job is not a crawl: enqueue it with --follow or --sitemap') end
local maxPages, admitted, level = tonumber(crawlConf[1]), num(crawlConf[2]), num(crawlConf[3])
local function room() return maxPages < 0 or admitted < maxPages end
local added = 0
local touched = {}
-- A new request at the back of its host's queue (as ENQUEUE queues one).
local function add_request(host, payload)
  local id = redis.call('INCR', K_SEQ)
  redis.call('HSET', K_REQ, id, host .. '\\n' .. payload)
  redis.call('RPUSH', qkey(host), id)
  touched[host] = true
  added = added + 1
end
local function added_done(now)
  for host in pairs(touched) do sync(host, perHost, now) end
  if added > 0 then
    redis.call('HINCRBY', K_STATS, 'enqueued', added)
    redis.call('HINCRBY', K_STATS, 'pending', added)
  end
end
`;

/** ARGV: P, maxPages (-1 for none). Makes the job a crawl when it is not one yet; returns the stored maxPages. */
export const CRAWL_DEFINE = `
local K_CRAWL = ARGV[1] .. 'crawl'
redis.call('HSETNX', K_CRAWL, 'maxPages', ARGV[2])
redis.call('HSETNX', K_CRAWL, 'depth', 0)
return tonumber(redis.call('HGET', K_CRAWL, 'maxPages'))
`;

/**
 * ARGV: P, then (url key, host, payload) triples. A seed with a key is queued at depth 0 when the seen set does not
 * have it and maxPages has room (it is then seen and admitted); one without (key '': not a URL to crawl) is queued
 * as is, for its error row. Returns {added, duplicates, overMaxPages}.
 */
export const CRAWL_SEED = `${PRELUDE}${CRAWL_PRELUDE}
local now = now_ms()
local dups, over = 0, 0
for i = 2, #ARGV, 3 do
  local url, host, payload = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if url == '' then
    add_request(host, payload)
  else
    if seen_has(url) then
      dups = dups + 1
    elseif not room() then
      over = over + 1
    else
      seen_add(url)
      admitted = admitted + 1
      add_request(host, payload)
    end
  end
end
added_done(now)
seen_done()
redis.call('HSET', K_CRAWL, 'admitted', admitted)
if dups > 0 then redis.call('HINCRBY', K_CRAWL, 'duplicates', dups) end
if over > 0 then redis.call('HINCRBY', K_CRAWL, 'overMaxPages', over) end
return {added, dups, over}
`;

/**
 * ARGV: P, worker, then per page: id, ok "1"/"0", row, depth of its links, nLinks, nClaims, outOfScope, filtered,
 * nLinks (url key, host, payload) triples, nClaims URLs. The page's final row is written as COMPLETE writes it
 * (FINAL_ROW: the lease check, one final row); in the same step, and only then, its links are offered: a new one
 * (not in the seen set) is seen, admitted while maxPages has room, and staged for its depth, or queued at once when
 * its depth is not below the level being crawled (a seed enqueued into a running crawl). The claims its redirects
 * made are let go of. Returns 1 per page whose row this call wrote, else 0 (another worker's lease: its links are
 * that worker's to offer).
 */
export const CRAWL_COMPLETE = `${PRELUDE}${FINAL_ROW}${CRAWL_PRELUDE}
local now = now_ms()
local worker = ARGV[2]
local out = {}
local ok, failed, dups, over, outOfScope, filtered, deepest = 0, 0, 0, 0, 0, 0, 0
local i = 3
while i <= #ARGV do
  local id, good, row, depth = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  local nLinks, nClaims = tonumber(ARGV[i + 4]), tonumber(ARGV[i + 5])
  local firstLink = i + 8
  local firstClaim = firstLink + 3 * nLinks
  local host = final_row(worker, id, good, row)
  if host then
    touched[host] = true
    if good == '1' then ok = ok + 1 else failed = failed + 1 end
    outOfScope = outOfScope + tonumber(ARGV[i + 6])
    filtered = filtered + tonumber(ARGV[i + 7])
    for j = firstLink, firstClaim - 1, 3 do
      if not room() then
        if not seen_has(ARGV[j]) then over = over + 1 end
      elseif not seen_add(ARGV[j]) then
        dups = dups + 1
      else
        admitted = admitted + 1
        if depth <= level then add_request(ARGV[j + 1], ARGV[j + 2])
        else redis.call('RPUSH', stage_key(depth), ARGV[j + 1] .. '\\n' .. ARGV[j + 2]) end
        if depth > deepest then deepest = depth end
      end
    end
    for j = firstClaim, firstClaim + nClaims - 1 do redis.call('HDEL', K_CLAIMS, ARGV[j]) end
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
  i = firstClaim + nClaims
end
-- The pages' hosts, and the hosts of links queued at once.
added_done(now)
seen_done()
if ok > 0 then redis.call('HINCRBY', K_STATS, 'ok', ok) end
if failed > 0 then redis.call('HINCRBY', K_STATS, 'failed', failed) end
redis.call('HSET', K_CRAWL, 'admitted', admitted)
if deepest > num(redis.call('HGET', K_CRAWL, 'deepest')) then redis.call('HSET', K_CRAWL, 'deepest', deepest) end
if dups > 0 then redis.call('HINCRBY', K_CRAWL, 'duplicates', dups) end
if over > 0 then redis.call('HINCRBY', K_CRAWL, 'overMaxPages', over) end
if outOfScope > 0 then redis.call('HINCRBY', K_CRAWL, 'outOfScope', outOfScope) end
if filtered > 0 then redis.call('HINCRBY', K_CRAWL, 'filtered', filtered) end
return out
`;

/**
 * ARGV: P, url key, id. A redirect of request id is about to request url: 1 when url is new (now seen, and claimed
 * by id until id's row is final), or was claimed by id itself (the same request run again after its worker died);
 * 0 when it was seen otherwise (the redirect is not followed).
 */
export const CRAWL_CLAIM = `${PRELUDE}${CRAWL_PRELUDE}
local url, id = ARGV[2], ARGV[3]
if seen_add(url) then
  seen_done()
  if id ~= '' then redis.call('HSET', K_CLAIMS, url, id) end
  return 1
end
if id ~= '' and redis.call('HGET', K_CLAIMS, url) == id then return 1 end
redis.call('HINCRBY', K_CRAWL, 'duplicates', 1)
return 0
`;

/**
 * ARGV: P, chunk. Moves up to chunk staged links of the level being crawled into the host queues; when that level
 * has none left and nothing is pending or leased, the next level becomes the one crawled first. Returns {level,
 * moved, left}: left counts what still keeps the crawl going (pending, leased, staged at this level and the next);
 * 0 left and 0 moved: the crawl is over.
 */
export const CRAWL_PROMOTE = `${PRELUDE}${CRAWL_PRELUDE}
local now = now_ms()
local chunk = tonumber(ARGV[2])
local busy = num(redis.call('HGET', K_STATS, 'pending')) + redis.call('ZCARD', K_LEASES)
if redis.call('LLEN', stage_key(level)) == 0 and busy == 0 and redis.call('LLEN', stage_key(level + 1)) > 0 then
  level = level + 1
  redis.call('HSET', K_CRAWL, 'depth', level)
end
local moved = 0
local staged = redis.call('LPOP', stage_key(level), chunk)
if staged then
  for _, v in ipairs(staged) do
    local host, payload = host_of(v)
    add_request(host, payload)
  end
  moved = #staged
end
added_done(now)
return {level, moved, busy + moved + redis.call('LLEN', stage_key(level)) + redis.call('LLEN', stage_key(level + 1))}
`;

/** ARGV: P. {maxPages, level, admitted, seen, staged, deepest, duplicates, overMaxPages, outOfScope, filtered}. */
export const CRAWL_STATUS = `${PRELUDE}${CRAWL_PRELUDE}
local c = redis.call('HMGET', K_CRAWL, 'deepest', 'duplicates', 'overMaxPages', 'outOfScope', 'filtered', 'seen')
local staged = redis.call('LLEN', stage_key(level)) + redis.call('LLEN', stage_key(level + 1))
return {maxPages, level, admitted, num(c[6]), staged, num(c[1]), num(c[2]), num(c[3]), num(c[4]), num(c[5])}
`;
