import { stringify } from 'csv-stringify/sync';
import type { FetchResult } from '../result.js';
import type { Encoder } from './sink.js';

export interface CsvShape {
  /** A `meta` column after `url`: each request's `meta` as JSON (a number as itself), empty without one. @default false */
  meta?: boolean;
  canonical: boolean;
  lang: boolean;
  links: boolean;
  /** Selector names, each its own `data.NAME` column. */
  select: string[];
  /** A `headers` column: the response's header fields as one JSON object (`--headers`). @default false */
  headers?: boolean;
  /** A crawl (`--follow`): `depth`, `referrer` and `duplicateOf` columns after `url`. @default false */
  crawl?: boolean;
}

export interface CsvOptions {
  /**
   * Write cells exactly as they are, without the formula escape (`--csv-raw`). By default a cell that starts with
   * `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`, so a spreadsheet shows it as text instead of
   * running it: every cell came from someone else's server (CSV injection, CWE-1236; OWASP "CSV Injection").
   * @default false
   */
  raw?: boolean;
}

/** Issue 13's result fields, read here before they reach FetchResult's type. */
interface KeptFields {
  etag?: string | null;
  lastModified?: string | null;
  headers?: Record<string, string | string[]>;
}

/** A request's `meta` in its CSV cell: JSON text, except a number (which formula escaping must leave alone). */
function metaCell(meta: unknown): string | number | null {
  if (meta === undefined) return null;
  return typeof meta === 'number' ? meta : JSON.stringify(meta);
}

/**
 * CSV through csv-stringify (RFC 4180 quoting). The columns are fixed by the extraction spec before the first
 * row, so every row has the same shape. Links are joined by spaces (a serialised URL never contains one);
 * an "all matches" selector becomes a JSON array, which keeps values that contain spaces or commas intact.
 * Formula escaping is csv-stringify's `escape_formulas`, which also covers the full-width `＝＋－＠` that some
 * spreadsheets fold to their ASCII forms, and leaves negative numbers alone (they are numbers, not strings).
 */
export function csvEncoder(shape: CsvShape, options: CsvOptions = {}): Encoder {
  const columns = [
    'url', ...(shape.meta ? ['meta'] : []), ...(shape.crawl ? ['depth', 'referrer', 'duplicateOf'] : []), 'finalUrl', 'ok', 'status', 'errorCode', 'errorMessage', 'contentType', 'etag', 'lastModified',
    'bytes', 'elapsedMs', 'attempts', 'redirects',
    'title', 'description',
    ...(shape.canonical ? ['canonical'] : []),
    ...(shape.lang ? ['lang'] : []),
    ...(shape.links ? ['links'] : []),
    ...shape.select.map((name) => `data.${name}`),
    ...(shape.headers ? ['headers'] : []),
  ];
  const row = (result: FetchResult): unknown[] => {
    const r = result as FetchResult & KeptFields;
    return [
      r.url, ...(shape.meta ? [metaCell(r.meta)] : []), ...(shape.crawl ? [r.depth ?? null, r.referrer ?? null, r.duplicateOf ?? null] : []), r.finalUrl, r.ok, r.status, r.error?.code ?? '', r.error?.message ?? '', r.contentType, r.etag ?? null, r.lastModified ?? null,
      r.bytes, r.elapsedMs, r.attempts, r.redirects,
      r.title, r.description,
      ...(shape.canonical ? [r.canonical ?? null] : []),
      ...(shape.lang ? [r.lang ?? null] : []),
      ...(shape.links ? [(r.links ?? []).join(' ')] : []),
      ...shape.select.map((name) => {
        const v = r.data?.[name];
        return Array.isArray(v) ? JSON.stringify(v) : (v ?? null);
      }),
      ...(shape.headers ? [r.headers ? JSON.stringify(r.headers) : null] : []),
    ];
  };
  const escape_formulas = options.raw !== true;
  return {
    header: () => stringify([columns]),
    record: (result) => stringify([row(result)], { escape_formulas, cast: { boolean: (b) => (b ? 'true' : 'false') } }),
    footer: () => '',
  };
}
