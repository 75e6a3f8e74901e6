// The command line of issue 13: --body, --headers, --save, --save-name, --warc, --csv-raw. Parsing in-process;
// runs as child processes against a loopback server, SIGKILL included.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WARCParser } from 'warcio';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseCli, UsageError, type CliConfig } from '../src/cli/args.js';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function config(argv: string[]): Promise<CliConfig> {
  const parsed = await parseCli(argv, { stdinPiped: () => false });
  if (parsed.kind !== 'run') throw new Error(`expected a run, got ${parsed.kind}`);
  return parsed.config;
}

async function usageError(argv: string[]): Promise<string> {
  const err = await parseCli(argv, { stdinPiped: () => false }).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(UsageError);
  return (err as Error).message;
}

describe('parsing', () => {
  it('reads a bare --body as --body text, leaving the next word an input', async () => {
    const c = await config(['--body', 'http://x/']);
    expect(c.body).toBe('text');
    expect(c.options.body).toBe('bytes');
    expect(c.inputs).toEqual(['http://x/']);
    expect((await config(['http://x/', '--body'])).body).toBe('text');
    expect((await config(['--body', 'json', 'http://x/'])).options.body).toBe('json');
    expect((await config(['--body=base64', 'http://x/'])).body).toBe('base64');
  });

  it('refuses --body with CSV, pointing to JSONL', async () => {
    expect(await usageError(['--body', '-f', 'csv', 'http://x/'])).toMatch(/--body does not fit in CSV: use -f jsonl/);
  });

  it('checks --save-name at start-up and wants --save with it', async () => {
    expect(await usageError(['--save-name', '{host}.{ext}', 'http://x/'])).toBe('--save-name needs --save DIR');
    expect(await usageError(['--save', 'd', '--save-name', '{nope}', 'http://x/'])).toMatch(/^--save-name: Unknown placeholder `\{nope\}`/);
    expect(await usageError(['--save', 'd', '--save-name', '../{path}', 'http://x/'])).toMatch(/may not contain `\.` or `\.\.` segments/);
  });

  it('appends to the WARC when resuming', async () => {
    expect((await config(['--warc', 'a.warc', 'http://x/'])).options.warc).toBe('a.warc');
    expect((await config(['--warc', 'a.warc', '--resume', '-o', 'o.jsonl', 'http://x/'])).options.warc).toEqual({ path: 'a.warc', append: true });
  });

  it('takes --csv-raw with CSV only', async () => {
    expect(await usageError(['--csv-raw', 'http://x/'])).toBe('--csv-raw applies to -f csv only, got -f jsonl');
  });
});

const BINARY = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) & 0xff));
const LARGE = 2 * 1024 * 1024;
/** The body of /large/N: its own bytes, so each saved file can be checked. */
const largeBody = (n: number): Buffer => {
  const out = Buffer.alloc(LARGE);
  for (let i = 0; i < LARGE; i += 4) out.writeUInt32LE((i * 2654435761 + n) >>> 0, i);
  return out;
};

let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/bin') {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': BINARY.length });
      return void res.end(BINARY);
    }
    if (url.pathname === '/text') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'set-cookie': ['a=1', 'b=2'] });
      return void res.end('<title>=HYPERLINK("http://evil.example","click")</title>Zoë');
    }
    if (url.pathname === '/json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end('{"a":[1,2]}');
    }
    const m = /^\/large\/(\d+)$/.exec(url.pathname);
    if (m) {
      // Sent in pieces with pauses, so a run is still writing files when it is killed.
      const body = largeBody(Number(m[1]));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      let at = 0;
      const next = (): void => {
        if (res.destroyed) return;
        if (at >= body.length) return void res.end();
        res.write(body.subarray(at, (at += 256 * 1024)));
        setTimeout(next, 5);
      };
      return next();
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((done) => server.close(() => done()));
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'volley-keep-cli-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function start(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}
const run = (args: string[]) => start(args).done;
const rowsOf = (text: string): Record<string, unknown>[] =>
  text.split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });

describe('runs', () => {
  it('exits 2 for --body with -f csv, before fetching anything', async () => {
    const { code, stderr } = await run(['--body', '-f', 'csv', `${base}/text`]);
    expect(code).toBe(2);
    expect(stderr).toContain('use -f jsonl');
  });

  it('writes textual bodies as strings and others as base64 (--body), always base64 (--body base64), parsed (--body json)', async () => {
    const text = rowsOf((await run(['--body', `${base}/bin`, `${base}/text`, '-q'])).stdout);
    const bin = text.find((r) => r.url === `${base}/bin`)!;
    expect(bin.bodyEncoding).toBe('base64');
    expect(Buffer.from(bin.body as string, 'base64').equals(BINARY)).toBe(true);
    const page = text.find((r) => r.url === `${base}/text`)!;
    expect(page.body).toBe('<title>=HYPERLINK("http://evil.example","click")</title>Zoë');
    expect(page.bodyEncoding).toBeUndefined();

    const [b64] = rowsOf((await run(['--body', 'base64', `${base}/text`, '-q'])).stdout);
    expect(b64!.bodyEncoding).toBe('base64');
    expect(Buffer.from(b64!.body as string, 'base64').toString('utf8')).toContain('Zoë');

    const [json] = rowsOf((await run(['--body', 'json', `${base}/json`, '-f', 'json', '-q'])).stdout.replace(/^\[\n|\n\]\n$/g, ''));
    expect(json!.json).toEqual({ a: [1, 2] });
  });

  it('writes --headers as one JSON column in CSV, and escapes formulas unless --csv-raw', async () => {
    const escaped = (await run(['-f', 'csv', '--headers', `${base}/text`, '-q'])).stdout;
    const [head, row] = escaped.trim().split('\n');
    expect(head!.split(',').at(-1)).toBe('headers');
    expect(row).toContain(`'=HYPERLINK`);
    // The last cell: the header fields as one JSON object, quoted by CSV's rules (inner quotes doubled).
    const headers = JSON.parse(/,"(\{.*\})"$/.exec(row!)![1]!.replaceAll('""', '"')) as Record<string, unknown>;
    expect(headers['set-cookie']).toEqual(['a=1', 'b=2']);
    const raw = (await run(['-f', 'csv', '--csv-raw', `${base}/text`, '-q'])).stdout;
    expect(raw).toContain(`"=HYPERLINK(""http://evil.example"",""click"")"`);
    expect(raw).not.toContain(`'=`);
  });

  it('appends to the WARC on --resume', async () => {
    const out = join(dir, 'out.jsonl');
    const warc = join(dir, 'run.warc.gz');
    expect((await run([`${base}/text`, '-o', out, '--warc', warc, '-q'])).code).toBe(0);
    expect((await run([`${base}/text`, `${base}/json`, '-o', out, '--warc', warc, '--resume', '-q'])).code).toBe(0);
    const types: string[] = [];
    const targets: string[] = [];
    for await (const record of WARCParser.iterRecords([readFileSync(warc)])) {
      types.push(record.warcType ?? '');
      if (record.warcType === 'response') targets.push(record.warcTargetURI ?? '');
    }
    expect(types.filter((t) => t === 'warcinfo')).toHaveLength(2);
    expect(targets).toEqual([`${base}/text`, `${base}/json`]);
  });

  it('leaves no row naming a missing or half-written file when killed with SIGKILL, and --resume completes the rest', async () => {
    const n = 24;
    const list = join(dir, 'urls.txt');
    writeFileSync(list, Array.from({ length: n }, (_, i) => `${base}/large/${i}`).join('\n'));
    const out = join(dir, 'out.jsonl');
    const save = join(dir, 'save');
    const args = ['-i', list, '-o', out, '--save', save, '-c', '4', '--retries', '0', '--no-extract', '-q'];
    const rowsNow = (): Record<string, unknown>[] => (existsSync(out) ? rowsOf(readFileSync(out, 'utf8')) : []);

    const first = start(args);
    // Killed once a few files are written, while others are on their way.
    for (let waited = 0; rowsNow().length < 3 && waited < 60_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    first.child.kill('SIGKILL');
    await first.done;
    const killed = rowsNow();
    expect(killed.length).toBeGreaterThanOrEqual(3);
    expect(killed.length).toBeLessThan(n);

    const check = async (rows: Record<string, unknown>[]): Promise<void> => {
      for (const row of rows) {
        const savedAs = row.savedAs as string;
        expect(savedAs.split('/').some((part) => part.startsWith('.volley-tmp-'))).toBe(false);
        const bytes = readFileSync(join(save, ...savedAs.split('/')));
        expect(sha(bytes)).toBe(row.sha256);
        expect(bytes.equals(largeBody(Number(/(\d+)$/.exec(row.url as string)![1])))).toBe(true);
      }
    };
    await check(killed);

    const resumed = await run([...args, '--resume']);
    expect(resumed.code).toBe(0);
    const all = rowsNow();
    expect(new Set(all.map((r) => r.url)).size).toBe(n);
    expect(all).toHaveLength(n);
    await check(all);
    // Temporary files the kill left behind are no row's: every saved file a row names is a whole file of its own.
    const files = (await readdir(save, { recursive: true })).map((f) => f.split(sep).join('/'));
    const named = new Set(all.map((r) => r.savedAs));
    expect(files.filter((f) => f.includes('.volley-tmp-')).every((f) => !named.has(f))).toBe(true);
  });
});
