import type { ErrorCode } from '../errors.js';

/** The statuses Scrapy and curl retry by default: transient by their nature. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504, 522, 524]);

/** Failures worth another try: the next attempt may well succeed. A DNS miss (ENOTFOUND) will not, so DNS is out. */
const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set(['CONNECT', 'TIMEOUT', 'RESET']);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status);
}

export function isRetryableError(code: ErrorCode): boolean {
  return RETRYABLE_CODES.has(code);
}

/**
 * Exponential backoff with "equal jitter": half the step is fixed, half random, so retries of many URLs
 * that failed together do not return together.
 * @param retry 1 for the first retry
 */
export function backoffMs(retry: number, baseMs: number, random: () => number = Math.random): number {
  const step = baseMs * 2 ** (retry - 1);
  return Math.round(step / 2 + random() * (step / 2));
}
