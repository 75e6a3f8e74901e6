import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
// The build's copy (CommonJS): vitest reads a .cts source as plain JavaScript.
import codeCache from '../dist/parse/code-cache.cjs';
import { normalizeExtract } from '../src/parse/spec.js';

const { makeCodeCache, requireWithCodeCache } = codeCache;

// The parser bundle is loaded with the V8 code cache the build made of it (src/parse/code-cache.cts). A cache that
// does not fit must never break a load: it is refused and the file compiled as without one.
describe('requireWithCodeCache', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'volley-code-cache-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  type Mod = { twice(x: number): number; where: string; self: boolean };
  // A file of its own for each test, its text too: V8 keeps what it compiled in the process, and would not look
  // at the cache of a source it has seen.
  const fresh = (name: string): string => {
    const file = join(dir, `${name}.cjs`);
    writeFileSync(file, `// ${name}\nconst { join } = require('node:path');\nexports.twice = (x) => x * 2;\nexports.where = join(__dirname, 'x');\nexports.self = module.exports === exports && this === exports;\n`);
    return file;
  };

  it('loads a CommonJS file as require() does, with no cache file', () => {
    const { exports, cache } = requireWithCodeCache(fresh('none'), join(dir, 'missing.v8cache'));
    expect(cache).toBe('none');
    expect((exports as Mod).twice(21)).toBe(42);
    expect((exports as Mod).where).toBe(join(dir, 'x'));
    expect((exports as Mod).self).toBe(true);
  });

  it('uses a cache made of the same file (in another process, as the build makes it)', () => {
    const file = fresh('good');
    const script = `import { writeFileSync } from 'node:fs'; import codeCache from ${JSON.stringify(pathToFileURL(fileURLToPath(new URL('../dist/parse/code-cache.cjs', import.meta.url))).href)}; const { makeCodeCache } = codeCache;
      writeFileSync(${JSON.stringify(join(dir, 'good.v8cache'))}, makeCodeCache(${JSON.stringify(file)}, (m) => m.twice(1)));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    const { exports, cache } = requireWithCodeCache(file, join(dir, 'good.v8cache'));
    expect(cache).toBe('accepted');
    expect((exports as Mod).twice(2)).toBe(4);
  });

  it('refuses a cache that is not one, and loads the file all the same', () => {
    writeFileSync(join(dir, 'junk.v8cache'), Buffer.from('not a V8 code cache'.repeat(10)));
    const { exports, cache } = requireWithCodeCache(fresh('junk'), join(dir, 'junk.v8cache'));
    expect(cache).toBe('rejected');
    expect((exports as Mod).twice(3)).toBe(6);
  });

  it('refuses a cache made of another source', () => {
    writeFileSync(join(dir, 'other.cjs'), 'exports.other = function () { return [1, 2, 3].map((x) => x + 1); };\n');
    writeFileSync(join(dir, 'other.v8cache'), makeCodeCache(join(dir, 'other.cjs'), () => {}));
    const { exports, cache } = requireWithCodeCache(fresh('other-source'), join(dir, 'other.v8cache'));
    expect(cache).toBe('rejected');
    expect((exports as Mod).twice(4)).toBe(8);
  });
});

// The build's cache is made under the CLI's V8 flags (src/cli/v8-flags.ts): a run of the CLI gets it accepted.
// A cache V8 refused would cost nothing but its read, silently: this says so instead.
describe("the build's parser cache (dist/parse/)", () => {
  const parseDir = fileURLToPath(new URL('../dist/parse/', import.meta.url));
  const url = (file: string) => JSON.stringify(pathToFileURL(join(parseDir, file)).href);

  // The cache is V8's own format, for one V8 version: a dist/ built under Node 20 and run under 22 or 24 (CI's
  // compatibility runs, an install built on another Node) has it refused, and must parse all the same.
  it('is accepted under the flags a CLI run sets by the V8 that made it, refused by any other, and the parser it loads parses', () => {
    const caches = readdirSync(parseDir).filter((f) => /^parser-[0-9a-f]+-v8-.+\.v8cache$/.test(f));
    expect(caches).toHaveLength(1);
    const madeBy = /-v8-(.+)\.v8cache$/.exec(caches[0]!)![1];
    const script = `
      import v8 from 'node:v8';
      import { fileURLToPath } from 'node:url';
      import { setRunFlags } from ${JSON.stringify(pathToFileURL(fileURLToPath(new URL('../dist/cli/v8-flags.js', import.meta.url))).href)};
      import codeCache from ${url('code-cache.cjs')}; const { requireWithCodeCache } = codeCache;
      import { normalizeExtract } from ${url('spec.js')};
      setRunFlags(v8);
      const { exports, cache } = requireWithCodeCache(fileURLToPath(${url('parser.cjs')}), fileURLToPath(${url(caches[0]!)}));
      const fields = exports.parseInline({ url: 'http://a.test/', body: Buffer.from('<title>T</title>'), contentType: 'text/html' }, normalizeExtract(undefined));
      console.log(JSON.stringify({ cache, title: fields.title }));
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({ cache: madeBy === process.versions.v8 ? 'accepted' : 'rejected', title: 'T' });
  });

  // On a Node whose V8 did not make the cache, vm.Script would read it only to have it refused and compile the whole
  // bundle: worker.js then require()s the parser, which Node's own compile cache (22.1+) covers where it is on.
  it('loads through dist/parse/worker.js, as the CLI and the parse threads load it: with the cache only on the V8 that made it', () => {
    const madeBy = /-v8-(.+)\.v8cache$/.exec(readdirSync(parseDir).find((f) => f.endsWith('.v8cache'))!)![1];
    const script = `const m = await import(${url('worker.js')}); console.log(typeof m.default, typeof m.parseInline, m.loadedWith);`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe(`function function ${madeBy === process.versions.v8 ? 'code-cache' : 'require'}`);
  });

  // The DOM path is a bundle of its own (scripts/bundle.mjs): a run of built-in fields never loads it; the first
  // page with user selectors does, and gets its fields.
  it('loads the DOM bundle only for a page that needs it', () => {
    const specs = { scan: normalizeExtract({ links: true }), dom: normalizeExtract({ select: { h: 'h1' } }) };
    const script = `
      const { parser } = require(${JSON.stringify(join(parseDir, 'parser-loader.cjs'))});
      const specs = ${JSON.stringify(specs)};
      const loaded = () => Object.keys(require.cache).some((f) => f.endsWith('parser-dom.cjs'));
      const page = { url: 'http://a.test/', body: Buffer.from('<title>T</title><h1>Head</h1><a href="/x">x</a>'), contentType: 'text/html' };
      const scan = parser.parseInline(page, specs.scan);
      const before = loaded();
      const dom = parser.parseInline(page, specs.dom);
      console.log(JSON.stringify({ before, after: loaded(), scan: [scan.title, scan.links], dom: [dom.title, dom.data] }));
    `;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({ before: false, after: true, scan: ['T', ['http://a.test/x']], dom: ['T', { h: 'Head' }] });
  });

  // A thread's start is on the run's clock (the first page waits for it) and on its CPU: the parser's loader is
  // CommonJS so that a thread never loads Node's ES module loader, whose import() path brought ~30 modules
  // (fs/promises, readline, the file watchers) into every thread.
  it('is loaded in a parse thread without the ES module loader, and the thread parses', async () => {
    const { Worker } = await import('node:worker_threads');
    const entry = fileURLToPath(new URL('../dist/parse/worker-entry.cjs', import.meta.url));
    const run = (code: string) =>
      new Promise<{ modules: string[]; title?: string }>((resolve, reject) => {
        const worker = new Worker(code, { eval: true, workerData: {} });
        worker.once('message', (m) => {
          resolve(m);
          void worker.terminate();
        });
        worker.once('error', reject);
      });
    const bare = await run(`require('node:worker_threads').parentPort.postMessage({ modules: process.moduleLoadList })`);
    const thread = await run(`
      const { parentPort } = require('node:worker_threads');
      const handler = require(${JSON.stringify(entry)});
      const body = Buffer.from('<title>In a thread</title>');
      const task = { pages: [{ body, contentType: 'text/html', url: 'http://a.test/' }], spec: { title: true, description: false, canonical: false, lang: false, links: false, metaRobots: false, select: [], followSelect: null },
        clocks: new SharedArrayBuffer(8), slot: 0, epoch: Date.now(), deadlineMs: 10000 };
      handler(task).then((reply) => parentPort.postMessage({ modules: process.moduleLoadList, title: reply.outcomes[0].fields.title }));`);
    expect(thread.title).toBe('In a thread');
    const added = thread.modules.filter((m) => !bare.modules.includes(m));
    expect(added.filter((m) => /fs\/promises|readline|esm\/get_format|esm\/initialize_import_meta/.test(m))).toEqual([]);
  });
});

// Worker threads do not inherit Node's compile cache: the parse pool tells its threads the directory when the
// process has the cache on (the CLI turns it on), and they turn it on before loading the parser; a process that
// did not (a library user's) gets none in its threads either. Seen through Node's own debug output of the cache.
describe.skipIf(typeof (nodeModule as { getCompileCacheDir?: unknown }).getCompileCacheDir !== 'function')("the parse threads and Node's compile cache (22.8+)", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'volley-compile-cache-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const parseInThread = (enable: boolean) => {
    const script = `
      import { enableCompileCache } from 'node:module';
      ${enable ? `enableCompileCache(${JSON.stringify(dir)});` : ''}
      const { ParsePool } = await import(${JSON.stringify(pathToFileURL(fileURLToPath(new URL('../dist/parse/pool.js', import.meta.url))).href)});
      const { normalizeExtract } = await import(${JSON.stringify(pathToFileURL(fileURLToPath(new URL('../dist/parse/spec.js', import.meta.url))).href)});
      const pool = new ParsePool(normalizeExtract(undefined), 1, 10000);
      const fields = await pool.parse({ url: 'http://a.test/', body: new TextEncoder().encode('<title>T</title>'), contentType: 'text/html' }, new AbortController().signal);
      await pool.destroy();
      console.log(fields.title, [...pool.threadIds].length);
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, NODE_DEBUG_NATIVE: 'COMPILE_CACHE', NODE_COMPILE_CACHE: undefined, NODE_DISABLE_COMPILE_CACHE: undefined },
    });
    expect(child.status).toBe(0);
    expect(child.stdout.trim().split('\n').at(-1)).toBe('T 1');
    return child.stderr + child.stdout;
  };

  it('a thread compiles the parser through the cache of the process that started it', () => {
    const log = parseInThread(true);
    expect(log).toMatch(/compile cache.*parser\.cjs/);
    // The threads share the main thread's directory: no second one nested in it.
    expect(log).not.toMatch(new RegExp(`${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/v[^/\\s]+/v`));
  });

  it('a process without the cache starts threads without it', () => {
    expect(parseInThread(false)).not.toMatch(/parser\.cjs/);
  });
});

// The CLI's V8 flag (llhttp's tiering budget) is set on Node 20 only: on 22 and 24 it gained nothing, and any V8
// flag set at run time has V8 refuse Node's code cache of its built-in modules (src/cli/v8-flags.ts).
describe('the CLI run flags', () => {
  it('set the tiering budget on Node 20 only, and nothing on a later Node', async () => {
    const { NEEDS_RUN_FLAGS, setRunFlags } = await import('../src/cli/v8-flags.js');
    const set: string[] = [];
    setRunFlags({ setFlagsFromString: (flags: string) => void set.push(flags) });
    const major = Number(process.versions.node.split('.')[0]);
    expect(NEEDS_RUN_FLAGS).toBe(major < 22);
    expect(set).toEqual(major < 22 ? ['--wasm-tiering-budget=100000000'] : []);
  });
});
