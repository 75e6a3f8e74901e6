import { normalizeOptions } from '../options.js';
import { runPipeline } from '../pipeline.js';
import { FetchError } from '../errors.js';
import { failedResult, type FetchResult } from '../result.js';
import type { ClaimedRequest, RedisQueue } from '../frontier/redis-queue.js';
import type { SourceItem } from '../index.js';
import type { BodyOutputMode } from '../keep/body-form.js';
import type { JobRun } from './job.js';
import { workerOptions } from './job.js';
import { fromPayload } from './payload.js';
import { fleetParts } from './fleet-parts.js';
import { Wakeup } from '../sleep.js';

/**
 * The worker loop of `volley work` (issue 21): claims batches from the job, runs them through the library's
 * pipeline with the job's settings, writes each final row with `completeMany` (the row lives in Redis; only the rows
 * this worker's completion wrote go to `onRow`), keeps its leases alive, reaps expired ones, and on abort puts what
 * it holds back at once with `release`.
 *
 * The fleet-wide per-host gate is the claim script's; the pipeline keeps the job's per-host limit locally too.
 * Retry-After and Crawl-delay: the pipeline honours them for this worker, and tells the fleet through `hostPause`
 * (Redis then holds the host's next start for every worker's claims, on Redis time). A Crawl-delay is sent once per
 * host and value, not once per URL.
 */

export interface WorkOptions {
  /** This worker's name in the job (leases, live workers). */
  worker: string;
  concurrency: number;
  /** Keep waiting for more work when the job is empty. */
  wait: boolean;
  /** Lease length; default from the job's timeout and retries. */
  leaseMs?: number;
  signal: AbortSignal;
  /** A row this worker's completion wrote. */
  onRow(row: string): void;
  onWarning?: (message: string) => void;
}

/** Leases that expired this many times end the request with a LEASE_EXPIRED row. */
export const MAX_LEASE_EXPIRIES = 3;
/** How long an idle worker waits before asking again. */
const POLL_MS = 200;
/** Added to a lease over the run's own worst case (timeouts, backoff). */
const LEASE_MARGIN_MS = 30_000;

/** timeout × (retries + 1) + the backoff between tries + a margin. */
export function leaseFor(run: JobRun | null): number {
  const o = normalizeOptions(workerOptions(run));
  const tries = o.retries + 1;
  const backoff = o.retries * Math.min(o.maxRetryAfterMs, o.retryBaseMs * 2 ** o.retries);
  return Math.min(2_147_483_647, o.timeoutMs * tries + backoff + LEASE_MARGIN_MS);
}

/** Tells the fleet of a host's pause (Retry-After) or pace (Crawl-delay); a Crawl-delay once per host and value. */
export function hostPaceReporter(
  queue: RedisQueue,
  pausing?: Set<Promise<void>>,
): (host: string, pace: { pauseMs?: number; intervalMs?: number }) => void {
  const paced = new Map<string, number>();
  return (host, pace) => {
    const intervalMs = Math.ceil(pace.intervalMs ?? 0);
    if (pace.pauseMs === undefined && paced.get(host) === intervalMs) return;
    paced.set(host, Math.max(paced.get(host) ?? 0, intervalMs));
    // Best effort: a pause Redis did not get is still this worker's own. Kept in `pausing` until Redis has it, so a
    // caller can hold the rows that would free the host's next claim until then.
    const sent: Promise<void> = queue
      .hostPause(host, Math.ceil(pace.pauseMs ?? 0), intervalMs)
      .catch(() => {})
      .finally(() => pausing?.delete(sent));
    pausing?.add(sent);
  };
}

/** Runs the worker until the job has nothing pending or leased (or, with `wait`, until aborted). */
export async function workQueue(queue: RedisQueue, run: JobRun | null, opts: WorkOptions): Promise<{ written: number; released: number }> {
  // A crawl's worker pulls from the job's frontier in Redis (crawl-worker.ts).
  if (run?.crawl !== undefined) return (await import('./crawl-worker.js')).workCrawl(queue, run, opts);
  const { worker, concurrency, signal } = opts;
  const leaseMs = opts.leaseMs ?? leaseFor(run);
  const bodyMode: BodyOutputMode | null = run?.body ?? null;
  const bodyRow = bodyMode ? (await import('../cli/kept-rows.js')).bodyRow : null;
  /** Claimed and not yet completed (or released), by id. */
  const held = new Map<string, ClaimedRequest>();
  /** The pipeline's index of each item this worker gave it -> the request's id. */
  const ids = new Map<number, string>();
  let nextIndex = 0;
  const freed = new Wakeup();
  let written = 0;
  let lastReap = 0;
  /** Claiming failed for good (Redis gone): the run is cancelled, and its CANCELLED rows are not final. */
  let lost = false;

  // Completions batch themselves: rows that finish while one round trip is out go in the next.
  let pending: { id: string; row: string; ok: boolean }[] = [];
  let flushing: Promise<void> | null = null;
  let flushError: unknown = null;
  /** hostPause calls on their way to Redis: a row waits for them (see flush). */
  const pausing = new Set<Promise<void>>();
  const flush = async (): Promise<void> => {
    while (pending.length > 0) {
      // A completion frees its host's slot in Redis: the pause that request's response asked for must be there
      // first, or another worker could claim the host's next request in between.
      if (pausing.size > 0) await Promise.all([...pausing]);
      const batch = pending;
      pending = [];
      const wrote = await queue.completeMany(worker, batch);
      batch.forEach((entry, i) => {
        held.delete(entry.id);
        if (wrote[i] === true) {
          written++;
          opts.onRow(entry.row);
        }
      });
      freed.notify();
    }
  };
  const onHostPace = hostPaceReporter(queue, pausing);
  const complete = (id: string, result: FetchResult): void => {
    const row = JSON.stringify(bodyRow && bodyMode ? bodyRow(result, bodyMode) : result);
    pending.push({ id, row, ok: result.ok });
    kick();
  };
  /**
   * Starts a flush unless one is out. A row pushed after a flush's last look at `pending` but before its promise
   * settles would otherwise wait for the next completion, and at the end of a run for none (released, fetched again):
   * so a settling flush kicks again when rows are left.
   */
  const kick = (): void => {
    flushing ??= flush()
      .catch((err: unknown) => void (flushError ??= err))
      .finally(() => {
        flushing = null;
        if (pending.length > 0 && flushError === null) kick();
      });
  };

  const reap = async (): Promise<void> => {
    lastReap = Date.now();
    await queue.reap(MAX_LEASE_EXPIRIES);
  };
  // Leases renewed (and the worker seen alive) well before they run out; expired ones reaped now and then.
  const renewTimer = setInterval(() => {
    void queue.renew(worker, [...held.keys()], leaseMs).catch(() => {});
  }, Math.max(100, Math.floor(leaseMs / 3)));
  const reapTimer = setInterval(() => void reap().catch(() => {}), Math.max(200, Math.min(5_000, Math.floor(leaseMs / 2))));

  /** The last claim sent: its requests are this worker's once Redis has run it, whether or not we get to use them. */
  let claiming: Promise<ClaimedRequest[]> | null = null;
  async function* source(): AsyncGenerator<SourceItem> {
    try {
      yield* claims();
    } catch (err) {
      lost = true;
      throw err;
    }
  }
  async function* claims(): AsyncGenerator<SourceItem> {
    while (!signal.aborted) {
      // Completions that failed for good keep their requests held: waiting for room would wait forever.
      if (flushError !== null) throw flushError;
      // A slot is taken again once its completion is back, not when its result is out, and nothing is claimed
      // ahead: both were tried (bench W8, issue 21) and made 3 workers slower, not faster (README, Past one machine).
      if (held.size >= concurrency) {
        await freed.wait(POLL_MS, signal);
        continue;
      }
      if (pausing.size > 0) await Promise.all(pausing);
      // Held as soon as Redis answers, not when this generator resumes: an abort's release (below) waits for
      // the claim in flight, and the pipeline leaves this generator without waiting for it.
      claiming = queue.claim(worker, concurrency - held.size, leaseMs).then((claimed) => {
        for (const c of claimed) held.set(c.id, c);
        return claimed;
      });
      const claimed = await claiming;
      if (claimed.length === 0) {
        const status = await queue.status();
        // Leases of our own are finishing here; anyone else's may come back (a dead worker's, after a reap).
        if (!opts.wait && status.pending === 0 && status.leased <= held.size) return;
        if (Date.now() - lastReap >= 1_000) await reap().catch(() => {});
        await freed.wait(POLL_MS, signal);
        continue;
      }
      // The whole batch is held already (renewed, released on abort): the generator may be left at any yield.
      for (const c of claimed) {
        const item = fromPayload(c.payload, run);
        if (item instanceof FetchError) {
          complete(c.id, failedResult('', item));
          continue;
        }
        ids.set(nextIndex++, c.id);
        yield item;
      }
    }
  }

  const options = normalizeOptions({ ...workerOptions(run), concurrency, signal, onWarning: opts.onWarning });
  try {
    for await (const { index, result } of runPipeline(source(), options, { onHostPace, ...fleetParts(queue, options, signal) })) {
      const id = ids.get(index);
      if (id === undefined) continue;
      ids.delete(index);
      // An abort's CANCELLED rows are not final: those requests go back to the queue below (or, when the run
      // stopped because Redis is gone, to the fleet once their leases run out).
      if ((signal.aborted || lost) && result.error?.code === 'CANCELLED') continue;
      complete(id, result);
    }
    while (flushing !== null) await flushing;
    if (flushError !== null) throw flushError;
  } finally {
    clearInterval(renewTimer);
    clearInterval(reapTimer);
  }
  let released = 0;
  // (A cast: TypeScript cannot see the generator's assignment.)
  await (claiming as Promise<ClaimedRequest[]> | null)?.catch(() => {});
  if (held.size > 0) {
    released = await queue.release(worker, [...held.keys()]);
    held.clear();
  }
  // Best effort: a worker that could not say so drops out of the live count when its heartbeat ages out.
  await queue.leave(worker).catch(() => {});
  return { written, released };
}
