/**
 * Bodies past one socket read never arrive in one piece (Node reads a socket 64 KiB at a time), so they are always
 * copied into one buffer. With their length declared, each piece is copied as it arrives, into a buffer made
 * when the head came: no list of chunks held to the end, and no join of a whole body in the turn it completes
 * (on 150 KB pages the join was the largest item of the event loop's long turns). Smaller bodies usually come in
 * one piece, kept as undici gave it (see HttpResponse.body).
 */
export const COPY_AS_READ_FROM = 64 * 1024;

/**
 * Past this, a declared length is not allocated up front: a server could declare many megabytes on every
 * connection and send nothing. Bodies this large are rare, and are joined at their end as before.
 */
export const COPY_AS_READ_UP_TO = 2 * 1024 * 1024;

/**
 * A response body as it is read, decoded: copied into one buffer of its declared length as it arrives when
 * {@link expect} was told one worth it, else kept as the chunks undici gave and joined at the end.
 */
export class BodyBuffer {
  /** The buffer of the declared length, while the body fits it. */
  private into: Uint8Array | null = null;
  private filled = 0;
  private chunks: Uint8Array[] = [];

  /** The head declared `length` bytes (Content-Length of an unencoded body; NaN when there is none). */
  expect(length: number): void {
    // Zeroed, though every byte is written before it is read: Buffer.allocUnsafeSlow made W3's main thread ~6%
    // cheaper on Node 22 but ~3% dearer on Node 24 (docs/performance.md), and no body then holds stale memory.
    if (length > COPY_AS_READ_FROM && length <= COPY_AS_READ_UP_TO) this.into = new Uint8Array(length);
  }

  push(chunk: Uint8Array): void {
    const into = this.into;
    if (into !== null) {
      if (this.filled + chunk.byteLength <= into.byteLength) {
        into.set(chunk, this.filled);
        this.filled += chunk.byteLength;
        return;
      }
      // More than declared (undici frames a response by its Content-Length, so this is not expected): chunks.
      this.chunks.push(into.subarray(0, this.filled));
      this.into = null;
    }
    this.chunks.push(chunk);
  }

  /**
   * The whole body, once read to its end. `owned` is true when it is the whole of an ArrayBuffer nothing else
   * references (HttpResponse.bodyOwned); a body of one chunk is undici's, a view into the socket's read.
   */
  whole(): { body: Uint8Array; owned: boolean } {
    const into = this.into;
    if (into !== null) return { body: this.filled === into.byteLength ? into : into.slice(0, this.filled), owned: true };
    const { chunks } = this;
    return chunks.length === 1 ? { body: chunks[0] as Uint8Array, owned: false } : { body: joinChunks(chunks), owned: true };
  }

  /** What was read so far, as one fresh buffer (a body cut short, for the record). */
  sofar(): Uint8Array {
    return this.into !== null ? this.into.slice(0, this.filled) : joinChunks(this.chunks);
  }
}

/** Chunks as one fresh buffer of its own (Buffer.concat takes a small total from Node's pool, which cannot be transferred). */
export function joinChunks(chunks: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const c of chunks) total += c.byteLength;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
