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
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The `error` field of a failed result: plain data, so it survives JSON and `postMessage` alike. */
export interface ResultError {
  code: ErrorCode;
  message: string;
}

/** A per-URL failure raised inside the pipeline; turned into a result's `error`, never thrown to the user. */
export class FetchError extends Error {
  readonly code: ErrorCode;
  /** The HTTP status to report with the failure, when a response arrived before it failed. */
  readonly status: number | null;
  /** A `Retry-After` the server sent with this failure, in ms from now. */
  readonly retryAfterMs: number | null;

  constructor(code: ErrorCode, message: string, extra: { status?: number | null; retryAfterMs?: number | null; cause?: unknown } = {}) {
    super(message, { cause: extra.cause });
    this.name = 'FetchError';
    this.code = code;
    this.status = extra.status ?? null;
    this.retryAfterMs = extra.retryAfterMs ?? null;
  }
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);
const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'HPE_INVALID_CHUNK_SIZE']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const DECODE_CODES = new Set(['Z_DATA_ERROR', 'Z_BUF_ERROR', 'Z_NEED_DICT', 'ERR_BROTLI_DECOMPRESSION_FAILED', 'ERR_ZSTD_DECOMPRESSION_FAILED']);
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|ERR_OSSL_)/;

/** Walks an error and its `cause` chain, since undici wraps socket errors (`fetch failed` → `ECONNREFUSED`). */
function* causes(err: unknown): Generator<{ code?: unknown; message?: unknown; name?: unknown }> {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    yield current as { code?: unknown; message?: unknown; name?: unknown };
    current = (current as { cause?: unknown }).cause;
  }
}

/** The CANCELLED message of a URL that was taken from the source but never requested (the summary counts them). */
export const NEVER_REQUESTED = 'cancelled before it was requested';

/**
 * Maps anything a request can throw to a stable code. The abort reason decides between TIMEOUT and CANCELLED,
 * so the caller passes which of its signals fired.
 */
export function classifyError(err: unknown, context: { timedOut: boolean; cancelled: boolean; timeoutMs: number }): FetchError {
  if (err instanceof FetchError) return err;
  if (context.cancelled) return new FetchError('CANCELLED', 'cancelled while the request was in flight', { cause: err });
  if (context.timedOut) return new FetchError('TIMEOUT', `no complete response within the ${context.timeoutMs} ms deadline`, { cause: err });
  for (const e of causes(err)) {
    const code = typeof e.code === 'string' ? e.code : '';
    const message = typeof e.message === 'string' ? e.message : String(e);
    if (DNS_CODES.has(code)) return new FetchError('DNS', `DNS lookup failed (${code})`, { cause: err });
    if (CONNECT_CODES.has(code)) return new FetchError(code === 'UND_ERR_CONNECT_TIMEOUT' ? 'TIMEOUT' : 'CONNECT', `could not connect (${code})`, { cause: err });
    if (TLS_CODE.test(code)) return new FetchError('TLS', `TLS failure (${code}): ${message}`, { cause: err });
    if (RESET_CODES.has(code)) return new FetchError('RESET', `connection reset by the server (${code})`, { cause: err });
    if (TIMEOUT_CODES.has(code)) return new FetchError('TIMEOUT', `the server went quiet (${code})`, { cause: err });
    if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') return new FetchError('TOO_LARGE', message, { cause: err });
    if (DECODE_CODES.has(code)) return new FetchError('DECODE', `could not decompress the body (${code})`, { cause: err });
    if (/redirect loop/i.test(message)) return new FetchError('TOO_MANY_REDIRECTS', 'redirect loop', { cause: err });
    // undici's redirect handler refuses a Location with another scheme by throwing this InvalidArgumentError.
    if (code === 'UND_ERR_INVALID_ARG' && /URL protocol/i.test(message)) {
      return new FetchError('UNSUPPORTED_SCHEME', 'redirected to a URL that is not http or https', { cause: err });
    }
  }
  const first = causes(err).next().value;
  const message = first && typeof first.message === 'string' ? first.message : String(err);
  return new FetchError('RESET', `request failed: ${message}`, { cause: err });
}

/** Removes user:password from a URL before it appears in a message or a log. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return url;
  }
}
