import type { NormalizedExtract } from './spec.js';

/**
 * User selectors and `followSelect` are answered from a DOM of the whole page; the built-in fields, by the scan.
 * A module of its own because both sides need it: the parser (extract.ts) and the main thread's pool (pool.ts),
 * which must not load spec.ts's selector checking into the parser's bundle nor the parser into the main thread.
 */
export function needsDom(spec: NormalizedExtract): boolean {
  return spec.select.length > 0 || spec.followSelect !== null;
}
