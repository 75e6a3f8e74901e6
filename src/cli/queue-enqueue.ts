import type { QueueRequest } from '../frontier/redis-queue.js';
import { parseCli } from './args.js';
import { planInputs, urlsOf } from './inputs.js';
import { readPlainBody } from './run-files.js';
import { connectQueue, takeTarget } from './queue-args.js';
import { jobSettings, settingsDifference } from '../queue/job.js';
import { toQueueRequest } from '../queue/payload.js';
import type { CliIo } from './run.js';
import { UsageError } from './usage-error.js';

/** Requests per enqueue round trip: the list is read and sent this many at a time, never whole. */
const BATCH = 500;

/**
 * `volley enqueue --redis URL --job NAME [inputs] [job flags] [--dedupe]`: the inputs read as the main command
 * reads them (its parser, its input planner), streamed into the job in batches; the job flags stored with the job.
 */
export async function enqueueCommand(argv: string[], io: Pick<CliIo, 'stdin' | 'stdout' | 'stderr'>): Promise<number> {
  const { target, rest } = takeTarget(argv);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${ENQUEUE_HELP}\n`);
    return 0;
  }
  const parsed = await parseCli(rest);
  if (parsed.kind === 'info') {
    io.stdout.write(`${parsed.text}\n`);
    return 0;
  }
  const { config } = parsed;
  // Here --dedupe is the job's (an exact set in Redis), not the run's in-memory one.
  const dedupe = config.options.dedupe === true;
  config.options = { ...config.options, dedupe: undefined };
  const plan = planInputs(config);
  const body = await readPlainBody(config.requestBody, config.options.headers, plan, io.stdin);
  const settings = jobSettings(config, body);
  if (settings.run.crawl !== undefined && dedupe) {
    throw new UsageError('enqueue: --dedupe is for a list; a crawl (--follow, --sitemap) drops every URL it has seen already by its own seen set: leave --dedupe out');
  }

  const queue = await connectQueue(target);
  try {
    const stored = await queue.define(settings);
    const difference = settingsDifference(target.job, stored, settings);
    if (difference !== null) throw new UsageError(difference);
    if (settings.run.crawl !== undefined) {
      const { enqueueCrawl } = await import('./queue-enqueue-crawl.js');
      return await enqueueCrawl(queue, target.job, config, settings.run, plan, io);
    }
    let added = 0;
    let dropped = 0;
    let batch: QueueRequest[] = [];
    const flush = async (): Promise<void> => {
      const r = await queue.enqueue(batch, { dedupe });
      added += r.added;
      dropped += r.dropped;
      batch = [];
    };
    for await (const item of urlsOf(plan, io.stdin)) {
      batch.push(toQueueRequest(item, settings.run));
      if (batch.length >= BATCH) await flush();
    }
    if (batch.length > 0) await flush();
    io.stderr.write(`volley: job ${JSON.stringify(target.job)}: ${added} added${dedupe ? `, ${dropped} dropped as already in the job` : ''}\n`);
    return 0;
  } finally {
    await queue.close().catch(() => {});
  }
}

const ENQUEUE_HELP = `Usage: volley enqueue [--redis URL] [--job NAME] [URL|FILE|-]... [-i FILE] [--requests FILE] [job flags] [--dedupe]

Adds requests to a shared job on Redis, read as the main command reads them (streamed, never whole).
Job flags are stored with the job, so every worker runs it the same way: -t, --retries, --per-host, --rate,
--delay, --respect-robots, -A, -H, --accept, --max-bytes, -s, --links, --no-extract, --body, --headers, -X, -d,
--json (and --max-redirects, --retry-unsafe, --max-header-size, --max-host-errors, --host-cooldown, --http2).
Enqueueing more into an existing job needs the same job flags (else exit 2, naming the difference).
--dedupe drops a request already enqueued with --dedupe (method, URL and body; exact).
--follow [crawl flags] and --sitemap URL make the job a crawl: the crawl flags (--depth, --scope, --include,
--exclude, --follow-select, --max-pages) are job flags, the sitemaps are read here, and every worker follows
links by the job's rules, breadth-first across the fleet (a crawl's seen set dedupes: no --dedupe).

--redis defaults to REDIS_URL, then redis://127.0.0.1:6379; --job to "volley". Redis unreachable: exit 69.`;
