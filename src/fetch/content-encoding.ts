import type { Transform } from 'node:stream';
import { FetchError } from '../errors.js';
import { lazyBuiltin } from '../lazy-builtin.js';

// Required by the first compressed response: a run whose responses are not compressed (a local server, most
// APIs) never loads it.
const zlib = lazyBuiltin('node:zlib');

/** The codings of a Content-Encoding value, in the order they were applied; `identity` is a no-op. */
export function contentCodings(contentEncoding: string | null): string[] {
  if (contentEncoding === null) return [];
  return contentEncoding
    .toLowerCase()
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '' && c !== 'identity');
}

const SUPPORTED: ReadonlySet<string> = new Set(['gzip', 'x-gzip', 'deflate', 'br']);

/** Where a decoder's output goes. Exactly one of `end` and `error` is called, once; `data` only before it. */
export interface DecodeSink {
  /** Decoded bytes, in order. */
  data(chunk: Buffer): void;
  /** The body is decoded: its last byte arrived, or its compressed stream ended (what follows is ignored). */
  end(): void;
  /** The body could not be decoded: always a `DECODE` FetchError. */
  error(err: FetchError): void;
}

/** One coding's decoder: a node:zlib stream made at its first byte (deflate's kind is told by that byte). */
class Stage {
  private stream: Transform | null = null;
  /** Its output is complete: no more input is given to it. */
  private finished = false;

  constructor(
    private readonly coding: string,
    private readonly chain: BodyDecoder,
    /** The coding undone after this one (applied before it), or null for the last. */
    readonly next: Stage | null,
  ) {}

  /** False when the stream's buffer is full: the caller waits for `onDrain`. */
  write(chunk: Buffer): boolean {
    if (this.finished || chunk.length === 0) return true;
    const stream = (this.stream ??= this.open(chunk));
    return stream.write(chunk);
  }

  end(): void {
    if (this.finished) return;
    // No byte at all: an empty body decodes to an empty body.
    if (this.stream === null) return this.complete();
    this.stream.end();
  }

  destroy(): void {
    this.finished = true;
    const { stream } = this;
    if (stream === null) return;
    // A destroyed zlib stream can still report an error from the threadpool: one listener stays attached.
    stream.removeAllListeners('data');
    stream.on('error', ignore);
    stream.destroy();
  }

  onDrain(resume: () => void): void {
    if (this.stream === null || this.finished) resume();
    else this.stream.once('drain', resume);
  }

  private open(first: Buffer): Transform {
    const z = zlib();
    const { Z_SYNC_FLUSH } = z.constants;
    let stream: Transform;
    switch (this.coding) {
      case 'gzip':
      case 'x-gzip':
        stream = z.createGunzip({ finishFlush: Z_SYNC_FLUSH });
        break;
      case 'deflate':
        // "deflate" is meant to be zlib-wrapped (RFC 9110 §8.4.1.2) but many servers send raw deflate; browsers
        // and undici's fetch tell them apart by the first byte (a zlib header's CM nibble is 8), and so do we.
        stream = (first[0]! & 0x0f) === 0x08 ? z.createInflate({ finishFlush: Z_SYNC_FLUSH }) : z.createInflateRaw({ finishFlush: Z_SYNC_FLUSH });
        break;
      default:
        stream = z.createBrotliDecompress({ finishFlush: z.constants.BROTLI_OPERATION_FLUSH });
    }
    stream.on('data', (out: Buffer) => {
      if (this.finished) return;
      if (this.next === null) {
        this.chain.emitData(out);
        return;
      }
      if (!this.next.write(out)) {
        stream.pause();
        this.next.onDrain(() => stream.resume());
      }
    });
    stream.on('end', () => this.complete());
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (this.finished) return;
      this.chain.fail(new FetchError('DECODE', `could not decode the ${this.chain.codings} body: ${err.message}`, { cause: err }));
    });
    // The guard: a stream that closes having neither ended nor failed would leave its body owed for ever.
    stream.on('close', () => {
      if (!this.finished) this.chain.fail(new FetchError('DECODE', `the ${this.coding} decoder stopped before the end of the body`));
    });
    return stream;
  }

  private complete(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.next === null) this.chain.emitEnd();
    else this.next.end();
  }
}

function ignore(): void {}

/**
 * Undoes a body's Content-Encoding as its bytes arrive (node:zlib's decoders, last coding first), and settles
 * exactly once: `sink.end()` or `sink.error()`, whatever the bytes are. No stream `pipeline()`: its callback comes at
 * the last decoder's 'finish', before a brotli flush reports its error, and `pipe()` never forwards errors, which
 * is how a body cut short once left its request owed for ever. A failure in a decoder is the server's bad data:
 * `DECODE` (never retried). A failure of the connection is the caller's to report; it calls `destroy()`.
 *
 * What a body whose compressed stream is not quite right gives (as browsers do, but for one case):
 * - **cut short** (the response ended inside the compressed stream): what decoded so far is the body. The decoders
 *   finish with a sync flush rather than failing with "unexpected end of file".
 * - **junk after a complete stream**: ignored by inflate and brotli, whose output ends with their stream (the junk is
 *   never given to them). gzip is the exception: Node's gunzip reads what follows a member as the next member
 *   (RFC 1952 allows several) and fails its header check, so a gzip body followed by junk is `DECODE` (unless the
 *   junk starts with a zero byte, which Node takes for padding). Browsers show such a page; Node's API gives no way
 *   to tell where the member ended, and the output of the failing write is lost with the error.
 * - **corrupt data** inside the stream: `DECODE`, with zlib's message.
 * The answer depends only on the bytes, never on how the network cut them into chunks (test/decode-fuzz.test.ts).
 */
export class BodyDecoder {
  readonly codings: string;
  private readonly first: Stage;
  private settled = false;

  /** Throws `DECODE` for a coding volley cannot undo, before anything is read. */
  constructor(
    contentEncoding: string,
    private readonly sink: DecodeSink,
  ) {
    const codings = contentCodings(contentEncoding);
    const unknown = codings.find((c) => !SUPPORTED.has(c));
    if (unknown !== undefined) throw new FetchError('DECODE', `unsupported Content-Encoding: ${unknown}`);
    if (codings.length === 0) throw new RangeError('BodyDecoder needs a Content-Encoding other than identity');
    this.codings = codings.join(', ');
    // Undone last to first: the stage of the last coding applied takes the bytes as they arrive.
    let next: Stage | null = null;
    for (const coding of codings) next = new Stage(coding, this, next);
    this.first = next as Stage;
  }

  /** One chunk of the encoded body. False: wait for `onDrain` before the next (the socket is paused). */
  write(chunk: Buffer): boolean {
    if (this.settled) return true;
    return this.first.write(chunk);
  }

  onDrain(resume: () => void): void {
    this.first.onDrain(resume);
  }

  /** The encoded body is complete. */
  end(): void {
    if (!this.settled) this.first.end();
  }

  /** Stops decoding (the request failed, or the body is past its cap); the sink hears nothing more. */
  destroy(): void {
    this.settled = true;
    this.destroyStages();
  }

  /** @internal */
  emitData(chunk: Buffer): void {
    if (!this.settled) this.sink.data(chunk);
  }

  /** @internal */
  emitEnd(): void {
    if (this.settled) return;
    this.settled = true;
    this.destroyStages();
    this.sink.end();
  }

  /** @internal */
  fail(err: FetchError): void {
    if (this.settled) return;
    this.settled = true;
    this.destroyStages();
    this.sink.error(err);
  }

  private destroyStages(): void {
    for (let s: Stage | null = this.first; s !== null; s = s.next) s.destroy();
  }
}
