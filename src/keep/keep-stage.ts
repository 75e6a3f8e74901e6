import { createHash } from 'node:crypto';
import { FetchError, redactUrl } from '../errors.js';
import type { ClientSettings, Exchange, HttpResponse } from '../fetch/client.js';
import type { NormalizedOptions } from '../options.js';
import { toResultError, type FetchResult } from '../result.js';
import type { UrlItem } from '../source/url-input.js';
import { writeFileAtomic } from './atomic-write.js';
import { keepBody } from './body-form.js';
import { SaveNamer } from './save-name.js';
import type { WarcWriter } from './warc.js';

/** What the keep stage adds to a 2xx result, and the failure (WRITE, or PARSE for `body: 'json'`) that ends it. */
export interface Kept {
  fields: Pick<FetchResult, 'body' | 'json' | 'savedAs' | 'sha256'>;
  error: FetchError | null;
}

/**
 * What the WARC's `warcinfo` record says about the run: the options that shape what was fetched, without secrets
 * (header names but not their values, the proxy without its credentials, no TLS keys).
 */
export function warcInfo(options: NormalizedOptions): Record<string, string> {
  const described = {
    method: options.method,
    userAgent: options.userAgent,
    headers: Object.keys(options.headers),
    concurrency: options.concurrency,
    perHost: options.perHost,
    timeoutMs: options.timeoutMs,
    retries: options.retries,
    maxRedirects: options.maxRedirects,
    maxBytes: options.maxBytes,
    respectRobots: options.respectRobots,
    perHostRate: options.perHostRate || undefined,
    perHostDelayMs: options.perHostDelayMs || undefined,
    proxy: options.proxy === undefined ? undefined : redactUrl(options.proxy),
    http2: options.http2 || undefined,
    tls: options.tls === null ? undefined : 'custom',
    body: options.body ?? undefined,
    responseHeaders: options.responseHeaders || undefined,
    save: options.save === null ? undefined : { name: options.save.name },
  };
  return { 'volley-options': JSON.stringify(described) };
}

/**
 * The keep stage of a run: what `body`, `save` and `warc` keep of what was fetched (issue 13). One per run, made by
 * the pipeline only when one of them is asked for (so runs without them load none of this), and consulted at two
 * points of a URL's life (schedule/process-url.ts): its requests' client settings, through which every response
 * is recorded in the WARC, and the tail of a 2xx result, which keeps and saves the body. The pipeline then waits,
 * in `settle`, for the URL's WARC records before it yields the row: a row only says what is complete.
 *
 * The body is never taken from the parser, nor the parser's from it: when the parser is also given the page, the
 * page is not `owned` (parse/types.ts), so the parse stage copies it rather than take its buffer away (a transfer).
 * Measured against having the worker hand the bytes back (bench/keep-handoff.mjs), the copy costs the main thread
 * about as much on a 150 KB page, lets the write overlap the parse, and survives a parse that is killed.
 */
export class KeepStage {
  private readonly namer: SaveNamer | null;
  /** Directories under `save.dir` this run has made or checked (see writeFileAtomic). */
  private readonly checkedDirs = new Set<string>();
  private writer: WarcWriter | null = null;
  /** Each URL's WARC writes in flight, awaited by `settle`. */
  private readonly pending = new Map<UrlItem, Promise<unknown>[]>();
  /** Write failures already reported on a row: the writer's `close()` throws the first again. */
  private readonly reported = new WeakSet<object>();
  /** The first write failure no row could take (a robots.txt record's): the run rejects with it. */
  private unattributed: unknown = null;

  constructor(private readonly options: NormalizedOptions) {
    this.namer = options.save ? new SaveNamer(options.save.name) : null;
    for (const name of options.save?.existing ?? []) this.namer?.reserve(name);
  }

  /** True when a 2xx body goes through `keep`: kept in the result or saved. */
  get keepsBody(): boolean {
    return this.options.body !== null || this.namer !== null;
  }

  /** True when the result itself holds the body (or its text or JSON) until the consumer takes it. */
  get retainsBody(): boolean {
    return this.options.body !== null;
  }

  /**
   * Opens the WARC file, when one is asked for (warcio is loaded only then), and writes its warcinfo record.
   * @throws FetchError('WRITE') when the file cannot be opened: the run cannot start.
   */
  async open(): Promise<void> {
    const warc = this.options.warc;
    if (!warc || this.writer) return;
    const { WarcWriter } = await import('./warc.js');
    this.writer = await WarcWriter.open(warc.path, { gzip: warc.gzip, append: warc.append, info: warcInfo(this.options) });
  }

  /**
   * Waits for every record, then closes the WARC file.
   * @throws the first write or close failure that no row reported.
   */
  async close(): Promise<void> {
    const writer = this.writer;
    this.writer = null;
    try {
      await writer?.close();
    } catch (err) {
      if (!this.reported.has(err as object)) throw err;
    }
    if (this.unattributed !== null) throw this.unattributed;
  }

  /** The client settings of one request made for `item`: the run's, with the WARC recorder when there is one. */
  settingsFor(item: UrlItem, run: ClientSettings): ClientSettings {
    if (!this.writer) return run;
    return { ...run, onExchange: (exchange) => this.record(item, exchange) };
  }

  /** The client settings of a robots.txt request: recorded too, though no row answers for a failed record. */
  robotsSettings(settings: ClientSettings): ClientSettings {
    if (!this.writer) return settings;
    return { ...settings, onExchange: (exchange) => void this.write(exchange).catch((err: unknown) => (this.unattributed ??= err)) };
  }

  /**
   * Keeps a 2xx body: writes it under `save.dir` (`savedAs`, `sha256`, once the file is complete), then puts it
   * in the form `body` asks for. Never rejects: a failure comes back in `error` (WRITE, or PARSE for a JSON
   * response that does not parse), with the fields that were done.
   */
  async keep(item: UrlItem, res: HttpResponse, url: URL): Promise<Kept> {
    const bytes = res.body as Uint8Array;
    const fields: Kept['fields'] = {};
    try {
      if (this.namer && this.options.save) {
        const sha256 = this.namer.usesSha256 ? createHash('sha256').update(bytes).digest('hex') : undefined;
        const name = this.namer.name({ url, contentType: res.contentType, index: item.index, sha256 });
        const written = await writeFileAtomic(this.options.save.dir, name, bytes, this.checkedDirs);
        fields.savedAs = name;
        fields.sha256 = written.sha256;
      }
      if (this.options.body) Object.assign(fields, keepBody(bytes, res.contentType, this.options.body));
      return { fields, error: null };
    } catch (err) {
      const error = err instanceof FetchError ? err : new FetchError('WRITE', `could not keep the body: ${(err as Error)?.message ?? String(err)}`, { cause: err });
      return { fields, error };
    }
  }

  /**
   * Puts what `keep` kept into the result. A failure fails a result that was ok; a result that already failed
   * keeps its own error.
   */
  apply(result: FetchResult, kept: Kept): FetchResult {
    Object.assign(result, kept.fields);
    if (kept.error && result.ok) {
      result.ok = false;
      result.error = toResultError(kept.error);
    }
    return result;
  }

  /**
   * The result of `item` once every WARC record of its responses is written. A record that could not be written
   * makes the result fail with WRITE (a CANCELLED one stays CANCELLED, so that `--resume` runs it again).
   * Never rejects.
   */
  async settle(item: UrlItem, result: FetchResult): Promise<FetchResult> {
    const writes = this.pending.get(item);
    if (writes === undefined) return result;
    this.pending.delete(item);
    const outcomes = await Promise.allSettled(writes);
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') continue;
      const err = outcome.reason as unknown;
      if (typeof err === 'object' && err !== null) this.reported.add(err);
      if (result.error?.code === 'CANCELLED' || result.error?.code === 'WRITE') continue;
      result.ok = false;
      result.error = toResultError(err instanceof FetchError ? err : new FetchError('WRITE', String(err)));
    }
    return result;
  }

  private record(item: UrlItem, exchange: Exchange): void {
    const write = this.write(exchange);
    write.catch(() => {});
    const writes = this.pending.get(item);
    if (writes) writes.push(write);
    else this.pending.set(item, [write]);
  }

  private write(exchange: Exchange): Promise<unknown> {
    if (!this.writer) return Promise.reject(new FetchError('WRITE', 'the WARC file is closed'));
    return this.writer.writeExchange(exchange);
  }
}
