import { fingerprint, type QueueRequest } from '../frontier/redis-queue.js';
import { FetchError } from '../errors.js';
import { RequestLine } from '../source/request-lines.js';
import { OverlongLine, textOf } from '../source/url-input.js';
import type { SourceItem } from '../index.js';
import type { InputItem } from '../cli/work.js';
import type { JobRun } from './job.js';
import { describeValue } from '../describe-value.js';
import { FORM_CONTENT_TYPE } from '../source/requests.js';

/**
 * How an input item travels through the queue: its payload is JSON, as `leaseExpiredRow` reads it. A URL line is a
 * JSON string; a request line its request object; the two that cannot be fetched are marked objects (an overlong
 * line's start and length, a request line that is not a request object and why), made into rows by the worker.
 */

interface Marked {
  $overlong?: { head: string; bytes: number };
  $invalid?: string;
  /** A library request's `body` given as bytes (JSON has no bytes): the request, and its body in base64. */
  $request?: Record<string, unknown>;
  $body64?: string;
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

/**
 * A library source item (`enqueue()`'s: what `fetchAll` takes) as the queue takes it. A request object's body
 * travels as JSON can carry it: a URLSearchParams as its form text (with its content type unless the request sets
 * one), bytes in base64. An item that is neither a line nor an object ends as an INVALID_REQUEST row, as in a run.
 */
export function toQueueItem(item: SourceItem, run: JobRun): QueueRequest {
  if (typeof item === 'string' || item instanceof OverlongLine || item instanceof RequestLine) return toQueueRequest(item, run);
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    return marked({ $invalid: `expected a URL string or a request object, got ${describeValue(item, 100)}` }, `invalid:${String(item)}`);
  }
  const value = { ...(item as unknown as Record<string, unknown>) };
  const url = typeof value.url === 'string' ? value.url : '';
  const method = typeof value.method === 'string' ? value.method : run.options.method;
  const body = value.body;
  if (body instanceof URLSearchParams) {
    value.body = body.toString();
    const headers = (value.headers ?? {}) as Record<string, string>;
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) value.headers = { ...headers, 'content-type': FORM_CONTENT_TYPE };
  }
  const key = fingerprint({ url, method, body: body as string | Uint8Array | URLSearchParams | undefined, json: value.json });
  if (body instanceof Uint8Array) {
    const { body: _bytes, ...rest } = value;
    const payload: Marked = { $request: rest, $body64: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64') };
    return { key, host: hostOf(url), payload: JSON.stringify(payload) };
  }
  return { key, host: hostOf(url), payload: JSON.stringify(value) };
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
  if (m !== null && typeof m === 'object' && typeof m.$body64 === 'string') return { ...m.$request, body: Buffer.from(m.$body64, 'base64') } as unknown as SourceItem;
  return value as SourceItem;
}
