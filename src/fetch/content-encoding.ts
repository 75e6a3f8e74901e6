import { createBrotliDecompress, createGunzip, createInflate, createInflateRaw, constants } from 'node:zlib';
import { PassThrough, Transform, pipeline, type Readable } from 'node:stream';
import { FetchError } from '../errors.js';

/**
 * "deflate" is meant to be zlib-wrapped (RFC 9110 §8.4.1.2) but many servers send raw deflate; browsers and
 * undici's fetch accept both by looking at the first byte, and so do we.
 */
class SniffingInflate extends Transform {
  private inner: Transform | null = null;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    if (!this.inner) {
      // zlib header: the low nibble of CMF is 8 (deflate).
      this.inner = (chunk[0]! & 0x0f) === 0x08 ? createInflate() : createInflateRaw();
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
    case 'x-gzip':
      // Lenient like browsers: a gzip stream cut short still yields what arrived.
      return createGunzip({ flush: constants.Z_SYNC_FLUSH, finishFlush: constants.Z_SYNC_FLUSH });
    case 'deflate':
      return new SniffingInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      throw new FetchError('DECODE', `unsupported Content-Encoding: ${coding}`);
  }
}

/**
 * The body with its Content-Encoding undone (node:zlib's streaming decoders). Codings are listed in the order
 * they were applied, so they are undone last to first; `identity` is a no-op.
 */
export function decodedBody(body: Readable, contentEncoding: string | null): Readable {
  if (contentEncoding === null) return body;
  const codings = (contentEncoding ?? '')
    .toLowerCase()
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '' && c !== 'identity');
  if (codings.length === 0) return body;
  const decoders = codings.reverse().map(decoderFor);
  const out = new PassThrough();
  pipeline([body, ...decoders, out], () => {});
  return out;
}
