/**
 * Stable error codes carried by failed results. Callers branch on `code`, never on `message`.
 * The README's "Error codes" table documents each one.
 */
export const ERROR_CODES = [
  'INVALID_URL',
  'UNSUPPORTED_SCHEME',
  'DNS',
  'CONNECT',
  'TLS',
  'TIMEOUT',
  'RESET',
  'HTTP_STATUS',
  'TOO_LARGE',
  'TOO_MANY_REDIRECTS',
  'DECODE',
  'PARSE',
  'ROBOTS_DISALLOWED',
  'CANCELLED',
  'WRITE',
  'HOST_SKIPPED',
  'INVALID_REQUEST',
  'INTERNAL',
  'LEASE_EXPIRED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Where a CANCELLED URL was when the run was cancelled: `queued` (taken from the source, never requested: a
 * `--resume` runs it), `request` (on the wire), `backoff` (waiting for a retry), `parse` (fetched, not parsed).
 */
export type CancelStage = 'queued' | 'request' | 'backoff' | 'parse';

/** The `error` field of a failed result: plain data, so it survives JSON and `postMessage` alike. */
export interface ResultError {
  code: ErrorCode;
  message: string;
  /** Set on CANCELLED only. */
  stage?: CancelStage;
}

/** A CANCELLED failure that says where the URL was; the message is for people, `stage` for code. */
export function cancelledAt(stage: CancelStage): FetchError {
  return new FetchError('CANCELLED', CANCEL_MESSAGES[stage], { stage });
}

const CANCEL_MESSAGES: Record<CancelStage, string> = {
  queued: 'cancelled before it was requested',
  request: 'cancelled while the request was in flight',
  backoff: 'cancelled before its retry',
  parse: 'cancelled before it was parsed',
};

/** The mark every FetchError carries, whichever copy of this module made it (see FetchError's `instanceof`). */
const FETCH_ERROR = Symbol.for('volley.FetchError');

/**
 * A per-URL failure raised inside the pipeline; turned into a result's `error`, never thrown to the user.
 *
 * `instanceof FetchError` is true for a FetchError made by any copy of this module: the CLI is a bundle, and the
 * parse pool it loads late is a file of its own with its own copy of this class. Checked by class identity, a
 * parse cancelled by Ctrl-C (CANCELLED, not final for --resume) came out as a final PARSE row, and --resume skipped it.
 */
export class FetchError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[FETCH_ERROR] === true;
  }

  declare readonly [FETCH_ERROR]: true;
  readonly code: ErrorCode;
  /** The HTTP status to report with the failure, when a response arrived before it failed. */
  readonly status: number | null;
  /** For CANCELLED: where the URL was when the run was cancelled. */
  readonly stage?: CancelStage;

  constructor(code: ErrorCode, message: string, extra: { status?: number | null; stage?: CancelStage; cause?: unknown } = {}) {
    super(message, { cause: extra.cause });
    this.name = 'FetchError';
    Object.defineProperty(this, FETCH_ERROR, { value: true });
    this.code = code;
    this.status = extra.status ?? null;
    if (extra.stage) this.stage = extra.stage;
  }
}

/**
 * Removes user:password from a URL before it appears in a message or a log line: URLs in error messages reach
 * stderr, logs and shared result files. A string that does not parse loses anything that looks like userinfo.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return url.replace(/\/\/[^/?#\s]*@/, '//');
  }
}
