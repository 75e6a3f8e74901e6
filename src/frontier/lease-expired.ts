import { FetchError } from '../errors.js';
import { failedResult } from '../result.js';

/** The error code of a request whose lease expired more than `maxExpiries` times (a worker died on it each time). */
export const LEASE_EXPIRED = 'LEASE_EXPIRED';

/** The row a request gets when its lease expired too often: built from its payload's `url` and `meta`. */
export function leaseExpiredRow(payload: string, expiries: number): string {
  let url = '';
  let extra: { meta?: unknown } = {};
  try {
    const request = JSON.parse(payload) as { url?: unknown; meta?: unknown } | string;
    if (typeof request === 'string') url = request;
    else if (request !== null && typeof request === 'object') {
      if (typeof request.url === 'string') url = request.url;
      if (request.meta !== undefined) extra = { meta: request.meta };
    }
  } catch {
    url = payload;
  }
  const error = new FetchError('LEASE_EXPIRED', `its lease expired ${expiries} times: a worker took it and was not heard from again before its lease ran out, each time`);
  return JSON.stringify(failedResult(url, error, extra));
}
