import { redactUrl } from '../errors.js';
import type { RedisQueue } from '../frontier/redis-queue.js';
import { QueueError } from './errors.js';

/**
 * Where a job lives and the connection to it, for the library and the CLI: the URL's default (the option, then
 * REDIS_URL, then the local default), the job name's, and a connection whose failure is one QueueError
 * (REDIS_UNAVAILABLE), never a stack trace or a wait without end (RedisQueue.connect does not retry a first
 * connection and gives up after its connect timeout).
 */

/** The Redis URL when neither the option nor REDIS_URL says otherwise. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** The job when none is named. */
export const DEFAULT_JOB = 'volley';

/** A connected queue; `close()` it when done. */
export type ConnectedQueue = RedisQueue & { close(): Promise<void> };

/** The Redis URL to use: `given`, else REDIS_URL, else {@link DEFAULT_REDIS_URL}. Not a redis(s) URL: a TypeError. */
export function redisUrl(given: unknown, env: NodeJS.ProcessEnv = process.env): string {
  if (given !== undefined && typeof given !== 'string') {
    throw new TypeError(`Expected \`redis\` to be a redis:// or rediss:// URL string, got ${typeof given}`);
  }
  const url = given?.trim() || env.REDIS_URL?.trim() || DEFAULT_REDIS_URL;
  if (!/^rediss?:\/\//.test(url)) throw new TypeError(`Expected \`redis\` to be a redis:// or rediss:// URL, got ${JSON.stringify(redactUrl(url))}`);
  return url;
}

/** Connects to `job` on `redis` (already defaulted), loading the `redis` package now. */
export async function connectJob(redis: string, job: string): Promise<ConnectedQueue> {
  const { RedisQueue } = await import('../frontier/redis-queue.js');
  // The job name checked before connecting (the constructor's own check, on a client that is never used).
  void new RedisQueue({ sendCommand: () => Promise.reject(new Error('unused')) }, job);
  try {
    return await RedisQueue.connect(redis, job);
  } catch (err) {
    // A mistake of ours (a bad call) is a bug, not an unreachable server.
    if (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError) throw err;
    const e = err as NodeJS.ErrnoException;
    const why = e?.code && !String(e.message).includes(e.code) ? `${e.message} (${e.code})` : String(e?.message ?? err);
    throw new QueueError('REDIS_UNAVAILABLE', `cannot reach Redis at ${redactUrl(redis)}: ${why || 'connection failed'}`, { cause: err });
  }
}
