import type { Readable } from 'node:stream';
import { request, type Dispatcher } from './undici.js';
import { decodedBody } from './content-encoding.js';
import { FetchError } from '../errors.js';
import { classifyError } from './classify.js';
import { startDeadline } from './deadline.js';
import { header, parseRetryAfter, type HeaderFields } from './headers.js';
import { REDIRECT_STATUSES } from './redirects.js';

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
function readCapped(body: Dispatcher.ResponseData['body'], contentEncoding: string | null, maxBytes: number): Promise<Uint8Array> {
  let decoded: Readable;
  try {
    decoded = decodedBody(body, contentEncoding);
  } catch (err) {
    discard(body);
    return Promise.reject(err);
  }
  return new Promise<Uint8Array>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    decoded.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
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

/**
 * One request under one deadline (`readBody: false` for link checks: status only, body drained). Throws a
 * FetchError for anything that is not a response; a non-2xx response is returned (its body drained, not kept)
 * for the caller's retry policy to judge, and a redirect with its `location` for the caller to follow (one hop
 * at a time: see redirects.ts). undici's decompress interceptor is not used: it prints an ExperimentalWarning,
 * and a library must not write to its user's stderr.
 */
export async function fetchOnce(
  dispatcher: Dispatcher,
  url: URL,
  method: 'GET' | 'HEAD',
  readBody: boolean,
  settings: ClientSettings,
  runSignal: AbortSignal,
  headers: Record<string, string> = settings.headers,
): Promise<HttpResponse> {
  const deadline = startDeadline(settings.timeoutMs, runSignal);
  // Set once headers arrive, so that a failure while reading the body still reports the status it came with.
  let status: number | null = null;
  try {
    const res = await request(url, {
      dispatcher,
      method,
      headers,
      signal: deadline.signal,
    });
    status = res.statusCode;
    const got = res.headers;
    const contentType = header(got, 'content-type');
    const location = REDIRECT_STATUSES.has(res.statusCode) ? header(got, 'location') : null;
    const base = { status: res.statusCode, statusText: res.statusText ?? '', headers: got, location, contentType };

    if (location !== null) {
      await res.body.dump({ limit: DRAIN_LIMIT }).catch(() => {});
      return { ...base, body: null, bytes: 0, retryAfterMs: null };
    }
    if (!readBody || method === 'HEAD' || res.statusCode < 200 || res.statusCode >= 300) {
      await res.body.dump({ limit: DRAIN_LIMIT }).catch(() => {});
      return { ...base, body: null, bytes: 0, retryAfterMs: parseRetryAfter(header(got, 'retry-after'), Date.now()) };
    }
    const declared = Number(header(got, 'content-length'));
    if (header(got, 'content-encoding') === null && declared > settings.maxBytes) {
      discard(res.body);
      throw new FetchError('TOO_LARGE', `Content-Length ${declared} is larger than maxBytes (${settings.maxBytes})`, { status: res.statusCode });
    }
    const body = await readCapped(res.body, header(got, 'content-encoding'), settings.maxBytes);
    return { ...base, body, bytes: body.byteLength, retryAfterMs: null };
  } catch (err) {
    const error = classifyError(err, { timedOut: deadline.timedOut, cancelled: deadline.cancelled, timeoutMs: settings.timeoutMs });
    throw error.status === null && status !== null ? new FetchError(error.code, error.message, { status, cause: error.cause }) : error;
  } finally {
    deadline.dispose();
  }
}
