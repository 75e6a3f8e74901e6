import { fingerprint, type QueueRequest } from '../frontier/redis-queue.js';
import { FetchError } from '../errors.js';
import { RequestLine } from '../source/request-lines.js';
import { OverlongLine, textOf } from '../source/url-input.js';
import type { SourceItem } from '../index.js';
import type { InputItem } from '../cli/work.js';
import type { JobRun } from './job.js';

/**
 * How an input item travels through the queue: its payload is JSON, as `leaseExpiredRow` reads it. A URL line is a
 * JSON string; a request line its request object; the two that cannot be fetched are marked objects (an overlong
 * line's start and length, a request line that is not a request object and why), made into rows by the worker.
 */

interface Marked {
  $overlong?: { head: string; bytes: number };
  $invalid?: string;
}

/** Host of a URL for its per-host queue; unparseable URLs share one queue (they end at once, as INVALID_URL). */
function hostOf(url: string): string {
  try {
    return new URL(url.trim()).host || '(none)';
  } catch {
    return '(invalid)';
  }
}

/** An input item as the queue takes it. `method` and `plainBody` are the job's, for the dedupe fingerprint. */
export function toQueueRequest(item: InputItem, run: JobRun): QueueRequest {
  const method = run.options.method;
  if (item instanceof RequestLine) {
    if (item.value instanceof FetchError) return marked({ $invalid: item.value.message }, `invalid:${item.value.message}`);
    const value = item.value as { url?: unknown; method?: unknown; body?: unknown; json?: unknown };
    const url = typeof value.url === 'string' ? value.url : '';
    const body = typeof value.body === 'string' ? value.body : value.body === undefined ? undefined : JSON.stringify(value.body);
    const key = fingerprint({ url, method: typeof value.method === 'string' ? value.method : method, body, json: value.json });
    return { key, host: hostOf(url), payload: JSON.stringify(value) };
  }
  if (item instanceof OverlongLine) return marked({ $overlong: { head: item.head, bytes: item.bytes } }, `overlong:${item.head}`);
  const url = textOf(item).trim();
  const body = run.plainBody === null ? undefined : Buffer.from(run.plainBody.base64, 'base64');
  return { key: fingerprint({ url, method, body }), host: hostOf(url), payload: JSON.stringify(url) };
}

function marked(value: Marked, keyText: string): QueueRequest {
  return { key: fingerprint({ url: keyText }), host: '(invalid)', payload: JSON.stringify(value) };
}

/** A claimed payload as a source item for the pipeline, or the error of an item that cannot be fetched. */
export function fromPayload(payload: string, run: JobRun | null): SourceItem | FetchError {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return new FetchError('INVALID_REQUEST', `the queue holds a payload that is not JSON: ${JSON.stringify(payload.slice(0, 200))}`);
  }
  if (typeof value === 'string') {
    const plain = run?.plainBody;
    return plain ? { url: value, headers: plain.headers, body: Buffer.from(plain.base64, 'base64') } : value;
  }
  const m = value as Marked;
  if (m !== null && typeof m === 'object' && m.$overlong !== undefined) return new OverlongLine(m.$overlong.head, m.$overlong.bytes);
  if (m !== null && typeof m === 'object' && typeof m.$invalid === 'string') return new FetchError('INVALID_REQUEST', m.$invalid);
  return value as SourceItem;
}
