import type { NormalizedOptions } from '../options.js';
import type { PipelineParts } from '../pipeline.js';
import { RedisBreaker } from '../frontier/redis-breaker.js';
import { RedisRobotsStore } from '../frontier/redis-robots.js';
import type { RedisQueue } from '../frontier/redis-queue.js';
import { ROBOTS_MAX_REDIRECTS } from '../robots/robots-rules.js';

/** A lock or a probe is held this much past the worst case of the request(s) it covers. */
const HOLD_MARGIN_MS = 30_000;

/**
 * The pipeline parts that make a worker's host state the job's (issue 21): the dead-host breaker and robots.txt,
 * kept in Redis so every worker sees the same. The per-host gate, Retry-After and Crawl-delay are the claim
 * script's and `hostPause`'s (worker.ts).
 */
export function fleetParts(queue: RedisQueue, options: NormalizedOptions, signal: AbortSignal): Pick<PipelineParts, 'breaker' | 'robotsStore'> {
  const parts: Pick<PipelineParts, 'breaker' | 'robotsStore'> = {};
  if (options.maxHostErrors > 0) {
    // A probe is one attempt: the job's timeout bounds it.
    parts.breaker = new RedisBreaker(queue, options.maxHostErrors, { cooldownMs: options.hostCooldownMs, probeHoldMs: options.timeoutMs + HOLD_MARGIN_MS });
  }
  if (options.respectRobots) {
    // One fetch of a robots.txt is up to ROBOTS_MAX_REDIRECTS + 1 attempts.
    parts.robotsStore = new RedisRobotsStore(queue, { lockMs: options.timeoutMs * (ROBOTS_MAX_REDIRECTS + 1) + HOLD_MARGIN_MS, signal });
  }
  return parts;
}
