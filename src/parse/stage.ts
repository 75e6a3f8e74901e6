import { FetchError, cancelledAt } from '../errors.js';
import type { NormalizedOptions } from '../options.js';
import type { ParsePool } from './pool.js';
import type { Page, PageParser, ParsedFields } from './types.js';

/**
 * Pages up to this size may be parsed on the main thread while no parse thread has loaded the parser. Parsing
 * 64 KiB takes about a millisecond (htmlparser2, building only what the fields need), so that is about the longest
 * the event loop is held per page, and only until a thread is ready.
 */
export const INLINE_MAX_BYTES = 64 * 1024;

type ParseInline = typeof import('./worker.js').parseInline;

/** The parse stage of a run: the thread pool, started when the run shows it needs one. */
export interface ParseStage extends PageParser {
  /** Starts the threads (and loads piscina) now, so that they boot while requests are on the wire. Idempotent. */
  startThreads(): void;
  /** Loads the main thread's parser now, for a run that will parse a page before any thread is ready. Idempotent. */
  loadInline(): void;
  /** What the stage has done so far, for tests and the benchmark. */
  readonly stats: { threads: 'not started' | 'starting' | 'ready'; parsedInline: number };
}

/**
 * The parse stage of a run that extracts. Nothing is loaded until the run asks (`startThreads`, `loadInline`, or
 * a page), so a run that never parses (`extract: false`, HEAD) never loads piscina or the parser.
 *
 * Threads take a few hundred ms to boot and load the parser, a one-page run's whole budget. So until a thread is
 * ready (`ParsePool.warm`), a small page (≤ INLINE_MAX_BYTES) is parsed on the main thread; a bigger one starts
 * the threads if need be and waits for one, as does every page once a thread is ready. The pipeline starts the
 * threads as it takes a second URL, so a run of one small page starts none.
 */
export function createParseStage(options: Pick<NormalizedOptions, 'extract' | 'threads' | 'parseTimeoutMs'>): ParseStage {
  const spec = options.extract;
  if (!spec) throw new Error('createParseStage needs an extraction spec');
  let started: ParsePool | null = null;
  let pool: Promise<ParsePool> | null = null;
  let inline: Promise<ParseInline> | null = null;
  let parsedInline = 0;
  const startThreads = (): Promise<ParsePool> => {
    if (pool === null) {
      pool = import('./pool.js').then(({ createParsePool }) => (started = createParsePool(options)));
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
  const warm = (): boolean => (started as ParsePool | null)?.warm === true;
  return {
    startThreads: () => void startThreads(),
    loadInline: () => void loadInline(),
    get stats() {
      return { threads: pool === null ? 'not started' : warm() ? 'ready' : 'starting', parsedInline } as const;
    },
    async parse(page: Page, signal: AbortSignal): Promise<ParsedFields> {
      if (page.body.byteLength > INLINE_MAX_BYTES || warm()) return (await startThreads()).parse(page, signal);
      const parseInline = await loadInline();
      if (signal.aborted) throw cancelledAt('parse');
      parsedInline++;
      try {
        return parseInline(page, spec);
      } catch (err) {
        throw new FetchError('PARSE', `could not parse the page: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
    async destroy(): Promise<void> {
      const p = pool === null ? null : await pool.catch(() => null);
      await p?.destroy();
    },
  };
}
