import { existsSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as piscina from 'piscina';
import { FetchError, cancelledAt } from '../errors.js';
import type { NormalizedOptions } from '../options.js';
import type { NormalizedExtract } from './spec.js';
import type { Page, PageParser, ParsedFields } from './types.js';
import { lowerNewThreads, parseThreadNice, threadIds } from './thread-priority.js';
import { needsDom } from './needs-dom.js';
import { overrunMessage, unpackFields, type ParseThreadData, type WorkerPage, type WorkerReply, type WorkerTask } from './protocol.js';

/**
 * piscina is CommonJS (its ES entry only re-exports `dist/main.js`), and an ES import of a CommonJS file has Node scan
 * its source for the names it exports (cjs-module-lexer) before it runs; required, it is not scanned. This module is
 * loaded in the middle of a run's first requests (as the second URL is taken). piscina alone, fresh processes, medians
 * of 8: 26.2 -> 20.8 ms on Node 20, 20.6 -> 18.7 ms on 22; this module loaded and a pool made, 12 pairs: 0.98-0.99x
 * wall on Node 20, 22 and 24 (1-2.5 ms). piscina's public `require` entry: the same module object.
 */
const { Piscina } = nodeModule.createRequire(import.meta.url)('piscina') as typeof piscina;

/**
 * Pages below this size may travel in batches: a piscina round trip costs about as much as parsing a 2 KB page,
 * so sending small pages one by one under load would make the pool slower than parsing inline.
 */
export const SMALL_PAGE_BYTES = 32 * 1024;
/**
 * Most bytes, and pages, in one batch. Batches are cut by bytes: a count of 32 held W1's 2 KB pages to 64 KB a
 * round trip, and a lone thread that parses a batch in under a millisecond then waited on the event loop's turn
 * for the next one while ~1,000 pages queued behind it (their URLs' state alive meanwhile, which the main heap's
 * scavenges copied). The count only bounds a flood of empty or near-empty pages.
 */
const MAX_BATCH_BYTES = 256 * 1024;
const MAX_BATCH_PAGES = 512;
/**
 * Big pages queued behind busy threads leave together too, up to this much: each task costs the main thread
 * ~100 µs of piscina's hand-off (`postTask`, which posts the message and wakes the thread with `Atomics.notify`,
 * and its balancer), about what joining a 150 KB body cost. W3 (2,000 pages of 150 KB): 337 tasks instead of
 * 2,000, the main thread's CPU 0.85x on Node 22 and 0.92x on 24. A big page that finds a free task slot still
 * leaves at once, alone. Only for the scan (no user selectors): there the parse deadline is met between pieces
 * of the page and fails that page alone, whereas a selector's run cannot be broken into, so the pool must kill
 * the thread, and a big page's batch-mates, whose bodies were transferred to it, would go down with it.
 */
const MAX_BIG_BATCH_BYTES = 1024 * 1024;
/**
 * Small pages queued together are shared out across the free task slots (so one thread does not parse them all
 * while the other idles), but no batch is made smaller than this: below it the round trip, mostly main-thread
 * work, costs more than the parse.
 */
const MIN_SHARE_BYTES = 64 * 1024;

/**
 * The pool widens from one thread to all of them when the one is busy at least this share of a window this long
 * (by the thread's own clock, so a main thread slow to take the answers does not count as a busy parse thread).
 */
const WIDEN_BUSY_SHARE = 0.5;
const WIDEN_WINDOW_MS = 250;

/**
 * Which page of each task in flight its thread is parsing, and since when, written by the thread into shared
 * memory as each page starts (worker.ts). A task handed to piscina may wait behind another one on a busy thread,
 * or for a thread that replaces a killed one to load the parser; and a batch's pages parse one after the other.
 * The parse deadline is each page's, from its own start: it must count neither the wait nor the pages before it,
 * or a slow page would take its innocent neighbours down with it. The main thread's timer fires at the deadline
 * from the hand-over and, only then, reads the slot: nothing started, or the current page started too recently,
 * re-arms it for the rest. No cost while pages parse in time.
 */
class TaskClocks {
  readonly buffer: SharedArrayBuffer;
  private readonly view: Int32Array;
  private readonly free: number[];
  readonly epoch = Date.now();

  constructor(slots: number) {
    // Two numbers a slot: the current page's start (ms from `epoch`, 0 before the first), then its index.
    this.buffer = new SharedArrayBuffer(slots * 2 * 4);
    this.view = new Int32Array(this.buffer);
    this.free = Array.from({ length: slots }, (_, i) => slots - 1 - i);
  }

  take(): number {
    const slot = this.free.pop() as number;
    Atomics.store(this.view, slot * 2, 0);
    return slot;
  }

  give(slot: number): void {
    this.free.push(slot);
  }

  /** The page the task in `slot` is parsing, and for how many ms; null while the task waits for its thread. */
  current(slot: number): { index: number; ms: number } | null {
    const startedAt = Atomics.load(this.view, slot * 2);
    if (startedAt === 0) return null;
    return { index: Atomics.load(this.view, slot * 2 + 1), ms: Date.now() - (this.epoch + startedAt) };
  }
}

/**
 * How long past its deadline a page may keep its thread before the pool kills the thread. The thread fails a page
 * that is late between two pieces of it (extract.ts): a kill is for what one piece or a selector's run keeps busy.
 * The grace lets the thread do that first (a kill loses the thread, booted and warm, and the answers of its
 * batch-mates, which then go again), and is at most the deadline itself, for short deadlines.
 */
const KILL_GRACE_MS = 100;

interface Entry {
  page: Page;
  signal: AbortSignal;
  resolve: (fields: ParsedFields) => void;
  reject: (err: FetchError) => void;
}

/**
 * The directory of Node's compile cache when this process has it on (the CLI turns it on, src/cli/main.ts; a
 * library user may have too), else undefined. Worker threads do not inherit it, so the parse threads are told,
 * and turn it on for themselves (worker-entry.cts): the parser bundle is then compiled once per Node and install,
 * not in every thread of every run. A process that did not turn it on gets none in its threads either.
 */
function compileCacheDir(): string | undefined {
  const dir = (nodeModule as { getCompileCacheDir?: () => string | undefined }).getCompileCacheDir?.();
  // getCompileCacheDir() names the subdirectory of one Node version and V8 flags that enableCompileCache(dir)
  // makes inside `dir`: the threads are given its parent, so that they share the main thread's entries.
  return dir === undefined ? undefined : dirname(dir);
}

/**
 * The compiled worker entry beside this module (CommonJS, see worker-entry.cts); when running from TypeScript
 * sources (tests), the build's copy.
 */
function workerFilename(): string {
  const beside = fileURLToPath(new URL('./worker-entry.cjs', import.meta.url));
  if (existsSync(beside)) return beside;
  const built = fileURLToPath(new URL('../../dist/parse/worker-entry.cjs', import.meta.url));
  if (existsSync(built)) return built;
  throw new Error(`volley's parse worker is missing (looked for ${beside} and ${built}); run \`npm run build\``);
}

/**
 * The executor pool: HTML is decoded and parsed only in piscina worker threads, never on the event loop.
 * Bodies are transferred, not copied. Aborting the run's signal drops queued tasks and kills running ones
 * (piscina's abort semantics); a parse that overruns `parseTimeoutMs` kills only its own worker, which piscina replaces.
 *
 * `threads` is the most it runs. It starts with one thread and one task at a time, and widens to all of them (two
 * tasks each) as soon as a page is big (≥ SMALL_PAGE_BYTES: parsing is the run's work then), or the one thread is
 * busy half the time, or pages wait behind a page that has parsed for a window already (one slow page must not hold
 * up the rest); piscina starts the others then. Pages piling up are no sign by themselves: they do while the first
 * thread boots, and when the event loop is slow to take answers, which more threads would not cure. Each thread is
 * an isolate of its own that loads the parser, compiles its hot code and collects its garbage: on small pages,
 * where a thread is busy ~10% of the time, a second one only took CPU the event loop and the server needed (8 pairs
 * each: W1 8% less CPU and 5% less time, W2 14% less CPU; docs/performance.md).
 */
export class ParsePool implements PageParser {
  private readonly piscina: piscina.Piscina<WorkerTask, WorkerReply>;
  /**
   * Pages waiting for a thread, in arrival order, from `head` on: taken by moving the head (each slot cleared, so a
   * taken page's body is not held), not by shift(), which copies the rest of the array each time once it is long
   * (~16k entries and up: V8 no longer trims its front in place; 50,000 queued pages spent ~2 s in shift()).
   */
  private queue: (Entry | undefined)[] = [];
  private head = 0;
  /** Bytes of the pages in `queue`. */
  private queuedBytes = 0;
  private pumpScheduled = false;
  /**
   * Tasks handed to piscina: at most two per thread, so that a thread's next task is ready when it finishes;
   * one per thread measured 20.1 s against 11.4 s on 2,000 pages of 150 KB. The second waits in piscina's queue,
   * not on the thread (a task with an AbortSignal goes only to an idle thread), and piscina posts it in the same
   * callback that takes the first one's answer, before any of our code runs. Pages wait in `queue` beyond that,
   * so that (a) a task's parse deadline counts at most one task ahead of it, and (b) the small pages that pile up
   * while the threads are busy leave together as one batch. Small pages also wait for the end of the event-loop
   * turn (`pumpSoon`), so those completing in the same turn batch even when a thread is free: batching happens
   * when there is load.
   */
  private running = 0;
  /** Tasks that may be in flight at once: one until the pool widens (a lone thread: two from the start), then threads × 2. */
  private slots: number;
  /** The lone thread's busy time (its own clock) since `windowStart`, while the pool has not widened. */
  private busyInWindow = 0;
  private windowStart: number | null = null;
  /** The clock slot of the lone task in flight while the pool has not widened, else null. */
  private soloSlot: number | null = null;
  /** One slot per task that may be in flight at once (`running` never exceeds threads × 2). */
  private readonly clocks: TaskClocks;
  /** The nice value of the parse threads (thread-priority.ts): the pool's creator's, PARSE_NICENESS lower; null but on Linux. */
  private readonly nice = parseThreadNice();
  /** The run has selectors: a page's parse may then be stopped only by killing its thread (see MAX_BIG_BATCH_BYTES). */
  private readonly selectorRun: boolean;
  /** Thread ids that answered, so tests and the benchmark can prove parsing left the main thread. */
  readonly threadIds = new Set<number>();

  /** Tasks the threads have answered (a batch of pages is one), so tests can see pages travel together. */
  get tasksDone(): number {
    return this.piscina.completed;
  }

  /** Threads started and not yet gone (booting ones included): one until the pool widens. */
  get threadCount(): number {
    return this.piscina.threads.length;
  }

  constructor(
    private readonly spec: NormalizedExtract,
    private readonly threads: number,
    private readonly parseTimeoutMs: number,
  ) {
    this.clocks = new TaskClocks(threads * 2);
    this.selectorRun = needsDom(spec);
    this.slots = threads === 1 ? 2 : 1;
    const before = this.nice === null ? null : threadIds();
    this.piscina = new Piscina<WorkerTask, WorkerReply>({
      filename: workerFilename(),
      // One thread at first; piscina starts the others when tasks wait for a thread, which happens only once the
      // pool has widened (one task in flight before that never waits).
      minThreads: 1,
      maxThreads: threads,
      idleTimeout: 10_000,
      // piscina's run and wait time histograms: nothing reads them, and each task would pay for them.
      recordTiming: false,
      // A parse thread allocates fast (a string per tag name, attribute and piece of text) and keeps little (one
      // page's pieces and links), so its young generation is mostly garbage at each scavenge; but each scavenge
      // also copies what is live, and a small young generation scavenges often: at 4 MiB a W3 parse thread spent
      // ~13% of its time in GC. 32 MiB, against 4, in pairs both ways round (bench/ab.mjs W3, 8-10 pairs each):
      // wall 0.94x and 0.92x on Node 20, 0.95x and 0.97x on 22, 0.98x and 0.95x on 24; W1 level; W3's peak RSS
      // level (257-272 against 255-287 MB: bodies are freed as soon as they are parsed, worker-entry.cts). 64 MiB
      // was no better. It is a ceiling per thread, reached only by threads that parse a lot: `threads` × 32 MiB.
      resourceLimits: { maxYoungGenerationSizeMb: 32 },
      workerData: { compileCacheDir: compileCacheDir(), nice: this.nice } satisfies ParseThreadData,
    });
    // A worker's answer can cross an abort of its task; piscina then emits 'error' ("Unexpected message from
    // Worker") on the pool, which would crash the process. The task itself has already been settled as CANCELLED.
    this.piscina.on('error', () => {});
    // piscina starts its first thread in its constructor.
    lowerNewThreads(before, this.nice);
  }

  parse(page: Page, signal: AbortSignal): Promise<ParsedFields> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(cancelledAt('parse'));
      this.queue.push({ page, signal, resolve, reject });
      this.queuedBytes += page.body.byteLength;
      // A big page leaves at once when a task slot is free (alone: see takeBatch), so waiting for the turn to end
      // would only delay it.
      if (page.body.byteLength >= SMALL_PAGE_BYTES) {
        this.widen();
        this.pump();
      } else this.pumpSoon();
    });
  }

  /**
   * Hands the queue to the threads once the current turn of the event loop is over: responses that complete in
   * the same turn (under load, many) then leave as one batch instead of one round trip each. The wait is at most
   * the rest of one turn.
   */
  private pumpSoon(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    // Pages waiting behind a lone task whose page in hand has parsed for a whole window: one thread is not enough.
    const solo = this.soloSlot;
    if (solo !== null && this.waiting > 0 && (this.clocks.current(solo)?.ms ?? 0) >= WIDEN_WINDOW_MS) this.widen();
    while (this.running < this.slots && this.waiting > 0) {
      const batch = this.takeBatch();
      this.running++;
      void this.runTask(batch).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  /** One task at a time on one thread: the pool has not widened (never so for a lone thread). */
  private get narrow(): boolean {
    return this.slots === 1;
  }

  /** From one task at a time on one thread to two on each of `threads` (see the class). Idempotent. */
  private widen(): void {
    this.slots = this.threads * 2;
    this.soloSlot = null;
  }

  /** The lone thread's answer took it `busyMs`: widens when that is half of a window or more. */
  private noteBusy(busyMs: number): void {
    if (!this.narrow) return;
    const now = performance.now();
    // The first answer starts the window: the thread's boot before it is not idleness.
    if (this.windowStart === null) {
      this.windowStart = now;
      return;
    }
    this.busyInWindow += busyMs;
    const span = now - this.windowStart;
    if (span < WIDEN_WINDOW_MS) return;
    if (this.busyInWindow >= span * WIDEN_BUSY_SHARE) this.widen();
    this.windowStart = now;
    this.busyInWindow = 0;
  }

  /**
   * The next page and the pages behind it of its kind (small, or big): the queue's share for one of the free task
   * slots, at least MIN_SHARE_BYTES, within the batch limits. A big page alone when the queue is no more than it,
   * and always when the run has selectors (see MAX_BIG_BATCH_BYTES).
   */
  private takeBatch(): Entry[] {
    const first = this.take();
    let bytes = first.page.body.byteLength;
    const batch = [first];
    const big = bytes >= SMALL_PAGE_BYTES;
    const freeSlots = Math.max(1, this.slots - this.running);
    const limit = big ? (this.selectorRun ? 0 : MAX_BIG_BATCH_BYTES) : MAX_BATCH_BYTES;
    const share = Math.min(limit, Math.max(MIN_SHARE_BYTES, Math.ceil(this.queuedBytes / freeSlots)));
    while (batch.length < MAX_BATCH_PAGES && this.waiting > 0) {
      const size = (this.queue[this.head] as Entry).page.body.byteLength;
      if ((size >= SMALL_PAGE_BYTES) !== big || bytes + size > share) break;
      batch.push(this.take());
      bytes += size;
    }
    this.queuedBytes -= bytes;
    return batch;
  }

  /**
   * Puts pages back at the head of the queue, in their order: the batch-mates of a page whose thread was killed,
   * which still have their bodies.
   */
  private requeue(entries: Entry[]): void {
    if (entries.length === 0) return;
    if (this.head >= entries.length) {
      this.head -= entries.length;
      entries.forEach((entry, i) => (this.queue[this.head + i] = entry));
    } else {
      this.queue = [...entries, ...this.queue.slice(this.head)];
      this.head = 0;
    }
    for (const { page } of entries) this.queuedBytes += page.body.byteLength;
  }

  /** Pages in the queue. */
  private get waiting(): number {
    return this.queue.length - this.head;
  }

  /**
   * The page at the head of the queue, its slot cleared. The array starts afresh once it is all taken, and drops its
   * cleared front once that is most of it (a backlog that never empties would otherwise grow it without end).
   */
  private take(): Entry {
    const entry = this.queue[this.head] as Entry;
    this.queue[this.head++] = undefined;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 4096 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return entry;
  }

  private async runTask(entries: Entry[]): Promise<void> {
    // Every page of a batch belongs to the same run, so the first one's signal speaks for all.
    const runSignal = (entries[0] as Entry).signal;
    if (runSignal.aborted) {
      for (const entry of entries) entry.reject(cancelledAt('parse'));
      return;
    }
    const controller = new AbortController();
    /** The index of the page whose overrun made the pool kill the thread, else null. */
    let overran: number | null = null;
    const slot = this.clocks.take();
    if (this.narrow) this.soloSlot = slot;
    const killAfter = this.parseTimeoutMs + Math.min(this.parseTimeoutMs, KILL_GRACE_MS);
    const onDeadline = (): void => {
      const page = this.clocks.current(slot);
      if (page === null || page.ms < killAfter) {
        timer = setTimeout(onDeadline, page === null ? killAfter : killAfter - page.ms);
        return;
      }
      overran = page.index;
      controller.abort();
    };
    let timer = setTimeout(onDeadline, killAfter);
    const onAbort = (): void => controller.abort();
    runSignal.addEventListener('abort', onAbort, { once: true });
    // Which pages' own buffers cross (and are gone from here after): decided now, as a detached buffer reads as empty.
    const transferred = entries.map(({ page }) => transfers(page));
    try {
      const { pages, transferList } = crossing(entries, transferred);
      // piscina starts another thread inside `run` when the pool has widened and no thread is free. Only then are
      // the threads listed (a read of /proc), not for every task.
      const before = this.nice !== null && !this.narrow && this.piscina.threads.length < this.threads ? threadIds() : null;
      const replied = this.piscina.run(
        { pages, spec: this.spec, clocks: this.clocks.buffer, slot, epoch: this.clocks.epoch, deadlineMs: this.parseTimeoutMs },
        { transferList, signal: controller.signal },
      );
      lowerNewThreads(before, this.nice);
      const reply = await replied;
      this.threadIds.add(reply.threadId);
      this.noteBusy(reply.busyMs);
      reply.outcomes.forEach((outcome, i) => {
        const entry = entries[i] as Entry;
        if (outcome.ok) entry.resolve(unpackFields(outcome));
        else if (outcome.timedOut) entry.reject(this.overrunError());
        else entry.reject(new FetchError('PARSE', `could not parse the page: ${outcome.message}`));
      });
    } catch (err) {
      if (runSignal.aborted) {
        for (const entry of entries) entry.reject(cancelledAt('parse'));
      } else if (overran !== null) {
        this.killedFor(entries, transferred, overran);
      } else {
        const error = new FetchError('PARSE', `the parse worker failed: ${err instanceof Error ? err.message : String(err)}`);
        for (const entry of entries) entry.reject(error);
      }
    } finally {
      clearTimeout(timer);
      this.clocks.give(slot);
      if (this.soloSlot === slot) this.soloSlot = null;
      runSignal.removeEventListener('abort', onAbort);
    }
  }

  private overrunError(): FetchError {
    return new FetchError('PARSE', overrunMessage(this.parseTimeoutMs));
  }

  /**
   * The pool killed the thread of a task because its page `overran` kept it past the deadline: that page fails;
   * its batch-mates, parsed or not, go again if they still have their bodies (a small page's stays here: crossing
   * copies it), and fail naming the page that overran if not (a big page's own buffer, transferred).
   */
  private killedFor(entries: Entry[], transferred: boolean[], overran: number): void {
    const culprit = entries[overran] as Entry;
    culprit.reject(this.overrunError());
    const again: Entry[] = [];
    for (const [i, entry] of entries.entries()) {
      if (entry === culprit) continue;
      if (transferred[i]) {
        entry.reject(new FetchError('PARSE', `its parse thread was stopped: another page in its batch (${culprit.page.url}) took longer than parseTimeoutMs (${this.parseTimeoutMs})`));
      } else again.push(entry);
    }
    this.requeue(again);
  }

  async destroy(): Promise<void> {
    for (const entry of this.queue) entry?.reject(cancelledAt('parse'));
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
    await this.piscina.destroy();
  }
}

/**
 * A batch's pages as they cross to a thread, with nothing copied twice: a big body the page owns goes with its own
 * buffer (a transfer); the others (views into undici's reads, kept bodies, small decoded ones) are copied into one
 * new buffer for the whole batch, which goes instead. One ArrayBuffer a batch rather than one a page: allocating
 * and collecting a small ArrayBuffer costs more main-thread time than copying its 2 KB. And a small page keeps its
 * body here, so that it can go again if its thread is killed for a batch-mate (ParsePool.killedFor).
 */
function crossing(entries: readonly Entry[], transferred: readonly boolean[]): { pages: WorkerPage[]; transferList: ArrayBuffer[] } {
  let copied = 0;
  entries.forEach(({ page }, i) => {
    if (!transferred[i]) copied += page.body.byteLength;
  });
  // A big page owns its buffer (its pieces copied into one, fetch/body-buffer.ts): nothing to pack for it.
  const pack = copied > 0 ? new Uint8Array(copied) : null;
  const transferList: ArrayBuffer[] = pack === null ? [] : [pack.buffer];
  let offset = 0;
  const pages = entries.map(({ page }, i): WorkerPage => {
    let body = page.body;
    if (transferred[i]) transferList.push(body.buffer as ArrayBuffer);
    else if (pack !== null) {
      pack.set(body, offset);
      body = pack.subarray(offset, (offset += body.byteLength));
    } else body = new Uint8Array(0); // empty, and not its own to give away
    return { body, contentType: page.contentType, url: page.url };
  });
  return { pages, transferList };
}

/** A page whose own buffer crosses to the thread, rather than a copy in its batch's buffer (see crossing). */
function transfers(page: Page): boolean {
  return page.owned === true && page.body.byteLength >= SMALL_PAGE_BYTES;
}

export function createParsePool(options: Pick<NormalizedOptions, 'extract' | 'threads' | 'parseTimeoutMs'>): ParsePool {
  if (!options.extract) throw new Error('createParsePool needs an extraction spec');
  return new ParsePool(options.extract, options.threads, options.parseTimeoutMs);
}
