import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import pLimit, { type LimitFunction } from 'p-limit';
import { FetchError } from '../errors.js';
import type { NormalizedOptions } from '../options.js';
import type { NormalizedExtract } from './spec.js';
import type { Page, PageParser, ParsedFields } from './types.js';
import type { WorkerReply, WorkerTask } from './worker.js';

/**
 * Pages below this size travel in batches: a piscina round trip costs about as much as parsing a 2 KB page,
 * so sending small pages one by one would make the pool slower than parsing inline.
 */
export const SMALL_PAGE_BYTES = 32 * 1024;
/** A batch is sent when it holds this many pages or bytes, or at the end of the current event-loop turn. */
export const MAX_BATCH_PAGES = 32;
const MAX_BATCH_BYTES = 256 * 1024;

interface Entry {
  page: Page;
  signal: AbortSignal;
  resolve: (fields: ParsedFields) => void;
  reject: (err: FetchError) => void;
}

/** The compiled worker beside this module; when running from TypeScript sources (tests), the build's copy. */
function workerFilename(): string {
  const beside = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (existsSync(beside)) return beside;
  const built = fileURLToPath(new URL('../../dist/parse/worker.js', import.meta.url));
  if (existsSync(built)) return built;
  throw new Error(`volley's parse worker is missing (looked for ${beside} and ${built}); run \`npm run build\``);
}

/**
 * The executor pool: HTML is decoded and parsed only in piscina worker threads, never on the event loop.
 * Bodies are transferred, not copied. Aborting the run's signal drops queued tasks and kills running ones
 * (piscina's abort semantics); a parse that overruns `parseTimeoutMs` kills only its own worker, which piscina replaces.
 */
export class ParsePool implements PageParser {
  private readonly piscina: Piscina<WorkerTask, WorkerReply>;
  private batch: Entry[] = [];
  private batchBytes = 0;
  private flushScheduled = false;
  /**
   * Tasks handed to piscina at once: one per thread. The rest wait here, so that a task's parse deadline
   * starts when a thread takes it, not while it queues behind other pages.
   */
  private readonly running: LimitFunction;
  /** Thread ids that answered, so tests and the benchmark can prove parsing left the main thread. */
  readonly threadIds = new Set<number>();

  constructor(
    private readonly spec: NormalizedExtract,
    threads: number,
    private readonly parseTimeoutMs: number,
  ) {
    this.running = pLimit(threads);
    this.piscina = new Piscina<WorkerTask, WorkerReply>({
      filename: workerFilename(),
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 10_000,
    });
    // A worker's answer can cross an abort of its task; piscina then emits 'error' ("Unexpected message from
    // Worker") on the pool, which would crash the process. The task itself has already been settled as CANCELLED.
    this.piscina.on('error', () => {});
  }

  parse(page: Page, signal: AbortSignal): Promise<ParsedFields> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new FetchError('CANCELLED', 'cancelled before it was parsed'));
      const entry: Entry = { page, signal, resolve, reject };
      if (page.body.byteLength >= SMALL_PAGE_BYTES) return void this.send([entry]);
      this.batch.push(entry);
      this.batchBytes += page.body.byteLength;
      if (this.batch.length >= MAX_BATCH_PAGES || this.batchBytes >= MAX_BATCH_BYTES) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.batch.length === 0) return;
    const entries = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    void this.send(entries);
  }

  private send(entries: Entry[]): Promise<void> {
    return this.running(() => this.runTask(entries));
  }

  private async runTask(entries: Entry[]): Promise<void> {
    // Every page of a batch belongs to the same run, so the first one's signal speaks for all.
    const runSignal = (entries[0] as Entry).signal;
    if (runSignal.aborted) {
      for (const entry of entries) entry.reject(new FetchError('CANCELLED', 'cancelled before it was parsed'));
      return;
    }
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.parseTimeoutMs);
    const onAbort = (): void => controller.abort();
    runSignal.addEventListener('abort', onAbort, { once: true });
    try {
      const pages = entries.map(({ page }) => ({
        body: page.body.buffer as ArrayBuffer,
        contentType: page.contentType,
        url: page.url,
      }));
      const reply = await this.piscina.run(
        { pages, spec: this.spec },
        { transferList: pages.map((p) => p.body), signal: controller.signal },
      );
      this.threadIds.add(reply.threadId);
      reply.outcomes.forEach((outcome, i) => {
        const entry = entries[i] as Entry;
        if (outcome.ok) entry.resolve(outcome.fields);
        else entry.reject(new FetchError('PARSE', `could not parse the page: ${outcome.message}`));
      });
    } catch (err) {
      const error = runSignal.aborted
        ? new FetchError('CANCELLED', 'cancelled before it was parsed')
        : timedOut
          ? new FetchError('PARSE', `parsing took longer than parseTimeoutMs (${this.parseTimeoutMs})`)
          : new FetchError('PARSE', `the parse worker failed: ${err instanceof Error ? err.message : String(err)}`);
      for (const entry of entries) entry.reject(error);
    } finally {
      clearTimeout(timer);
      runSignal.removeEventListener('abort', onAbort);
    }
  }

  async destroy(): Promise<void> {
    for (const entry of this.batch) entry.reject(new FetchError('CANCELLED', 'cancelled before it was parsed'));
    this.batch = [];
    await this.piscina.destroy();
  }
}

export function createParsePool(options: Pick<NormalizedOptions, 'extract' | 'threads' | 'parseTimeoutMs'>): ParsePool {
  if (!options.extract) throw new Error('createParsePool needs an extraction spec');
  return new ParsePool(options.extract, options.threads, options.parseTimeoutMs);
}
