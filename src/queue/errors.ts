/**
 * The shared queue's errors (issue 21), for the library and the CLI alike. Callers branch on `code`, never on the
 * message (undici's `lib/core/errors.js` way). Bad arguments are not QueueErrors: they throw a TypeError or
 * RangeError naming the option, as every other entry point does.
 */

export const QUEUE_ERROR_CODES = [
  /** Redis could not be reached (refused, timed out, TLS or AUTH failed). The CLI's exit 69. */
  'REDIS_UNAVAILABLE',
  /** The connection to Redis was lost mid-way and not got back. The CLI's exit 69. */
  'REDIS_LOST',
  /** `enqueue` into a job whose stored settings differ from these; the message names each difference. */
  'JOB_SETTINGS_DIFFER',
  /** The job was dropped while it was being worked on (its settings are gone). */
  'JOB_GONE',
] as const;

export type QueueErrorCode = (typeof QUEUE_ERROR_CODES)[number];

export class QueueError extends Error {
  readonly code: QueueErrorCode;

  constructor(code: QueueErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QueueError';
    this.code = code;
  }
}

/**
 * An error from a queue call, as a QueueError when it is one of ours to name: a script's VOLLEY_NO_JOB reply (the
 * job was dropped) or a connection lost for good. Anything else (a bug, a bad argument) is returned as it was.
 */
export function queueErrorOf(err: unknown, job: string): unknown {
  if (err instanceof QueueError || !(err instanceof Error)) return err;
  if (err.message.startsWith('VOLLEY_NO_JOB')) return new QueueError('JOB_GONE', `the job ${JSON.stringify(job)} is gone (dropped while in use)`, { cause: err });
  if (err instanceof TypeError || err instanceof RangeError) return err;
  if (/ECONNREFUSED|ECONNRESET|EPIPE|Socket closed|ClientClosed|client is offline|connection/i.test(`${err.name} ${err.message}`)) {
    return new QueueError('REDIS_LOST', `lost the connection to Redis: ${err.message}`, { cause: err });
  }
  return err;
}
