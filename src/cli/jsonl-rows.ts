import { createReadStream } from 'node:fs';

/** One row of a volley JSONL output as read back: a JSON object with a string `url`; every other field unchecked. */
export interface JsonlRow {
  url: string;
  [field: string]: unknown;
}

/**
 * Streams the rows of a previous run's JSONL output to `onRow`, in file order, one line in memory at a time.
 * A line that is not a JSON object with a string `url` is skipped: above all the half-written last line of a killed
 * run. A missing file has no rows (a first run); any other read failure (a directory, no permission) rejects.
 */
export async function readJsonlRows(path: string, onRow: (row: JsonlRow) => void): Promise<void> {
  // node:readline is imported here, by the runs that read a previous output (--resume, --since), not by every run.
  const { createInterface } = await import('node:readline');
  const input = createReadStream(path);
  const rl = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of rl) {
      if (line.trim() === '') continue;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        continue; // a partial last line from a killed run
      }
      if (isRow(row)) onRow(row);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  } finally {
    rl.close();
    input.destroy();
  }
}

function isRow(value: unknown): value is JsonlRow {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { url?: unknown }).url === 'string';
}
