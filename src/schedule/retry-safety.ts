import type { ErrorCode } from '../errors.js';
import type { Method } from '../source/requests.js';

/**
 * Which failed requests may be sent again, by method: RFC 9110 §9.2.2. A client "SHOULD NOT automatically retry
 * a request with a non-idempotent method unless it has some means to know that the request semantics are
 * actually idempotent, regardless of the method, or some means to detect that the original request was never
 * applied". This module answers only "is another attempt safe?"; whether it is worth making (the retryable code
 * and status lists, the retry count, Retry-After) stays retry-policy.ts's, and the caller asks both.
 */

/** RFC 9110 §9.2.2: sending these twice has the effect of sending them once. */
export const IDEMPOTENT_METHODS: ReadonlySet<Method> = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

/**
 * Codes that prove the request never reached the server, so that even a POST may be sent again:
 * - `DNS`: the name did not resolve; nothing was connected to.
 * - `CONNECT`: connect() failed (refused, unreachable; classify.ts requires the `connect` system call, so an
 *   established connection lost later is a RESET) or undici's connect timer fired (armed in its connector and
 *   cleared on 'connect' / 'secureConnect', lib/core/connect.js; requests are written only to a socket the
 *   connector handed over, lib/dispatcher/client.js connect()).
 * - `TLS`: the handshake or the certificate check failed; undici reports those through the connector's callback
 *   (handleConnectError), before any request is written. Record-layer failures of a live connection are RESETs.
 *
 * Not `TIMEOUT`: volley's deadline covers connect, headers and body with one clock, and when it fires the request
 * may well have been written and read (a server that takes the POST and then goes quiet). A connect that hangs
 * until the deadline is therefore not retried for POST/PATCH: safe, if sometimes over-careful. undici's own
 * connect timeout (UND_ERR_CONNECT_TIMEOUT) is a CONNECT, not a TIMEOUT (classify.ts). Not `RESET`: a connection
 * that broke may have broken after the server acted on the request.
 */
export const NEVER_SENT_CODES: ReadonlySet<ErrorCode> = new Set(['DNS', 'CONNECT', 'TLS']);

/** Statuses with which a server refuses a request it did not act on, when it also says when to come back. */
const REFUSED_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** What failed: a code when no (complete) response came back; else the response's status. */
export interface RetryFailure {
  /** Set when the attempt failed without a complete response; it decides over `status`. */
  code?: ErrorCode;
  /** The response's status, when a response is what failed. */
  status?: number;
  /** True when that response carried a (readable) `Retry-After`. */
  retryAfter: boolean;
}

export function isIdempotent(method: Method): boolean {
  return IDEMPOTENT_METHODS.has(method);
}

/**
 * Whether another attempt of a request with this method is safe after this failure (RFC 9110 §9.2.2):
 * - GET, HEAD, PUT, DELETE, OPTIONS: always (retried as before: the caller's retryable lists decide).
 * - POST and PATCH: only when the request provably never reached the server (`NEVER_SENT_CODES`: DNS, CONNECT,
 *   TLS), or the server refused it with 429 or 503 and a `Retry-After`. Never after a TIMEOUT or a RESET.
 * - `retryUnsafe: true` (the run's opt-out, documented as dangerous: a POST that timed out may be made twice)
 *   treats every method as idempotent.
 * Of NEVER_SENT_CODES only CONNECT is on the retryable list today, so a POST is retried on CONNECT and on a
 * 429/503 with Retry-After.
 */
export function mayRetry(method: Method, failure: RetryFailure, retryUnsafe: boolean): boolean {
  if (retryUnsafe || IDEMPOTENT_METHODS.has(method)) return true;
  if (failure.code !== undefined) return NEVER_SENT_CODES.has(failure.code);
  return failure.status !== undefined && REFUSED_STATUSES.has(failure.status) && failure.retryAfter;
}
