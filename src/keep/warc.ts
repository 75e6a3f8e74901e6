import { randomUUID } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { WARCRecord, WARCSerializer, type WARCSerializerOpts } from 'warcio';
import { FetchError } from '../errors.js';
import type { Exchange, Truncation } from '../fetch/exchange.js';
import { VERSION } from '../version.js';
import { completeWarcLength } from './warc-tail.js';
import {
  adjustedResponseHeaders,
  headerPairs,
  httpBlock,
  protocol,
  requestHeaderPairs,
  responseStatusLine,
  type HeaderFields,
} from './warc-http.js';

export type { HeaderFields } from './warc-http.js';

/**
 * One request and the response it got: a redirect hop, an error status and a final answer alike. The client's
 * `Exchange` (fetch/exchange.ts) is one as it is; a caller may also give the server's address, omit what is unknown,
 * and pass the request headers in undici's shape.
 */
export interface WarcExchange extends Omit<Exchange, 'requestHeaders' | 'responseHeaders' | 'truncated'> {
  /** The header fields sent. `Host` is added when missing, as undici sends it. */
  requestHeaders: HeaderFields;
  /** As received (undici's shape, or name/value pairs). */
  responseHeaders: HeaderFields;
  /** The request body sent, if any. */
  requestBody?: Uint8Array | null;
  /** The server's IP address, when known (WARC-IP-Address). */
  ip?: string | null;
  /** Set when the payload is not the whole body (WARC-Truncated, WARC 1.1 §5.13): e.g. `length` past maxBytes. */
  truncated?: Truncation | null;
}

export interface WarcOpenOptions {
  /** One gzip member per record (the `.warc.gz` convention). @default path.endsWith('.gz') */
  gzip?: boolean;
  /**
   * Add to an existing file (a resumed run) instead of replacing it. A torn record or exchange that a killed run
   * left at the end is cut off first; a file that is not a WARC (of the same compression) is refused.
   * @default false
   */
  append?: boolean;
  /** Extra warcinfo fields, e.g. the run's options (the caller leaves out secrets: headers, proxy credentials). */
  info?: Record<string, string>;
}

/** WARC 1.1 §5.9 and §5.10: `sha1:` and the base32 of the digest, the form every WARC tool expects. */
const DIGEST: WARCSerializerOpts = { gzip: false, digest: { algo: 'sha-1', prefix: 'sha1:', base32: true } };
const WARC_VERSION = 'WARC/1.1';
const CONFORMS_TO = 'https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/';

function recordId(): string {
  return `<urn:uuid:${randomUUID()}>`;
}

function osCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'EIO';
}

function writeError(file: string, err: unknown): FetchError {
  const message = err instanceof Error ? err.message : String(err);
  const what = /^[A-Z0-9_]+: ([^,]+)/u.exec(message)?.[1] ?? message;
  return new FetchError('WRITE', `could not write the WARC file ${JSON.stringify(file)} (${osCode(err)}): ${what}`, { cause: err });
}

/** The first bytes of a file this writer may append to: a WARC record, or a gzip member (of one). */
function looksLikeWarc(head: Buffer, gzip: boolean): boolean {
  const magic = gzip ? Buffer.from([0x1f, 0x8b]) : Buffer.from('WARC/1.');
  const n = Math.min(head.length, magic.length);
  return head.subarray(0, n).equals(magic.subarray(0, n));
}

/**
 * Before a resumed run appends: refuses a file that is not a WARC of the same kind (appending would bury it), and
 * cuts off what a killed run left half-written, so the new records are not swallowed by a torn one.
 * @returns the size after the cut.
 */
async function cutTornTail(handle: FileHandle, path: string, size: number, gzip: boolean): Promise<number> {
  const head = Buffer.alloc(8);
  const { bytesRead } = await handle.read(head, 0, 8, 0);
  if (!looksLikeWarc(head.subarray(0, bytesRead), gzip)) {
    throw new FetchError('WRITE', `refusing to append to ${JSON.stringify(path)}: it is not ${gzip ? 'a gzipped' : 'an uncompressed'} WARC file`);
  }
  const complete = await completeWarcLength(path, size, gzip);
  if (complete < size) await handle.truncate(complete);
  return complete;
}

/**
 * A WARC/1.1 file (ISO 28500:2017) written through warcio, webrecorder's WARC library: warcio makes the records
 * (headers, `WARC-Block-Digest`, `WARC-Payload-Digest`, Content-Length, gzip members); this class decides what
 * goes in them and when they reach the file.
 *
 * Each exchange is a `request` and a `response` record, each naming the other in `WARC-Concurrent-To`, appended
 * with one write: a killed run leaves only whole records, plus at most one torn exchange at the very end (a write
 * cut by SIGKILL or power loss), which `open({ append: true })` cuts off before a resumed run adds to the file; a
 * write that fails (a full disk) is cut back off at once. Writes are queued, so
 * exchanges land in the order `writeExchange` was called, never interleaved.
 */
export class WarcWriter {
  /** The `WARC-Record-ID` of this file's (this run's) warcinfo record. */
  readonly warcinfoId: string;
  readonly gzip: boolean;
  private readonly handle: FileHandle;
  private readonly file: string;
  private readonly serializerOptions: WARCSerializerOpts;
  private size: number;
  private queue: Promise<void> = Promise.resolve();
  private firstError: FetchError | null = null;
  private closing: Promise<void> | null = null;

  private constructor(handle: FileHandle, file: string, size: number, gzip: boolean) {
    this.handle = handle;
    this.file = file;
    this.size = size;
    this.gzip = gzip;
    this.serializerOptions = { ...DIGEST, gzip };
    this.warcinfoId = recordId();
  }

  /**
   * Opens (creates, or with `append` extends) the file and writes a `warcinfo` record: software `volley/VERSION`,
   * the format, and `info`. A resumed run appends its own warcinfo; the WARC standard allows several.
   * @throws FetchError('WRITE') when the file cannot be opened or written.
   */
  static async open(path: string, options: WarcOpenOptions = {}): Promise<WarcWriter> {
    const gzip = options.gzip ?? path.endsWith('.gz');
    let handle: FileHandle;
    try {
      handle = await open(path, options.append ? 'a+' : 'w');
    } catch (err) {
      throw writeError(path, err);
    }
    try {
      let { size } = await handle.stat();
      if (options.append && size > 0) size = await cutTornTail(handle, path, size, gzip);
      const writer = new WarcWriter(handle, path, size, gzip);
      await writer.append(await writer.warcinfo(options.info ?? {}));
      return writer;
    } catch (err) {
      await handle.close().catch(() => {});
      throw err instanceof FetchError ? err : writeError(path, err);
    }
  }

  /** Bytes in the file after the last complete write. */
  get bytesWritten(): number {
    return this.size;
  }

  /**
   * Appends the request and response records of one exchange.
   * @returns the two records' WARC-Record-IDs.
   * @throws FetchError('WRITE') when the file could not take them (nothing of them is left in it when possible).
   */
  writeExchange(exchange: WarcExchange): Promise<{ requestId: string; responseId: string }> {
    if (this.closing) return Promise.reject(new FetchError('WRITE', `the WARC file ${JSON.stringify(this.file)} is closed`));
    const requestId = recordId();
    const responseId = recordId();
    // Serialising (digests, gzip) may start at once; only the appends are queued, in call order.
    const bytes = this.exchangeBytes(exchange, requestId, responseId);
    bytes.catch(() => {});
    const job = this.queue.then(async () => {
      await this.append(await bytes);
      return { requestId, responseId };
    });
    this.queue = job.then(
      () => {},
      (err: unknown) => {
        if (err instanceof FetchError) this.firstError ??= err;
      },
    );
    return job;
  }

  /**
   * Waits for every queued exchange, then closes the file.
   * @throws the first FetchError('WRITE') any write met (each was also thrown to its caller), or the close's own.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.queue;
      try {
        await this.handle.close();
      } catch (err) {
        throw writeError(this.file, err);
      }
      if (this.firstError) throw this.firstError;
    })();
    return this.closing;
  }

  private async warcinfo(info: Record<string, string>): Promise<Uint8Array> {
    const fields: Record<string, string> = {
      software: `volley/${VERSION}`,
      format: 'WARC File Format 1.1',
      conformsTo: CONFORMS_TO,
    };
    for (const [name, value] of Object.entries(info)) {
      if (name === 'software' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/u.test(name)) continue;
      fields[name] = String(value).replace(/[\r\n\u0000]+/gu, ' ');
    }
    const record = WARCRecord.createWARCInfo(
      { filename: basename(this.file), warcVersion: WARC_VERSION, warcHeaders: [['WARC-Type', 'warcinfo'], ['WARC-Record-ID', this.warcinfoId]] },
      fields,
    );
    return WARCSerializer.serialize(record, this.serializerOptions);
  }

  private async exchangeBytes(ex: WarcExchange, requestId: string, responseId: string): Promise<Uint8Array> {
    const url = new URL(ex.url);
    const date = ex.date.toISOString();
    // warcio sets WARC-Type, WARC-Date and WARC-Target-URI itself; listing them first (same values) keeps the
    // conventional order at the top of each record, since a Map keeps a key's first position.
    const common = (type: 'request' | 'response', id: string, other: string): [string, string][] => [
      ['WARC-Type', type],
      ['WARC-Record-ID', id],
      ['WARC-Date', date],
      ['WARC-Target-URI', url.href],
      ['WARC-Concurrent-To', other],
      ['WARC-Warcinfo-ID', this.warcinfoId],
      ...(ex.ip ? ([['WARC-IP-Address', ex.ip]] as [string, string][]) : []),
    ];

    const request = WARCRecord.create(
      { url: url.href, date, type: 'request', warcVersion: WARC_VERSION, warcHeaders: common('request', requestId, responseId) },
      ex.requestBody && ex.requestBody.byteLength > 0 ? [ex.requestBody] : [],
    );
    request.httpHeaders = httpBlock(
      `${ex.method.toUpperCase()} ${url.pathname}${url.search} ${protocol(ex.httpVersion)}`,
      requestHeaderPairs(url, ex.requestHeaders),
    );

    const response = WARCRecord.create(
      {
        url: url.href,
        date,
        type: 'response',
        warcVersion: WARC_VERSION,
        warcHeaders: [...common('response', responseId, requestId), ...(ex.truncated ? ([['WARC-Truncated', ex.truncated]] as [string, string][]) : [])],
      },
      ex.payload.byteLength > 0 ? [ex.payload] : [],
    );
    response.httpHeaders = httpBlock(
      responseStatusLine(ex.httpVersion, ex.status, ex.statusText),
      adjustedResponseHeaders(headerPairs(ex.responseHeaders), {
        method: ex.method,
        status: ex.status,
        payloadLength: ex.payload.byteLength,
        decodedFrom: ex.contentEncoding,
      }),
    );

    const parts = [await WARCSerializer.serialize(request, this.serializerOptions), await WARCSerializer.serialize(response, this.serializerOptions)];
    return Buffer.concat(parts);
  }

  /**
   * One write of whole records; on failure, the file is cut back to where it was so no torn record stays. Writes
   * are positional: after such a cut, the descriptor's own offset would leave a hole of zeros. (In append mode
   * the kernel appends whatever the position, which is the same place.)
   */
  private async append(bytes: Uint8Array): Promise<void> {
    const before = this.size;
    try {
      let offset = 0;
      while (offset < bytes.byteLength) {
        const { bytesWritten } = await this.handle.write(bytes, offset, bytes.byteLength - offset, before + offset);
        offset += bytesWritten;
      }
      this.size = before + bytes.byteLength;
    } catch (err) {
      await this.handle.truncate(before).catch(() => {});
      throw writeError(this.file, err);
    }
  }
}
