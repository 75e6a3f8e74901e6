import { normalizeOptions } from '../options.js';
import { runCrawl } from '../crawl/crawl.js';
import { RedisFrontier } from '../frontier/redis-frontier.js';
import type { RedisQueue } from '../frontier/redis-queue.js';
import type { FetchResult } from '../result.js';
import type { BodyOutputMode } from '../keep/body-form.js';
import type { JobRun } from './job.js';
import { workerOptions } from './job.js';
import { fleetParts } from './fleet-parts.js';
import { crawlCodec } from './crawl-payload.js';
import { hostPaceReporter, leaseFor, MAX_LEASE_EXPIRIES, type WorkOptions } from './worker.js';

/**
 * The worker loop of a crawl job (`volley work` on a job enqueued with `--follow` or `--sitemap`): the same
 * `runCrawl` as a local crawl, with the job's rules, pulling from the job's frontier in Redis (RedisFrontier) instead
 * of one in memory. Its rows are written to the job by the frontier's completions; `onRow` gets those this worker
 * wrote. On abort, what it holds goes back to the job at once.
 */
export async function workCrawl(queue: RedisQueue, run: JobRun, opts: WorkOptions): Promise<{ written: number; released: number }> {
  const { worker, concurrency, signal } = opts;
  const leaseMs = opts.leaseMs ?? leaseFor(run);
  const bodyMode: BodyOutputMode | null = run.body ?? null;
  const bodyRow = bodyMode ? (await import('../cli/kept-rows.js')).bodyRow : null;
  const rowText = (row: FetchResult): string => JSON.stringify(bodyRow && bodyMode ? bodyRow(row, bodyMode) : row);
  const options = normalizeOptions({ ...workerOptions(run), concurrency, signal, onWarning: opts.onWarning });
  if (options.follow === null) throw new TypeError('workCrawl: the job has no crawl rules');
  const frontier = new RedisFrontier(queue, {
    worker,
    concurrency,
    leaseMs,
    wait: opts.wait,
    signal,
    follow: options.follow,
    codec: crawlCodec(run),
    rowText,
    onRow: opts.onRow,
    maxLeaseExpiries: MAX_LEASE_EXPIRIES,
  });
  let released = 0;
  try {
    // The rows come back here too; they are the frontier's to write, so this loop only drives the crawl.
    for await (const _row of runCrawl([], options, frontier, { onHostPace: hostPaceReporter(queue), ...fleetParts(queue, options, signal) })) void _row;
  } finally {
    released = await frontier.settle();
  }
  return { written: frontier.written, released };
}
