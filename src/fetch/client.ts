import { parseHeaders, type Dispatcher } from './undici.js';
import { BodyDecoder, contentCodings } from './content-encoding.js';
import { FetchError } from '../errors.js';
import { classifyError } from './classify.js';
import { startDeadline, type Deadline } from './deadline.js';
import { header, parseRetryAfter, type HeaderFields } from './headers.js';
import { REDIRECT_STATUSES } from './redirects.js';
import { decodedFrom, truncationOf, type Exchange, type Truncation } from './exchange.js';
import { BodyBuffer } from './body-buffer.js';

export type { Exchange, Truncation } from './exchange.js';
import type { Method } from '../source/requests.js';

/** What one attempt brought back. */
export interface HttpResponse {
  status: number;
  statusText: string;
  headers: HeaderFields;
  /** The Location of a redirect response (301, 302, 303, 307, 308), unresolved; the caller follows it. */
  location: string | null;
  contentType: string | null;
  /**
   * The body, decoded. A body that arrived in one piece is undici's chunk itself, a view into the socket's read
   * (copying it out costs ~7 µs of main thread a 2 KB page, mostly allocating and collecting its ArrayBuffer);
   * one of several pieces, or decoded, is joined into a fresh buffer of its own (`bodyOwned`).
   */
  body: Uint8Array | null;
  /** True when `body` is the whole of an ArrayBuffer nothing else references: it may be transferred, not copied. */
  bodyOwned: boolean;
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

/** What the attempt does with the body once the head is in. */
const enum Mode {
  /** Before the head: nothing to do with data yet. */
  Head,
  /** A 2xx page: read, capped at maxBytes, and returned. */
  Keep,
  /**
   * A body not kept (a redirect's, an error status's, a link check's): read up to DRAIN_LIMIT and dropped, so the
   * connection can be reused.
   */
  Drain,
  /** The same with a recorder: read up to maxBytes for the record (never failing the attempt). */
  Record,
}

/**
 * One attempt, as the handler undici's `dispatch` drives: the response is read as it arrives, its body collected
 * into one buffer (body-buffer.ts), with no Readable, no promise per stage and no AbortSignal (the deadline aborts
 * through the handler). Only an encoded body goes through streams: node:zlib's decoders (content-encoding.ts).
 *
 * Both handler styles are given: undici 7's (`onRequestStart`, `onResponseStart`, …, with a controller) and the
 * older one (`onConnect`, `onHeaders`, …) that undici 6 dispatchers speak; undici 7 uses the first when present.
 */
class Attempt {
  deadline: Deadline | null = null;
  private settled = false;
  private abortRequest: ((reason: Error) => void) | null = null;
  private reason: Error | null = null;
  private mode = Mode.Head;
  /** Set once the head arrived, so that a failure while reading the body still reports the status it came with. */
  private response: HttpResponse | null = null;
  /** The body as read so far (decoded, when it was encoded), for the result or the record. */
  private readonly body = new BodyBuffer();
  private total = 0;
  /** The decoders of an encoded body kept or recorded; a drained body is not decoded. */
  private decoder: BodyDecoder | null = null;
  /** The response's last byte arrived. */
  private complete = false;
  /** Resumes a socket paused for the decoders' backpressure. */
  private resumeSocket: (() => void) | null = null;
  /** When the request started (for the record). */
  private readonly date: Date | null;

  constructor(
    private readonly url: URL,
    private readonly method: Method,
    private readonly readBody: boolean,
    private readonly settings: ClientSettings,
    private readonly headers: Record<string, string>,
    private readonly resolve: (res: HttpResponse) => void,
    private readonly reject: (err: FetchError) => void,
  ) {
    this.date = settings.onExchange ? new Date() : null;
  }

  /** The deadline or the run's cancel: the request is aborted, and the attempt fails a microtask later (see onError). */
  abort(reason: unknown): void {
    if (this.settled) return;
    const err = reason instanceof Error ? reason : new Error(String(reason));
    this.reason = err;
    this.abortRequest?.(err);
    // undici reports the abort through onError (synchronously, when the request is on a socket); a request
    // still waiting for one, or a dispatcher that says nothing, fails here.
    this.onError(err);
  }

  // undici 7's handler API.

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.onConnect((reason) => controller.abort(reason));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: HeaderFields, statusMessage?: string): void {
    if (!this.head(statusCode, headers, () => controller.resume(), statusMessage ?? '')) controller.pause();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.onData(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    this.onComplete();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.onError(err);
  }

  // The older handler API (undici 6, and what undici 7's own `request` speaks).

  onConnect(abort: (reason: Error) => void): void {
    if (this.reason !== null) {
      abort(this.reason);
      return;
    }
    this.abortRequest = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    return this.head(statusCode, parseHeaders(rawHeaders) as HeaderFields, resume, statusText);
  }

  private head(status: number, headers: HeaderFields, resume: () => void, statusText: string): boolean {
    // An interim 1xx (a 103 Early Hints): the response proper follows.
    if (this.settled || status < 200) return true;
    const { settings, method } = this;
    const contentType = header(headers, 'content-type');
    const location = REDIRECT_STATUSES.has(status) ? header(headers, 'location') : null;
    const contentEncoding = header(headers, 'content-encoding');
    const dropped = location !== null || !this.readBody || method === 'HEAD' || status >= 300;
    this.response = {
      status,
      statusText,
      headers,
      location,
      contentType,
      body: null,
      bodyOwned: false,
      bytes: 0,
      retryAfterMs: dropped && location === null ? parseRetryAfter(header(headers, 'retry-after'), Date.now()) : null,
    };
    const declared = method === 'HEAD' ? NaN : Number(header(headers, 'content-length'));
    if (dropped) {
      if (settings.onExchange) this.mode = Mode.Record;
      else if (declared > DRAIN_LIMIT) {
        // Not worth reading to keep the connection: closed at once.
        this.abortRequest?.(new FetchError('CANCELLED', 'not drained'));
        this.done();
        return true;
      } else this.mode = Mode.Drain;
    } else {
      this.mode = Mode.Keep;
      // Content-Length is the kept body's length only when there is nothing to decode.
      if (contentEncoding === null) {
        if (declared > settings.maxBytes) {
          this.fail(new FetchError('TOO_LARGE', `Content-Length ${declared} is larger than maxBytes (${settings.maxBytes})`, { status }));
          return true;
        }
        this.body.expect(declared);
      }
    }
    // `Content-Encoding: identity` (or an empty one) is read like no encoding at all.
    if (contentEncoding !== null && this.mode !== Mode.Drain && contentCodings(contentEncoding).length > 0) {
      try {
        this.decoder = new BodyDecoder(contentEncoding, {
          data: (chunk) => this.take(chunk),
          end: () => this.decoded(),
          error: (err) => this.bodyFailed(err),
        });
        this.resumeSocket = resume;
      } catch (err) {
        this.bodyFailed(err);
      }
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.settled) return true;
    if (this.decoder !== null) {
      if (this.decoder.write(chunk)) return true;
      // The decoder's buffer is full: the socket waits for it (undici resumes on the call).
      const resume = this.resumeSocket;
      if (resume !== null) this.decoder.onDrain(resume);
      return false;
    }
    if (this.mode === Mode.Drain) {
      if ((this.total += chunk.length) > DRAIN_LIMIT) {
        this.abortRequest?.(new FetchError('CANCELLED', 'not drained'));
        this.done();
      }
      return true;
    }
    this.take(chunk);
    return true;
  }

  /** A chunk of the body as the result sees it (decoded), kept up to maxBytes. */
  private take(chunk: Buffer): void {
    if (this.settled) return;
    const total = (this.total += chunk.length);
    const { maxBytes } = this.settings;
    if (total > maxBytes) {
      this.body.push(chunk.subarray(0, chunk.length - (total - maxBytes)));
      const err = new FetchError('TOO_LARGE', `body is larger than maxBytes (${maxBytes}) after decompression`);
      // A gzip bomb costs the cap, not a gigabyte: the decoders stop here.
      this.decoder?.destroy();
      this.abortRequest?.(err);
      if (this.mode === Mode.Record) this.recorded(err);
      else this.fail(err);
      return;
    }
    this.body.push(chunk);
  }

  onComplete(): void {
    if (this.settled) return;
    this.complete = true;
    if (this.decoder !== null) {
      this.decoder.end();
      return;
    }
    if (this.mode === Mode.Drain) this.done();
    else if (this.mode === Mode.Record) this.recorded(null);
    // A body in one piece is kept as undici gave it (see HttpResponse.body); an encoded one went to the decoders.
    else if (this.mode === Mode.Keep) {
      const { body, owned } = this.body.whole();
      this.bodyRead(body, owned);
    }
    // A response that ends before its head: undici reports it as an error, never so.
    else this.fail(new FetchError('RESET', 'the response ended before its head'));
  }

  /**
   * The decoders finished. When their stream ended before the response did, what follows is junk (see
   * content-encoding.ts): the connection is closed rather than read on, since a server sending it is broken.
   */
  private decoded(): void {
    if (this.settled) return;
    if (!this.complete) this.abortRequest?.(new FetchError('CANCELLED', 'bytes after the end of the compressed body'));
    // Decoded pieces are slices of node:zlib's output buffers, which a small page would keep alive: always joined.
    this.bodyRead(this.body.sofar(), true);
  }

  onError(err: Error): void {
    if (this.settled) return;
    // Handled a microtask later, as undici's own `request` does: a connection that failed a response for its
    // headers' size reports that with 'disconnect' after this call, in the same tick (see dispatcher.ts), and the
    // classification reads it.
    queueMicrotask(() => this.failed(err));
  }

  private failed(err: Error): void {
    if (this.settled) return;
    // The attempt settles here, whatever state the decoders are in: the deadline covers the body until it is
    // decoded, and a decoder that never finishes cannot hold the request.
    this.decoder?.destroy();
    // A drained body's failure does not matter: the response is what the caller wanted.
    if (this.mode === Mode.Drain) this.done();
    else if (this.mode === Mode.Record) this.recorded(err);
    else this.fail(err);
  }

  /** The body, decoded, as read to its end. */
  private bodyRead(body: Uint8Array, owned: boolean): void {
    if (this.settled) return;
    if (this.mode === Mode.Record) return this.recorded(null, body);
    const res = this.response as HttpResponse;
    res.body = body;
    res.bodyOwned = owned;
    res.bytes = body.byteLength;
    this.settings.onExchange?.(this.recordOf(body, null));
    this.done();
  }

  private bodyFailed(err: unknown): void {
    if (this.settled) return;
    if (this.mode === Mode.Record) this.recorded(err);
    else this.fail(err);
  }

  /** A dropped body, read for the record: recorded as far as it was read, and the response returned. */
  private recorded(err: unknown, payload?: Uint8Array): void {
    // A body given up before its end (it failed to decode, say) is not read on: its socket may be paused for the
    // decoders, which are gone, and would stay so; closing it is the only way to free it.
    if (err !== null && !this.complete) this.abortRequest?.(err instanceof Error ? err : new Error(String(err)));
    this.decoder?.destroy();
    const truncated = err === null ? null : truncationOf(err, this.deadline?.timedOut ?? false);
    this.settings.onExchange?.(this.recordOf(payload ?? this.body.sofar(), truncated));
    this.done();
  }

  private done(): void {
    this.settled = true;
    this.deadline?.dispose();
    this.resolve(this.response as HttpResponse);
  }

  private fail(err: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.deadline?.dispose();
    // A request still running (a Content-Length over the cap, a body past it) is aborted; after its end or its
    // error, undici's abort does nothing.
    this.abortRequest?.(err instanceof Error ? err : new Error(String(err)));
    this.decoder?.destroy();
    const { settings } = this;
    const timedOut = this.deadline?.timedOut ?? false;
    const error = classifyError(err, { timedOut, cancelled: this.deadline?.cancelled ?? false, timeoutMs: settings.timeoutMs });
    const res = this.response;
    // A kept body that failed after its response arrived: recorded as far as it was read.
    if (settings.onExchange && res !== null) settings.onExchange(this.recordOf(this.body.sofar(), truncationOf(error, timedOut)));
    this.reject(error.status === null && res !== null ? new FetchError(error.code, error.message, { status: res.status, cause: error.cause }) : error);
  }

  /** For the record (--warc): when the request started, the response's head, and the body as far as it was read. */
  private recordOf(payload: Uint8Array, truncated: Truncation | null): Exchange {
    const res = this.response as HttpResponse;
    return {
      url: this.url.href,
      method: this.method,
      requestHeaders: this.headers,
      date: this.date as Date,
      status: res.status,
      statusText: res.statusText,
      httpVersion: '1.1',
      responseHeaders: res.headers,
      payload,
      contentEncoding: decodedFrom(header(res.headers, 'content-encoding')),
      truncated,
    };
  }
}

/**
 * The request-target of a URL: its path and query. `url.search` is '' both for no query and for an empty one, but
 * `http://x/a?` asks for `/a?`, as browsers send it (a server may tell them apart): the serialisation says which.
 */
export function requestTarget(url: URL): string {
  const search = url.search;
  if (search !== '') return `${url.pathname}${search}`;
  const href = url.href;
  const q = href.indexOf('?');
  // A '?' after the path can only open the query (or sit in the fragment, after '#').
  return q !== -1 && (url.hash === '' || q < href.indexOf('#')) ? `${url.pathname}?` : url.pathname;
}

/**
 * One request under one deadline (`readBody: false` for link checks: status only, body drained), with its `requestBody`
 * (buffered, so that a retry or a 307/308 can send it again; undici sets Content-Length from it). Throws a
 * FetchError for anything that is not a response; a non-2xx response is returned (its body drained, not kept)
 * for the caller's retry policy to judge, and a redirect with its `location` for the caller to follow (one hop
 * at a time: see redirects.ts). undici's decompress interceptor is not used: it prints an ExperimentalWarning,
 * and a library must not write to its user's stderr.
 */
export function fetchOnce(
  dispatcher: Dispatcher,
  url: URL,
  method: Method,
  readBody: boolean,
  settings: ClientSettings,
  runSignal: AbortSignal,
  headers: Record<string, string> = settings.headers,
  requestBody: Uint8Array | null = null,
): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    // A run already cancelled: nothing is sent.
    if (runSignal.aborted) {
      reject(classifyError(runSignal.reason, { timedOut: false, cancelled: true, timeoutMs: settings.timeoutMs }));
      return;
    }
    const attempt = new Attempt(url, method, readBody, settings, headers, resolve, reject);
    attempt.deadline = startDeadline(settings.timeoutMs, runSignal, (reason) => attempt.abort(reason));
    try {
      dispatcher.dispatch(
        { origin: url.origin, path: requestTarget(url), method, headers, body: requestBody },
        attempt as unknown as Dispatcher.DispatchHandler,
      );
    } catch (err) {
      attempt.onError(err as Error);
    }
  });
}
