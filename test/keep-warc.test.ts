import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { existsSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { WARCParser } from 'warcio';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WarcWriter, type WarcExchange } from '../src/keep/warc.js';
import { FetchError } from '../src/errors.js';
import { VERSION } from '../src/version.js';
import { sha1Base32 } from './fixtures/warc-digest.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const DATE = new Date('2024-05-06T07:08:09.123Z');
const UA = { 'user-agent': `volley/${VERSION}`, accept: '*/*' };

const htmlGz = utf8('<!doctype html><title>gzip page</title><p>' + 'compressible '.repeat(200));
const jsonBr = utf8(JSON.stringify({ items: Array.from({ length: 50 }, (_, i) => ({ i, name: `item ${i}` })) }));
const binary = new Uint8Array(64 * 1024).map((_, i) => (i * 131 + (i >> 8)) & 0xff);

/** A redirect, a 404, a gzip body, a br body over chunked transfer, a binary body, and a HEAD. */
const EXCHANGES: WarcExchange[] = [
  {
    url: 'http://127.0.0.1:8080/old',
    method: 'GET',
    requestHeaders: UA,
    date: DATE,
    ip: '127.0.0.1',
    status: 301,
    statusText: 'Moved Permanently',
    httpVersion: '1.1',
    responseHeaders: { location: '/new', 'content-length': '0', date: 'Mon, 06 May 2024 07:08:09 GMT' },
    payload: new Uint8Array(0),
    contentEncoding: null,
  },
  {
    url: 'http://127.0.0.1:8080/missing',
    method: 'GET',
    requestHeaders: UA,
    date: DATE,
    ip: '127.0.0.1',
    status: 404,
    statusText: 'Not Found',
    httpVersion: '1.1',
    responseHeaders: { 'content-type': 'text/plain; charset=utf-8', 'content-length': '9' },
    payload: utf8('not here\n'),
    contentEncoding: null,
  },
  {
    url: 'http://127.0.0.1:8080/page.html?x=1',
    method: 'GET',
    requestHeaders: { ...UA, 'accept-encoding': 'gzip, deflate, br' },
    date: DATE,
    ip: '127.0.0.1',
    status: 200,
    statusText: 'OK',
    httpVersion: '1.1',
    responseHeaders: { 'content-type': 'text/html', 'content-encoding': 'gzip', 'content-length': String(gzipSync(htmlGz).length), 'set-cookie': ['a=1; Path=/', 'b=2'] },
    payload: htmlGz,
    contentEncoding: 'gzip',
  },
  {
    url: 'http://127.0.0.1:8080/api.json',
    method: 'GET',
    requestHeaders: [['User-Agent', 'volley'], ['Accept-Encoding', 'br']],
    date: DATE,
    ip: null,
    status: 200,
    statusText: '',
    httpVersion: '1.1',
    responseHeaders: { 'content-type': 'application/json', 'content-encoding': 'br', 'transfer-encoding': 'chunked' },
    payload: jsonBr,
    contentEncoding: 'br',
  },
  {
    url: 'http://[::1]:8080/blob.bin',
    method: 'GET',
    requestHeaders: UA,
    date: DATE,
    ip: '::1',
    status: 200,
    statusText: 'OK',
    httpVersion: '1.1',
    responseHeaders: { 'content-type': 'application/octet-stream', 'content-length': String(binary.length) },
    payload: binary,
    contentEncoding: null,
  },
  {
    url: 'http://127.0.0.1:8080/big.iso',
    method: 'HEAD',
    requestHeaders: UA,
    date: DATE,
    status: 200,
    statusText: 'OK',
    httpVersion: '1.1',
    responseHeaders: { 'content-type': 'application/octet-stream', 'content-length': '123456789' },
    payload: new Uint8Array(0),
    contentEncoding: null,
  },
];


interface RawRecord {
  fields: Map<string, string>;
  block: Buffer;
}

/**
 * An independent reading of an uncompressed WARC, written from the standard rather than from warcio: each record's
 * header, its block by Content-Length, the two CRLFs after it. Stands in for Python's `warcio check`.
 */
function rawRecords(file: Buffer): RawRecord[] {
  const out: RawRecord[] = [];
  let pos = 0;
  while (pos < file.length) {
    const headEnd = file.indexOf('\r\n\r\n', pos);
    expect(headEnd).toBeGreaterThan(pos);
    const [version, ...lines] = file.subarray(pos, headEnd).toString('utf8').split('\r\n');
    expect(version).toBe('WARC/1.1');
    const fields = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    const length = Number(fields.get('content-length'));
    const block = file.subarray(headEnd + 4, headEnd + 4 + length);
    expect(block.length).toBe(length);
    expect(file.subarray(headEnd + 4 + length, headEnd + 8 + length).toString()).toBe('\r\n\r\n');
    out.push({ fields, block });
    pos = headEnd + 8 + length;
  }
  return out;
}

function checkDigests(records: RawRecord[]): void {
  for (const { fields, block } of records) {
    if (fields.get('warc-type') === 'warcinfo') continue;
    expect(fields.get('warc-block-digest')).toBe(sha1Base32(block));
    const payload = block.subarray(block.indexOf('\r\n\r\n') + 4);
    expect(fields.get('warc-payload-digest')).toBe(sha1Base32(payload));
  }
}

interface ReadRecord {
  type: string;
  id: string;
  target: string | null | undefined;
  concurrentTo: string[];
  ip: string | null | undefined;
  warcinfoId: string | null | undefined;
  status: number | string | undefined;
  statusline: string | undefined;
  headers: Headers | null;
  payload: Uint8Array;
}

/** Every record warcio's parser finds, with its payload read through warcio's content decoding. */
async function readWarc(source: Buffer): Promise<ReadRecord[]> {
  const out: ReadRecord[] = [];
  for await (const record of WARCParser.iterRecords([source])) {
    const payload = await record.readFully(true);
    out.push({
      type: record.warcType,
      id: record.warcHeader('WARC-Record-ID')!,
      target: record.warcTargetURI,
      concurrentTo: record.warcConcurrentTo ?? [],
      ip: record.warcHeader('WARC-IP-Address'),
      warcinfoId: record.warcHeader('WARC-Warcinfo-ID'),
      status: record.httpHeaders?.statusCode,
      statusline: record.httpHeaders?.statusline,
      headers: (record.httpHeaders?.headers as Headers | undefined) ?? null,
      payload: new Uint8Array(payload),
    });
  }
  return out;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'volley-warc-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes the exchanges one by one and records the file size after each: the exchange boundaries. */
async function writeAll(path: string, exchanges = EXCHANGES, gzip?: boolean): Promise<{ writer: WarcWriter; boundaries: number[] }> {
  const writer = await WarcWriter.open(path, { gzip, info: { operator: 'tests', 'options': '--warc x.warc -c 4' } });
  const boundaries = [(await stat(path)).size];
  for (const ex of exchanges) {
    await writer.writeExchange(ex);
    boundaries.push((await stat(path)).size);
  }
  await writer.close();
  expect(writer.bytesWritten).toBe(boundaries.at(-1));
  return { writer, boundaries };
}

function checkExchanges(records: ReadRecord[], warcinfoId: string): void {
  expect(records.map((r) => r.type)).toEqual(['warcinfo', ...EXCHANGES.flatMap(() => ['request', 'response'])]);
  expect(records[0]!.id).toBe(warcinfoId);
  EXCHANGES.forEach((ex, i) => {
    const request = records[1 + 2 * i]!;
    const response = records[2 + 2 * i]!;
    const target = new URL(ex.url).href;
    expect(request.target).toBe(target);
    expect(response.target).toBe(target);
    expect(request.concurrentTo).toEqual([response.id]);
    expect(response.concurrentTo).toEqual([request.id]);
    expect(request.warcinfoId).toBe(warcinfoId);
    expect(response.ip ?? null).toBe(ex.ip ?? null);
    expect(request.statusline).toBe(`${ex.method} ${new URL(ex.url).pathname}${new URL(ex.url).search} HTTP/1.1`);
    expect(request.headers!.get('host')).toBe(new URL(ex.url).host);
    expect(Number(response.status)).toBe(ex.status);
    expect(Buffer.compare(Buffer.from(response.payload), Buffer.from(ex.payload))).toBe(0);
    expect(response.headers!.get('content-encoding')).toBeNull();
    expect(response.headers!.get('transfer-encoding')).toBeNull();
  });
}

describe('WarcWriter', () => {
  it('writes warcinfo, then request/response pairs that warcio reads back with their targets, links and payloads', async () => {
    const path = join(dir, 'run.warc');
    const { writer } = await writeAll(path);
    const records = await readWarc(await readFile(path));
    checkExchanges(records, writer.warcinfoId);

    const info = rawRecords(await readFile(path))[0]!;
    expect(info.fields.get('warc-type')).toBe('warcinfo');
    expect(info.fields.get('warc-filename')).toBe('run.warc');
    expect(info.block.toString()).toContain(`software: volley/${VERSION}\r\n`);
    expect(info.block.toString()).toContain('format: WARC File Format 1.1\r\n');
    expect(info.block.toString()).toContain('options: --warc x.warc -c 4\r\n');
  });

  it('adjusts the HTTP headers to the decoded payload and keeps the originals', async () => {
    const path = join(dir, 'run.warc');
    await writeAll(path);
    const records = await readWarc(await readFile(path));
    const [redirect, notFound, gz, br, bin, head] = [2, 4, 6, 8, 10, 12].map((i) => records[i]!) as [ReadRecord, ReadRecord, ReadRecord, ReadRecord, ReadRecord, ReadRecord];
    expect(redirect.headers!.get('location')).toBe('/new');
    expect(redirect.headers!.get('content-length')).toBe('0');
    expect(notFound.statusline).toBe('HTTP/1.1 404 Not Found');
    expect(new TextDecoder().decode(notFound.payload)).toBe('not here\n');
    expect(gz.headers!.get('content-length')).toBe(String(htmlGz.length));
    expect(gz.headers!.get('x-volley-original-content-encoding')).toBe('gzip');
    expect(gz.headers!.get('x-volley-original-content-length')).toBe(String(gzipSync(htmlGz).length));
    expect(gz.headers!.getSetCookie()).toEqual(['a=1; Path=/', 'b=2']);
    expect(br.statusline).toBe('HTTP/1.1 200 OK');
    expect(br.headers!.get('content-length')).toBe(String(jsonBr.length));
    expect(br.headers!.get('x-volley-original-content-encoding')).toBe('br');
    expect(br.headers!.get('x-volley-original-transfer-encoding')).toBe('chunked');
    expect(JSON.parse(new TextDecoder().decode(br.payload))).toHaveProperty('items.49.name', 'item 49');
    expect(bin.headers!.get('x-volley-original-content-length')).toBeNull();
    // A HEAD response's Content-Length describes the resource, not this (empty) message: kept as sent.
    expect(head.headers!.get('content-length')).toBe('123456789');
    expect(head.payload.length).toBe(0);
  });

  it('writes sha1 base32 block and payload digests that an independent reading confirms', async () => {
    const path = join(dir, 'run.warc');
    await writeAll(path);
    const raw = rawRecords(await readFile(path));
    expect(raw).toHaveLength(1 + 2 * EXCHANGES.length);
    checkDigests(raw);
    const binResponse = raw[10]!;
    expect(binResponse.fields.get('warc-payload-digest')).toBe(sha1Base32(binary));
  });

  it('gzips each record as its own member when the file ends in .gz', async () => {
    const path = join(dir, 'run.warc.gz');
    const { writer } = await writeAll(path);
    expect(writer.gzip).toBe(true);
    const file = await readFile(path);
    expect([file[0], file[1]]).toEqual([0x1f, 0x8b]);
    checkExchanges(await readWarc(file), writer.warcinfoId);
    // Walk the gzip members by the offsets warcio's parser reports: each holds exactly one record.
    const parser = new WARCParser([file]);
    let members = 0;
    for await (const record of parser) {
      await record.readFully();
      const member = gunzipSync(file.subarray(parser.offset, parser.offset + parser.recordLength));
      expect(rawRecords(member)).toHaveLength(1);
      members++;
    }
    expect(members).toBe(1 + 2 * EXCHANGES.length);
    checkDigests(rawRecords(gunzipSync(file)));
  });

  it('takes gzip: false for a .gz name and gzip: true for another', async () => {
    const plain = join(dir, 'x.warc.gz');
    await (await WarcWriter.open(plain, { gzip: false })).close();
    expect((await readFile(plain)).subarray(0, 8).toString()).toBe('WARC/1.1');
    const zipped = join(dir, 'x.warc');
    await (await WarcWriter.open(zipped, { gzip: true })).close();
    expect((await readFile(zipped))[0]).toBe(0x1f);
  });

  it.each([
    ['plain', 'cut.warc'],
    ['gzip', 'cut.warc.gz'],
  ])('%s: a file cut at the end of any exchange reads whole; one cut inside an exchange keeps every record before it', async (_kind, name) => {
    const path = join(dir, name);
    const { boundaries } = await writeAll(path);
    const file = await readFile(path);
    for (let k = 0; k < boundaries.length; k++) {
      const cut = file.subarray(0, boundaries[k]);
      const records = await readWarc(cut);
      expect(records).toHaveLength(1 + 2 * k);
      records.slice(1).forEach((r, j) => {
        if (r.type === 'response') expect(Buffer.from(r.payload)).toEqual(Buffer.from(EXCHANGES[(j - 1) / 2]!.payload));
      });
    }
    // A torn last exchange (SIGKILL in the middle of a write): every complete record before it still reads.
    const torn = file.subarray(0, boundaries[4]! + Math.floor((boundaries[5]! - boundaries[4]!) / 2));
    const complete = await readWarc(file.subarray(0, boundaries[4]));
    const seen: string[] = [];
    try {
      for await (const record of WARCParser.iterRecords([torn])) {
        await record.readFully(true);
        seen.push(record.warcHeader('WARC-Record-ID')!);
      }
    } catch {
      // A reader may stop with an error at the torn record; what came before is what matters.
    }
    expect(seen.slice(0, complete.length)).toEqual(complete.map((r) => r.id));
  });

  it('serialises concurrent writes: exchanges land whole and in call order', async () => {
    const path = join(dir, 'many.warc');
    const writer = await WarcWriter.open(path);
    const exchanges = Array.from({ length: 30 }, (_, i) => ({ ...EXCHANGES[i % EXCHANGES.length]!, url: `http://127.0.0.1:8080/n/${i}` }));
    const ids = await Promise.all(exchanges.map((ex) => writer.writeExchange(ex)));
    await writer.close();
    const raw = rawRecords(await readFile(path));
    checkDigests(raw);
    const records = await readWarc(await readFile(path));
    expect(records).toHaveLength(61);
    exchanges.forEach((ex, i) => {
      expect(records[1 + 2 * i]!.target).toBe(ex.url);
      expect(records[1 + 2 * i]!.id).toBe(ids[i]!.requestId);
      expect(records[2 + 2 * i]!.id).toBe(ids[i]!.responseId);
    });
  });

  it('appends a resumed run after the first, with a warcinfo of its own; without append it starts afresh', async () => {
    const path = join(dir, 'resume.warc.gz');
    const first = await WarcWriter.open(path, { append: true });
    await first.writeExchange(EXCHANGES[1]!);
    await first.close();
    const second = await WarcWriter.open(path, { append: true });
    await second.writeExchange(EXCHANGES[2]!);
    await second.close();
    const records = await readWarc(await readFile(path));
    expect(records.map((r) => r.type)).toEqual(['warcinfo', 'request', 'response', 'warcinfo', 'request', 'response']);
    expect(records[4]!.warcinfoId).toBe(second.warcinfoId);
    expect(first.warcinfoId).not.toBe(second.warcinfoId);

    await (await WarcWriter.open(path)).close();
    expect((await readWarc(await readFile(path))).map((r) => r.type)).toEqual(['warcinfo']);
  });

  it('writes exactly what the server said, whatever it said: repeated WARC-like names, ",,,", CR/LF, UTF-8 bytes', async () => {
    const path = join(dir, 'hostile.warc');
    const writer = await WarcWriter.open(path);
    const utf8AsLatin1 = Buffer.from('attachment; filename="café.txt"', 'utf8').toString('latin1');
    await writer.writeExchange({
      ...EXCHANGES[1]!,
      responseHeaders: [
        ['WARC-Type', 'metadata'],
        ['WARC-Type', 'resource'],
        ['x-joined', 'a,,,b'],
        ['x-evil', 'v\r\nWARC-Type: metadata\r\n\r\nboom'],
        ['content-disposition', utf8AsLatin1],
        ['x-latin1', 'caf\u00e9'],
        ['bad name', 'dropped'],
        ['content-type', 'text/plain'],
      ],
    });
    await writer.close();
    const raw = rawRecords(await readFile(path));
    checkDigests(raw);
    const response = raw[2]!;
    expect(response.fields.get('warc-type')).toBe('response');
    const head = response.block.subarray(0, response.block.indexOf('\r\n\r\n')).toString('utf8').split('\r\n');
    expect(head).toEqual([
      'HTTP/1.1 404 Not Found',
      'WARC-Type: metadata',
      'WARC-Type: resource',
      'x-joined: a,,,b',
      'x-evil: v WARC-Type: metadata boom',
      'content-disposition: attachment; filename="café.txt"',
      'x-latin1: café',
      'content-type: text/plain',
      'Content-Length: 9',
    ]);
    // The UTF-8 header went back to its wire bytes.
    expect(response.block.includes(Buffer.from('filename="café.txt"', 'utf8'))).toBe(true);
  });

  it('records a truncated payload and a request body', async () => {
    const path = join(dir, 't.warc');
    const writer = await WarcWriter.open(path);
    await writer.writeExchange({ ...EXCHANGES[2]!, method: 'POST', requestBody: utf8('q=1'), truncated: 'length' });
    await writer.close();
    const raw = rawRecords(await readFile(path));
    checkDigests(raw);
    expect(raw[1]!.block.toString()).toMatch(/^POST \/page\.html\?x=1 HTTP\/1\.1\r\n[\s\S]*\r\n\r\nq=1$/);
    expect(raw[2]!.fields.get('warc-truncated')).toBe('length');
  });

  it('fails to open with WRITE and the OS code', async () => {
    const missing = await WarcWriter.open(join(dir, 'no', 'such', 'dir.warc')).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(FetchError);
    expect((missing as FetchError).code).toBe('WRITE');
    expect((missing as FetchError).message).toMatch(/^could not write the WARC file ".*dir\.warc" \(ENOENT\): no such file or directory$/);
  });

  it.skipIf(process.platform !== 'linux')('fails with WRITE ENOSPC on a full disk (/dev/full)', async () => {
    const full = await WarcWriter.open('/dev/full', { append: true }).catch((e: unknown) => e);
    expect((full as FetchError).code).toBe('WRITE');
    expect((full as FetchError).message).toContain('(ENOSPC)');
  });

  it('refuses writes after close; close twice is harmless', async () => {
    const writer = await WarcWriter.open(join(dir, 'c.warc'));
    await writer.close();
    await writer.close();
    const err = await writer.writeExchange(EXCHANGES[0]!).catch((e: unknown) => e);
    expect((err as FetchError).code).toBe('WRITE');
    expect((err as FetchError).message).toMatch(/is closed$/);
  });

  // Python's warcio, if installed. Not `which warcio`: under vitest, node_modules/.bin comes first in PATH, and the
  // npm warcio package installs a `warcio` of its own that has no `check` command.
  const pythonWarcio = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((d) => d !== '' && !d.includes('node_modules'))
    .map((d) => join(d, 'warcio'))
    .find((bin) => existsSync(bin) && spawnSync(bin, ['check', '--help'], { stdio: 'ignore' }).status === 0);
  it.skipIf(pythonWarcio === undefined)('passes `warcio check` (the Python reference tool), plain and gzip', async () => {
    for (const name of ['ref.warc', 'ref.warc.gz']) {
      const path = join(dir, name);
      await writeAll(path);
      execFileSync(pythonWarcio!, ['check', '-v', path], { stdio: 'pipe' });
    }
  });
});

describe('appending after a run killed in the middle of a write', () => {
  /** A file of warcinfo and three exchanges, and the file size after each write. */
  async function threeExchanges(name: string): Promise<{ whole: Buffer; boundaries: number[] }> {
    const path = join(dir, `whole-${name}`);
    const { boundaries } = await writeAll(path, EXCHANGES.slice(0, 3));
    return { whole: await readFile(path), boundaries };
  }

  /** What a killed run left (the first `cut` bytes), then a resumed run appending one exchange. */
  async function resumeAfter(name: string, bytes: Buffer): Promise<{ file: Buffer; gzip: boolean }> {
    const path = join(dir, name);
    await writeFile(path, bytes);
    const resumed = await WarcWriter.open(path, { append: true });
    await resumed.writeExchange(EXCHANGES[4]!);
    await resumed.close();
    return { file: await readFile(path), gzip: resumed.gzip };
  }

  function types(file: Buffer, gzip: boolean): string[] {
    const raw = rawRecords(gzip ? gunzipSync(file) : file);
    checkDigests(raw);
    return raw.map((r) => r.fields.get('warc-type')!);
  }

  it.each([
    ['plain', 'torn.warc'],
    ['gzip', 'torn.warc.gz'],
  ])('%s: cuts the torn exchange wherever the write stopped, and appends whole records after it', async (_kind, name) => {
    const { whole, boundaries } = await threeExchanges(name);
    const [, , b2, b3] = boundaries as [number, number, number, number];
    // Every few bytes across the last exchange, including inside a record's closing CRLFs and a gzip trailer.
    const cuts = new Set<number>([b2 + 1, b2 + 5, b3 - 1, b3 - 2, b3 - 4, b3 - 8, b3 - 9]);
    for (let c = b2; c <= b3; c += Math.max(1, Math.floor((b3 - b2) / 25))) cuts.add(c);
    for (const cut of [...cuts].sort((a, b) => a - b)) {
      const { file, gzip } = await resumeAfter(name, whole.subarray(0, cut));
      const expected = cut === b3 ? 3 : 2;
      expect(types(file, gzip), `cut at ${cut} of ${b2}..${b3}`).toEqual([
        'warcinfo',
        ...Array.from({ length: expected }, () => ['request', 'response']).flat(),
        'warcinfo',
        'request',
        'response',
      ]);
      const read = await readWarc(file);
      expect(Buffer.from(read.at(-1)!.payload)).toEqual(Buffer.from(EXCHANGES[4]!.payload));
    }
  }, 120_000);

  it('keeps a file cut exactly between exchanges as it is', async () => {
    const { whole, boundaries } = await threeExchanges('clean.warc');
    const { file, gzip } = await resumeAfter('clean.warc', whole.subarray(0, boundaries[2]));
    expect(types(file, gzip)).toEqual(['warcinfo', 'request', 'response', 'request', 'response', 'warcinfo', 'request', 'response']);
  });

  it('starts again from nothing when even the first warcinfo was torn', async () => {
    const { whole } = await threeExchanges('early.warc.gz');
    const { file, gzip } = await resumeAfter('early.warc.gz', whole.subarray(0, 10));
    expect(types(file, gzip)).toEqual(['warcinfo', 'request', 'response']);
  });

  it('refuses to append to a file that is not a WARC, or not of the same compression, and leaves it alone', async () => {
    const notes = join(dir, 'notes.warc');
    await writeFile(notes, 'my precious notes\n');
    const err = await WarcWriter.open(notes, { append: true }).catch((e: unknown) => e);
    expect((err as FetchError).code).toBe('WRITE');
    expect((err as FetchError).message).toBe(`refusing to append to ${JSON.stringify(notes)}: it is not an uncompressed WARC file`);
    expect(await readFile(notes, 'utf8')).toBe('my precious notes\n');

    const plain = join(dir, 'plain.warc');
    await writeAll(plain, EXCHANGES.slice(0, 1));
    const mixed = await WarcWriter.open(plain, { append: true, gzip: true }).catch((e: unknown) => e);
    expect((mixed as FetchError).message).toContain('it is not a gzipped WARC file');
  });
});

describe('test helpers', () => {
  it('sha1Base32 matches a known WARC digest (the empty payload)', () => {
    expect(sha1Base32(new Uint8Array(0))).toBe('sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ');
  });
});
