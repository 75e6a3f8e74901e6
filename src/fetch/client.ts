import { request, interceptors, type Dispatcher } from 'undici';
import { decodedBody } from './content-encoding.js';
import { FetchError, classifyError } from '../errors.js';
import { startDeadline } from './deadline.js';
import { parseRetryAfter } from '../schedule/retry-policy.js';

/** What one attempt brought back. `body` is a fresh, unshared buffer, so its ArrayBuffer may be transferred. */
export interface Response {
  status: number;
  statusText: string;
  headers: Record<string, string | string[] | undefined>;
  finalUrl: string;
  redirects: number;
  contentType: string | null;
  body: Uint8Array | null;
  bytes: number;
  /** Parsed `Retry-After`, in ms from now, when the server sent one. */
  retryAfterMs: number | null;
}

export interface ClientSettings {
  timeoutMs: number;
  maxRedirects: number;
  maxBytes: number;
  headers: Record<string, string>;
}

/** Bodies of error responses are drained up to this much so the connection can be reused; past it, it is closed. */
const DRAIN_LIMIT = 64 * 1024;

/**
 * The undici dispatcher with redirects composed on: undici's own RFC 9110 handler, which rewrites 303 to GET
 * and strips credentials on cross-origin hops. (undici's decompress interceptor is not used: it prints an
 * ExperimentalWarning, and a library must not write to its user's stderr.)
 */
export function composeDispatcher(base: Dispatcher, settings: Pick<ClientSettings, 'maxRedirects'>): Dispatcher {
  return base.compose(interceptors.redirect({ maxRedirections: settings.maxRedirects }));
}

function header(headers: Response['headers'], name: string): string | null {
  const v = headers[name];
  return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
}

/**
 * Reads the decoded body, stopping the moment it passes `maxBytes`: a gzip bomb costs the cap, not a gigabyte.
 * Plain 'data' events rather than `for await`: the async iterator costs measurably more per response.
 */
function readCapped(body: Dispatcher.ResponseData['body'], contentEncoding: string | null, maxBytes: number): Promise<Uint8Array> {
  const decoded = decodedBody(body, contentEncoding);
  return new Promise<Uint8Array>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    decoded.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        decoded.destroy();
        body.destroy();
        reject(new FetchError('TOO_LARGE', `body is larger than maxBytes (${maxBytes}) after decompression`));
        return;
      }
      chunks.push(chunk);
    });
    decoded.once('error', (err) => {
      body.destroy();
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
 * One attempt at one URL under one deadline (`readBody: false` for link checks: status only, body drained). Throws a FetchError for anything that is not a response;
 * a non-2xx response is returned (its body drained, not kept) for the caller's retry policy to judge.
 */
export async function fetchOnce(
  dispatcher: Dispatcher,
  url: URL,
  method: 'GET' | 'HEAD',
  readBody: boolean,
  settings: ClientSettings,
  runSignal: AbortSignal,
): Promise<Response> {
  const deadline = startDeadline(settings.timeoutMs, runSignal);
  // Set once headers arrive, so that a failure while reading the body still reports the status it came with.
  let status: number | null = null;
  try {
    const res = await request(url, {
      dispatcher,
      method,
      headers: settings.headers,
      signal: deadline.signal,
    });
    status = res.statusCode;
    const history = (res.context as { history?: URL[] } | undefined)?.history ?? [];
    const finalUrl = history.length > 0 ? String(history[history.length - 1]) : url.href;
    const redirects = Math.max(0, history.length - 1);
    const headers = res.headers;
    const contentType = header(headers, 'content-type');
    const base = { status: res.statusCode, statusText: res.statusText ?? '', headers, finalUrl, redirects, contentType };

    if (res.statusCode >= 300 && res.statusCode < 400 && header(headers, 'location') !== null) {
      await res.body.dump({ limit: DRAIN_LIMIT }).catch(() => {});
      throw new FetchError('TOO_MANY_REDIRECTS', `still redirecting after ${redirects} redirects (maxRedirects is ${settings.maxRedirects})`, {
        status: res.statusCode,
      });
    }
    if (!readBody || method === 'HEAD' || res.statusCode < 200 || res.statusCode >= 300) {
      await res.body.dump({ limit: DRAIN_LIMIT }).catch(() => {});
      return { ...base, body: null, bytes: 0, retryAfterMs: parseRetryAfter(header(headers, 'retry-after'), Date.now()) };
    }
    const declared = Number(header(headers, 'content-length'));
    if (header(headers, 'content-encoding') === null && declared > settings.maxBytes) {
      res.body.destroy();
      throw new FetchError('TOO_LARGE', `Content-Length ${declared} is larger than maxBytes (${settings.maxBytes})`, { status: res.statusCode });
    }
    const body = await readCapped(res.body, header(headers, 'content-encoding'), settings.maxBytes);
    return { ...base, body, bytes: body.byteLength, retryAfterMs: null };
  } catch (err) {
    const error = classifyError(err, { timedOut: deadline.timedOut, cancelled: deadline.cancelled, timeoutMs: settings.timeoutMs });
    throw error.status === null && status !== null ? new FetchError(error.code, error.message, { status, cause: error.cause }) : error;
  } finally {
    deadline.dispose();
  }
}
