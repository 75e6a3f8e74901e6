// CommonJS, as the parse threads' loader of the parser is (dist/parse/parser-loader.cjs, written by
// scripts/bundle.mjs): a thread that needs no ES module never loads Node's ES module loader (~30 modules).
const { readFileSync } = require('node:fs') as typeof import('node:fs');
const { createRequire } = require('node:module') as typeof import('node:module');
const { dirname } = require('node:path') as typeof import('node:path');
const { Script } = require('node:vm') as typeof import('node:vm');

/** What became of the code cache: used, refused by V8 (another V8, other flags), or absent. */
type CodeCacheUse = 'accepted' | 'rejected' | 'none';
type Script = import('node:vm').Script;

/**
 * Loads a CommonJS file as `require()` would (the same wrapper and arguments), compiled with V8's code cache for
 * it when there is one: the build's bundle of the parser (dist/parse/parser.cjs) and the cache the build made of
 * it after a parse (scripts/bundle.mjs). Node 20 has no compile cache of its own (`module.enableCompileCache` is
 * 22.1+), and an ES module cannot be given one, hence CommonJS and `vm.Script`.
 *
 * A cache that does not fit is V8's to refuse (`cachedDataRejected`: another V8 version, other V8 flags, another
 * source length), and the file is then compiled as without one; an unreadable or missing cache file is the same.
 * Nothing is ever written here: an install may be read-only, and a run must not pay to write a cache. The cache
 * is made for the source it sits beside, whose hash the build puts in its name (a file edited in place keeps
 * its length and would pass V8's check: the name no longer matches, and no cache is read).
 */
function requireWithCodeCache(file: string, cacheFile: string): { exports: unknown; cache: CodeCacheUse } {
  const source = readFileSync(file, 'utf8');
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const { script, exports } = run(file, source, cachedData);
  return { exports, cache: cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted' };
}

/** Compiles a CommonJS file's source in its wrapper (with a code cache, if given) and runs it as `require()` would. */
function run(file: string, source: string, cachedData?: Buffer): { script: Script; exports: unknown } {
  const script = new Script(wrap(source), { filename: file, cachedData });
  const module = { exports: {} as unknown };
  const body = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void;
  body.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  return { script, exports: module.exports };
}

/** CommonJS's wrapper, with the source on its first line so that positions (stack traces, source maps) hold. */
function wrap(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
}

/**
 * Compiles and runs a CommonJS file as `requireWithCodeCache` does, then calls `warm` with its exports (so that
 * the functions a parse runs are compiled too), and returns V8's code cache of it all. For the build only.
 */
function makeCodeCache(file: string, warm: (exports: unknown) => void): Buffer {
  const { script, exports } = run(file, readFileSync(file, 'utf8'));
  warm(exports);
  return script.createCachedData();
}

export = { requireWithCodeCache, wrap, makeCodeCache };
