/**
 * Buffers for a run's large response bodies, used again once a parse thread is done with them.
 *
 * A body read in several pieces is joined into one buffer, which is transferred to a parse thread. A fresh buffer
 * of 150 KB is fresh memory: the kernel maps and zeroes its pages as the join first writes them, and that, not the
 * copy, was most of the join's cost (~55-90 µs a page, ~25-40 of them system time). The thread now sends the buffer
 * back with its answer (`WorkerReply.returned`), and the next body of about that size is joined into it.
 *
 * Only bodies that go to the parser and nowhere else take one (the pipeline hands the run's `BodyBuffers` to the
 * client only when nothing keeps bodies: a kept body is the caller's, and its buffer would be larger than it).
 * A buffer is only ever in one place: handed out by `take`, transferred to a thread (which leaves the main thread a
 * detached, empty one), and given back by the thread, whose own view is detached in turn.
 */
export class BodyBuffers {
  private readonly free: ArrayBuffer[] = [];
  private freeBytes = 0;
  /** How many takes were served by a buffer given back, for tests and the benchmark. */
  reused = 0;

  /**
   * @param maxFreeBytes what the run may hold in buffers not in use (a few pages' worth: as many are in flight to
   *   the threads at once as they have task slots).
   */
  constructor(private readonly maxFreeBytes = 16 * 1024 * 1024) {}

  /**
   * A view of `size` bytes: on a buffer given back when one fits (no more than a quarter larger than needed, so
   * that a small body does not pin a big buffer), else on a new one with an eighth's room, so that it can serve
   * the next bodies of about this size. Below MIN_BYTES, a plain buffer of its own.
   */
  take(size: number): Uint8Array<ArrayBuffer> {
    if (size < MIN_BYTES) return new Uint8Array(size);
    const { free } = this;
    for (let i = free.length - 1; i >= 0; i--) {
      const buffer = free[i] as ArrayBuffer;
      if (buffer.byteLength >= size && buffer.byteLength <= size * 1.25) {
        free[i] = free[free.length - 1] as ArrayBuffer;
        free.pop();
        this.freeBytes -= buffer.byteLength;
        this.reused++;
        return new Uint8Array(buffer, 0, size);
      }
    }
    return new Uint8Array(new ArrayBuffer(roundUp(size + (size >>> 3))), 0, size);
  }

  /** A buffer the parse thread is done with. Kept while the run holds less than `maxFreeBytes` of them. */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength < MIN_BYTES || this.freeBytes + buffer.byteLength > this.maxFreeBytes) return;
    this.free.push(buffer);
    this.freeBytes += buffer.byteLength;
  }
}

/** Bodies smaller than this are not worth a buffer of their own (small pages travel packed, parse/pool.ts). */
export const MIN_BYTES = 64 * 1024;

/** Sizes in steps of 16 KiB: bodies of nearly the same size share buffers. */
function roundUp(size: number): number {
  return Math.ceil(size / 16384) * 16384;
}
