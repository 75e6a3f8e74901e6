import type { Writable } from 'node:stream';
import type { FetchResult } from '../result.js';

/** A results writer. Each `write` hands the stream one whole record, so a killed run never leaves half a line. */
export interface Sink {
  write(result: FetchResult): Promise<void>;
  /** Writes what closes the document (a JSON array's `]`) and waits until the stream has taken everything. */
  end(): Promise<void>;
}

export interface Encoder {
  header(): string;
  record(result: FetchResult, first: boolean): string;
  footer(): string;
}

/** Resolves on 'drain', or when the stream closes or fails; removes its listeners either way. */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

/** Turns an Encoder into a Sink with backpressure: when the reader is slow, the run waits instead of buffering. */
export function streamSink(stream: Writable, encoder: Encoder, { append = false } = {}): Sink {
  let first = true;
  let started = false;
  const put = async (chunk: string): Promise<void> => {
    if (chunk === '' || stream.destroyed || stream.errored) return;
    // A write error (EPIPE from `| head`, a full disk) reaches the stream's 'error' listener, which the caller
    // owns and acts on; here it only means there is no point waiting for 'drain'.
    if (!stream.write(chunk)) await drained(stream);
  };
  return {
    async write(result) {
      if (!started) {
        started = true;
        if (!append) await put(encoder.header());
      }
      await put(encoder.record(result, first));
      first = false;
    },
    async end() {
      if (!started && !append) await put(encoder.header());
      await put(encoder.footer());
      if (stream.destroyed || stream.errored) return;
      // Resolves once everything written so far has been handed to the OS.
      await new Promise<void>((resolve) => stream.write('', () => resolve()));
    },
  };
}
