import { createWriteStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { fetchEach, type FetchResult } from '../index.js';
import { textOf, type SourceLine } from '../source/url-input.js';
import { streamSink, type Encoder } from '../sink/sink.js';
import { jsonlEncoder } from '../sink/jsonl.js';
import { EXIT, type CliConfig } from './args.js';
import { planInputs, urlsOf, type Input } from './inputs.js';
import { Tally } from './summary.js';
import { resolve } from 'node:path';
import type { SinceEntry } from './since.js';
// Loaded only by the runs that use them (a one-URL cron run pays for none): the progress bar (cli-progress),
// CSV (csv-stringify), JSON, --shard, and --resume / --since (see the dynamic imports below).

export interface CliIo {
  stdin: Readable;
  stdout: Writable;
  stderr: NodeJS.WriteStream;
}

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

async function* filtered(source: AsyncIterable<SourceLine>, keep: (url: string) => boolean): AsyncGenerator<SourceLine> {
  for await (const line of source) if (keep(textOf(line))) yield line;
}

/** Counts the URL lines of the inputs in the background, for the progress bar; null when stdin is among them. */
async function countTotal(plan: Input[], config: CliConfig, skip: Set<string> | null): Promise<number | null> {
  if (plan.some((i) => i.kind === 'file' && i.path === '-')) return null;
  const { shard } = config;
  const shardOf = shard ? (await import('./shard.js')).shardOf : null;
  let n = 0;
  for await (const line of urlsOf(plan, process.stdin)) {
    const url = textOf(line);
    if (shard && shardOf && shardOf(url, shard.count) !== shard.index) continue;
    if (skip?.has(url)) continue;
    n++;
  }
  return n;
}

async function encoderFor(config: CliConfig): Promise<Encoder> {
  if (config.format === 'json') return (await import('../sink/json.js')).jsonEncoder;
  if (config.format === 'csv') {
    const x = config.extract;
    return (await import('../sink/csv.js')).csvEncoder({ canonical: x?.canonical ?? false, lang: x?.lang ?? false, links: x?.links ?? false, select: x?.select.map((s) => s.name) ?? [] });
  }
  return jsonlEncoder;
}

/**
 * One command-line run: validate, lock, read inputs lazily, fetch, write each result as it finishes, summarise.
 * Returns the exit code; the caller (main) exits with it. Signals: the first SIGINT/SIGTERM cancels the run
 * (finished results are written, unfinished ones as CANCELLED); a second one exits at once.
 */
export async function runCli(config: CliConfig, io: CliIo): Promise<number> {
  const { options } = config;
  const plan = planInputs(config);

  let releaseLock: (() => Promise<void>) | null = null;
  if (config.lock) {
    const { acquireLock } = await import('./lock.js');
    releaseLock = await acquireLock(config.lock);
  }

  try {
    let skip: Set<string> | null = null;
    let validators: Map<string, SinceEntry> | null = null;
    if (config.resume && config.output) {
      // One pass over the file when --since names it too.
      const sameFile = config.since !== null && resolve(config.since) === resolve(config.output);
      const { readPreviousRun } = await import('./previous-run.js');
      const { trimPartialLine } = await import('./resume.js');
      const previous = await readPreviousRun(config.output, { resume: true, since: sameFile });
      skip = previous.finished;
      if (sameFile) validators = previous.validators;
      trimPartialLine(config.output);
    }
    if (config.since !== null && validators === null) validators = (await (await import('./previous-run.js')).readPreviousRun(config.since, { resume: false, since: true })).validators;
    const runOptions = validators && validators.size > 0 ? { ...options, validators } : options;
    let source: AsyncIterable<SourceLine> = urlsOf(plan, io.stdin);
    if (config.shard) {
      const { index, count } = config.shard;
      const { shardOf } = await import('./shard.js');
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
    const progress = showProgress ? new (await import('./progress.js')).ProgressLine(io.stderr, config.progress === true) : null;
    if (progress) {
      void countTotal(plan, config, skip).then((total) => total !== null && progress.setTotal(total)).catch(() => {});
    }
    const tally = new Tally();
    const sink = streamSink(out, await encoderFor(config), { append: config.resume, owned: out !== io.stdout });
    const failAfter = testInternalErrorAfter();
    try {
      const results = fetchEach(source, { ...runOptions, signal: controller.signal, onProgress: progress ? (p) => progress.update(p) : undefined });
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
