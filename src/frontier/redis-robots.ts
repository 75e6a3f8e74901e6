import { randomBytes } from 'node:crypto';
import type { RobotsFile, RobotsStore } from '../robots/robots-rules.js';
import { sleep } from '../sleep.js';
import { ROBOTS_GET, ROBOTS_PUT } from './redis-host-scripts.js';
import type { RedisQueue } from './redis-queue.js';

/**
 * robots.txt once per origin per job (issue 21): the first worker to need an origin's file takes a lock in Redis
 * (SET NX PX), fetches it as any run does (the job's limits, redirects, size cap) and stores the outcome under the
 * job's key for `ttlMs`; the others wait for it, asking again with a growing pause, and take the fetch over if the
 * lock runs out (its worker died or hung). What is shared is the outcome, not the rules: each worker parses the
 * text itself (robots-rules.ts), so nothing but plain data crosses Redis.
 */

export interface RedisRobotsOptions {
  /** How long a stored outcome is used: RFC 9309 §2.4 lets a crawler cache a robots.txt up to 24 h. @default 86400000 */
  ttlMs?: number;
  /** How long a fetching worker holds the lock before another may take over. @default 120000 */
  lockMs?: number;
  /** Ends the wait (and stores nothing fetched after it): the worker is stopping. */
  signal?: AbortSignal;
}

/** The waits between two asks while another worker fetches: doubling from the first to the last. */
const FIRST_WAIT_MS = 25;
const LAST_WAIT_MS = 1_000;

export class RedisRobotsStore implements RobotsStore {
  private readonly ttlMs: number;
  private readonly lockMs: number;
  private readonly signal: AbortSignal;

  constructor(
    private readonly queue: Pick<RedisQueue, 'run'>,
    options: RedisRobotsOptions = {},
  ) {
    this.ttlMs = positive('ttlMs', options.ttlMs ?? 86_400_000);
    this.lockMs = positive('lockMs', options.lockMs ?? 120_000);
    this.signal = options.signal ?? new AbortController().signal;
  }

  async get(origin: string, fetch: () => Promise<RobotsFile>): Promise<RobotsFile> {
    const token = randomBytes(8).toString('hex');
    for (let wait = FIRST_WAIT_MS; ; wait = Math.min(wait * 2, LAST_WAIT_MS)) {
      this.signal.throwIfAborted();
      const [kind, value] = (await this.queue.run(ROBOTS_GET, [origin, token, String(this.lockMs)])) as [number, string | number | undefined];
      if (kind === 1) return parseFile(String(value));
      if (kind === 2) return this.fetchAndStore(origin, token, fetch);
      // Another worker fetches: ask again soon, never later than its lock runs out.
      await sleep(Math.max(1, Math.min(wait, Number(value ?? wait))), this.signal);
    }
  }

  private async fetchAndStore(origin: string, token: string, fetch: () => Promise<RobotsFile>): Promise<RobotsFile> {
    let file: RobotsFile | null = null;
    try {
      file = await fetch();
      return file;
    } finally {
      // A fetch cut short by the worker's stop says nothing about the site: the lock is given up, nothing stored.
      const json = file !== null && !this.signal.aborted ? JSON.stringify(file) : '';
      await this.queue.run(ROBOTS_PUT, [origin, token, json, String(this.ttlMs)]).catch(() => {});
    }
  }
}

function parseFile(json: string): RobotsFile {
  const file = JSON.parse(json) as RobotsFile;
  if (file.kind === 'text' && typeof file.text === 'string') return { kind: 'text', text: file.text };
  if (file.kind === 'allow-all' || file.kind === 'disallow-all') return { kind: file.kind };
  throw new Error(`a stored robots.txt outcome of an unknown form: ${json.slice(0, 100)}`);
}

function positive(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new RangeError(`Expected \`${name}\` to be an integer from 1 and up, got \`${String(value)}\` (${typeof value})`);
  return value;
}
