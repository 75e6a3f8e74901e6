import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { isSkippable } from './url-input.js';

/**
 * Lines of a stream, read lazily: readline pulls only as the consumer asks, so a 10-million-line file
 * costs one chunk of memory, not the file. Blank lines and `#` comments are dropped here.
 */
export async function* readUrlLines(stream: Readable): AsyncGenerator<string> {
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of rl) {
      if (!isSkippable(line)) yield line.trim();
    }
  } finally {
    rl.close();
  }
}

/** URL lines of a file (or stdin for `-`). */
export function readUrlFile(path: string, stdin: Readable = process.stdin): AsyncGenerator<string> {
  return readUrlLines(path === '-' ? stdin : createReadStream(path));
}
