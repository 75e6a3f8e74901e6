import { afterAll, describe, expect, it } from 'vitest';
import { RedisQueue } from '../src/frontier/redis-queue.js';
import { isTransient, retrying, RedisLostError } from '../src/queue/redis-retry.js';
import { findRedis, REDIS_MISSING, startRedis, type RedisServer } from './fixtures/redis.js';

/** A worker's Redis commands through a lost connection (issue 21): retried with backoff, given up after a set time. */

/** A client whose first `failures` commands fail with `error`. */
function flaky(failures: number, error: () => Error): { sendCommand(args: ReadonlyArray<string>): Promise<unknown>; calls: number } {
  const client = {
    calls: 0,
    sendCommand: async (args: ReadonlyArray<string>) => {
      client.calls++;
      if (client.calls <= failures) throw error();
      return `reply to ${args[0]}`;
    },
  };
  return client;
}

const errno = (code: string): Error => Object.assign(new Error(`read ${code}`), { code });

describe('retrying', () => {
  it('tells a lost connection or a loading Redis from every other error', () => {
    for (const message of ['Socket closed unexpectedly', 'The client is offline', 'Connection timeout', 'LOADING Redis is loading the dataset in memory']) {
      expect({ message, transient: isTransient(new Error(message)) }).toEqual({ message, transient: true });
    }
    expect(isTransient(errno('ECONNRESET'))).toBe(true);
    expect(isTransient(errno('ECONNREFUSED'))).toBe(true);
    for (const message of ['The client is closed', 'NOSCRIPT No matching script', 'ERR wrong number of arguments', 'VOLLEY_NO_JOB the job has no settings']) {
      expect({ message, transient: isTransient(new Error(message)) }).toEqual({ message, transient: false });
    }
    expect(isTransient('ECONNRESET')).toBe(false);
  });

  it('sends a command again through a lost connection and LOADING, then answers', async () => {
    const lost = flaky(3, () => new Error('Socket closed unexpectedly'));
    const retried: string[] = [];
    expect(await retrying(lost, { firstDelayMs: 1, onRetry: (e) => retried.push(e.message) }).sendCommand(['PING'])).toBe('reply to PING');
    expect(lost.calls).toBe(4);
    expect(retried).toHaveLength(3);
    const loading = flaky(2, () => new Error('LOADING Redis is loading the dataset in memory'));
    expect(await retrying(loading, { firstDelayMs: 1 }).sendCommand(['GET', 'k'])).toBe('reply to GET');
  });

  it('does not retry any other error', async () => {
    const broken = flaky(5, () => new Error('ERR unknown command'));
    await expect(retrying(broken, { firstDelayMs: 1 }).sendCommand(['NOPE'])).rejects.toThrow('ERR unknown command');
    expect(broken.calls).toBe(1);
  });

  it('gives up once the connection has failed for giveUpMs: one error, code REDIS_LOST (a QueueError), naming the last failure', async () => {
    const down = flaky(Infinity, () => errno('ECONNREFUSED'));
    const error = await retrying(down, { giveUpMs: 200, firstDelayMs: 10, maxDelayMs: 50 }).sendCommand(['PING']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisLostError);
    expect(error).toMatchObject({ code: 'REDIS_LOST', name: 'QueueError' });
    expect((error as Error).message).toMatch(/^lost the connection to Redis for \d+ s, giving up \(last: read ECONNREFUSED\)$/);
    expect(down.calls).toBeGreaterThan(1);
  });

  it('checks its options', () => {
    expect(() => retrying(flaky(0, () => new Error('x')), { giveUpMs: 0 })).toThrow('Expected `giveUpMs` to be an integer from 1 and up, got `0` (number)');
  });
});

const redisBinary = findRedis();
if (!redisBinary) console.warn(`skipping the redis part of test/redis-retry.test.ts: ${REDIS_MISSING}`);

describe.skipIf(!redisBinary)('retrying against a real redis-server restarted with AOF', () => {
  let redis: RedisServer | undefined;
  afterAll(async () => {
    await redis?.stop();
  });

  it('a queue\'s commands while Redis restarts wait for it and then go through; its data survives', async () => {
    redis = await startRedis({ appendonly: true });
    const queue = await RedisQueue.connect(redis.url, 'retry');
    try {
      let retries = 0;
      const q = new RedisQueue(retrying(queue.client, { firstDelayMs: 20, onRetry: () => retries++ }), 'retry');
      await q.define({ perHost: 1, run: null });
      await q.enqueue([{ key: 'k1', host: 'a.test:80', payload: '{"url":"http://a.test/"}' }]);
      // The server goes away first; the command is sent while it is down, and retried until it is back.
      await queue.client.sendCommand(['SHUTDOWN', 'NOSAVE']).catch(() => undefined);
      const status = q.status();
      await redis.restart({ appendonly: true });
      expect(await status).toMatchObject({ enqueued: 1, pending: 1 });
      expect(retries).toBeGreaterThan(0);
      expect((await q.claim('w', 5, 60_000)).map((c) => c.payload)).toEqual(['{"url":"http://a.test/"}']);
    } finally {
      await queue.close();
    }
  });
});
