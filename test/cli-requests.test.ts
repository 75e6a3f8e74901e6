// The command line's side of issue 15, spawned: --requests, -X, -d/--json, meta in every format, --resume by url
// and meta, and the TLS and HTTP/2 flags against the HTTPS fixtures.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEchoServer, type EchoServer } from './fixtures/echo-server.js';
import { createSecureTestServer, type SecureTestServer } from './fixtures/tls-server.js';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const TLS_DIR = fileURLToPath(new URL('./fixtures/tls/', import.meta.url));
let server: EchoServer;
let dir: string;

beforeAll(async () => {
  server = await createEchoServer();
  dir = mkdtempSync(join(tmpdir(), 'volley-cli-requests-'));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, NO_COLOR: '1', HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end(stdin);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const rows = (jsonl: string): Record<string, unknown>[] => jsonl.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
/** RFC 4180 rows as objects by header (the values compared here hold no line breaks). */
function parseCsv(text: string): Record<string, string>[] {
  const split = (line: string): string[] => {
    const cells: string[] = [];
    let cell = '';
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      if (quoted && c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = !quoted;
      else if (c === ',' && !quoted) {
        cells.push(cell);
        cell = '';
      } else cell += c;
    }
    return [...cells, cell];
  };
  const [head, ...body] = text.trim().split('\n').map(split);
  return body.map((cells) => Object.fromEntries(head!.map((name, i) => [name, cells[i] ?? ''])));
}

const fast = ['--threads', '1', '--retries', '0', '--no-progress'];
/** For runs that need no title: no parse thread to start. */
const bare = ['--no-extract', '--retries', '0', '--no-progress'];

describe('--requests', () => {
  it('sends each line\'s request, turns a bad line into an INVALID_REQUEST row and goes on', async () => {
    const lines = [
      JSON.stringify({ url: `${server.url}/echo?cli=1`, method: 'POST', json: { id: 1 }, meta: { row: 1 } }),
      'not json at all',
      '# a comment',
      '',
      JSON.stringify({ url: `${server.url}/echo?cli=2`, method: 'PUT', body: 'two', headers: { 'content-type': 'text/plain' }, meta: 'r2' }),
      '[1, 2]',
      JSON.stringify({ url: `${server.url}/echo?cli=3`, meta: null }),
    ];
    const r = await run(['--requests', file('reqs.jsonl', lines.join('\n')), ...fast]);
    expect(r.code).toBe(1);
    const out = rows(r.stdout);
    expect(out).toHaveLength(5);
    const bad = out.filter((row) => (row.error as { code?: string } | null)?.code === 'INVALID_REQUEST');
    expect(bad.map((row) => (row.error as { message: string }).message)).toEqual([
      expect.stringMatching(/^line is not JSON \(.*\): "not json at all"$/),
      'line is JSON but an array, not a request object: "[1, 2]"',
    ]);
    const good = Object.fromEntries(out.filter((row) => row.ok).map((row) => [row.url as string, row]));
    expect(good[`${server.url}/echo?cli=1`]).toMatchObject({ meta: { row: 1 }, status: 200, title: 'POST /echo?cli=1' });
    expect(good[`${server.url}/echo?cli=2`]).toMatchObject({ meta: 'r2', title: 'PUT /echo?cli=2' });
    expect(good[`${server.url}/echo?cli=3`]).toMatchObject({ meta: null, title: 'GET /echo?cli=3' });
    expect(server.at('/echo?cli=1')[0]!.body.toString()).toBe('{"id":1}');
    expect(server.at('/echo?cli=2')[0]).toMatchObject({ method: 'PUT', headers: { 'content-type': 'text/plain' } });
    expect(r.stderr).toContain('INVALID_REQUEST 2');
  });

  it('reads stdin with -, takes -X as the method of lines that name none, and keeps meta in -f json and -f csv', async () => {
    const lines = [
      JSON.stringify({ url: `${server.url}/echo?fmt=a`, meta: { id: 'a', n: [1, 2] } }),
      JSON.stringify({ url: `${server.url}/echo?fmt=b`, method: 'GET', meta: 7 }),
      JSON.stringify({ url: `${server.url}/echo?fmt=c` }),
    ].join('\n');
    const json = await run(['--requests', '-', '-X', 'DELETE', '-f', 'json', '-q', ...fast], lines);
    expect(json.code).toBe(0);
    const array = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(Object.fromEntries(array.map((row) => [row.url, row.meta]))).toEqual({
      [`${server.url}/echo?fmt=a`]: { id: 'a', n: [1, 2] },
      [`${server.url}/echo?fmt=b`]: 7,
      [`${server.url}/echo?fmt=c`]: undefined,
    });
    expect(server.at('/echo?fmt=a')[0]!.method).toBe('DELETE');
    expect(server.at('/echo?fmt=b')[0]!.method).toBe('GET');

    const csv = await run(['--requests', '-', '-f', 'csv', '-q', ...fast], lines);
    expect(csv.code).toBe(0);
    const records = parseCsv(csv.stdout);
    expect(Object.keys(records[0]!).slice(0, 3)).toEqual(['url', 'meta', 'finalUrl']);
    expect(Object.fromEntries(records.map((row) => [row.url, row.meta]))).toEqual({
      [`${server.url}/echo?fmt=a`]: '{"id":"a","n":[1,2]}',
      [`${server.url}/echo?fmt=b`]: '7',
      [`${server.url}/echo?fmt=c`]: '',
    });
  });

  it('--resume skips work by url and meta together: two records to one URL are two pieces of work', async () => {
    const url = `${server.url}/echo?resume`;
    const out = join(dir, 'resume.jsonl');
    const done = { url, meta: { id: 1 }, finalUrl: url, ok: true, status: 200, error: null };
    const cancelled = { url, meta: { id: 2 }, finalUrl: null, ok: false, status: null, error: { code: 'CANCELLED', message: 'x', stage: 'queued' } };
    writeFileSync(out, `${JSON.stringify(done)}\n${JSON.stringify(cancelled)}\n`);
    const reqs = [1, 2, 3].map((id) => JSON.stringify({ url, method: 'POST', json: { id }, meta: { id } })).join('\n');
    const r = await run(['--requests', file('resume-reqs.jsonl', reqs), '-o', out, '--resume', '-q', ...bare]);
    expect(r.code).toBe(0);
    const appended = rows(readFileSync(out, 'utf8')).slice(2);
    expect(appended.map((row) => row.meta)).toEqual(expect.arrayContaining([{ id: 2 }, { id: 3 }]));
    expect(appended).toHaveLength(2);
    expect(server.at('/echo?resume').map((q) => q.body.toString()).sort()).toEqual(['{"id":2}', '{"id":3}']);
  });
});

describe('-X, -d and --json for a URL list', () => {
  it('sends -d to every URL, curl style (a form unless -H says otherwise), and @FILE byte for byte', async () => {
    const r = await run([`${server.url}/echo?d=1`, `${server.url}/echo?d=2`, '-X', 'POST', '-d', 'a=1&b=two', '-q', ...bare]);
    expect(r.code).toBe(0);
    for (const path of ['/echo?d=1', '/echo?d=2']) {
      expect(server.at(path)[0]).toMatchObject({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(server.at(path)[0]!.body.toString()).toBe('a=1&b=two');
    }
    const bytes = Buffer.from('line one\r\nline two\n\u00e9');
    const body = join(dir, 'body.bin');
    writeFileSync(body, bytes);
    const f = await run([`${server.url}/echo?d=file`, '-X', 'PUT', '-d', `@${body}`, '-H', 'Content-Type: text/plain', '-q', ...bare]);
    expect(f.code).toBe(0);
    expect(server.at('/echo?d=file')[0]!.body.equals(bytes)).toBe(true);
    expect(server.at('/echo?d=file')[0]!.headers['content-type']).toBe('text/plain');
  });

  it('sends --json with the JSON content type (and Accept), from text or @FILE', async () => {
    const r = await run([`${server.url}/echo?json=1`, '-X', 'PATCH', '--json', '{"ok": true}', '-q', ...bare]);
    expect(r.code).toBe(0);
    expect(server.at('/echo?json=1')[0]).toMatchObject({ method: 'PATCH', headers: { 'content-type': 'application/json', accept: 'application/json' } });
    expect(server.at('/echo?json=1')[0]!.body.toString()).toBe('{"ok": true}');
    const bad = await run([`${server.url}/echo?json=2`, '-X', 'POST', '--json', `@${file('bad.json', '{nope')}`, ...bare]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--json @.*bad\.json: not JSON/);
  });

  it('refuses -d with GET (exit 2) and says to add -X POST, before anything is sent', async () => {
    const r = await run([`${server.url}/echo?d=get`, '-d', 'a=1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('volley: -d/--data sends a body, which GET cannot carry: add -X POST');
    expect(server.at('/echo?d=get')).toHaveLength(0);
  });
});

describe('TLS and HTTP/2 flags', () => {
  let https: SecureTestServer;
  let clientAuth: SecureTestServer;
  let h2: SecureTestServer;
  beforeAll(async () => {
    [https, clientAuth, h2] = await Promise.all([
      createSecureTestServer(),
      createSecureTestServer({ requireClientCert: true }),
      createSecureTestServer({ http2: true }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([https.close(), clientAuth.close(), h2.close()]);
  });
  const warning = 'TLS certificates were not checked (--insecure)';
  const ca = join(TLS_DIR, 'ca.pem');

  it('fails an unknown CA with TLS by default; -k accepts it and the summary warns once', async () => {
    const strict = await run([`${https.url}/ok?t=strict`, ...fast]);
    expect(strict.code).toBe(1);
    expect(rows(strict.stdout)[0]).toMatchObject({ ok: false, error: { code: 'TLS' } });
    const insecure = await run([`${https.url}/ok?t=k`, `${https.url}/ok?t=k2`, '-k', ...fast]);
    expect(insecure.code).toBe(0);
    expect(rows(insecure.stdout).map((row) => row.title).sort()).toEqual(['k', 'k2']);
    expect(insecure.stderr.split(warning)).toHaveLength(2);
    expect(strict.stderr).not.toContain(warning);
  });

  it('trusts --ca FILE, and presents --cert/--key to a server that asks', async () => {
    const r = await run([`${https.url}/ok?t=ca`, '--ca', ca, ...fast]);
    expect(r.code).toBe(0);
    expect(rows(r.stdout)[0]).toMatchObject({ ok: true, title: 'ca' });
    expect(r.stderr).not.toContain(warning);
    const mutual = await run([`${clientAuth.url}/ok?t=mutual`, '--ca', ca, '--cert', join(TLS_DIR, 'client.pem'), '--key', join(TLS_DIR, 'client-key.pem'), ...fast]);
    expect(mutual.code).toBe(0);
    expect(rows(mutual.stdout)[0]).toMatchObject({ ok: true, title: 'mutual' });
  });

  it.each<[string, string[], RegExp]>([
    ['a missing --ca file', ['--ca', '/no/such/ca.pem'], /--ca: no such file: \/no\/such\/ca\.pem/],
    ['a --ca file without PEM', ['--ca', 'FILE:not a certificate'], /--ca .*not\.pem: no PEM block/],
    ['a --key that is not the --cert\'s', ['--cert', join(TLS_DIR, 'client.pem'), '--key', join(TLS_DIR, 'server-key.pem')], /--key .*server-key\.pem: Expected --key to be the key of --cert/],
  ])('exits 2 on %s, naming the flag and the file', async (_name, flags, message) => {
    const args = flags.map((f) => (f.startsWith('FILE:') ? file('not.pem', f.slice(5)) : f));
    const r = await run([`${https.url}/ok?t=never`, ...args, ...bare]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(https.requests.filter((q) => q.path === '/ok?t=never')).toHaveLength(0);
  });

  it('speaks h2 with --http2, HTTP/1.1 without', async () => {
    const on = await run([`${h2.url}/ok?t=cli-h2`, '--http2', '--ca', ca, ...fast]);
    expect(on.code).toBe(0);
    expect(rows(on.stdout)[0]).toMatchObject({ ok: true, title: 'cli-h2' });
    const off = await run([`${h2.url}/ok?t=cli-h1`, '--ca', ca, ...bare]);
    expect(off.code).toBe(0);
    expect(h2.requests.find((q) => q.path === '/ok?t=cli-h2')?.httpVersion).toBe('2.0');
    expect(h2.requests.find((q) => q.path === '/ok?t=cli-h1')?.httpVersion).toBe('1.1');
  });

  it('takes --max-header-size: 20 KiB of headers fail TOO_LARGE under 16 KiB, pass by default', async () => {
    const small = await run([`${https.url}/big-headers?kb=20`, '--ca', ca, '--max-header-size', '16384', ...bare]);
    expect(rows(small.stdout)[0]).toMatchObject({ ok: false, error: { code: 'TOO_LARGE', message: expect.stringContaining('16384 bytes') } });
    const dflt = await run([`${https.url}/big-headers?kb=20`, '--ca', ca, ...bare]);
    expect(rows(dflt.stdout)[0]).toMatchObject({ ok: true });
  });
});
