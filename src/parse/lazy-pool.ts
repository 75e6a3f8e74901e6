import type { NormalizedOptions } from '../options.js';
import type { Page, PageParser, ParsedFields } from './types.js';

/**
 * The parse pool (pool.ts, piscina) behind a dynamic import, started at once: the threads boot while the first
 * requests are on the wire, and a run that never parses (`extract: false`, HEAD) never loads piscina at all,
 * since only the runs that parse call this. Pages that arrive before the module has loaded wait for it.
 */
export function startParsePool(options: Pick<NormalizedOptions, 'extract' | 'threads' | 'parseTimeoutMs'>): PageParser {
  const pool = import('./pool.js').then(({ createParsePool }) => createParsePool(options));
  // A failure to load is reported by each page's parse(); destroy() has nothing to release then.
  pool.catch(() => {});
  return {
    parse: (page: Page, signal: AbortSignal): Promise<ParsedFields> => pool.then((p) => p.parse(page, signal)),
    destroy: async (): Promise<void> => {
      const p = await pool.catch(() => null);
      await p?.destroy();
    },
  };
}
