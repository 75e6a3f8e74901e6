import { readJsonlRows, type JsonlRow } from './jsonl-rows.js';

/**
 * What a previous run knew about one URL (`--since FILE`): its validators, for `If-None-Match` / `If-Modified-Since`
 * (RFC 9110 §13.1.2, §13.1.3), and with `--save` the file it was saved as, which a 304 repeats in its row.
 * Every entry has `etag` or `lastModified` (or both).
 */
export interface SinceEntry {
  etag?: string;
  lastModified?: string;
  savedAs?: string;
  sha256?: string;
}

/**
 * Folds one row of a previous run into `known`, later rows winning:
 * - an ok row with an `etag` or `lastModified` (a 304 row included) replaces what was known of its URL;
 * - an ok row without either removes it: the content changed and nothing can validate it any more;
 * - a failed row changes nothing. A timeout says nothing about the content, and a 200 that was not kept (TOO_LARGE,
 *   DECODE, …) must not come back as a 304 next time, so validators are taken from ok rows only.
 * One step of `readSince`, for readers that do more in the same pass.
 */
export function noteSince(known: Map<string, SinceEntry>, row: JsonlRow): void {
  if (row.ok !== true) return;
  const entry: SinceEntry = {};
  if (typeof row.etag === 'string' && row.etag !== '') entry.etag = row.etag;
  if (typeof row.lastModified === 'string' && row.lastModified !== '') entry.lastModified = row.lastModified;
  if (entry.etag === undefined && entry.lastModified === undefined) {
    known.delete(row.url);
    return;
  }
  if (typeof row.savedAs === 'string') entry.savedAs = row.savedAs;
  if (typeof row.sha256 === 'string') entry.sha256 = row.sha256;
  known.set(row.url, entry);
}

/**
 * Reads a previous run's JSONL output for `--since`: URL (as given) → its validators and saved file. Streamed, a
 * half-written last line ignored, later lines win (see `noteSince`); memory grows with the file's distinct URLs only.
 * A missing file knows nothing (an empty Map): the first night of a cron job. To read `--resume` in the same pass,
 * use `readPreviousRun`.
 */
export async function readSince(path: string): Promise<Map<string, SinceEntry>> {
  const known = new Map<string, SinceEntry>();
  await readJsonlRows(path, (row) => noteSince(known, row));
  return known;
}
