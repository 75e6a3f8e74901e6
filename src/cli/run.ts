import { createWriteStream, rmSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { fetchEach, type FetchResult, type FollowOptions, type SourceItem } from '../index.js';
import { FetchError } from '../errors.js';
import { VolleyBugError } from '../drain-guard.js';
import { streamSink, type Encoder } from '../sink/sink.js';
import { jsonlEncoder } from '../sink/jsonl.js';
import { EXIT, type CliConfig } from './args.js';
import { planInputs, urlsOf, type Input } from './inputs.js';
import { Tally } from './summary.js';
import { resolve } from 'node:path';
import { trimPartialLine } from './resume.js';
import { readPreviousRun } from './previous-run.js';
import type { SinceEntry } from './since.js';
import { selector, type InputItem } from './work.js';
import { readPlainBody, tlsWithFiles, withPlainBody } from './run-files.js';
// The progress bar (cli-progress) and the CSV and JSON writers (csv-stringify) are loaded only by the runs that
// use them: a one-URL cron run pays for none (see encoderFor and the progress line below).

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

/**
 * Test-only: VOLLEY_TEST_SLOW_DRAIN_MS=N makes a cancelled run's drain take N ms more, standing in for output
 * that is slow to flush (a network disk), so the suite can send a second signal while the first is still being
 * honoured. Unset in real use.
 */
function testSlowDrain(): Promise<void> {
  const ms = Number(process.env.VOLLEY_TEST_SLOW_DRAIN_MS);
  return Number.isInteger(ms) && ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

/** What the summary's first line says about how the run ended, when it did not simply finish. */
function endNote(internalError: unknown, ending: string | null, skip: Set<string> | null): string | null {
  if (internalError instanceof VolleyBugError) {
    const n = internalError.unsettled;
    return `${n} URL${n === 1 ? '' : 's'} left unfinished by a bug (INTERNAL rows)`;
  }
  if (internalError !== null) return 'stopped by an internal error';
  if (ending === 'SIGINT') return 'interrupted';
  if (ending === 'SIGTERM') return 'terminated';
  return skip && skip.size > 0 ? `${skip.size} already done, skipped` : null;
}

/**
 * A crawl written to `-o FILE` keeps its state beside it, `FILE.crawl` (frontier/journal.ts): a fresh run starts
 * it over; `--resume` replays it, with the URLs whose rows in FILE are final as done.
 */
function crawlJournal(follow: FollowOptions | boolean, output: string, done: Set<string> | null): FollowOptions {
  const path = `${output}.crawl`;
  if (done === null) rmSync(path, { force: true });
  return { ...(follow === true ? {} : (follow as FollowOptions)), journal: done === null ? { path } : { path, done: (url) => done.has(url) } };
}

/** After the first signal the run gets this long to drain before it is ended anyway (a stuck stdin, say). */
const DRAIN_LIMIT_MS = 3_000;

async function* filtered<T>(source: AsyncIterable<T>, keep: (item: T) => boolean): AsyncGenerator<T> {
  for await (const item of source) if (keep(item)) yield item;
}

async function* mapped<T, U>(source: AsyncIterable<T>, map: (item: T) => U): AsyncGenerator<U> {
  for await (const item of source) yield map(item);
}

/** Counts the URL lines of the inputs in the background, for the progress bar; null when stdin is among them. */
async function countTotal(plan: Input[], keep: ((item: InputItem) => boolean) | null): Promise<number | null> {
  if (plan.some((i) => i.kind !== 'url' && i.path === '-')) return null;
  let n = 0;
  for await (const item of urlsOf(plan, process.stdin)) if (keep === null || keep(item)) n++;
  return n;
}

async function encoderFor(config: CliConfig): Promise<Encoder> {
  if (config.format === 'json') return (await import('../sink/json.js')).jsonEncoder;
  if (config.format === 'csv') {
    const { csvEncoder } = await import('../sink/csv.js');
    const x = config.extract;
    const meta = config.requestFiles.length > 0;
    const shape = { meta, canonical: x?.canonical ?? false, lang: x?.lang ?? false, links: x?.links ?? false, select: x?.select.map((s) => s.name) ?? [] };
    return csvEncoder({ ...shape, headers: config.options.responseHeaders === true, crawl: config.options.follow !== undefined }, { raw: config.csvRaw });
  }
  return jsonlEncoder;
}

/**
 * One command-line run: validate, lock, read inputs lazily, fetch, write each result as it finishes, summarise.
 * Returns the exit code; the caller (main) exits with it. Signals: the first SIGINT/SIGTERM cancels the run
 * (finished results are written, unfinished ones as CANCELLED); a second one exits at once.
 */
export async function runCli(config: CliConfig, io: CliIo): Promise<number> {
  const plan = planInputs(config);
  let options = { ...config.options, tls: await tlsWithFiles(config.tlsFiles, config.options.tls) };
  const body = await readPlainBody(config.requestBody, options.headers, plan, io.stdin);

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
      const previous = await readPreviousRun(config.output, { resume: true, since: sameFile, saved: options.save !== undefined });
      skip = previous.finished;
      if (sameFile) validators = previous.validators;
      // Files the resumed run saved stay its URLs': no other URL is given their names.
      if (options.save) options = { ...options, save: { ...options.save, existing: previous.saved } };
      trimPartialLine(config.output);
    }
    if (config.since !== null && validators === null) validators = (await readPreviousRun(config.since, { resume: false, since: true })).validators;
    let runOptions = validators && validators.size > 0 ? { ...options, validators } : options;
    if (runOptions.follow !== undefined && config.output) runOptions = { ...runOptions, follow: crawlJournal(runOptions.follow, config.output, skip) };
    // --shard splits a crawl by its seeds (the list is filtered below): each seed's crawl stays whole on the machine
    // its host hashes to. Filtering links by their own host lost pages: a seed that redirects to another host, or a
    // link across hosts in scope, belonged to a machine whose crawl never reaches it.
    const keep = selector(config, skip);
    let lines: AsyncIterable<InputItem> = urlsOf(plan, io.stdin);
    if (keep) lines = filtered(lines, keep);
    let source: AsyncIterable<SourceItem> = lines;
    if (body) source = mapped(lines, (item) => withPlainBody(item, body));

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
      const code = signal === 'SIGINT' ? EXIT.SIGINT : EXIT.SIGTERM;
      if (ending === 'SIGINT' || ending === 'SIGTERM') {
        // The second signal: the user means it.
        io.stderr.write(`volley: ${signal} again: stopped at once\n`);
        process.exit(code);
      }
      ending = signal;
      controller.abort();
      if (!config.quiet) io.stderr.write(`volley: ${signal}: cancelling, writing what has finished (${signal === 'SIGINT' ? 'Ctrl-C' : 'the signal'} again stops at once)\n`);
      setTimeout(() => {
        io.stderr.write(`volley: the run did not finish within ${DRAIN_LIMIT_MS / 1000} s of ${signal}; stopped\n`);
        process.exit(code);
      }, DRAIN_LIMIT_MS).unref();
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
    // A crawl grows its list as it goes: the lines given are no total for it.
    if (progress && runOptions.follow === undefined) {
      void countTotal(plan, keep).then((total) => total !== null && progress.setTotal(total)).catch(() => {});
    }
    const tally = new Tally();
    // Only a run that prints bodies (--body) loads their decoding (the WHATWG decoders, ~400 KB of code).
    const bodyRow = config.body ? (await import('./kept-rows.js')).bodyRow : null;
    const sink = streamSink(out, await encoderFor(config), { append: config.resume, owned: out !== io.stdout });
    const failAfter = testInternalErrorAfter();
    let keepError: FetchError | null = null;
    try {
      const onWarning = config.quiet ? undefined : (message: string): void => void io.stderr.write(`volley: warning: ${message}\n`);
      const results = fetchEach(source, { ...runOptions, signal: controller.signal, onProgress: progress ? (p) => progress.update(p) : undefined, onWarning });
      for await (const result of results as AsyncIterable<FetchResult>) {
        tally.add(result);
        if (ending !== 'EPIPE') await sink.write(bodyRow && config.body ? (bodyRow(result, config.body) as FetchResult) : result);
        if (tally.total === failAfter) setImmediate(() => { throw new Error(`deliberate internal error after ${failAfter} results (VOLLEY_TEST_INTERNAL_ERROR)`); });
      }
    } catch (err) {
      // The WARC file could not be opened or closed: the output could not be written, not a bug.
      if (err instanceof FetchError && err.code === 'WRITE') keepError = err;
      else onInternalError(err);
    } finally {
      progress?.stop();
      // Every finished row is written (or its failure known) before the exit code is chosen. The signal
      // handlers stay on meanwhile: a second Ctrl-C while the output drains still means "stop at once".
      if (ending !== null) await testSlowDrain();
      await sink.end();
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      process.off('uncaughtException', onInternalError);
      process.off('unhandledRejection', onInternalError);
    }
    const writeError = ending === 'EPIPE' ? null : sink.error;
    if (ending === 'EPIPE' && internalError === null) return EXIT.OK;
    if (!config.quiet) {
      if (options.tls?.rejectUnauthorized === false) io.stderr.write('volley: warning: TLS certificates were not checked (--insecure): any server could have answered for these hosts\n');
      const note = endNote(internalError, ending, skip);
      io.stderr.write(tally.render(note));
    }
    if (internalError instanceof VolleyBugError) {
      io.stderr.write(`volley: internal error: ${internalError.message}\n`);
      return EXIT.SOFTWARE;
    }
    if (internalError !== null) {
      io.stderr.write(`volley: internal error (a bug; please report it): ${stackOf(internalError)}\n`);
      return EXIT.SOFTWARE;
    }
    if (keepError) {
      io.stderr.write(`volley: ${keepError.message}\n`);
      return EXIT.IO_ERROR;
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
