import { FetchError, cancelledAt } from '../errors.js';
import type { NormalizedOptions } from '../options.js';
import type { ParsePool } from './pool.js';
import { headOnly, needsDom } from './needs-dom.js';
import { headFields } from './head-fields.js';
import type { Page, PageParser, ParsedFields } from './types.js';

/**
 * Pages up to this size may be parsed on the main thread by a run that has started no parse thread. Parsing
 * 64 KiB takes about a millisecond (htmlparser2, building only what the fields need), so that is about the longest
 * the event loop is held per page.
 */
export const INLINE_MAX_BYTES = 64 * 1024;

type ParseInline = typeof import('./worker.js').parseInline;

/** The parse stage of a run: the thread pool, started when the run shows it needs one. */
export interface ParseStage extends PageParser {
  /** Starts the threads (and loads piscina) now, so that they boot while requests are on the wire. Idempotent. */
  startThreads(): void;
  /** Loads the main thread's parser now, for a run that will parse a page before any thread is ready. Idempotent. */
  loadInline(): void;
  /** What the stage has done so far, for tests. */
  readonly stats: { threadsStarted: boolean; parsedInline: number; headPages: number };
}

/**
 * The parse stage of a run that extracts. Nothing is loaded until the run asks (`startThreads`, `loadInline`, or
 * a page), so a run that never parses (`extract: false`, HEAD) never loads piscina or the parser.
 *
 * Threads take a few hundred ms to boot and load the parser, a one-page run's whole budget. So while no thread
 * has been started, a small page (≤ INLINE_MAX_BYTES) is parsed on the main thread, under its parse deadline
 * (checked between pieces); a bigger one starts the threads, and so does any page of a run with selectors: a
 * selector's run cannot be broken into, so on the main thread it could hold the event loop (and Ctrl-C) past the
 * deadline, where on a thread the pool stops it. The pipeline starts the threads as it takes a second URL, so a
 * run of one small page starts none, and in a run of many every page goes to a thread: loading the parser on the
 * main thread as well would hold the event loop for tens of ms while the threads boot (`npm run bench -- --quick
 * --only W1`, one run each: loop p99 201 ms with main-thread parsing until a thread was ready, 149 ms without).
 *
 * A run that asks only for head fields (title, description, lang) first reads them on the main thread where
 * head-fields.ts can be sure of the thread's answer (~3 µs a small page: the hand-off to a thread costs the event
 * loop more than that), and starts its threads only at the first page it cannot answer so.
 */
export function createParseStage(options: Pick<NormalizedOptions, 'extract' | 'threads' | 'parseTimeoutMs'>): ParseStage {
  const spec = options.extract;
  if (!spec) throw new Error('createParseStage needs an extraction spec');
  let pool: Promise<ParsePool> | null = null;
  // The pool once started: pages then go straight to it, with no await on a promise long settled.
  let ready: ParsePool | null = null;
  let inline: Promise<ParseInline> | null = null;
  const domRun = needsDom(spec);
  const headRun = headOnly(spec);
  let parsedInline = 0;
  let headPages = 0;
  // A run for head fields only starts its threads at the first page the main thread cannot answer (headFields).
  let threadsWanted = false;
  const startThreads = (): Promise<ParsePool> => {
    if (pool === null) {
      pool = import('./pool.js').then(({ createParsePool }) => (ready = createParsePool(options)));
      // A failure to load is reported by each page's parse(); destroy() has nothing to release then.
      pool.catch(() => {});
    }
    return pool;
  };
  const loadInline = (): Promise<ParseInline> => {
    if (inline === null) {
      inline = import('./worker.js').then((m) => m.parseInline);
      inline.catch(() => {});
    }
    return inline;
  };
  /** A page before the pool is ready: the threads' (starting them), or the main thread's while none is started. */
  const parseSoon = async (page: Page, signal: AbortSignal): Promise<ParsedFields> => {
    if (page.body.byteLength > INLINE_MAX_BYTES || pool !== null || domRun) return (await startThreads()).parse(page, signal);
    const parseInline = await loadInline();
    if (signal.aborted) throw cancelledAt('parse');
    parsedInline++;
    try {
      return parseInline(page, spec, options.parseTimeoutMs);
    } catch (err) {
      // The deadline's message is the pool's (pool.ts): the same PARSE row whichever thread parsed the page. Known
      // by name: its class lives in the parser's bundle, which this module loads only when a page needs it.
      if (err instanceof Error && err.name === 'ParseDeadlineExceeded') throw new FetchError('PARSE', err.message);
      throw new FetchError('PARSE', `could not parse the page: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  return {
    startThreads: () => {
      if (headRun) threadsWanted = true;
      else void startThreads();
    },
    loadInline: () => void loadInline(),
    get stats() {
      return { threadsStarted: pool !== null, parsedInline, headPages };
    },
    parse(page: Page, signal: AbortSignal): Promise<ParsedFields> {
      if (headRun && !signal.aborted) {
        const fields = headFields(page.body, page.contentType, spec);
        if (fields !== undefined) {
          headPages++;
          return Promise.resolve(fields);
        }
        if (threadsWanted && pool === null) void startThreads();
      }
      return ready !== null ? ready.parse(page, signal) : parseSoon(page, signal);
    },
    async destroy(): Promise<void> {
      const p = pool === null ? null : await pool.catch(() => null);
      await p?.destroy();
    },
  };
}
