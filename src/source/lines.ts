import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { ECHO_CHARS, headOf, MAX_URL_BYTES, OverlongLine, type SourceLine } from './url-input.js';

const LF = 0x0a;
const CR = 0x0d;
/** Bytes kept of an overlong line: enough for its first ECHO_CHARS characters in any UTF-8. */
const HEAD_BYTES = ECHO_CHARS * 4;

/**
 * Splits bytes into lines at LF, CR or CRLF (as readline does), holding at most `maxBytes` of any one line: a
 * longer line is counted to its end but only its start is kept, and comes out as an {@link OverlongLine}. So a
 * 50 MB line costs a few KiB, where readline would build a 50 MB string. Empty lines are not returned.
 */
export class LineSplitter {
  /** The current line's bytes from earlier chunks: all of them, or only the first HEAD_BYTES once it is overlong. */
  private parts: Buffer[] = [];
  /** The current line's length so far, in bytes. */
  private size = 0;

  constructor(private readonly maxBytes = MAX_URL_BYTES) {}

  /** The lines that end in this chunk. */
  push(chunk: Buffer): SourceLine[] {
    const lines: SourceLine[] = [];
    // The next LF and the next CR, each found once (memchr speed), so a chunk is scanned at most twice.
    let lf = chunk.indexOf(LF);
    let cr = chunk.indexOf(CR);
    let start = 0;
    while (lf !== -1 || cr !== -1) {
      const end = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
      if (this.size === 0 && end - start <= this.maxBytes) {
        // The whole line is in this chunk (the usual case): decode it in place.
        if (end > start) lines.push(chunk.toString('utf8', start, end));
      } else {
        this.add(chunk, start, end);
        const line = this.take();
        if (line !== '') lines.push(line);
      }
      start = end + 1;
      if (end === lf) lf = chunk.indexOf(LF, start);
      if (end === cr) cr = chunk.indexOf(CR, start);
    }
    this.add(chunk, start, chunk.length);
    return lines;
  }

  /** The last line, when the input does not end with a line break. */
  end(): SourceLine[] {
    return this.size > 0 ? [this.take()] : [];
  }

  private add(chunk: Buffer, from: number, to: number): void {
    if (to === from) return;
    const before = this.size;
    this.size += to - from;
    if (this.size <= this.maxBytes) {
      this.parts.push(chunk.subarray(from, to));
    } else if (before <= this.maxBytes) {
      // The line has just become too long: copy its start and let go of the rest (and of the chunks it was in).
      const head = Buffer.concat([...this.parts, chunk.subarray(from, Math.min(to, from + HEAD_BYTES))]);
      this.parts = [Buffer.from(head.subarray(0, HEAD_BYTES))];
    }
  }

  private take(): SourceLine {
    const { parts, size } = this;
    this.parts = [];
    this.size = 0;
    if (size > this.maxBytes) return new OverlongLine(headOf((parts[0] as Buffer).toString('utf8')), size);
    return Buffer.concat(parts, size).toString('utf8');
  }
}

/**
 * URL lines of a stream, read lazily: the stream is pulled only as the consumer asks, so a 10-million-line file
 * costs one chunk of memory, not the file. Blank lines and `#` comments are dropped here (an overlong comment
 * too); a line longer than 64 KiB comes as an {@link OverlongLine}, which `fetchEach` turns into an INVALID_URL
 * result.
 */
export async function* readUrlLines(stream: Readable): AsyncGenerator<SourceLine> {
  const splitter = new LineSplitter();
  // Leaving early (a consumer's break) ends the stream's iterator, which destroys the stream: no file stays open.
  for await (const data of stream as AsyncIterable<Buffer | string>) {
    for (const line of splitter.push(typeof data === 'string' ? Buffer.from(data, 'utf8') : data)) {
      const url = urlLine(line);
      if (url !== null) yield url;
    }
  }
  for (const line of splitter.end()) {
    const url = urlLine(line);
    if (url !== null) yield url;
  }
}

/** The line trimmed, or null for a blank line or a comment. An overlong line is dropped only as a comment: its
 * start alone cannot show that it is blank. */
function urlLine(line: SourceLine): SourceLine | null {
  if (typeof line !== 'string') return line.head.trimStart().startsWith('#') ? null : line;
  const text = line.trim();
  return text === '' || text.startsWith('#') ? null : text;
}

/** URL lines of a file (or stdin for `-`). */
export function readUrlFile(path: string, stdin: Readable = process.stdin): AsyncGenerator<SourceLine> {
  return readUrlLines(path === '-' ? stdin : createReadStream(path));
}
