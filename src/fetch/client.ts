import type { Readable } from 'node:stream';
import { request, type Dispatcher } from './undici.js';
import { decodedBody } from './content-encoding.js';
import { FetchError } from '../errors.js';
import { classifyError } from './classify.js';
import { AttemptSignal, startDeadline } from './deadline.js';
import { header, parseRetryAfter, type HeaderFields } from './headers.js';
import { REDIRECT_STATUSES } from './redirects.js';
import { decodedFrom, joinChunks, truncationOf, type Exchange, type Truncation } from './exchange.js';

export type { Exchange, Truncation } from './exchange.js';
import type { Method } from '../source/requests.js';

/** What one attempt brought back. `body` is a fresh, unshared buffer, so its ArrayBuffer may be transferred. */
export interface HttpResponse {
  status: number;
  statusText: string;
  headers: HeaderFields;
  /** The Location of a redirect response (301, 302, 303, 307, 308), unresolved; the caller follows it. */
  location: string | null;
  contentType: string | null;
  body: Uint8Array | null;
  bytes: number;
  /** Parsed `Retry-After`, in ms from now, when the server sent one. */
  retryAfterMs: number | null;
}

export interface ClientSettings {
  timeoutMs: number;
  maxBytes: number;
  headers: Record<string, string>;
  /**
   * Called with every response received, before `fetchOnce` returns or throws (the WARC recorder). When set, the
   * bodies of redirects and error statuses are read up to `maxBytes` for it instead of drained, and a body cut
   * short (TOO_LARGE, a reset, the deadline) is handed over as far as it was read, marked `truncated`.
   */
  onExchange?: (exchange: Exchange) => void;
}

/** Bodies of error responses are drained up to this much so the connection can be reused; past it, it is closed. */
const DRAIN_LIMIT = 64 * 1024;

/**
 * Closes a response stream we are done with. undici answers a destroyed body with an 'error'
 * (RequestAbortedError): with no listener that is an uncaught exception, so one is attached first.
 */
function discard(stream: Readable): void {
  stream.on('error', ignore);
  stream.destroy();
}

function ignore(): void {}

/**
 * Reads the decoded body, stopping the moment it passes `maxBytes`: a gzip bomb costs the cap, not a gigabyte.
 * Plain 'data' events rather than `for await`: the async iterator costs measurably more per response.
 */
function readCapped(body: Dispatcher.ResponseData['body'], contentEncoding: string | null, maxBytes: number, kept?: Uint8Array[]): Promise<Uint8Array> {
  let decoded: Readable;
  try {
    decoded = decodedBody(body, contentEncoding);
  } catch (err) {
    discard(body);
    return Promise.reject(err);
  }
  return new Promise<Uint8Array>((resolve, reject) => {
    // `kept`, when given, sees the chunks as they come: what a record of a body cut short holds.
    const chunks: Uint8Array[] = kept ?? [];
    let total = 0;
    decoded.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        if (kept) chunks.push(chunk.subarray(0, chunk.length - (total - maxBytes)));
        discard(decoded);
        discard(body);
        reject(new FetchError('TOO_LARGE', `body is larger than maxBytes (${maxBytes}) after decompression`));
        return;
      }
      chunks.push(chunk);
    });
    // `on`, not `once`: a stream may emit more than one error while it is torn down, and a second one with no
    // listener would crash the process.
    decoded.on('error', (err) => {
      discard(body);
      reject(err);
    });
    decoded.once('end', () => {
      // Not Buffer.concat: small results would share Node's pooled slab, and transferring that to a worker
      // would detach memory other buffers live in.
      const out = new Uint8Array(total);
      let offset = 0;
      for (const c of chunks) {
        out.set(c, offset);
        offset += c.length;
      }
      resolve(out);
    });
  });
}

/** A body that is not kept (a redirect's, an error status's), read for the record up to `maxBytes`; never rejects. */
async function readForRecord(
  body: Dispatcher.ResponseData['body'],
  contentEncoding: string | null,
  maxBytes: number,
  timedOut: () => boolean,
): Promise<{ payload: Uint8Array; truncated: Truncation | null }> {
  const kept: Uint8Array[] = [];
  try {
    return { payload: await readCapped(body, contentEncoding, maxBytes, kept), truncated: null };
  } catch (err) {
    return { payload: joinChunks(kept), truncated: truncationOf(err, timedOut()) };
  }
}

/**
 * One request under one deadline (`readBody: false` for link checks: status only, body drained), with its `requestBody`
 * (buffered, so that a retry or a 307/308 can send it again; undici sets Content-Length from it). Throws a
 * FetchError for anything that is not a response; a non-2xx response is returned (its body drained, not kept)
 * for the caller's retry policy to judge, and a redirect with its `location` for the caller to follow (one hop
 * at a time: see redirects.ts). undici's decompress interceptor is not used: it prints an ExperimentalWarning,
 * and a library must not write to its user's stderr.
 */
export async function fetchOnce(
  dispatcher: Dispatcher,
  url: URL,
  method: Method,
  readBody: boolean,
  settings: ClientSettings,
  runSignal: AbortSignal,
  headers: Record<string, string> = settings.headers,
  requestBody: Uint8Array | null = null,
): Promise<HttpResponse> {
  const signal = new AttemptSignal();
  const deadline = startDeadline(settings.timeoutMs, runSignal, (reason) => signal.abort(reason));
  // Set once headers arrive, so that a failure while reading the body still reports the status it came with.
  let status: number | null = null;
  const record = settings.onExchange;
  // For the record (--warc): when the request started, the response's head, and the body as far as it was read.
  const date = record ? new Date() : null;
  let head: { statusText: string; headers: HeaderFields } | null = null;
  const kept: Uint8Array[] | undefined = record ? [] : undefined;
  const recordOf = (payload: Uint8Array, truncated: Truncation | null): Exchange => ({
    url: url.href,
    method,
    requestHeaders: headers,
    date: date as Date,
    status: status as number,
    statusText: head?.statusText ?? '',
    httpVersion: '1.1',
    responseHeaders: head?.headers ?? {},
    payload,
    contentEncoding: decodedFrom(header(head?.headers ?? {}, 'content-encoding')),
    truncated,
  });
  try {
    const res = await request(url, {
      dispatcher,
      method,
      headers,
      body: requestBody,
      signal,
    });
    status = res.statusCode;
    const got = res.headers;
    const contentType = header(got, 'content-type');
    const location = REDIRECT_STATUSES.has(res.statusCode) ? header(got, 'location') : null;
    const base = { status: res.statusCode, statusText: res.statusText ?? '', headers: got, location, contentType };
    if (record) head = base;
    const recordedBody = async (): Promise<Exchange> => {
      const { payload, truncated } = await readForRecord(res.body, header(got, 'content-encoding'), settings.maxBytes, () => deadline.timedOut);
      return recordOf(payload, truncated);
    };

    if (location !== null) {
      if (record) record(await recordedBody());
      else await res.body.dump({ limit: DRAIN_LIMIT }).catch(() => {});
      return { ...base, body: null, bytes: 0, retryAfterMs: null };
    }
    if (!readBody || method === 'HEAD' || res.statusCode < 200 || res.statusCode >= 300) {
      if (record) record(await recordedBody());
      else await res.body.dump({ limit: DRAIN_LIMIT }).catch(() => {});
      return { ...base, body: null, bytes: 0, retryAfterMs: parseRetryAfter(header(got, 'retry-after'), Date.now()) };
    }
    const declared = Number(header(got, 'content-length'));
    if (header(got, 'content-encoding') === null && declared > settings.maxBytes) {
      discard(res.body);
      throw new FetchError('TOO_LARGE', `Content-Length ${declared} is larger than maxBytes (${settings.maxBytes})`, { status: res.statusCode });
    }
    const body = await readCapped(res.body, header(got, 'content-encoding'), settings.maxBytes, kept);
    record?.(recordOf(body, null));
    return { ...base, body, bytes: body.byteLength, retryAfterMs: null };
  } catch (err) {
    const error = classifyError(err, { timedOut: deadline.timedOut, cancelled: deadline.cancelled, timeoutMs: settings.timeoutMs });
    // A kept body that failed after its response arrived: recorded as far as it was read.
    if (record && head !== null) record(recordOf(joinChunks(kept ?? []), truncationOf(error, deadline.timedOut)));
    throw error.status === null && status !== null ? new FetchError(error.code, error.message, { status, cause: error.cause }) : error;
  } finally {
    deadline.dispose();
  }
}
