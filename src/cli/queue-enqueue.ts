import type { QueueRequest } from '../frontier/redis-queue.js';
import { parseCli } from './args.js';
import { planInputs, urlsOf } from './inputs.js';
import { readPlainBody } from './run-files.js';
import { connectQueue, takeTarget } from './queue-args.js';
import { jobSettings } from '../queue/job.js';
import { defineJob, enqueueOn } from '../queue/api.js';
import { QueueError } from '../queue/errors.js';
import { toQueueRequest } from '../queue/payload.js';
import type { CliIo } from './run.js';
import { UsageError } from './usage-error.js';

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
    await defineJob(queue, settings);
    if (settings.run.crawl !== undefined) {
      const { enqueueCrawl } = await import('./queue-enqueue-crawl.js');
      return await enqueueCrawl(queue, target.job, config, settings.run, plan, io);
    }
    async function* requests(): AsyncGenerator<QueueRequest> {
      for await (const item of urlsOf(plan, io.stdin)) yield toQueueRequest(item, settings.run);
    }
    const { added, dropped } = await enqueueOn(queue, requests(), dedupe);
    io.stderr.write(`volley: job ${JSON.stringify(target.job)}: ${added} added${dedupe ? `, ${dropped} dropped as already in the job` : ''}\n`);
    return 0;
  } catch (err) {
    // A job enqueued with other flags: the user's to fix, exit 2.
    if (err instanceof QueueError && err.code === 'JOB_SETTINGS_DIFFER') throw new UsageError(err.message);
    throw err;
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
