import { createReadStream, existsSync, openSync, closeSync, fstatSync, readSync, ftruncateSync } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * URLs that already have a final result in a previous run's JSONL output. CANCELLED rows are not final: those
 * URLs run again. A line cut short by a killed run is skipped here and cut off the file by `trimPartialLine`.
 */
export async function finishedUrls(path: string): Promise<Set<string>> {
  const done = new Set<string>();
  if (!existsSync(path)) return done;
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of rl) {
    if (line.trim() === '') continue;
    try {
      const row = JSON.parse(line) as { url?: unknown; error?: { code?: unknown } | null };
      if (typeof row.url === 'string' && row.error?.code !== 'CANCELLED') done.add(row.url);
    } catch {
      // A partial last line from a killed run: its URL did not finish as far as this file knows.
    }
  }
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
