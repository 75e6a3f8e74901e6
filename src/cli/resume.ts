import { existsSync, openSync, closeSync, fstatSync, readSync, ftruncateSync } from 'node:fs';
import { readJsonlRows, type JsonlRow } from './jsonl-rows.js';

/**
 * Codes whose rows are not final for `--resume`: the URL runs again. CANCELLED (the run stopped before it finished),
 * HOST_SKIPPED (its host looked dead tonight; tomorrow it may be back), WRITE (our disk was full, not their
 * answer wrong: once there is room, the file should be fetched and written) and INTERNAL (a bug of ours stranded it).
 */
const NOT_FINAL: ReadonlySet<unknown> = new Set(['CANCELLED', 'HOST_SKIPPED', 'WRITE', 'INTERNAL']);

/** True when a previous run's row settles its URL, so `--resume` skips it. */
export function isFinalRow(row: JsonlRow): boolean {
  const error = row.error as { code?: unknown } | null | undefined;
  return !NOT_FINAL.has(error?.code);
}

/**
 * How `--resume` identifies a piece of work: its URL, and its `meta` too when it has one, so that two requests to
 * one URL carrying different records (two POSTs) are two pieces of work. `meta` is compared as JSON text: a
 * request line's and the row's (written from the same parsed value) serialise alike.
 */
export function workKey(url: string, meta: unknown): string {
  return meta === undefined ? url : `${url}\n${JSON.stringify(meta)}`;
}

/** Adds the row's work (`workKey`) to `done` when the row is final: one step of `finishedUrls`, for readers that do more. */
export function noteFinished(done: Set<string>, row: JsonlRow): void {
  if (isFinalRow(row)) done.add(workKey(row.url, row.meta));
}

/**
 * Work (`workKey`: URLs, with their `meta` when rows carry one) that already has a final result in a previous run's JSONL output (streamed; a missing file has none).
 * CANCELLED and HOST_SKIPPED rows are not final: those URLs run again. A line cut short by a killed run is skipped
 * here and cut off the file by `trimPartialLine`. To read `--since` validators in the same pass, use `readPreviousRun`.
 */
export async function finishedUrls(path: string): Promise<Set<string>> {
  const done = new Set<string>();
  await readJsonlRows(path, (row) => noteFinished(done, row));
  return done;
}

/** Cuts a trailing partial line (no final newline) so that appended results start on a line of their own. */
export function trimPartialLine(path: string): void {
  if (!existsSync(path)) return;
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return;
    const chunk = Buffer.alloc(Math.min(size, 1024 * 1024));
    let end = size;
    // Walk back to the last newline; everything after it is the partial line.
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const n = readSync(fd, chunk, 0, end - start, start);
      const idx = chunk.subarray(0, n).lastIndexOf(0x0a);
      if (idx !== -1) {
        if (start + idx + 1 !== size) ftruncateSync(fd, start + idx + 1);
        return;
      }
      end = start;
    }
    ftruncateSync(fd, 0);
  } finally {
    closeSync(fd);
  }
}
