// The second step of `npm run build`, after tsc: what a run loads first is rebuilt as bundles (esbuild), because
// loading ~150 small ES modules one by one cost a one-URL run more than anything it did (issue 12 §3; figures in
// docs/performance.md, "Start-up"):
//
//   dist/cli/command.js   the `volley` command (src/cli/command.ts) behind its small entry, dist/cli/main.js: the
//   dist/cli/chunks/      CLI, the library and their dependencies (yargs-parser, p-limit, …), split into ES module
//                         chunks so that what a run reaches only by a dynamic import (yargs for help and errors,
//                         WARC, --body, CSV, --lock, the progress bar) is read and compiled only when used.
//                         undici is in the chunk every run loads, bundled from its public entry: loaded from
//                         node_modules, its ~110 files cost a one-URL run more than the rest of undici's set-up.
//   dist/parse/parser.cjs the parser (htmlparser2, encoding-sniffer, the WHATWG decoders, …), which every parse
//                         thread loads, and the main thread too for a small page parsed before a thread is ready;
//                         CommonJS, so that dist/parse/parser-loader.cjs (written below) can load it with a V8
//                         code cache made here.
//   dist/parse/parser-dom.cjs  the DOM path (cheerio, css-select: user selectors, followSelect), which parser.cjs
//                         requires on the first page that needs it.
//
// Everything else in dist/ is tsc's output, unbundled: the library entry (dist/index.js) loads dependencies from
// node_modules like any package (and the parser through dist/parse/parser-loader.cjs, as the CLI does).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { commandOutput, common, dropUnusedBanners } from './esbuild-options.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** @type {esbuild.Plugin} */
const cliPlugin = {
  name: 'volley-cli',
  setup(build) {
    // The parse pool and the parser stay files of their own, loaded only by a run that parses: piscina starts
    // its threads from files beside pool.js, and worker.js is the other bundle.
    // The path is written as is into the chunk that holds stage.ts, in dist/cli/chunks/ (checked below).
    build.onResolve({ filter: /^\.\/(pool|worker)\.js$/ }, (args) =>
      args.importer.endsWith(`${sep}src${sep}parse${sep}stage.ts`) ? { path: `../../parse/${basename(args.path)}`, external: true } : undefined,
    );
    // src/version.ts reads ../package.json from dist/, a path that does not hold from dist/cli/.
    build.onLoad({ filter: /[\\/]src[\\/]version\.ts$/ }, () => ({ contents: `export const VERSION: string = ${JSON.stringify(version)};`, loader: 'ts' }));
    // yargs lays out --help with cliui and wrap-ansi, which import string-width; its module builds an
    // Intl.Segmenter and Unicode-property regexes as it loads (~35 ms on every run, measured), for help text
    // that a run never prints. Each importer gets a stand-in that loads its own string-width on the first call.
    build.onResolve({ filter: /^string-width$/ }, (args) =>
      args.kind === 'require-call' ? undefined : { path: args.resolveDir, namespace: 'lazy-string-width' },
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-string-width' }, (args) => ({
      contents: "let real;\nexport default function stringWidth(text, options) {\n  real ??= require('string-width').default;\n  return real(text, options);\n}\n",
      resolveDir: args.path,
      loader: 'js',
    }));
  },
};

// The command is split (ES module chunks in dist/cli/chunks/): what a module reaches only by a dynamic import is a
// file of its own, which a run reads, compiles and links only when it imports it. In one file, a plain run paid
// for the code of every feature (WARC writing with warcio, hash-wasm and pako; the WHATWG decoders for --body;
// CSV; --lock; the progress bar; 1.48 MB in all), and for the Node built-ins that code imports (node:crypto,
// node:zlib, node:http, node:readline), which an ES module bundle imports at its top.
const cliDir = join(root, 'dist/cli');
rmSync(join(cliDir, 'chunks'), { recursive: true, force: true });
const cli = await esbuild.build({
  ...common,
  entryPoints: [join(root, 'src/cli/command.ts')],
  outdir: cliDir,
  splitting: true,
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  metafile: true,
  // The shared queue's client (issue 21) stays in node_modules, imported by its public entry when a queue
  // subcommand connects: bundled, its CommonJS entry lost `createClient` in esbuild's interop.
  external: ['redis'],
  plugins: [cliPlugin],
  // Whitespace minified, and undici's load-time read of globalThis.Headers answered (see esbuild-options.mjs).
  ...commandOutput,
});
// The banner only in the files that name `require` (see esbuild-options.mjs).
dropUnusedBanners(cli.metafile);
// undici comes into the command by its public entry (src/fetch/undici.ts), never a file of it by path: those are
// its internals, which a minor release may move.
const undiciFiles = Object.values(cli.metafile.outputs).flatMap((o) => Object.keys(o.inputs)).filter((i) => /node_modules\/undici\//.test(i));
if (!undiciFiles.includes('node_modules/undici/index.js')) throw new Error('bundle.mjs: the command does not take undici from its public entry (node_modules/undici/index.js)');
// The relative paths to dist/parse/ written above hold only from dist/cli/chunks/.
for (const [file, output] of Object.entries(cli.metafile.outputs)) {
  const toParse = output.imports.filter((i) => i.external && /\/parse\/(pool|worker)\.js$/.test(i.path));
  if (toParse.length > 0 && !file.includes('/chunks/')) throw new Error(`bundle.mjs: ${file} imports ${toParse[0].path}, a path that holds from dist/cli/chunks/ only`);
}
// The WHATWG decoders (@exodus/bytes, under encoding-sniffer) keep the tables of the legacy multi-byte encodings
// (Shift_JIS, GBK, Big5, …) in a 150 KB JSON file that they require on the first such page. Bundled, it was 330 KB
// of JavaScript that every load of the parser read and compiled (a one-URL run with extraction: ~20 ms, measured):
// it stays a file beside the bundle, required as before, when a page needs it.
const multiByteTables = [];
/** @type {esbuild.Plugin} */
const parserPlugin = {
  name: 'volley-parser',
  setup(build) {
    // dom-serializer (under cheerio) takes encodeXML, escapeAttribute and escapeText from entities' index, which
    // also brings entities' HTML decode table and encode trie, built as the parser loads (~50 KB of data each,
    // decoded into a typed array and a Map; htmlparser2 has its own newer entities for decoding). Those three
    // functions are entities' escape.js: imported from there, the rest is left out. Should dom-serializer take
    // anything else from entities, the build fails ("No matching export") instead of the parser.
    build.onResolve({ filter: /^entities$/ }, async (args) => {
      if (!args.importer.includes(`${sep}dom-serializer${sep}`) || args.pluginData?.entitiesIndex) return undefined;
      const index = await build.resolve('entities', { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { entitiesIndex: true } });
      if (index.errors.length > 0) return { errors: index.errors };
      return { path: join(dirname(index.path), 'escape.js') };
    });
    build.onResolve({ filter: /^\.\/multi-byte\.encodings\.json$/ }, (args) => {
      if (!args.importer.includes(`${sep}@exodus${sep}bytes${sep}`)) return undefined;
      multiByteTables.push(join(args.resolveDir, 'multi-byte.encodings.json'));
      return { path: './multi-byte.encodings.json', external: true };
    });
  },
};
// The parser is CommonJS (dist/parse/parser.cjs), loaded by dist/parse/parser-loader.cjs (written here) with V8's
// code cache for it (src/parse/code-cache.cts): an ES module cannot be given one on Node 20. The cache is made here,
// after a parse of a small page under the CLI's V8 flags (V8 refuses a cache made under other flags), and named
// by the bundle's hash and the V8 that made it. Another V8 (a dist/ built on 20 run on 22 or 24) does not use it.
const parseDir = join(root, 'dist/parse');
const parserFile = join(parseDir, 'parser.cjs');
// `import.meta` means nothing in CommonJS (esbuild would leave it empty): parser code that uses it fails the build.
// The DOM path (user selectors, followSelect: cheerio, css-select and their kin, about half the parser's code) is a
// bundle of its own, parser-dom.cjs, which parser.cjs requires on the first page that needs it (src/parse/dom-path.ts
// is replaced here by that require): a run of built-in fields, the scan, never reads, compiles or sets it up. The
// two hold a copy each of what both use (htmlparser2, the fields' clean-up).
const domPathPlugin = {
  name: 'volley-dom-path',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]parse[\\/]dom-path\.ts$/ }, () => ({
      contents: `let dom;\nexport function domPath() {\n  return (dom ??= require('./parser-dom.cjs'));\n}\n`,
      loader: 'ts',
    }));
    build.onResolve({ filter: /^\.\/parser-dom\.cjs$/ }, (args) => ({ path: args.path, external: true }));
  },
};
/** One CommonJS bundle of the parser; its metafile says what it holds. */
const parserBundle = (entry, outfile, plugins) =>
  esbuild.build({
    ...common,
    format: 'cjs',
    banner: undefined,
    entryPoints: [join(root, entry)],
    outfile,
    plugins,
    metafile: true,
    logOverride: { 'empty-import-meta': 'error' },
  });
const parserBuilds = await Promise.all([
  parserBundle('src/parse/worker.ts', parserFile, [parserPlugin, domPathPlugin]),
  parserBundle('src/parse/extract-dom.ts', join(parseDir, 'parser-dom.cjs'), [parserPlugin]),
]);
// The split holds only while the scan's bundle reaches no DOM code: checked, not trusted.
for (const input of Object.keys(parserBuilds[0].metafile.inputs)) {
  if (/node_modules[\\/](cheerio|cheerio-select|css-select|css-what)[\\/]|src[\\/]parse[\\/]extract-dom\.ts$/.test(input)) {
    throw new Error(`bundle.mjs: the scan's parser bundle (parser.cjs) includes ${input}, which belongs in parser-dom.cjs`);
  }
}
for (const file of new Set(multiByteTables)) copyFileSync(file, join(parseDir, 'multi-byte.encodings.json'));
if (new Set(multiByteTables).size > 1) throw new Error(`bundle.mjs: two copies of @exodus/bytes in the parser (${[...new Set(multiByteTables)].join(', ')})`);
for (const old of readdirSync(parseDir)) if (/^parser-[0-9a-f]+(-v8-.+)?\.v8cache$/.test(old)) rmSync(join(parseDir, old));
// The name also says which V8 made the cache: only that V8 takes it (a dist/ built on Node 20 and run on 22 or 24
// require()s the parser instead, parser-loader.cjs below), and test/code-cache.test.ts expects it taken only there.
const cacheName = `parser-${createHash('sha256').update(readFileSync(parserFile)).digest('hex').slice(0, 16)}-v8-${process.versions.v8}.v8cache`;
const made = spawnSync(process.execPath, ['--input-type=module', '-e', `
  import v8 from 'node:v8';
  import { writeFileSync } from 'node:fs';
  import { setRunFlags } from ${JSON.stringify(pathToFileURL(join(root, 'dist/cli/v8-flags.js')).href)};
  import codeCache from ${JSON.stringify(pathToFileURL(join(parseDir, 'code-cache.cjs')).href)};
  import { normalizeExtract } from ${JSON.stringify(pathToFileURL(join(parseDir, 'spec.js')).href)};
  setRunFlags(v8);
  const page = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A page</title><meta name="description" content="d">'
    + '<link rel="canonical" href="/c"></head><body>' + '<p>Text <a href="/x">a link</a></p>'.repeat(20) + '</body></html>';
  const cache = codeCache.makeCodeCache(${JSON.stringify(parserFile)}, (parser) => {
    for (const spec of [normalizeExtract(undefined), normalizeExtract({ links: true })]) {
      parser.parseInline({ url: 'http://example.test/', body: Buffer.from(page), contentType: 'text/html; charset=utf-8' }, spec);
    }
  });
  writeFileSync(${JSON.stringify(join(parseDir, cacheName))}, cache);
`], { encoding: 'utf8' });
if (made.status !== 0) throw new Error(`bundle.mjs: could not make the parser's code cache:\n${made.stderr}`);
// The build's cache is V8's format for one V8 version: on a Node whose V8 made it, parser-loader.cjs compiles the
// parser with it (node:vm); on any other, vm.Script would read it only to have it refused and then compile the whole
// bundle on every load, so the parser is a plain require() instead, which Node's own compile cache covers where
// it is on (22.1+: the CLI turns it on, src/cli/main.ts, and the parse pool in its threads, src/parse/pool.ts).
// The loader is CommonJS so that a parse thread requires it (src/parse/worker-entry.cts) and never loads Node's ES
// module loader, ~30 modules it would otherwise compile at every thread start; worker.js is the same for the ES
// module side (the main thread's parse of a lone small page, src/parse/stage.ts).
writeFileSync(join(parseDir, 'parser-loader.cjs'), `// Written by scripts/bundle.mjs: the parser (parser.cjs, a bundle of src/parse/worker.ts), compiled with the
// V8 code cache the build made of it when this Node's V8 is the one that made it, else required (Node's own
// compile cache, where it is on, then covers it).
'use strict';
const { join } = require('node:path');

const madeBy = ${JSON.stringify(process.versions.v8)};
const parserFile = join(__dirname, 'parser.cjs');
/** How this process loaded the parser: with the build's V8 code cache, or by require() (for tests). */
exports.loadedWith = process.versions.v8 === madeBy ? 'code-cache' : 'require';
// code-cache.cjs (and node:module, which it needs and which brings part of the ES module loader) only when used.
exports.parser = process.versions.v8 === madeBy
  ? require('./code-cache.cjs').requireWithCodeCache(parserFile, join(__dirname, ${JSON.stringify(cacheName)})).exports
  : require(parserFile);
`);
// Required, not imported: an import of a CommonJS file has Node scan its source for the names it exports (a
// one-URL run's parse on the main thread: ~2-3% of its CPU).
writeFileSync(join(parseDir, 'worker.js'), `// Written by scripts/bundle.mjs: the parser as an ES module, loaded by parser-loader.cjs (see there).
import { createRequire } from 'node:module';

const loader = createRequire(import.meta.url)('./parser-loader.cjs');

export const loadedWith = loader.loadedWith;
export default loader.parser.default;
export const parseInline = loader.parser.parseInline;
`);
rmSync(join(parseDir, 'worker.js.map'), { force: true });
// The command's entry (package.json `bin`) is executable in the build itself, not only where npm links it: npx
// caches the link it makes for a directory by path, so after a fresh clone into the same path it ran the new,
// unlinked 644 file ("sh: 1: volley: Permission denied"); and `./dist/cli/main.js …` works as it reads.
chmodSync(join(cliDir, 'main.js'), 0o755);
