import { FetchError, cancelledAt } from '../errors.js';

// What undici, node:zlib and TLS throw, mapped to volley's stable codes. Knowledge about the client, so it lives
// with the client; errors.ts keeps only the vocabulary.

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);
/**
 * Failures to establish a connection: nothing of the request was written (see schedule/retry-safety.ts, which
 * retries a POST on these). Node names the system call; an unreachable host can also end an established
 * connection (a read or write error), and that one is a RESET. UND_ERR_CONNECT_TIMEOUT is undici's connect timer,
 * armed by its connector and cleared on 'connect' / 'secureConnect' (lib/core/connect.js) before the socket is
 * handed to the client that writes requests (lib/dispatcher/client.js, connect()): a CONNECT too.
 */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'HPE_INVALID_CHUNK_SIZE']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const DECODE_CODES = new Set(['Z_DATA_ERROR', 'Z_BUF_ERROR', 'Z_NEED_DICT', 'ERR_BROTLI_DECOMPRESSION_FAILED', 'ERR_ZSTD_DECOMPRESSION_FAILED']);
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|ERR_OSSL_)/;
/**
 * OpenSSL record-layer failures: they break a connection that is up (data corrupted in flight), after a request
 * may have been written, so they are resets rather than handshake failures.
 */
const TLS_RECORD_CODE = /(BAD_RECORD_MAC|DECRYPTION_FAILED)/;

/** The header limit of the dispatcher whose connection refused a response's headers, by error (see noteHeaderLimit). */
const headerLimits = new WeakMap<object, number>();

/**
 * Records the `maxHeaderSize` in force when undici failed a response with UND_ERR_HEADERS_OVERFLOW, so the
 * message can state the limit; undici's error does not carry it. Called by the dispatcher that set the limit
 * (dispatcher.ts), before the request's own error handling runs.
 */
export function noteHeaderLimit(err: unknown, limit: number): void {
  if (err !== null && typeof err === 'object') headerLimits.set(err, limit);
}

/** Walks an error and its `cause` chain, since undici wraps socket errors (`fetch failed` → `ECONNREFUSED`). */
function* causes(err: unknown): Generator<{ code?: unknown; message?: unknown; name?: unknown; syscall?: unknown }> {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    yield current as { code?: unknown; message?: unknown; name?: unknown; syscall?: unknown };
    current = (current as { cause?: unknown }).cause;
  }
}

/** RESET covers several ways a response breaks; the message says which, since the code cannot. */
function resetMessage(code: string, message: string): string {
  if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') return `the body did not match its Content-Length (${code})`;
  // undici destroys the socket with "bad response" on an interim 100 Continue it did not ask for (RFC 9110
  // §15.2 says a client must parse it; undici 7 does not, see nodejs/undici#197) and on bytes that arrive with
  // no request outstanding (junk after a keep-alive response).
  if (code === 'UND_ERR_SOCKET' && message === 'bad response') {
    return `the server sent a response the HTTP client cannot take: an unexpected 100 Continue, or bytes after the response (${code})`;
  }
  return `connection reset by the server (${code})`;
}

/**
 * Maps anything a request can throw to a stable code. The abort reason decides between TIMEOUT and CANCELLED,
 * so the caller passes which of its signals fired.
 */
export function classifyError(err: unknown, context: { timedOut: boolean; cancelled: boolean; timeoutMs: number }): FetchError {
  if (err instanceof FetchError) return err;
  if (context.cancelled) return cancelledAt('request');
  if (context.timedOut) return new FetchError('TIMEOUT', `no complete response within the ${context.timeoutMs} ms deadline`, { cause: err });
  for (const e of causes(err)) {
    const code = typeof e.code === 'string' ? e.code : '';
    const message = typeof e.message === 'string' ? e.message : String(e);
    if (DNS_CODES.has(code)) return new FetchError('DNS', `DNS lookup failed (${code})`, { cause: err });
    if (code === 'UND_ERR_CONNECT_TIMEOUT') return new FetchError('CONNECT', `could not connect before the connect timeout (${code})`, { cause: err });
    // No syscall: an AggregateError of several addresses' connect() failures (Node's happy eyeballs).
    if (CONNECT_CODES.has(code) && (e.syscall === undefined || e.syscall === 'connect')) {
      return new FetchError('CONNECT', `could not connect (${code})`, { cause: err });
    }
    if (CONNECT_CODES.has(code)) return new FetchError('RESET', `connection lost (${code} on ${String(e.syscall)})`, { cause: err });
    if (TLS_RECORD_CODE.test(code)) return new FetchError('RESET', `TLS connection broken (${code})`, { cause: err });
    if (TLS_CODE.test(code)) return new FetchError('TLS', `TLS failure (${code}): ${message}`, { cause: err });
    if (code === 'UND_ERR_HEADERS_OVERFLOW') {
      const limit = headerLimits.get(e);
      const which = limit === undefined ? "the dispatcher's limit (its maxHeaderSize)" : `the limit (${limit} bytes; maxHeaderSize)`;
      return new FetchError('TOO_LARGE', `the response headers were larger than ${which}`, { cause: err });
    }
    if (RESET_CODES.has(code)) return new FetchError('RESET', resetMessage(code, message), { cause: err });
    if (TIMEOUT_CODES.has(code)) return new FetchError('TIMEOUT', `the server went quiet (${code})`, { cause: err });
    if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') return new FetchError('TOO_LARGE', message, { cause: err });
    if (DECODE_CODES.has(code)) return new FetchError('DECODE', `could not decompress the body (${code})`, { cause: err });
  }
  const first = causes(err).next().value;
  const message = first && typeof first.message === 'string' ? first.message : String(err);
  return new FetchError('RESET', `request failed: ${message}`, { cause: err });
}
