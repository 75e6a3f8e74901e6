// `warc` end to end: a run over redirects, an error status, gzip and br bodies, read back with warcio (the library
// that wrote it) — record pairs, targets, decoded payloads, digests — and rows yielded only after their records.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { WARCParser } from 'warcio';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fetchAll, fetchEach } from '../src/index.js';
import { createTestServer, htmlPage, type TestServer } from './fixtures/server.js';
import { sha1Base32 } from './fixtures/warc-digest.js';

interface ReadRecord {
  type: string;
  id: string;
  target: string | undefined;
  concurrentTo: string[];
  truncated: string | null;
  payloadDigest: string | null;
  status: number | undefined;
  headers: Map<string, string>;
  info: string;
  payload: Buffer;
}

async function readWarc(path: string): Promise<ReadRecord[]> {
  const out: ReadRecord[] = [];
  for await (const record of WARCParser.iterRecords([await readFile(path)])) {
    const payload = Buffer.from(await record.readFully(true));
    const headers = new Map<string, string>();
    for (const [name, value] of (record.httpHeaders?.headers as Headers | undefined) ?? []) headers.set(name.toLowerCase(), value);
    out.push({
      type: record.warcType ?? '',
      id: record.warcHeader('WARC-Record-ID') ?? '',
      target: record.warcTargetURI ?? undefined,
      concurrentTo: (record.warcConcurrentTo as string[] | undefined) ?? [],
      truncated: record.warcHeader('WARC-Truncated') ?? null,
      payloadDigest: record.warcHeader('WARC-Payload-Digest') ?? null,
      status: record.httpHeaders ? Number(record.httpHeaders.statusCode) : undefined,
      headers,
      info: record.warcType === 'warcinfo' ? payload.toString('utf8') : '',
      payload,
    });
  }
  return out;
}


const CUT_SHORT_SENT = Buffer.from(`<title>cut</title>${'z'.repeat(100_000 - 18)}`);

let server: TestServer;
beforeAll(async () => {
  server = await createTestServer({
    '/err-big': (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('e'.repeat(5000));
    },
    // Declares 200,000 bytes (a body copied into its buffer as it arrives), sends 100,000, then hangs up.
    '/cut-short': (req, res) => {
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': '200000' });
      res.write(CUT_SHORT_SENT, () => setTimeout(() => req.socket.destroy(), 20));
    },
  });
});
afterAll(async () => {
  await server.close();
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'volley-warc-run-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const PATHS = ['/redirect?n=2', '/status?code=404', '/gzip', '/br'];

/** Checks the file of a run over PATHS: warcinfo, then a request/response pair per response, as the server sent them. */
async function checkRun(path: string): Promise<void> {
  const records = await readWarc(path);
  expect(records[0]!.type).toBe('warcinfo');
  expect(records[0]!.info).toContain('software: volley/');
  expect(records[0]!.info).toContain('volley-options: ');
  // The header's name is there, its value (a secret, perhaps) is not.
  expect(records[0]!.info).toContain('x-token');
  expect(records[0]!.info).not.toContain('hunter2');

  const responses = records.filter((r) => r.type === 'response');
  const requests = records.filter((r) => r.type === 'request');
  expect(responses).toHaveLength(6);
  expect(requests).toHaveLength(6);
  for (const response of responses) {
    const request = requests.find((q) => q.id === response.concurrentTo[0]);
    expect(request?.concurrentTo).toEqual([response.id]);
    expect(request?.target).toBe(response.target);
    expect(response.payloadDigest).toBe(sha1Base32(response.payload));
  }
  const at = (p: string) => responses.find((r) => r.target === `${server.url}${p}`)!;
  // Every hop of the redirect chain, with its status and Location.
  expect(at('/redirect?n=2')).toMatchObject({ status: 301 });
  expect(at('/redirect?n=2').headers.get('location')).toBe('/redirect?n=1');
  expect(at('/redirect?n=1')).toMatchObject({ status: 302 });
  expect(at('/ok?t=landed').payload.toString()).toBe(htmlPage('landed'));
  // An error status keeps its body.
  expect(at('/status?code=404')).toMatchObject({ status: 404, truncated: null });
  expect(at('/status?code=404').payload.toString()).toBe('status');
  // Compressed bodies are stored decoded, the headers adjusted to match and the originals kept.
  for (const [p, title, coding] of [['/gzip', 'gzipped', 'gzip'], ['/br', 'brotli', 'br']] as const) {
    const r = at(p);
    expect(r.payload.toString()).toBe(htmlPage(title));
    expect(r.headers.has('content-encoding')).toBe(false);
    expect(r.headers.get('x-volley-original-content-encoding')).toBe(coding);
    expect(r.headers.get('content-length')).toBe(String(r.payload.length));
  }
  const sent = requests.find((q) => q.target === `${server.url}/gzip`)!;
  expect(sent.payload.length).toBe(0);
}

// Python's warcio (the reference `warcio check`), if installed; not node_modules/.bin's warcio, which has no `check`.
const pythonWarcio = (process.env.PATH ?? '')
  .split(delimiter)
  .filter((d) => d !== '' && !d.includes('node_modules'))
  .map((d) => join(d, 'warcio'))
  .find((bin) => existsSync(bin) && spawnSync(bin, ['check', '--help'], { stdio: 'ignore' }).status === 0);

describe('warc', () => {
  for (const name of ['run.warc', 'run.warc.gz']) {
    it(`archives every response, redirect hops and error statuses included (${name})`, async () => {
      const path = join(dir, name);
      const results = await fetchAll(PATHS.map((p) => server.url + p), { retries: 0, warc: path, headers: { 'x-token': 'hunter2' } });
      expect(results.map((r) => r.status)).toEqual([200, 404, 200, 200]);
      if (name.endsWith('.gz')) expect(readFileSync(path).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
      await checkRun(path);
      if (pythonWarcio) execFileSync(pythonWarcio, ['check', '-v', path], { stdio: 'pipe' });
    });
  }

  it('yields a row only once its records are in the file', async () => {
    const path = join(dir, 'rows.warc');
    let rows = 0;
    for await (const r of fetchEach(PATHS.map((p) => server.url + p), { retries: 0, warc: path })) {
      const file = readFileSync(path, 'latin1');
      expect(file).toContain(`WARC-Target-URI: ${r.finalUrl}\r\n`);
      expect(file).toContain(`WARC-Target-URI: ${r.url}\r\n`);
      rows++;
    }
    expect(rows).toBe(PATHS.length);
  });

  it('marks a body cut at maxBytes as truncated, for a kept body and an error status alike', async () => {
    const path = join(dir, 'cut.warc');
    const results = await fetchAll([`${server.url}/big?mb=1`, `${server.url}/err-big`], { retries: 0, maxBytes: 1000, warc: path });
    expect(results.map((r) => r.error?.code)).toEqual(['TOO_LARGE', 'HTTP_STATUS']);
    const responses = (await readWarc(path)).filter((r) => r.type === 'response');
    expect(responses).toHaveLength(2);
    for (const r of responses) {
      expect(r.truncated).toBe('length');
      expect(r.payload.length).toBe(1000);
    }
  });

  it('records a body the server cut short as far as it was read, marked as a disconnect', async () => {
    const path = join(dir, 'short.warc');
    const [r] = await fetchAll([`${server.url}/cut-short`], { retries: 0, warc: path });
    expect(r).toMatchObject({ ok: false, status: 200 });
    const [response] = (await readWarc(path)).filter((rec) => rec.type === 'response');
    expect(response).toMatchObject({ status: 200, truncated: 'disconnect' });
    expect(response!.payload.equals(CUT_SHORT_SENT)).toBe(true);
  });

  it('archives robots.txt too', async () => {
    const path = join(dir, 'robots.warc');
    await fetchAll([`${server.url}/ok`], { retries: 0, warc: path, respectRobots: true });
    const targets = (await readWarc(path)).filter((r) => r.type === 'response').map((r) => r.target);
    expect(targets.sort()).toEqual([`${server.url}/ok`, `${server.url}/robots.txt`]);
  });

  it('refuses to start when the file cannot be written', async () => {
    await expect(fetchAll([`${server.url}/ok?t=never`], { warc: join(dir, 'no/such/dir/x.warc') })).rejects.toMatchObject({ code: 'WRITE' });
    expect(server.hits('/ok?t=never')).toBe(0);
  });
});
