import { PassThrough, Transform, pipeline, type Readable } from 'node:stream';
import { FetchError } from '../errors.js';
import { lazyBuiltin } from '../lazy-builtin.js';

// Required by the first compressed response: a run whose responses are not compressed (a local server, most
// APIs) never loads it.
const zlib = lazyBuiltin('node:zlib');

/**
 * "deflate" is meant to be zlib-wrapped (RFC 9110 §8.4.1.2) but many servers send raw deflate; browsers and
 * undici's fetch accept both by looking at the first byte, and so do we.
 */
class SniffingInflate extends Transform {
  private inner: Transform | null = null;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    if (!this.inner) {
      // zlib header: the low nibble of CMF is 8 (deflate).
      this.inner = (chunk[0]! & 0x0f) === 0x08 ? zlib().createInflate() : zlib().createInflateRaw();
      this.inner.on('data', (d: Buffer) => this.push(d));
      this.inner.on('error', (err) => this.destroy(err));
    }
    this.inner.write(chunk, done);
  }
  override _flush(done: (err?: Error | null) => void): void {
    if (!this.inner) return done();
    this.inner.once('end', () => done());
    this.inner.end();
  }
  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    this.inner?.destroy();
    done(err);
  }
}

function decoderFor(coding: string): Transform {
  switch (coding) {
    case 'gzip':
    case 'x-gzip': {
      // Lenient like browsers: a gzip stream cut short still yields what arrived.
      const { createGunzip, constants } = zlib();
      return createGunzip({ flush: constants.Z_SYNC_FLUSH, finishFlush: constants.Z_SYNC_FLUSH });
    }
    case 'deflate':
      return new SniffingInflate();
    case 'br':
      return zlib().createBrotliDecompress();
    default:
      throw new FetchError('DECODE', `unsupported Content-Encoding: ${coding}`);
  }
}

/** The codings of a Content-Encoding value, in the order they were applied; `identity` is a no-op. */
export function contentCodings(contentEncoding: string | null): string[] {
  if (contentEncoding === null) return [];
  return contentEncoding
    .toLowerCase()
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '' && c !== 'identity');
}

/**
 * The body with its Content-Encoding undone (node:zlib's streaming decoders), undone last to first. A failure
 * inside a decoder is the server's bad data: it comes out as DECODE (never retried), told apart from a failure
 * of the connection under it, which comes out as it was (and is classified as RESET or TIMEOUT). An unknown
 * coding throws DECODE before anything is read; the caller discards the body.
 */
export function decodedBody(body: Readable, contentEncoding: string | null): Readable {
  const codings = contentCodings(contentEncoding);
  if (codings.length === 0) return body;
  const decoders = codings.reverse().map(decoderFor);
  // zlib's brotli errors carry codes like ERR__ERROR_FORMAT_PADDING_2 that no fixed list covers: remember
  // which errors came from a decoder rather than matching codes.
  const fromDecoder = new WeakSet<object>();
  for (const d of decoders) d.on('error', (err) => fromDecoder.add(err));
  const out = new PassThrough();
  const last = pipeline([body, ...decoders], (err: NodeJS.ErrnoException | null) => {
    if (!err) return;
    out.destroy(
      fromDecoder.has(err) ? new FetchError('DECODE', `could not decode the ${codings.join(', ')} body: ${err.message}`, { cause: err }) : err,
    );
  });
  (last as unknown as Readable).pipe(out);
  return out;
}
