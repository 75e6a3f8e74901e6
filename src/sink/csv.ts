import { stringify } from 'csv-stringify/sync';
import type { FetchResult } from '../result.js';
import type { Encoder } from './sink.js';

export interface CsvShape {
  canonical: boolean;
  lang: boolean;
  links: boolean;
  /** Selector names, each its own `data.NAME` column. */
  select: string[];
}

/**
 * CSV through csv-stringify (RFC 4180 quoting). The columns are fixed by the extraction spec before the first
 * row, so every row has the same shape. Links are joined by spaces (a serialised URL never contains one);
 * an "all matches" selector becomes a JSON array, which keeps values that contain spaces or commas intact.
 */
export function csvEncoder(shape: CsvShape): Encoder {
  const columns = [
    'url', 'finalUrl', 'ok', 'status', 'errorCode', 'errorMessage', 'contentType', 'bytes', 'elapsedMs', 'attempts', 'redirects',
    'title', 'description',
    ...(shape.canonical ? ['canonical'] : []),
    ...(shape.lang ? ['lang'] : []),
    ...(shape.links ? ['links'] : []),
    ...shape.select.map((name) => `data.${name}`),
  ];
  const row = (r: FetchResult): unknown[] => [
    r.url, r.finalUrl, r.ok, r.status, r.error?.code ?? '', r.error?.message ?? '', r.contentType, r.bytes, r.elapsedMs, r.attempts, r.redirects,
    r.title, r.description,
    ...(shape.canonical ? [r.canonical ?? null] : []),
    ...(shape.lang ? [r.lang ?? null] : []),
    ...(shape.links ? [(r.links ?? []).join(' ')] : []),
    ...shape.select.map((name) => {
      const v = r.data?.[name];
      return Array.isArray(v) ? JSON.stringify(v) : (v ?? null);
    }),
  ];
  return {
    header: () => stringify([columns]),
    record: (result) => stringify([row(result)], { cast: { boolean: (b) => (b ? 'true' : 'false') } }),
    footer: () => '',
  };
}
