import { RedisQueue, type QueueClient, type RedisQueueOptions } from '../frontier/redis-queue.js';
import { QueueError } from './errors.js';

/**
 * A worker's Redis commands through a restart or a dropped connection (issue 21). node-redis reconnects by itself
 * (RedisQueue.connect's reconnectStrategy), but a command does not survive the gap: one on the wire when the socket
 * dies is rejected ("Socket closed unexpectedly", ECONNRESET), one sent while it is down is rejected at once
 * ("The client is offline": connect() turns node-redis's offline queue off, so no command waits unseen in a
 * queue of its own for a server that may never return), and a restarted Redis answers LOADING while it reads its
 * AOF. This wrapper sends such a command again, waiting 100 ms, then doubling up to 2 s, until the connection has
 * been failing for `giveUpMs` (60 s): then it throws a {@link RedisLostError}, and `volley work` exits 69.
 *
 * Sending again is safe for what a worker sends: renew, release, reap, pause, status and the breaker's and
 * robots.txt's scripts are idempotent; a completion whose reply was lost is refused the second time (the request
 * is final already: the row is in Redis once, and only this worker's local -o copy misses it); a claim whose reply
 * was lost leaves its requests leased to this worker, which does not know them: their lease runs out and a reap
 * gives them to the fleet again, as after a worker's death. Enqueue is not retried (not idempotent without
 * --dedupe), and is not a worker's.
 */


/** Thrown once Redis has been unreachable for the whole of `giveUpMs`: a QueueError REDIS_LOST (the CLI's exit 69). */
export class RedisLostError extends QueueError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('REDIS_LOST', message, options);
  }
}

export interface RetryOptions {
  /** How long the connection may fail before a command gives up, in ms. @default 60000 */
  giveUpMs?: number;
  /** The first wait before sending again; doubled each time. @default 100 */
  firstDelayMs?: number;
  /** The longest wait between two sends. @default 2000 */
  maxDelayMs?: number;
  /** Told of each failure that will be retried (a warning, once per outage is the caller's choice). */
  onRetry?: (error: Error) => void;
}

/** node-redis's errors for a connection lost or not there (by message: its classes set no `name` of their own). */
const CONNECTION_MESSAGES = /^(Socket closed unexpectedly|The client is offline|Connection timeout|Socket timeout)/;
const CONNECTION_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTCONN', 'EAI_AGAIN']);

/** Whether `error` says the connection is lost or Redis is still loading its data: the command may be sent again. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (CONNECTION_MESSAGES.test(error.message) || error.message.startsWith('LOADING')) return true;
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' && CONNECTION_CODES.has(code);
}

/** `client` whose commands are sent again through a lost connection (see above). */
export function retrying(client: QueueClient, options: RetryOptions = {}): QueueClient {
  const giveUpMs = options.giveUpMs ?? 60_000;
  const firstDelayMs = options.firstDelayMs ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 2_000;
  for (const [name, value] of Object.entries({ giveUpMs, firstDelayMs, maxDelayMs })) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`Expected \`${name}\` to be an integer from 1 and up, got \`${String(value)}\` (${typeof value})`);
  }
  /** When the connection started failing (performance.now()); null while commands get through. */
  let downSince: number | null = null;
  return {
    async sendCommand(args) {
      for (let delay = firstDelayMs; ; delay = Math.min(delay * 2, maxDelayMs)) {
        try {
          const reply = await client.sendCommand(args);
          downSince = null;
          return reply;
        } catch (error) {
          if (!isTransient(error)) throw error;
          const now = performance.now();
          downSince ??= now;
          const downFor = now - downSince;
          if (downFor >= giveUpMs) {
            throw new RedisLostError(`lost the connection to Redis for ${Math.round(downFor / 1000)} s, giving up (last: ${(error as Error).message})`, { cause: error });
          }
          options.onRetry?.(error as Error);
          await new Promise((resolve) => setTimeout(resolve, Math.min(delay, giveUpMs - downFor)));
        }
      }
    },
  };
}

/** A queue on the same job and connection as `queue`, whose commands go through {@link retrying}. */
export function retryingQueue(queue: RedisQueue, retry: RetryOptions = {}, options: RedisQueueOptions = {}): RedisQueue {
  return new RedisQueue(retrying(queue.client, retry), queue.job, options);
}
