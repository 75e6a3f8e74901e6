import { DEFAULTS, type VolleyOptions } from '../options.js';
import type { BodyOutputMode } from '../keep/body-form.js';
import type { QueueSettings } from '../frontier/redis-queue.js';
import type { CliConfig } from '../cli/args.js';
import type { PlainBody } from '../cli/run-files.js';
import { UsageError } from '../cli/usage-error.js';
import { FOLLOW_DEFAULTS, type CrawlScope } from '../crawl/follow-options.js';

/**
 * A job's settings (issue 21): the run options that must be the same on every worker, taken from the enqueuer's
 * command line (parsed by the main command's parser, so the flags mean what they mean there), stored with the job
 * by `define()`, and turned back into library options by each worker.
 */

/** The library options a job carries: what every worker must run the same way. */
export const JOB_OPTIONS = [
  'timeoutMs', 'retries', 'perHost', 'perHostRate', 'perHostDelayMs', 'respectRobots', 'userAgent', 'headers', 'accept', 'maxBytes',
  'extract', 'body', 'responseHeaders', 'method', 'maxRedirects', 'retryUnsafe', 'maxHeaderSize', 'maxHostErrors', 'hostCooldownMs', 'http2',
] as const satisfies readonly (keyof VolleyOptions)[];

/** Options a job cannot carry (local to one machine, or not done through the queue yet), by the flag that sets them. */
export const NOT_JOB_OPTIONS: Partial<Record<keyof VolleyOptions, string>> = {
  concurrency: '-c (give it to `volley work`)', threads: '--threads', proxy: '--proxy', tls: '-k/--ca/--cert/--key', maxBufferedBytes: '--max-buffered',
  save: '--save', warc: '--warc',
};

/** The flag of an option a job cannot carry, and where it goes instead; undefined for any other option. */
export function notJobOption(name: string): string | undefined {
  return NOT_JOB_OPTIONS[name as keyof VolleyOptions];
}

/** A crawl's rules, as a job stores them (JSON: patterns as their source text, no maxPages as null). */
export interface JobCrawl {
  follow: { depth: number; scope: string; include: string[]; exclude: string[]; select: string | null; maxPages: number | null };
}

/** What `run` holds in the job's settings. */
export interface JobRun {
  options: Pick<VolleyOptions, (typeof JOB_OPTIONS)[number]>;
  /** `--body`'s output form, as the main command writes rows. */
  body: BodyOutputMode | null;
  /** `-d` / `--json`: the body of every plain URL, base64, with its headers. */
  plainBody: { base64: string; headers: Record<string, string> } | null;
  /**
   * `--follow` / `--sitemap`: the job is a crawl, and every worker follows links by these rules. The sitemaps
   * themselves are read by the enqueuer (their entries are the seeds), so they are not part of the job.
   */
  crawl?: JobCrawl;
}

/** What `define()` stores: the fleet-wide gate and the run. */
export interface JobSettings {
  perHost: number;
  intervalMs: number;
  run: JobRun;
}

/** The job settings of an `enqueue` command line; a flag that is not a job setting is a usage error. */
export function jobSettings(config: CliConfig, plainBody: PlainBody | null): JobSettings {
  for (const [option, flag] of Object.entries(NOT_JOB_OPTIONS)) {
    if (config.options[option as keyof VolleyOptions] !== undefined) throw new UsageError(`enqueue: ${flag} is not a job setting`);
  }
  if (config.output !== null || config.resume || config.lock !== null || config.since !== null || config.shard !== null || config.format !== 'jsonl' || config.progress !== undefined) {
    throw new UsageError('enqueue: -o, -f, --resume, --lock, --since, --shard and --progress belong to a run, not a job (`volley queue results -o FILE` writes the rows)');
  }
  const options: Record<string, unknown> = {};
  for (const name of JOB_OPTIONS) if (config.options[name] !== undefined) options[name] = config.options[name];
  return settingsOf(options as JobRun['options'], config.body, plainBody, config.options.follow);
}

/** `--follow`'s rules as a job stores them; null when the job is not a crawl. */
function crawlOf(follow: VolleyOptions['follow']): JobCrawl | null {
  if (follow === undefined || follow === false) return null;
  const f = follow === true ? {} : follow;
  const source = (p: RegExp | string): string => (typeof p === 'string' ? p : p.source);
  return {
    follow: {
      depth: f.depth ?? FOLLOW_DEFAULTS.depth,
      scope: f.scope ?? FOLLOW_DEFAULTS.scope,
      include: (f.include ?? []).map(source),
      exclude: (f.exclude ?? []).map(source),
      select: f.select ?? null,
      maxPages: f.maxPages === undefined || f.maxPages === Infinity ? null : f.maxPages,
    },
  };
}

/** A job's settings from its library options (the CLI's and `enqueue()`'s one path). */
export function settingsOf(
  options: JobRun['options'],
  body: BodyOutputMode | null,
  plainBody: PlainBody | null,
  follow?: VolleyOptions['follow'],
): JobSettings {
  const run: JobRun = {
    options,
    body,
    plainBody: plainBody === null ? null : { base64: Buffer.from(plainBody.bytes).toString('base64'), headers: plainBody.headers },
  };
  const crawl = crawlOf(follow);
  if (crawl !== null) run.crawl = crawl;
  const perHost = options.perHost ?? DEFAULTS.perHost;
  const delay = options.perHostDelayMs ?? 0;
  const rate = options.perHostRate;
  const intervalMs = Math.max(delay, rate === undefined ? 0 : Math.ceil(1000 / rate));
  // As Redis will give it back: JSON, so an absent option and an undefined one are the same.
  return { perHost, intervalMs, run: JSON.parse(JSON.stringify(run)) as JobRun };
}

/** JSON with object keys sorted: two settings compare equal whatever order their headers were given in. */
function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stable((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

/** Flattens settings to `path -> JSON` (options one by one), for naming a difference. */
function flat(settings: { perHost: number; intervalMs: number; run: unknown }): Map<string, string> {
  const out = new Map<string, string>([['perHost', String(settings.perHost)], ['intervalMs', String(settings.intervalMs)]]);
  const run = (settings.run ?? {}) as Partial<JobRun>;
  for (const [k, v] of Object.entries(run.options ?? {})) out.set(k, stable(v));
  out.set('body', stable(run.body ?? null));
  out.set('plainBody', stable(run.plainBody ?? null));
  // Only a crawl has it: a plain job's difference from a crawl reads "unset".
  if (run.crawl != null) out.set('crawl', stable(run.crawl));
  return out;
}

/** The first difference between the job's settings and ours, in words; null when they are the same. */
export function settingsDifference(job: string, stored: QueueSettings, ours: { perHost: number; intervalMs: number; run: JobRun }): string | null {
  const a = flat(stored);
  const b = flat(ours);
  const diffs: string[] = [];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    if (a.get(key) === b.get(key)) continue;
    diffs.push(`${key} is ${a.get(key) ?? 'unset'} in the job, ${b.get(key) ?? 'unset'} here`);
  }
  if (diffs.length === 0) return null;
  return `job ${JSON.stringify(job)} already has different settings: ${diffs.join('; ')} (give the same job flags, or \`volley queue drop\` it first)`;
}

/** A worker's library options from the job's settings (a crawl's rules included). */
export function workerOptions(run: JobRun | null): VolleyOptions {
  const options = { ...(run?.options ?? {}) } as VolleyOptions;
  const follow = run?.crawl?.follow;
  if (follow !== undefined) options.follow = { ...follow, scope: follow.scope as CrawlScope, select: follow.select ?? undefined, maxPages: follow.maxPages ?? undefined };
  return options;
}
