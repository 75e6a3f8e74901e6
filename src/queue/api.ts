import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { VolleyOptions } from '../options.js';
import { describeValue } from '../describe-value.js';
import type { FetchResult } from '../result.js';
import type { QueueRequest, QueueStatus } from '../frontier/redis-queue.js';
import type { CrawlStatus } from '../frontier/redis-crawl.js';
import type { SourceItem, UrlSource } from '../index.js';
import { connectJob, type ConnectedQueue } from './connect.js';
import { QueueError, queueErrorOf } from './errors.js';
import { JOB_OPTIONS, settingsDifference, type JobRun, type JobSettings } from './job.js';
import { boolean, checkKeys, librarySettings, objectOf, rowId, signalOf, TARGET_KEYS, targetOf } from './api-options.js';
import { toQueueItem } from './payload.js';
import type { RetryOptions } from './redis-retry.js';

/**
 * The shared queue from the library (issue 21): `enqueue`, `work`, `queueStatus`, `queueResults`, `trimResults`,
 * `dropJob`. The CLI's subcommands run through the same functions (the `…On` forms take a queue the caller has
 * connected), so the two cannot drift. Each public function opens its own connection and closes it, whatever
 * happens; Redis that cannot be reached is a {@link QueueError} `REDIS_UNAVAILABLE`.
 */

/** Where a job lives. */
export interface QueueTarget {
  /** `redis://` or `rediss://` (TLS), with password and database in the URL. @default process.env.REDIS_URL, then 'redis://127.0.0.1:6379' */
  redis?: string;
  /** The job's name: 1 to 200 letters, digits or `. _ : @ -`. @default 'volley' */
  job?: string;
}

/** The run options a job carries, stored with it so that every worker runs it the same way. */
export type JobOptions = Pick<VolleyOptions, (typeof JOB_OPTIONS)[number]>;

export interface EnqueueOptions extends QueueTarget, JobOptions {
  /** Drop a request the job already has (enqueued with `dedupe` too): method, URL and body compared exactly. @default false */
  dedupe?: boolean;
  /** Stops reading `source`: what was sent so far stays in the job, and `enqueue` resolves with its counts. */
  signal?: AbortSignal;
}

export interface EnqueueSummary {
  /** Requests added to the job. */
  added: number;
  /** Requests dropped by `dedupe` as already in the job. */
  dropped: number;
}

export interface WorkOptions extends QueueTarget {
  /** Requests this worker fetches at once. @default 50 */
  concurrency?: number;
  /** Keep waiting for more work (and for a job not enqueued yet) until `signal` aborts. @default false */
  wait?: boolean;
  /** Ends the worker: what it holds goes back to the job at once, and `work` resolves. */
  signal?: AbortSignal;
  /** Each final row this worker wrote (exactly once across the fleet), as it is written. */
  onRow?: (result: FetchResult) => void;
  onWarning?: (message: string) => void;
  /** This worker's name in the job. @default `${hostname}:${pid}:${random}` */
  worker?: string;
}

export interface WorkSummary {
  worker: string;
  /** Final rows this worker wrote. */
  written: number;
  /** Requests put back in the job when `signal` aborted. */
  released: number;
  /** Whether `signal` ended it (else the job had nothing pending or leased). */
  aborted: boolean;
}

export interface ResultsOptions extends QueueTarget {
  /** Read on after this row's `id` (from an earlier read); from the first row without one. */
  after?: string;
  /** After the last row, wait for more until `signal` aborts (or the loop is left). @default false */
  follow?: boolean;
  signal?: AbortSignal;
}

/** One final row of a job, in completion order. */
export interface QueueRow {
  /** Its id in the job's results: `after` reads on from it, `trimResults` deletes through it. */
  id: string;
  result: FetchResult;
}

/** Requests per enqueue round trip, results per read: a list is streamed, never read whole. */
const BATCH = 500;
const RESULTS_BATCH = 1000;
/** `follow` asks again this often when no new row has come. */
const FOLLOW_POLL_MS = 250;
/** How often a `wait`ing worker looks for a job not enqueued yet. */
const SETTINGS_POLL_MS = 500;

/** Runs `fn` on a fresh connection to the job, closed after; queue errors named (QueueError). */
async function withQueue<T>(target: { redis: string; job: string }, fn: (queue: ConnectedQueue) => Promise<T>): Promise<T> {
  const queue = await connectJob(target.redis, target.job);
  try {
    return await fn(queue);
  } catch (err) {
    throw queueErrorOf(err, target.job);
  } finally {
    await queue.close().catch(() => {});
  }
}

/**
 * Defines the job with `settings`, or checks them against the job's own (the first definer's): a difference is a
 * QueueError JOB_SETTINGS_DIFFER naming each. The CLI's `enqueue` and `enqueue()` alike.
 */
export async function defineJob(queue: ConnectedQueue, settings: JobSettings): Promise<void> {
  const stored = await queue.define(settings);
  const difference = settingsDifference(queue.job, stored, settings);
  if (difference !== null) throw new QueueError('JOB_SETTINGS_DIFFER', difference);
}

/** Streams `items` into a defined job, {@link BATCH} per round trip. The CLI's `enqueue` and `enqueue()` alike. */
export async function enqueueOn(queue: ConnectedQueue, items: AsyncIterable<QueueRequest> | Iterable<QueueRequest>, dedupe: boolean): Promise<EnqueueSummary> {
  const summary: EnqueueSummary = { added: 0, dropped: 0 };
  let batch: QueueRequest[] = [];
  const flush = async (): Promise<void> => {
    const r = await queue.enqueue(batch, { dedupe });
    summary.added += r.added;
    summary.dropped += r.dropped;
    batch = [];
  };
  for await (const request of items) {
    batch.push(request);
    if (batch.length >= BATCH) await flush();
  }
  if (batch.length > 0) await flush();
  return summary;
}

/**
 * Adds URLs and requests to a shared job on Redis, read from `source` as `fetchAll` reads it (any iterable or async
 * iterable, streamed in batches of 500, never held whole). The job options are stored with the job by the first
 * enqueue; a later enqueue with different ones rejects with `JOB_SETTINGS_DIFFER`, naming each difference.
 *
 * @example
 * const { added } = await enqueue(urls, { redis: 'redis://queue.internal:6379', job: 'shop', perHost: 2, timeoutMs: 10_000, dedupe: true });
 */
export async function enqueue(source: UrlSource, options?: EnqueueOptions): Promise<EnqueueSummary> {
  const o = objectOf('enqueue', options);
  checkKeys('enqueue', o, new Set([...TARGET_KEYS, 'dedupe', 'signal', ...JOB_OPTIONS]));
  const dedupe = boolean('dedupe', o.dedupe);
  const signal = signalOf(o.signal);
  const target = targetOf(o);
  const settings = librarySettings(o);
  const iterable = source as { [Symbol.iterator]?: unknown; [Symbol.asyncIterator]?: unknown } | null;
  if (iterable === null || typeof iterable !== 'object' || (typeof iterable[Symbol.iterator] !== 'function' && typeof iterable[Symbol.asyncIterator] !== 'function')) {
    throw new TypeError(`Expected \`source\` to be an iterable or async iterable of URLs and requests, got ${describeValue(source, 100)}`);
  }
  const run = settings.run;
  async function* requests(): AsyncGenerator<QueueRequest> {
    for await (const item of source as AsyncIterable<SourceItem>) {
      if (signal?.aborted) return;
      yield toQueueItem(item, run);
    }
  }
  return withQueue(target, async (queue) => {
    await defineJob(queue, settings);
    return enqueueOn(queue, requests(), dedupe);
  });
}

/** A row as Redis holds it (JSON) as a FetchResult: a body sent as base64 (`body: 'bytes'`) is bytes again. */
export function parseRow(row: string): FetchResult {
  const value = JSON.parse(row) as FetchResult & { bodyEncoding?: string };
  if (value.bodyEncoding === 'base64' && typeof value.body === 'string') {
    const { bodyEncoding: _encoding, body, ...rest } = value;
    return { ...rest, body: new Uint8Array(Buffer.from(body, 'base64')) } as FetchResult;
  }
  return value;
}

/** Waits `ms`, or less when `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The worker on a queue the caller connected: the CLI's `volley work` and `work()`. Rows come as Redis holds them. */
export async function workOn(
  queue: ConnectedQueue,
  options: {
    worker?: string;
    concurrency: number;
    wait: boolean;
    signal: AbortSignal;
    leaseMs?: number;
    onRow?: (row: string) => void;
    onWarning?: (message: string) => void;
    /** How the worker's commands ride out a Redis restart (queue/redis-retry.ts; 60 s, then REDIS_LOST). */
    retry?: RetryOptions;
  },
): Promise<WorkSummary & { defined: boolean }> {
  const worker = options.worker ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const { signal } = options;
  const idle = { worker, written: 0, released: 0, aborted: signal.aborted };
  if (signal.aborted) return { ...idle, defined: true };
  let settings = await queue.settings();
  if (settings === null && !options.wait) return { ...idle, defined: false };
  // `wait` on a job not enqueued yet: waits for its first enqueue (a worker fleet started before the list).
  while (settings === null && !signal.aborted) {
    await pause(SETTINGS_POLL_MS, signal);
    settings = await queue.settings();
  }
  if (settings === null) return { ...idle, aborted: true, defined: false };
  const { workQueue } = await import('./worker.js');
  // The worker's commands ride out a Redis restart; `retry.giveUpMs` (60 s) without Redis ends it with REDIS_LOST.
  const { retryingQueue } = await import('./redis-retry.js');
  const { written, released } = await workQueue(retryingQueue(queue, options.retry), (settings.run ?? null) as JobRun | null, {
    worker,
    concurrency: options.concurrency,
    wait: options.wait,
    leaseMs: options.leaseMs,
    signal,
    onRow: options.onRow ?? (() => {}),
    onWarning: options.onWarning,
  });
  return { worker, written, released, aborted: signal.aborted, defined: true };
}

/**
 * Works on a job: takes its requests, fetches them with the job's settings, and writes each final row to Redis
 * (exactly once across every worker). Resolves when the job has nothing pending or leased (with `wait`, only when
 * `signal` aborts). Aborting puts what this worker holds back in the job at once, not after its lease runs out.
 *
 * @example
 * const controller = new AbortController();
 * const summary = await work({ job: 'shop', concurrency: 20, signal: controller.signal, onRow: (r) => console.log(r.url, r.status) });
 */
export async function work(options?: WorkOptions): Promise<WorkSummary> {
  const o = objectOf('work', options);
  checkKeys('work', o, new Set([...TARGET_KEYS, 'concurrency', 'wait', 'signal', 'onRow', 'onWarning', 'worker']));
  const concurrency = o.concurrency ?? 50;
  if (typeof concurrency !== 'number' || !Number.isInteger(concurrency) || concurrency < 1 || concurrency > 100_000) {
    throw new RangeError(`Expected \`concurrency\` to be an integer from 1 to 100000, got ${describeValue(concurrency, 100)}`);
  }
  for (const name of ['onRow', 'onWarning'] as const) {
    if (o[name] !== undefined && typeof o[name] !== 'function') throw new TypeError(`Expected \`${name}\` to be a function, got ${describeValue(o[name], 100)}`);
  }
  if (o.worker !== undefined && typeof o.worker !== 'string') throw new TypeError(`Expected \`worker\` to be a string, got ${describeValue(o.worker, 100)}`);
  const wait = boolean('wait', o.wait);
  const given = signalOf(o.signal);
  const onRow = o.onRow as WorkOptions['onRow'];
  const target = targetOf(o);
  // A throwing `onRow` stops the worker as an abort does (what it holds goes back), then `work` rejects with it.
  // Its row is in Redis already: written before `onRow` saw it.
  const stop = new AbortController();
  const signal = given === undefined ? stop.signal : AbortSignal.any([given, stop.signal]);
  let thrown: { error: unknown } | null = null;
  const deliver = onRow && ((row: string): void => {
    if (thrown !== null) return;
    try {
      onRow(parseRow(row));
    } catch (error) {
      thrown = { error };
      stop.abort();
    }
  });
  const summary = await withQueue(target, (queue) =>
    workOn(queue, { worker: o.worker as string | undefined, concurrency, wait, signal, onRow: deliver, onWarning: o.onWarning as WorkOptions['onWarning'] }),
  );
  if (thrown !== null) throw (thrown as { error: unknown }).error;
  const { defined: _defined, ...rest } = summary;
  return { ...rest, aborted: given?.aborted === true };
}

/**
 * The job's counts: pending, leased, done (ok / failed), hosts waiting, the oldest lease, live workers, Redis memory.
 * Null for a job that does not exist (never enqueued, or dropped).
 */
export async function queueStatus(options?: QueueTarget): Promise<JobStatus | null> {
  const o = objectOf('queueStatus', options);
  checkKeys('queueStatus', o, TARGET_KEYS);
  return withQueue(targetOf(o), statusOn);
}

/** A job's counts, and a crawl's figures (seen set, level, max pages) when the job is one. */
export type JobStatus = QueueStatus & { crawl?: CrawlStatus };

/** A job's counts on a queue the caller connected (the CLI's `queue status`); null for no such job. */
export async function statusOn(queue: ConnectedQueue): Promise<JobStatus | null> {
  // A job never defined (or dropped) has no counts to give: said, not an error.
  if ((await queue.settings()) === null) return null;
  const status: JobStatus = await queue.status();
  // The crawl's script runs only for a job that is one (it answers null otherwise); its module is loaded here, by
  // the status command, never by a plain run.
  const crawl = await new (await import('../frontier/redis-crawl.js')).RedisCrawl(queue).status();
  if (crawl !== null) status.crawl = crawl;
  return status;
}

/** The job's final rows after `after`, as Redis holds them; with `follow`, waits for more until `signal` aborts. */
export async function* resultsOn(queue: ConnectedQueue, after: string | null, follow: boolean, signal: AbortSignal | undefined): AsyncGenerator<{ id: string; row: string }> {
  let last = after;
  while (!signal?.aborted) {
    const batch = await queue.results(last, RESULTS_BATCH);
    for (const r of batch) {
      last = r.streamId;
      yield { id: r.streamId, row: r.row };
    }
    if (batch.length > 0) continue;
    if (!follow) return;
    await pause(FOLLOW_POLL_MS, signal);
  }
}

/**
 * Every final row of the job, in completion order, read in batches. Resume with `after: row.id`; with `follow`,
 * waits for more rows until `signal` aborts or the loop is left. The connection opens on the first `next()` and
 * closes when the loop ends, however it ends.
 *
 * @example
 * for await (const { id, result } of queueResults({ job: 'shop', after: saved })) { save(result); saved = id; }
 */
export function queueResults(options?: ResultsOptions): AsyncIterable<QueueRow> {
  const o = objectOf('queueResults', options);
  checkKeys('queueResults', o, new Set([...TARGET_KEYS, 'after', 'follow', 'signal']));
  rowId('after', o.after, true);
  const follow = boolean('follow', o.follow);
  const signal = signalOf(o.signal);
  const target = targetOf(o);
  return {
    async *[Symbol.asyncIterator]() {
      const queue = await connectJob(target.redis, target.job);
      try {
        for await (const { id, row } of resultsOn(queue, (o.after as string | undefined) ?? null, follow, signal)) yield { id, result: parseRow(row) };
      } catch (err) {
        throw queueErrorOf(err, target.job);
      } finally {
        await queue.close().catch(() => {});
      }
    },
  };
}

/**
 * Deletes the job's final rows up to and including `through` (a row's `id`), once they are safely elsewhere, so
 * Redis memory stays bounded on a long job. Resolves with how many it deleted.
 */
export async function trimResults(options: QueueTarget & { through: string }): Promise<number> {
  const o = objectOf('trimResults', options);
  checkKeys('trimResults', o, new Set([...TARGET_KEYS, 'through']));
  const through = rowId('through', o.through, false) as string;
  return withQueue(targetOf(o), (queue) => queue.trimResults(through));
}

/** Deletes the job: its settings, requests and rows. Resolves with how many Redis keys it deleted. */
export async function dropJob(options?: QueueTarget): Promise<number> {
  const o = objectOf('dropJob', options);
  checkKeys('dropJob', o, TARGET_KEYS);
  return withQueue(targetOf(o), (queue) => queue.drop());
}
