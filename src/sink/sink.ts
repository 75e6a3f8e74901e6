import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { FetchResult } from '../result.js';
import { nextTurn } from '../sleep.js';

/** A results writer. Each `write` hands the stream one whole record, so a killed run never leaves half a line. */
export interface Sink {
  write(result: FetchResult): Promise<void>;
  /**
   * Writes what closes the document (a JSON array's `]`), then waits until the OS has taken every byte: the
   * stream is ended and closed when the sink owns it (a file), flushed otherwise (stdout). Never rejects: a
   * failure is kept in `error`.
   */
  end(): Promise<void>;
  /**
   * The first write, flush or close failure (ENOSPC, EIO, EPIPE…), or null. Read after `end()`: only then is
   * every error the stream will ever report in.
   */
  readonly error: NodeJS.ErrnoException | null;
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

export interface SinkOptions {
  /** Appending to an earlier run's output (--resume): no header. */
  append?: boolean;
  /** The sink owns the stream (an -o file): `end()` ends it and waits for it to close. */
  owned?: boolean;
}

/**
 * Turns an Encoder into a Sink with backpressure: when the reader is slow, the run waits instead of buffering.
 * Every way a write can fail is caught here — the stream's 'error', a write callback's error, the final flush,
 * the close — because a file stream reports a full disk asynchronously, and a run that ended before hearing it
 * would exit 0 with nothing written (issue: `-o /dev/full` passed silently in 3 runs of 6).
 */
export function streamSink(stream: Writable, encoder: Encoder, { append = false, owned = false }: SinkOptions = {}): Sink {
  let first = true;
  let started = false;
  let error: NodeJS.ErrnoException | null = null;
  const fail = (err: NodeJS.ErrnoException | null | undefined): void => {
    if (err && !error) error = err;
  };
  stream.on('error', fail);
  const put = async (chunk: string): Promise<void> => {
    if (chunk === '' || error || stream.destroyed) return;
    if (!stream.write(chunk, fail)) await drained(stream);
  };
  return {
    get error() {
      return error;
    },
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
      if (owned) {
        if (!stream.destroyed) stream.end();
        // Resolves on 'close' after 'finish'; rejects with the stream's error (the close of a full disk's file).
        await finished(stream).catch(fail);
      } else if (!error && !stream.destroyed) {
        // Everything written so far has been handed to the OS once this callback runs.
        await new Promise<void>((resolve) => stream.write('', (err) => {
          fail(err);
          resolve();
        }));
      }
      // A stream's 'error' is emitted on a later tick than the failing write's callback: let it arrive.
      await nextTurn();
    },
  };
}
