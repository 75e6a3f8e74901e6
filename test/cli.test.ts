import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, appendFileSync, mkdirSync, utimesSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import lockfile from 'proper-lockfile';
import { createTestServer, htmlPage, type TestServer } from './fixtures/server.js';
import { shardOf, fnv1a32 } from '../src/cli/shard.js';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
let server: TestServer;
let dir: string;
const hangOnce = new Set<string>();
let cubicServed = false;

beforeAll(async () => {
  server = await createTestServer({
    // Hangs the first time a key is asked for, answers after: a URL a killed run never finished.
    '/hang-once': (_req, res, url) => {
      const key = url.searchParams.get('k') ?? '';
      if (!hangOnce.has(key)) return void hangOnce.add(key);
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(htmlPage(`second ${key}`));
    },
    // A small page on which the selector `p:has(~ p:has(~ q))` runs for many seconds (cubic in its 1,200 <p>).
    '/cubic': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<title>cubic</title>${'<p>x</p>'.repeat(1200)}`);
      cubicServed = true;
    },
    // Shift_JIS declared only by <meta charset>: the bundled parser's multi-byte tables, a file beside it.
    '/sjis': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(Buffer.concat([Buffer.from('<html><head><meta charset="Shift_JIS"><title>'), Buffer.from([0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea]), Buffer.from('</title></head></html>')]));
    },
  });
  dir = mkdtempSync(join(tmpdir(), 'volley-cli-'));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  done: Promise<number | null>;
}

function start(args: string[], { stdin, env, keepStdinOpen = false }: { stdin?: string; env?: Record<string, string>; keepStdinOpen?: boolean } = {}): Run {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, NO_COLOR: '1', HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdout!.on('error', () => {});
  if (stdin !== undefined) child.stdin!.end(stdin);
  else if (!keepStdinOpen) child.stdin!.end();
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, done };
}

async function run(args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) {
  const r = start(args, opts);
  const code = await r.done;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

const lines = (text: string) => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, any>);
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 20));
}
const u = (path: string) => `${server.url}${path}`;

describe('inputs and outputs', () => {
  it('fetches URLs given as arguments and writes one JSON line each; exit 0 when all ok', async () => {
    const r = await run([u('/ok?t=a'), u('/ok?t=b'), '-q']);
    expect(r.code).toBe(0);
    expect(lines(r.stdout).map((l) => l.title).sort()).toEqual(['a', 'b']);
    expect(r.stderr).toBe('');
  });

  it('decodes a Shift_JIS page on the main thread (one page) and in the parse threads (several)', async () => {
    const one = await run([u('/sjis?n=1'), '-q']);
    expect(lines(one.stdout)[0]).toMatchObject({ ok: true, title: '日本語' });
    const many = await run([u('/sjis?n=2'), u('/sjis?n=3'), u('/sjis?n=4'), '-q']);
    expect(lines(many.stdout).map((l) => l.title)).toEqual(['日本語', '日本語', '日本語']);
  });

  it('reads a file given as an argument, and -i files, skipping blanks and # comments', async () => {
    const file = join(dir, 'list.txt');
    writeFileSync(file, `# header\n\n  ${u('/ok?t=f1')}  \n${u('/ok?t=f2')}\r\n`);
    const other = join(dir, 'other.txt');
    writeFileSync(other, `${u('/ok?t=f3')}\n`);
    const r = await run([file, '-i', other, '-q']);
    expect(r.code).toBe(0);
    expect(lines(r.stdout).map((l) => l.title).sort()).toEqual(['f1', 'f2', 'f3']);
  });

  it('reads stdin with -', async () => {
    const r = await run(['-', '-q'], { stdin: `${u('/ok?t=s1')}\n${u('/ok?t=s2')}\n` });
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toHaveLength(2);
  });

  it('exits 1 when some URL is not ok, with a summary on stderr', async () => {
    const list = join(dir, 'with-bad-line.txt');
    writeFileSync(list, 'nope\n');
    const r = await run([u('/ok?t=fine'), u('/status?code=500&k=cli'), list, '--retries', '0']);
    expect(r.code).toBe(1);
    const byUrl = Object.fromEntries(lines(r.stdout).map((l) => [l.url, l]));
    expect(byUrl['nope'].error.code).toBe('INVALID_URL');
    expect(byUrl[u('/status?code=500&k=cli')].status).toBe(500);
    expect(r.stderr).toMatch(/volley: 3 URLs in .* 1 ok, 2 failed/);
    expect(r.stderr).toContain('HTTP_STATUS 1');
    // Not a terminal: no progress line, no escape codes.
    expect(r.stderr).not.toContain('\u001b[');
  });

  it('draws progress on a non-terminal only when --progress forces it, and never with -q', async () => {
    const forced = await run([u('/ok?t=p1'), '--progress']);
    expect(forced.stderr).toMatch(/1\/1 \| ok 1 \| failed 0/);
    const quiet = await run([u('/ok?t=p2'), '--progress', '-q']);
    expect(quiet.stderr).toBe('');
  });

  it('writes a JSON array with -f json', async () => {
    const r = await run([u('/ok?t=j1'), u('/ok?t=j2'), '-f', 'json', '-q']);
    const parsed = JSON.parse(r.stdout) as { title: string }[];
    expect(parsed.map((p) => p.title).sort()).toEqual(['j1', 'j2']);
  });

  it('writes CSV with a header row, quoting, links joined by spaces and all-match selectors as JSON', async () => {
    const out = join(dir, 'out.csv');
    const r = await run([u('/ok?t=Hello,%20"world"'), '-f', 'csv', '-o', out, '--links', '-s', 'heads[]=h1', '-q']);
    expect(r.code).toBe(0);
    const text = readFileSync(out, 'utf8');
    const [header, row] = text.trim().split('\n');
    expect(header).toBe('url,finalUrl,ok,status,errorCode,errorMessage,contentType,etag,lastModified,bytes,elapsedMs,attempts,redirects,title,description,links,data.heads');
    expect(row).toContain('"Hello, ""world"""');
    expect(row).toContain('"[""Hello, \\""world\\""""]"');
    expect(row).toContain(',true,200,');
  });

  it('turns a runaway line into one short INVALID_URL row and goes on with the list', async () => {
    const list = join(dir, 'runaway.txt');
    const runaway = `${u('/ok?t=runaway')}${'a'.repeat(2 * 1024 * 1024)}`;
    writeFileSync(list, `${runaway}\n${u('/ok?t=after-runaway')}\n`);
    const r = await run([list, '-q']);
    expect(r.code).toBe(1);
    expect(r.stdout.length).toBeLessThan(2_000);
    const [bad, good] = lines(r.stdout).sort((a, b) => Number(a.ok) - Number(b.ok));
    expect(bad).toMatchObject({ url: runaway.slice(0, 200), ok: false, error: { code: 'INVALID_URL' } });
    expect(bad!.error.message).toContain(`${runaway.length} bytes`);
    expect(good).toMatchObject({ ok: true, title: 'after-runaway' });
  });

  it('writes an empty but valid JSON array when there is nothing to fetch', async () => {
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '# nothing\n');
    const r = await run([empty, '-f', 'json', '-q']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });
});

// The text of every usage error is pinned in-process (cli-args.test.ts, cli-inputs.test.ts); these show that each
// kind (from yargs, from a flag's value, from the library's options, from the inputs) ends the process with exit 2.
describe('usage errors exit 2 and name the flag', () => {
  it.each([
    [['--bogus', 'http://x/'], 'Unknown argument: bogus'],
    [['--timeout', 'soon', 'http://x/'], '--timeout expects a duration such as 30s'],
    [['-s', 'x=div[', 'http://x/'], '--select: Invalid CSS selector for `x`'],
    [['-i', '/no/such/file.txt'], '--input: no such file: /no/such/file.txt'],
    [['nosuchfile.txt'], 'no such file: nosuchfile.txt'],
    [[], 'no URLs given'],
  ])('%j', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain("Run 'volley --help'");
    expect(r.stdout).toBe('');
  });

  it('reads stdin only when asked with -, and says so when URLs are piped into a bare volley', async () => {
    const r = await run([], { stdin: `${u('/ok?t=piped')}\n` });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("add '-'");
    expect(server.hits('/ok?t=piped')).toBe(0);
  });

  it('refuses a binary file given as a list, before fetching anything', async () => {
    const binary = join(dir, 'binary.bin');
    writeFileSync(binary, Buffer.concat([Buffer.from(`${u('/ok?t=binary')}\n`), Buffer.from([0, 1, 2, 0])]));
    for (const args of [[binary], ['-i', binary]]) {
      const r = await run(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('looks like a binary file');
      expect(r.stdout).toBe('');
    }
    expect(server.hits('/ok?t=binary')).toBe(0);
  });

  it('prints a complete manual with --help and the version with --version', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    for (const word of ['--concurrency', '--lock', '--resume', '--shard', 'Examples:', 'Exit codes', 'CANCELLED', '[duration]', '74 the output']) expect(help.stdout).toContain(word);
    const version = await run(['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  // Start-up (issue 22): undici reads globalThis.Headers as it loads, and that read makes Node load its own copy of
  // undici (15-18 ms on Node 22); the command's bundle reads it as undefined (scripts/bundle.mjs). A run still works
  // with the global as Node defines it, and still has it.
  it("does not load Node's own copy of undici for a run, and leaves the global Headers to Node", async () => {
    const preload = join(dir, 'modules-at-exit.cjs');
    writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(process.env.VOLLEY_TEST_MODULES, JSON.stringify({ modules: process.moduleLoadList.slice(), headers: typeof globalThis.Headers })));\n`);
    const report = join(dir, 'modules.json');
    const r = await run([u('/ok?t=node-undici'), '-q'], { env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${JSON.stringify(preload)}`, VOLLEY_TEST_MODULES: report } });
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toMatchObject([{ ok: true, status: 200 }]);
    const { modules, headers } = JSON.parse(readFileSync(report, 'utf8')) as { modules: string[]; headers: string };
    expect(modules.length).toBeGreaterThan(50);
    expect(modules.filter((m) => m.includes('deps/undici'))).toEqual([]);
    // Read only now, at exit (which loads Node's undici): the global is Node's lazy one, untouched.
    expect(headers).toBe('function');
  });
});

describe('signals', () => {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`on ${signal}: writes every finished result, CANCELLED for the unfinished, summary, exit ${code}`, async () => {
      const urls = [...[1, 2, 3].map((i) => u(`/ok?t=${signal}${i}`)), ...Array.from({ length: 10 }, (_, i) => u(`/hang?${signal}=${i}`))];
      const r = start([...urls, '--timeout', '60s', '-c', '20', '--per-host', '20']);
      await until(() => lines(r.stdout()).length >= 3);
      r.child.kill(signal);
      expect(await r.done).toBe(code);
      const rows = lines(r.stdout());
      expect(rows).toHaveLength(13);
      expect(rows.filter((x) => x.ok)).toHaveLength(3);
      expect(rows.filter((x) => x.error?.code === 'CANCELLED')).toHaveLength(10);
      expect(r.stderr()).toContain(signal === 'SIGINT' ? 'interrupted' : 'terminated');
    });
  }

  it('tells the summary how many cancelled URLs were never requested (read ahead behind a busy host)', async () => {
    const urls = [...[1, 2, 3].map((i) => u(`/ok?ahead=${i}`)), ...Array.from({ length: 10 }, (_, i) => u(`/hang?ahead=${i}`))];
    const r = start([...urls, '--timeout', '60s', '-c', '4', '--per-host', '1']);
    await until(() => lines(r.stdout()).length >= 3);
    r.child.kill('SIGINT');
    expect(await r.done).toBe(130);
    const rows = lines(r.stdout());
    expect(rows).toHaveLength(13);
    const neverSent = rows.filter((x) => x.error?.stage === 'queued');
    expect(neverSent.length).toBeGreaterThan(0);
    expect(r.stderr()).toContain(`${neverSent.length} of the CANCELLED were never requested`);
  });

  it('stops at once on SIGINT while waiting on a stdin that never closes', async () => {
    const r = start(['-'], { keepStdinOpen: true });
    r.child.stdin!.write(`${u('/ok?t=from-stdin')}\n`);
    await until(() => lines(r.stdout()).length >= 1);
    r.child.kill('SIGINT');
    expect(await r.done).toBe(130);
    expect(lines(r.stdout())).toMatchObject([{ ok: true, title: 'from-stdin' }]);
  });

  it('stops at once on SIGINT while a one-URL run\'s selector is still running: it runs on a thread, not the event loop', async () => {
    const r = start([u('/cubic'), '-s', 'x=p:has(~ p:has(~ q))']);
    await until(() => cubicServed);
    // Long enough for the page to reach the parser; the selector then runs for seconds. On the main thread it held
    // the signal until it was done (18 s here), and the row came out ok, signal or not.
    await new Promise((resolve) => setTimeout(resolve, 300));
    r.child.kill('SIGINT');
    expect(await r.done).toBe(130);
    expect(lines(r.stdout())).toMatchObject([{ ok: false, status: 200, error: { code: 'CANCELLED' } }]);
  });

  it('closes the JSON array when interrupted', async () => {
    const r = start([u('/ok?t=arr'), u('/hang?arr=1'), '-f', 'json', '--timeout', '60s']);
    await until(() => r.stdout().includes('"arr"'));
    r.child.kill('SIGINT');
    expect(await r.done).toBe(130);
    const parsed = JSON.parse(r.stdout()) as { error: { code: string } | null }[];
    expect(parsed).toHaveLength(2);
  });

  it('exits at once on a second SIGINT while the first one is still draining', async () => {
    // The drain after the first signal is made long (output slow to flush, as on a network disk): it would last
    // until the drain limit. Only the second signal can end it sooner.
    const r = start([u('/ok?t=twice'), ...Array.from({ length: 5 }, (_, i) => u(`/hang?twice=${i}`)), '--timeout', '60s'], {
      env: { VOLLEY_TEST_SLOW_DRAIN_MS: '60000' },
    });
    await until(() => server.hits('/ok?t=twice') === 1 && server.log.requests.filter((q) => q.path.startsWith('/hang?twice=')).length === 5);
    r.child.kill('SIGINT');
    await until(() => r.stderr().includes('SIGINT: cancelling'));
    // The first signal's effect is visible, and the run is still draining.
    expect(r.child.exitCode).toBeNull();
    r.child.kill('SIGINT');
    expect(await r.done).toBe(130);
    expect(r.stderr()).toContain('SIGINT again: stopped at once');
    expect(r.stderr()).not.toContain('did not finish within');
  });

  it('ends quietly when the reader goes away (| head)', async () => {
    const urls = Array.from({ length: 300 }, (_, i) => u(`/slow?ms=30&head=${i}`));
    const r = start([...urls, '-c', '10', '--per-host', '10']);
    await until(() => r.stdout().split('\n').length > 5);
    r.child.stdout!.destroy();
    const code = await r.done;
    expect(r.stderr()).toBe('');
    expect(code).toBe(0);
  });
});

describe('cron safety', () => {
  it('refuses to start while another run holds --lock: exit 75', async () => {
    const lock = join(dir, 'live.lock');
    const release = await lockfile.lock(lock, { realpath: false, lockfilePath: lock });
    try {
      const r = await run([u('/ok?t=locked'), '--lock', lock]);
      expect(r.code).toBe(75);
      expect(r.stderr).toContain('another volley run holds the lock');
      expect(r.stdout).toBe('');
      expect(server.hits('/ok?t=locked')).toBe(0);
    } finally {
      await release();
    }
  });

  it('takes over a stale lock left by a killed run, and releases it at the end', async () => {
    const lock = join(dir, 'stale.lock');
    mkdirSync(lock);
    const old = new Date(Date.now() - 10 * 60_000);
    utimesSync(lock, old, old);
    const r = await run([u('/ok?t=stale'), '--lock', lock, '-q']);
    expect(r.code).toBe(0);
    expect(existsSync(lock)).toBe(false);
  });

  it('resumes after a killed run: nothing finished is fetched twice, nothing is lost', async () => {
    const out = join(dir, 'resume.jsonl');
    const done = [1, 2, 3].map((i) => u(`/ok?t=resume${i}`));
    const unfinished = [1, 2].map((i) => u(`/hang-once?k=r${i}`));
    const list = join(dir, 'resume.txt');
    writeFileSync(list, [...done, ...unfinished].join('\n'));
    const first = start([list, '-o', out, '--timeout', '60s', '-q']);
    await until(() => existsSync(out) && readFileSync(out, 'utf8').split('\n').length > 3);
    first.child.kill('SIGKILL');
    await first.done;
    // A write cut short by the kill.
    appendFileSync(out, '{"url":"http://cut');
    const second = await run([list, '-o', out, '--resume', '--timeout', '60s']);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('3 already done, skipped');
    const rows = lines(readFileSync(out, 'utf8'));
    expect(rows.map((r) => r.url).sort()).toEqual([...done, ...unfinished].sort());
    for (const url of done) expect(server.hits(url.slice(server.url.length))).toBe(1);
  });

  it('--shard K/N: the N shards partition the list exactly', async () => {
    const port = server.port;
    const hosts = ['127.0.0.1', 'localhost', '127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
    const urls = hosts.flatMap((h) => [1, 2].map((i) => `http://${h}:${port}/ok?t=${i}`)).concat(['not a url']);
    const list = join(dir, 'shard.txt');
    writeFileSync(list, urls.join('\n'));
    const seen: string[] = [];
    for (let k = 0; k < 3; k++) {
      const r = await run([list, '--shard', `${k}/3`, '--retries', '0', '-t', '2s', '-q', '--no-extract']);
      const rows = lines(r.stdout);
      for (const row of rows) expect(shardOf(row.url, 3)).toBe(k);
      seen.push(...rows.map((x) => x.url));
    }
    expect(seen.sort()).toEqual([...urls].sort());
  });

  it('hashes hosts with FNV-1a so other tools can reproduce the split', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    expect(shardOf('https://EXAMPLE.com/a', 7)).toBe(shardOf('http://example.com:8080/b', 7));
  });
});
