import type { QueueStatus } from '../frontier/redis-queue.js';
import type { CrawlStatus } from '../frontier/redis-crawl.js';
import type { JobStatus } from '../queue/api.js';
import { connectQueue, parseFlags, takeTarget } from './queue-args.js';
import type { CliIo } from './run.js';
import { UsageError } from './usage-error.js';

/** `volley queue status|results|drop`: looking at a job, taking its rows, deleting it. */

const QUEUE_HELP = `Usage: volley queue status|results|drop [--redis URL] [--job NAME]

  status [--json]                      pending, leased, done (ok / failed), hosts waiting, oldest lease, live workers, Redis memory;
                                       for a crawl, its level, URLs seen, links staged, pages over --max-pages
  results [-o FILE] [--follow]         every final row, in completion order; --follow waits for more until Ctrl-C
          [-f jsonl|csv|json]          the main command's formats (and --csv-raw); jsonl by default
          [--after ID]                 rows after stream id ID (printed on stderr at the end: resume from it)
          [--trim]                     deletes from Redis the rows written once the output has them (bounded
                                       memory; at-least-once: a crash before the trim exports them again)
  drop                                 deletes the job: settings, requests, rows

--redis defaults to REDIS_URL, then redis://127.0.0.1:6379; --job to "volley". Redis unreachable: exit 69.`;

function statusText(job: string, s: JobStatus): string {
  const crawl = s.crawl ?? null;
  const age = s.oldestLeaseMs === null ? 'none' : `${(s.oldestLeaseMs / 1000).toFixed(1)} s`;
  return [
    `job ${JSON.stringify(job)}: ${s.enqueued} enqueued${s.duplicates > 0 ? ` (${s.duplicates} duplicates dropped)` : ''}`,
    `  pending ${s.pending}, leased ${s.leased}, done ${s.ok + s.failed} (ok ${s.ok}, failed ${s.failed})`,
    `  hosts waiting on a limit ${s.hostsWaiting}, oldest lease ${age}, live workers ${s.liveWorkers}`,
    `  Redis memory used ${(s.redisMemoryBytes / 1024 / 1024).toFixed(1)} MiB (the whole server)`,
    ...(crawl === null ? [] : [crawlText(crawl)]),
  ].join('\n');
}

function crawlText(c: CrawlStatus): string {
  return [
    `  crawl: depth ${c.depth} (deepest queued ${c.deepest}), seen ${c.seen}, staged for the next level ${c.staged}`,
    `  crawl: ${c.admitted} requested${c.maxPages === null ? '' : ` of --max-pages ${c.maxPages}`}, ${c.overMaxPages} over max pages, ${c.duplicates} duplicates, ${c.outOfScope} out of scope, ${c.filtered} filtered`,
  ].join('\n');
}

export async function queueCommand(argv: string[], io: Pick<CliIo, 'stdout' | 'stderr'>, signal: AbortSignal): Promise<number> {
  const { target, rest } = takeTarget(argv);
  const [action, ...flags] = rest;
  if (action === undefined || action === '--help' || action === '-h' || action === 'help') {
    io.stdout.write(`${QUEUE_HELP}\n`);
    return action === undefined ? 2 : 0;
  }
  if (action === 'status') {
    const a = parseFlags('queue status', flags, { boolean: ['json'] });
    if (a._.length > 0) throw new UsageError(`volley queue status takes no words, got ${JSON.stringify(String(a._[0]))}`);
    const queue = await connectQueue(target);
    try {
      // A job that was never defined (or was dropped) has no counts to give: said, not an error.
      const { statusOn } = await import('../queue/api.js');
      const status = await statusOn(queue);
      if (a.json === true) io.stdout.write(`${JSON.stringify({ job: target.job, defined: status !== null, ...status })}\n`);
      else io.stdout.write(`${status === null ? `job ${JSON.stringify(target.job)}: no such job (nothing enqueued, or dropped)` : statusText(target.job, status)}\n`);
      return 0;
    } finally {
      await queue.close().catch(() => {});
    }
  }
  if (action === 'results') {
    const { resultsCommand } = await import('./queue-results.js');
    return resultsCommand(() => connectQueue(target), flags, io, signal);
  }
  if (action === 'drop') {
    const a = parseFlags('queue drop', flags, {});
    if (a._.length > 0) throw new UsageError(`volley queue drop takes no words, got ${JSON.stringify(String(a._[0]))}`);
    const queue = await connectQueue(target);
    try {
      const keys = await queue.drop();
      io.stderr.write(`volley: job ${JSON.stringify(target.job)} dropped (${keys} keys deleted)\n`);
      return 0;
    } finally {
      await queue.close().catch(() => {});
    }
  }
  throw new UsageError(`volley queue: unknown action ${JSON.stringify(action)}: status, results or drop`);
}
