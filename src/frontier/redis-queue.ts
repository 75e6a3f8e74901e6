import { describeValue } from '../describe-value.js';
import { leaseExpiredRow } from './lease-expired.js';
import { nonNegativeInt, positiveInt, REAPER, sha1, workerName } from './queue-checks.js';
export { fingerprint } from './fingerprint.js';
export { LEASE_EXPIRED, leaseExpiredRow } from './lease-expired.js';
import { CLAIM, COMPLETE, DEFINE, ENQUEUE, PAUSE, REAP, RELEASE, RENEW, SETTINGS, STATUS } from './redis-scripts.js';

/**
 * A shared work queue for one job on Redis (issue 21): any number of workers on any machines claim requests,
 * under per-host limits that hold fleet-wide, and write exactly one final row per request. Each step is one Lua
 * script (redis-scripts.ts, where the data layout is described), so it is atomic in Redis and one round trip.
 * Every key is under `volley:{JOB}:`, one hash slot, so the job also works on a Redis Cluster.
 *
 * The `redis` package is loaded by `RedisQueue.connect` only (a dynamic import): a plain run never pays for it.
 */

/** The smallest client the queue needs: node-redis's `sendCommand` (a connected `createClient()` has it). */
export interface QueueClient {
  sendCommand(args: ReadonlyArray<string>): Promise<unknown>;
}

/** A request as the queue takes it. */
export interface QueueRequest {
  /** Its fingerprint (see {@link fingerprint}): what `dedupe` compares. */
  key: string;
  /** Its host (`hostname:port`): the per-host queue, limit and pacing it falls under. */
  host: string;
  /** The request serialised (JSON of a request object); handed back as is by `claim`. */
  payload: string;
}

/** A request a worker has claimed. */
export interface ClaimedRequest {
  id: string;
  payload: string;
  /** Times it has been leased, this one included (1 the first time). */
  leases: number;
}

/** The job's settings, stored with the job so that every worker runs it the same way. */
export interface QueueSettings {
  /** At most this many requests of one host leased at once, across all workers. @default 8 */
  perHost: number;
  /** The least gap between two starts on one host, across all workers, in ms (from `--delay` or `--rate`). @default 0 */
  intervalMs: number;
  /** The rest of the run's settings (timeout, retries, extraction, …), as the enqueuer gave them; JSON. */
  run: unknown;
}

export interface QueueStatus {
  enqueued: number;
  /** Waiting in a host queue. */
  pending: number;
  /** Leased to a worker (fetching, or lost with a dead worker until a reap). */
  leased: number;
  ok: number;
  failed: number;
  /** Dropped by `dedupe` as already in the job. */
  duplicates: number;
  /** Hosts with pending work that may not start now: at their per-host limit, paced or paused. */
  hostsWaiting: number;
  /** Age of the oldest lease (since it was claimed), in ms; null with nothing leased. */
  oldestLeaseMs: number | null;
  /** Workers seen (a claim, a renew, a heartbeat) within `workerTtlMs`. */
  liveWorkers: number;
  /** Redis's `used_memory` (INFO memory), in bytes: the whole server's, not only this job's. */
  redisMemoryBytes: number;
}

/** One final row from the results stream. */
export interface QueueResult {
  /** The stream entry's id: pass it as `fromId` to read on after it. */
  streamId: string;
  /** The request's id in the job. */
  id: string;
  ok: boolean;
  row: string;
}

export interface RedisQueueOptions {
  /** Requests per enqueue round trip. @default 500 */
  batchSize?: number;
  /** A worker not seen for this long is not counted live by `status()`. @default 30_000 */
  workerTtlMs?: number;
}

/** How long the reaper holds a request it is writing the LEASE_EXPIRED row of. */
const REAPER_LEASE_MS = 60_000;
const JOB_NAME = /^[A-Za-z0-9._:@-]{1,200}$/;

export class RedisQueue {
  /** `volley:{JOB}:` */
  readonly prefix: string;
  private readonly settingsKey: string;
  private readonly batchSize: number;
  private readonly workerTtlMs: number;
  private readonly shas = new Map<string, string>();

  /**
   * A queue for `job` on a connected client. The client stays the caller's (close it yourself); see
   * {@link RedisQueue.connect} for one that connects and loads the `redis` package.
   */
  constructor(
    readonly client: QueueClient,
    readonly job: string,
    options: RedisQueueOptions = {},
  ) {
    if (typeof job !== 'string' || !JOB_NAME.test(job)) {
      throw new TypeError(`Expected \`job\` to be 1 to 200 letters, digits or . _ : @ -, got ${describeValue(job, 100)}`);
    }
    this.prefix = `volley:{${job}}:`;
    this.settingsKey = `${this.prefix}settings`;
    this.batchSize = positiveInt('batchSize', options.batchSize ?? 500, 100_000);
    this.workerTtlMs = positiveInt('workerTtlMs', options.workerTtlMs ?? 30_000);
  }

  /**
   * Connects to `url` (`redis://` or `rediss://`, password and database in the URL) with the `redis` package,
   * loaded now. A Redis that cannot be reached at first rejects (no retrying forever); once connected, the client
   * reconnects by itself. `close()` the returned queue's connection when done.
   */
  static async connect(url: string, job: string, options: RedisQueueOptions = {}): Promise<RedisQueue & { close(): Promise<void> }> {
    const { createClient } = await import('redis');
    let connected = false;
    const client = createClient({
      url,
      socket: { connectTimeout: 5000, reconnectStrategy: (retries: number, cause: Error) => (connected ? Math.min(50 * 2 ** retries, 2000) : cause) },
      // A command sent while the connection is down fails at once instead of waiting, unbounded, in node-redis's
      // own queue for a server that may never come back: a worker retries it (queue/redis-retry.ts), others fail.
      disableOfflineQueue: true,
    });
    // node-redis emits every socket error; without a listener one would end the process. The commands waiting on
    // the connection fail (or wait for the reconnect) on their own.
    client.on('error', () => {});
    await client.connect();
    connected = true;
    const queue = new RedisQueue(client as unknown as QueueClient, job, options) as RedisQueue & { close(): Promise<void> };
    queue.close = async () => {
      // close() waits for replies a lost connection would never bring: a client not ready is torn down.
      if (client.isReady) await client.close();
      else client.destroy();
    };
    return queue;
  }

  /** Runs a script by its SHA1, sending its text only when Redis does not have it (first use, or after a restart).
   * @internal the fleet-wide host state and the crawl frontier run their own scripts on the same connection. */
  async run(script: string, args: ReadonlyArray<string>): Promise<unknown> {
    let sha = this.shas.get(script);
    if (sha === undefined) {
      sha = sha1(script);
      this.shas.set(script, sha);
    }
    const rest = ['1', this.settingsKey, this.prefix, ...args];
    try {
      return await this.client.sendCommand(['EVALSHA', sha, ...rest]);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.client.sendCommand(['EVAL', script, ...rest]);
    }
  }

  /**
   * Stores the job's settings when it has none yet and returns the job's settings: the first definer's, whoever
   * calls. A worker runs with what this returns, never with its own.
   */
  async define(settings: Partial<QueueSettings> = {}): Promise<QueueSettings> {
    const perHost = positiveInt('perHost', settings.perHost ?? 8, 1_000_000);
    const intervalMs = nonNegativeInt('intervalMs', settings.intervalMs ?? 0);
    const reply = (await this.run(DEFINE, ['perHost', String(perHost), 'intervalMs', String(intervalMs), 'json', JSON.stringify(settings.run ?? null)])) as string[];
    return parseSettings(reply);
  }

  /** The job's settings, or null when the job has none (not defined, or dropped). */
  async settings(): Promise<QueueSettings | null> {
    // Through a script: node-redis turns a bare HGETALL's reply into an object.
    const reply = (await this.run(SETTINGS, [])) as string[];
    return reply.length === 0 ? null : parseSettings(reply);
  }

  /**
   * Adds requests at the back of their hosts' queues, `batchSize` per round trip. With `dedupe`, a request whose
   * key the job has seen (from an enqueue with dedupe) is dropped: exact, a Redis set of the fingerprints.
   */
  async enqueue(requests: Iterable<QueueRequest>, options: { dedupe?: boolean } = {}): Promise<{ added: number; dropped: number }> {
    const dedupe = options.dedupe === true ? '1' : '0';
    let added = 0;
    let dropped = 0;
    let batch: string[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const [a, d] = (await this.run(ENQUEUE, [dedupe, ...batch])) as [number, number];
      added += a;
      dropped += d;
      batch = [];
    };
    for (const request of requests) {
      if (request.host.includes('\n')) throw new TypeError(`Expected \`host\` without a line break, got ${describeValue(request.host, 100)}`);
      batch.push(request.key, request.host, request.payload);
      if (batch.length >= this.batchSize * 3) await flush();
    }
    await flush();
    return { added, dropped };
  }

  /**
   * Leases up to `max` requests to `worker` for `leaseMs`, from hosts whose gate is open, in one round trip.
   * Fewer (or none) when the ready hosts have no more room; call again later.
   */
  async claim(worker: string, max: number, leaseMs: number): Promise<ClaimedRequest[]> {
    const reply = (await this.run(CLAIM, [workerName(worker), String(positiveInt('max', max, 100_000)), String(positiveInt('leaseMs', leaseMs))])) as (string | number)[];
    const claimed: ClaimedRequest[] = [];
    for (let i = 0; i < reply.length; i += 3) claimed.push({ id: String(reply[i]), payload: String(reply[i + 1]), leases: Number(reply[i + 2]) });
    return claimed;
  }

  /** Writes a request's final row when `worker` still holds its lease; true when this call wrote it. */
  async complete(worker: string, id: string, row: string, ok: boolean): Promise<boolean> {
    const [wrote] = await this.completeMany(worker, [{ id, row, ok }]);
    return wrote === true;
  }

  /** `complete` for many requests in one round trip; one boolean per entry, in order. */
  async completeMany(worker: string, rows: ReadonlyArray<{ id: string; row: string; ok: boolean }>): Promise<boolean[]> {
    if (rows.length === 0) return [];
    const args: string[] = [workerName(worker)];
    for (const { id, row, ok } of rows) args.push(id, ok ? '1' : '0', row);
    return this.completeAs(args);
  }

  private async completeAs(args: string[]): Promise<boolean[]> {
    const reply = (await this.run(COMPLETE, args)) as number[];
    return reply.map((n) => n === 1);
  }

  /** Extends the leases `worker` still holds to `leaseMs` from now; false for each lease it has lost. Also a heartbeat. */
  async renew(worker: string, ids: ReadonlyArray<string>, leaseMs: number): Promise<boolean[]> {
    const reply = (await this.run(RENEW, [workerName(worker), String(positiveInt('leaseMs', leaseMs)), ...ids])) as number[];
    return reply.map((n) => n === 1);
  }

  /** Marks `worker` alive (status's live workers) without renewing anything. */
  async heartbeat(worker: string): Promise<void> {
    await this.renew(worker, [], 1);
  }

  /** `worker` has stopped: no longer counted among the live workers (status) until it is heard from again. */
  async leave(worker: string): Promise<void> {
    await this.client.sendCommand(['ZREM', `${this.prefix}workers`, workerName(worker)]);
  }

  /** Puts back the requests `worker` holds, at the front of their host queues, at once (SIGINT). Returns how many. */
  async release(worker: string, ids: ReadonlyArray<string>): Promise<number> {
    if (ids.length === 0) return 0;
    return (await this.run(RELEASE, [workerName(worker), ...ids])) as number;
  }

  /**
   * Returns expired leases to their host queues (any worker may run it, as often as it likes). A request whose
   * lease has now expired more than `maxExpiries` times ends instead, with a LEASE_EXPIRED row (`rowFor`'s).
   * Up to `limit` leases per call.
   */
  async reap(maxExpiries: number, options: { limit?: number; rowFor?: (payload: string, expiries: number) => string } = {}): Promise<{ requeued: number; expired: number }> {
    const limit = positiveInt('limit', options.limit ?? 1000, 100_000);
    const reply = (await this.run(REAP, [String(nonNegativeInt('maxExpiries', maxExpiries, 1_000_000)), REAPER, String(REAPER_LEASE_MS), String(limit)])) as (string | number)[];
    const requeued = Number(reply[0]);
    const rowFor = options.rowFor ?? leaseExpiredRow;
    const args: string[] = [REAPER];
    for (let i = 1; i < reply.length; i += 3) args.push(String(reply[i]), '0', rowFor(String(reply[i + 1]), Number(reply[i + 2])));
    const expired = args.length > 1 ? (await this.completeAs(args)).filter(Boolean).length : 0;
    return { requeued, expired };
  }

  /**
   * Holds every request to `host`, for every worker, until `forMs` from now by Redis's clock (a Retry-After);
   * a longer pause already set wins. `intervalMs` raises the host's own gap between starts (robots.txt
   * Crawl-delay) over the job's; never lowers it.
   */
  async hostPause(host: string, forMs: number, intervalMs = 0): Promise<void> {
    await this.run(PAUSE, [host, String(nonNegativeInt('forMs', forMs)), String(nonNegativeInt('intervalMs', intervalMs))]);
  }

  async status(): Promise<QueueStatus> {
    const [reply, info] = await Promise.all([this.run(STATUS, [String(this.workerTtlMs)]) as Promise<number[]>, this.client.sendCommand(['INFO', 'memory']) as Promise<string>]);
    const [now, enqueued, pending, duplicates, ok, failed, leased, oldest, hostsWaiting, liveWorkers] = reply.map(Number) as number[] as [number, number, number, number, number, number, number, number, number, number];
    return {
      enqueued,
      pending,
      leased,
      ok,
      failed,
      duplicates,
      hostsWaiting,
      oldestLeaseMs: oldest < 0 ? null : Math.max(0, now - oldest),
      liveWorkers,
      redisMemoryBytes: Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? 0),
    };
  }

  /** Final rows in completion order, after `fromId` (a `streamId`; from the start without one), at most `count`. */
  async results(fromId: string | null = null, count = 1000): Promise<QueueResult[]> {
    const reply = (await this.client.sendCommand(['XRANGE', `${this.prefix}results`, fromId === null ? '-' : `(${fromId}`, '+', 'COUNT', String(positiveInt('count', count, 1_000_000))])) as [string, string[]][];
    return reply.map(([streamId, fields]) => {
      const entry: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) entry[fields[i] as string] = fields[i + 1] as string;
      return { streamId, id: entry.id ?? '', ok: entry.ok === '1', row: entry.row ?? '' };
    });
  }

  /**
   * Deletes the final rows up to and including `throughId` (a `streamId`), exactly (XTRIM MINID without `~`), once
   * they are exported, so the results stream stays bounded. Returns how many it deleted.
   */
  async trimResults(throughId: string): Promise<number> {
    const m = /^(\d+)-(\d+)$/.exec(throughId);
    if (m === null) throw new TypeError(`Expected a stream id like "1733389200000-0", got ${describeValue(throughId, 100)}`);
    // MINID keeps ids >= its argument: the id just after `throughId`.
    const next = `${m[1]}-${BigInt(m[2] as string) + 1n}`;
    return Number(await this.client.sendCommand(['XTRIM', `${this.prefix}results`, 'MINID', next]));
  }

  /** Deletes every key of the job (settings, queues, leases, results). Returns how many keys it deleted. */
  async drop(): Promise<number> {
    const pattern = `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = (await this.client.sendCommand(['SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000'])) as [string, string[]];
      cursor = next;
      if (keys.length > 0) deleted += Number(await this.client.sendCommand(['UNLINK', ...keys]));
    } while (cursor !== '0');
    return deleted;
  }
}

function parseSettings(flat: string[]): QueueSettings {
  const fields: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
  return { perHost: Number(fields.perHost), intervalMs: Number(fields.intervalMs), run: fields.json === undefined ? null : JSON.parse(fields.json) };
}
