import type { NormalizedExtract } from './spec.js';

// What a spec asks of the parser, in a module of its own because both sides need it: the parser (extract.ts,
// stream.ts) and the main thread (pool.ts, stage.ts, head-fields.ts), which must not load spec.ts's selector
// checking into the parser's bundle nor the parser into the main thread.

/** User selectors and `followSelect` are answered from a DOM of the whole page; the built-in fields, by the scan. */
export function needsDom(spec: NormalizedExtract): boolean {
  return spec.select.length > 0 || spec.followSelect !== null;
}

/**
 * Whether `scanPage` may stop before the end of a page: every field asked for is a head field that the first
 * occurrence settles (title, description, lang).
 */
export function stopsEarly(spec: NormalizedExtract): boolean {
  return !spec.links && !spec.canonical && !spec.metaRobots && (spec.title || spec.description || spec.lang);
}

/** Head fields only, with no DOM: what the scan reads from the head alone, and what head-fields.ts may answer. */
export function headOnly(spec: NormalizedExtract): boolean {
  return !needsDom(spec) && stopsEarly(spec);
}
