import { createWriteStream, existsSync, statSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { fetchEach, type FetchResult, type VolleyOptions } from '../index.js';
import { normalizeOptions, type OptionError } from '../options.js';
import { readUrlFile } from '../source/lines.js';
import { streamSink, type Encoder } from '../sink/sink.js';
import { jsonlEncoder } from '../sink/jsonl.js';
import { jsonEncoder } from '../sink/json.js';
import { csvEncoder } from '../sink/csv.js';
import { EXIT, UsageError, type CliConfig } from './args.js';
import { Tally } from './summary.js';
import { ProgressLine } from './progress.js';
import { shardOf } from './shard.js';
import { finishedUrls, trimPartialLine } from './resume.js';

export interface CliIo {
  stdin: Readable;
  stdout: Writable;
  stderr: NodeJS.WriteStream;
}

/** Library option names as the CLI spells them, so a configuration error names the flag the user typed. */
const FLAGS: Record<string, string> = {
  concurrency: '--concurrency',
  perHost: '--per-host',
  timeoutMs: '--timeout',
  retries: '--retries',
  maxBytes: '--max-bytes',
  maxRedirects: '--max-redirects',
  userAgent: '--user-agent',
  proxy: '--proxy',
  threads: '--threads',
  perHostRate: '--rate',
  perHostDelayMs: '--delay',
  headers: '--header',
};

function stackOf(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

/**
 * Test-only: VOLLEY_TEST_INTERNAL_ERROR=N throws an uncaught error after the Nth result, standing in for a bug,
 * so the test suite can prove what a bug costs (rows flushed, summary, exit 70). Unset in real use.
 */
function testInternalErrorAfter(): number | null {
  const n = Number(process.env.VOLLEY_TEST_INTERNAL_ERROR);
  return Number.isInteger(n) && n > 0 ? n : null;
}

/** After the first signal the run gets this long to drain before it is ended anyway (a stuck stdin, say). */
const DRAIN_LIMIT_MS = 3_000;

function toOptions(config: CliConfig): VolleyOptions {
  const select: Record<string, string> = {};
  for (const raw of config.select) {
    const eq = raw.indexOf('=');
    if (eq <= 0) throw new UsageError(`--select expects NAME=CSS (or NAME=CSS@ATTR, NAME[]=CSS), got ${JSON.stringify(raw)}`);
    select[raw.slice(0, eq).trim()] = raw.slice(eq + 1);
  }
  const options: VolleyOptions = {
    concurrency: config.concurrency,
    perHost: config.perHost,
    timeoutMs: config.timeoutMs,
    retries: config.retries,
    maxBytes: config.maxBytes,
    maxRedirects: config.maxRedirects,
    method: config.method,
    headers: config.headers,
    userAgent: config.userAgent,
    proxy: config.proxy,
    threads: config.threads,
    perHostRate: config.rate,
    perHostDelayMs: config.delayMs,
    respectRobots: config.respectRobots,
    dedupe: config.dedupe,
    extract: config.noExtract ? false : { title: true, description: true, links: config.links, select },
  };
  try {
    normalizeOptions(options);
  } catch (err) {
    const option = (err as Partial<OptionError>).option;
    const flag = option === undefined ? undefined : FLAGS[option];
    throw new UsageError(flag ? (err as Error).message.replace(`\`${option}\``, flag) : (err as Error).message);
  }
  return options;
}

function checkReadable(path: string, flag: string): void {
  if (path === '-') return;
  if (!existsSync(path)) throw new UsageError(`${flag}: no such file: ${path}`);
  if (statSync(path).isDirectory()) throw new UsageError(`${flag}: ${path} is a directory, not a file of URLs`);
}

type Input = { kind: 'url'; value: string } | { kind: 'file'; path: string };

/** Positional words are files when such a file exists (or `-`), URLs otherwise; then the -i files. */
function planInputs(config: CliConfig): Input[] {
  const plan: Input[] = config.inputs.map((word) =>
    word === '-' || (!word.includes('://') && existsSync(word) && statSync(word).isFile()) ? { kind: 'file', path: word } : { kind: 'url', value: word },
  );
  for (const path of config.inputFiles) {
    checkReadable(path, '--input');
    plan.push({ kind: 'file', path });
  }
  if (plan.filter((i) => i.kind === 'file' && i.path === '-').length > 1) throw new UsageError('stdin (-) can be read only once');
  return plan;
}

async function* urlsOf(plan: Input[], stdin: Readable): AsyncGenerator<string> {
  for (const input of plan) {
    if (input.kind === 'url') yield input.value;
    else yield* readUrlFile(input.path, stdin);
  }
}

async function* filtered(source: AsyncIterable<string>, keep: (url: string) => boolean): AsyncGenerator<string> {
  for await (const url of source) if (keep(url)) yield url;
}

/** Counts the URL lines of the inputs in the background, for the progress bar; null when stdin is among them. */
async function countTotal(plan: Input[], config: CliConfig, skip: Set<string> | null): Promise<number | null> {
  if (plan.some((i) => i.kind === 'file' && i.path === '-')) return null;
  let n = 0;
  for await (const url of urlsOf(plan, process.stdin)) {
    if (config.shard && shardOf(url, config.shard.count) !== config.shard.index) continue;
    if (skip?.has(url)) continue;
    n++;
  }
  return n;
}

function encoderFor(config: CliConfig): Encoder {
  if (config.format === 'json') return jsonEncoder;
  if (config.format === 'csv') {
    return csvEncoder({ canonical: false, lang: false, links: config.links && !config.noExtract, select: config.noExtract ? [] : config.select.map((s) => s.slice(0, s.indexOf('=')).replace(/\[\]$/, '').trim()) });
  }
  return jsonlEncoder;
}

/**
 * One command-line run: validate, lock, read inputs lazily, fetch, write each result as it finishes, summarise.
 * Returns the exit code; the caller (main) exits with it. Signals: the first SIGINT/SIGTERM cancels the run
 * (finished results are written, unfinished ones as CANCELLED); a second one exits at once.
 */
export async function runCli(config: CliConfig, io: CliIo): Promise<number> {
  const options = toOptions(config);
  const plan = planInputs(config);

  let releaseLock: (() => Promise<void>) | null = null;
  if (config.lock) {
    const { acquireLock } = await import('./lock.js');
    releaseLock = await acquireLock(config.lock);
  }

  try {
    let skip: Set<string> | null = null;
    if (config.resume && config.output) {
      skip = await finishedUrls(config.output);
      trimPartialLine(config.output);
    }
    let source: AsyncIterable<string> = urlsOf(plan, io.stdin);
    if (config.shard) {
      const { index, count } = config.shard;
      source = filtered(source, (url) => shardOf(url, count) === index);
    }
    if (skip && skip.size > 0) {
      const done = skip;
      source = filtered(source, (url) => !done.has(url.trim()));
    }

    const out: Writable = config.output ? createWriteStream(config.output, { flags: config.resume ? 'a' : 'w' }) : io.stdout;
    const outName = config.output ?? 'stdout';
    const controller = new AbortController();
    let ending: 'SIGINT' | 'SIGTERM' | 'EPIPE' | null = null;
    // A bug of volley's own (a throw, an unhandled rejection, an 'error' event nobody listens to): the run is
    // cancelled like on Ctrl-C, so every finished row is still written and the summary printed, then exit 70.
    let internalError: unknown = null;
    const onOutError = (err: NodeJS.ErrnoException): void => {
      // The reader went away (`| head`): stop quietly. Any other write error is kept by the sink and reported.
      if (err.code === 'EPIPE') ending ??= 'EPIPE';
      controller.abort();
    };
    out.on('error', onOutError);

    const onSignal = (signal: 'SIGINT' | 'SIGTERM'): void => {
      if (ending === 'SIGINT' || ending === 'SIGTERM') {
        // The second signal: the user means it.
        process.exit(signal === 'SIGINT' ? EXIT.SIGINT : EXIT.SIGTERM);
      }
      ending = signal;
      controller.abort();
      setTimeout(() => process.exit(signal === 'SIGINT' ? EXIT.SIGINT : EXIT.SIGTERM), DRAIN_LIMIT_MS).unref();
    };
    const onSigint = (): void => onSignal('SIGINT');
    const onSigterm = (): void => onSignal('SIGTERM');
    const onInternalError = (err: unknown): void => {
      if (internalError !== null) return;
      internalError = err;
      controller.abort();
      setTimeout(() => {
        io.stderr.write(`volley: internal error (a bug; please report it): ${stackOf(err)}\n`);
        process.exit(EXIT.SOFTWARE);
      }, DRAIN_LIMIT_MS).unref();
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
    process.on('uncaughtException', onInternalError);
    process.on('unhandledRejection', onInternalError);

    const showProgress = !config.quiet && (config.progress ?? Boolean(io.stderr.isTTY));
    const progress = showProgress ? new ProgressLine(io.stderr, config.progress === true) : null;
    if (progress) {
      void countTotal(plan, config, skip).then((total) => total !== null && progress.setTotal(total)).catch(() => {});
    }
    const tally = new Tally();
    const sink = streamSink(out, encoderFor(config), { append: config.resume, owned: out !== io.stdout });
    const failAfter = testInternalErrorAfter();
    try {
      const results = fetchEach(source, { ...options, signal: controller.signal, onProgress: progress ? (p) => progress.update(p) : undefined });
      for await (const result of results as AsyncIterable<FetchResult>) {
        tally.add(result);
        if (ending !== 'EPIPE') await sink.write(result);
        if (tally.total === failAfter) setImmediate(() => { throw new Error(`deliberate internal error after ${failAfter} results (VOLLEY_TEST_INTERNAL_ERROR)`); });
      }
    } catch (err) {
      onInternalError(err);
    } finally {
      progress?.stop();
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      // Every finished row is written (or its failure known) before the exit code is chosen.
      await sink.end();
      process.off('uncaughtException', onInternalError);
      process.off('unhandledRejection', onInternalError);
    }
    const writeError = ending === 'EPIPE' ? null : sink.error;
    if (ending === 'EPIPE' && internalError === null) return EXIT.OK;
    if (!config.quiet) {
      const note = internalError !== null ? 'stopped by an internal error' : ending === 'SIGINT' ? 'interrupted' : ending === 'SIGTERM' ? 'terminated' : skip && skip.size > 0 ? `${skip.size} already done, skipped` : null;
      io.stderr.write(tally.render(note));
    }
    if (internalError !== null) {
      io.stderr.write(`volley: internal error (a bug; please report it): ${stackOf(internalError)}\n`);
      return EXIT.SOFTWARE;
    }
    if (writeError) {
      io.stderr.write(`volley: cannot write the output to ${outName}: ${writeError.message}${writeError.code && !writeError.message.includes(writeError.code) ? ` (${writeError.code})` : ''}\n`);
      return EXIT.IO_ERROR;
    }
    if (ending === 'SIGINT') return EXIT.SIGINT;
    if (ending === 'SIGTERM') return EXIT.SIGTERM;
    return tally.failed > 0 ? EXIT.SOME_FAILED : EXIT.OK;
  } finally {
    await releaseLock?.().catch(() => {});
  }
}
