import { createWriteStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { fetchEach, type FetchResult } from '../index.js';
import { textOf, type SourceLine } from '../source/url-input.js';
import { streamSink, type Encoder } from '../sink/sink.js';
import { jsonlEncoder } from '../sink/jsonl.js';
import { jsonEncoder } from '../sink/json.js';
import { csvEncoder } from '../sink/csv.js';
import { EXIT, type CliConfig } from './args.js';
import { planInputs, urlsOf, type Input } from './inputs.js';
import { Tally } from './summary.js';
import { ProgressLine } from './progress.js';
import { shardOf } from './shard.js';
import { finishedUrls, trimPartialLine } from './resume.js';

export interface CliIo {
  stdin: Readable;
  stdout: Writable;
  stderr: NodeJS.WriteStream;
}

/** After the first signal the run gets this long to drain before it is ended anyway (a stuck stdin, say). */
const DRAIN_LIMIT_MS = 3_000;

async function* filtered(source: AsyncIterable<SourceLine>, keep: (url: string) => boolean): AsyncGenerator<SourceLine> {
  for await (const line of source) if (keep(textOf(line))) yield line;
}

/** Counts the URL lines of the inputs in the background, for the progress bar; null when stdin is among them. */
async function countTotal(plan: Input[], config: CliConfig, skip: Set<string> | null): Promise<number | null> {
  if (plan.some((i) => i.kind === 'file' && i.path === '-')) return null;
  let n = 0;
  for await (const line of urlsOf(plan, process.stdin)) {
    const url = textOf(line);
    if (config.shard && shardOf(url, config.shard.count) !== config.shard.index) continue;
    if (skip?.has(url)) continue;
    n++;
  }
  return n;
}

function encoderFor(config: CliConfig): Encoder {
  if (config.format === 'json') return jsonEncoder;
  if (config.format === 'csv') {
    const x = config.extract;
    return csvEncoder({ canonical: x?.canonical ?? false, lang: x?.lang ?? false, links: x?.links ?? false, select: x?.select.map((s) => s.name) ?? [] });
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
    if (config.resume && config.output) {
      skip = await finishedUrls(config.output);
      trimPartialLine(config.output);
    }
    let source: AsyncIterable<SourceLine> = urlsOf(plan, io.stdin);
    if (config.shard) {
      const { index, count } = config.shard;
      source = filtered(source, (url) => shardOf(url, count) === index);
    }
    if (skip && skip.size > 0) {
      const done = skip;
      source = filtered(source, (url) => !done.has(url.trim()));
    }

    const out: Writable = config.output ? createWriteStream(config.output, { flags: config.resume ? 'a' : 'w' }) : io.stdout;
    const controller = new AbortController();
    let ending: 'SIGINT' | 'SIGTERM' | 'EPIPE' | null = null;
    let writeError: Error | null = null;
    const onOutError = (err: NodeJS.ErrnoException): void => {
      // The reader went away (`| head`): stop quietly; any other write error is reported.
      if (err.code === 'EPIPE') ending ??= 'EPIPE';
      // After EPIPE, writes still queued fail too (ERR_STREAM_DESTROYED): the same event, not a new error.
      else if (ending !== 'EPIPE') writeError = err;
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
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);

    const showProgress = !config.quiet && (config.progress ?? Boolean(io.stderr.isTTY));
    const progress = showProgress ? new ProgressLine(io.stderr, config.progress === true) : null;
    if (progress) {
      void countTotal(plan, config, skip).then((total) => total !== null && progress.setTotal(total)).catch(() => {});
    }
    const tally = new Tally();
    const sink = streamSink(out, encoderFor(config), { append: config.resume });
    try {
      const results = fetchEach(source, { ...options, signal: controller.signal, onProgress: progress ? (p) => progress.update(p) : undefined });
      for await (const result of results as AsyncIterable<FetchResult>) {
        tally.add(result);
        if (ending !== 'EPIPE') await sink.write(result);
      }
      if (ending !== 'EPIPE') await sink.end();
    } finally {
      progress?.stop();
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      if (out !== io.stdout) await new Promise<void>((resolve) => out.end(resolve));
    }
    if (writeError) {
      io.stderr.write(`volley: cannot write the output: ${(writeError as Error).message}\n`);
      return EXIT.SOME_FAILED;
    }
    if (ending === 'EPIPE') return EXIT.OK;
    if (!config.quiet) {
      const note = ending === 'SIGINT' ? 'interrupted' : ending === 'SIGTERM' ? 'terminated' : skip && skip.size > 0 ? `${skip.size} already done, skipped` : null;
      io.stderr.write(tally.render(note));
    }
    if (ending === 'SIGINT') return EXIT.SIGINT;
    if (ending === 'SIGTERM') return EXIT.SIGTERM;
    return tally.failed > 0 ? EXIT.SOME_FAILED : EXIT.OK;
  } finally {
    await releaseLock?.().catch(() => {});
  }
}
