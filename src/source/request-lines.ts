import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { FetchError, redactUrl } from '../errors.js';
import { LineSplitter } from './lines.js';
import { OverlongLine } from './url-input.js';

/**
 * Longest line of a requests file, in UTF-8 bytes. A request line carries its body, so it may be far longer than a
 * URL (64 KiB); past this it is a runaway line, and becomes an INVALID_REQUEST result echoing only its start.
 */
export const MAX_REQUEST_LINE_BYTES = 16 * 1024 * 1024;

/** Longest piece of a bad line echoed in a message. */
const ECHO_LIMIT = 200;

/** A piece of a line for a message: at most ECHO_LIMIT characters, credentials stripped, JSON-quoted. */
function echo(text: string): string {
  return JSON.stringify(redactUrl(text.length > ECHO_LIMIT ? `${text.slice(0, ECHO_LIMIT)}…` : text));
}

function parse(line: string | OverlongLine): Readonly<Record<string, unknown>> | FetchError {
  if (line instanceof OverlongLine) {
    const message = `line is ${line.bytes} bytes, over the ${MAX_REQUEST_LINE_BYTES / 1024 / 1024} MiB limit of a request line: ${echo(line.head.trim())}`;
    return new FetchError('INVALID_REQUEST', message);
  }
  const text = line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // V8's message quotes a piece of the line too: stripped of credentials like the echo.
    return new FetchError('INVALID_REQUEST', `line is not JSON (${redactUrl((err as Error).message)}): ${echo(text.trim())}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const what = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return new FetchError('INVALID_REQUEST', `line is JSON but ${what}, not a request object: ${echo(text.trim())}`);
  }
  return value as Record<string, unknown>;
}

/**
 * One line of a requests JSONL file (`--requests`), parsed once: the request object it holds, or why it holds none
 * (not JSON, JSON but not an object, too long), as an INVALID_REQUEST error that echoes at most 200 characters of
 * the line. `fetchAll` / `fetchEach` take it like a request object; a bad line becomes that line's failed result
 * and the run goes on. A UTF-8 byte order mark at the start of the line is ignored.
 */
export class RequestLine {
  /** The request object (checked field by field only when it is fetched), or why the line is not one. */
  readonly value: Readonly<Record<string, unknown>> | FetchError;

  constructor(line: string | OverlongLine) {
    this.value = parse(line);
  }

  /** The request's `url` as written, trimmed; null when the line holds no object with a string `url`. */
  get url(): string | null {
    const url = this.value instanceof FetchError ? undefined : this.value.url;
    return typeof url === 'string' ? url.trim() : null;
  }

  /** The request's `meta`, as parsed; undefined when it has none (or the line holds no object). */
  get meta(): unknown {
    return this.value instanceof FetchError ? undefined : this.value.meta;
  }
}

/**
 * Request lines of a stream, read lazily (one chunk in memory, as for URL lists): blank lines and `#` comments are
 * skipped, every other line is a {@link RequestLine}.
 */
export async function* readRequestLines(stream: Readable): AsyncGenerator<RequestLine> {
  const splitter = new LineSplitter(MAX_REQUEST_LINE_BYTES);
  for await (const data of stream as AsyncIterable<Buffer | string>) {
    for (const line of splitter.push(typeof data === 'string' ? Buffer.from(data, 'utf8') : data)) {
      if (!skipped(line)) yield new RequestLine(line);
    }
  }
  for (const line of splitter.end()) if (!skipped(line)) yield new RequestLine(line);
}

function skipped(line: string | OverlongLine): boolean {
  const text = (typeof line === 'string' ? line : line.head).trimStart();
  return text === '' || text.startsWith('#');
}

/** Request lines of a JSONL file (or stdin for `-`), one request object per line. */
export function readRequestFile(path: string, stdin: Readable = process.stdin): AsyncGenerator<RequestLine> {
  return readRequestLines(path === '-' ? stdin : createReadStream(path));
}
