// The esbuild options of the command's bundle, in one place: scripts/bundle.mjs builds the command with them, and
// the benchmark's start-up floor (bench/lib/build-floor.mjs), one GET with undici alone, is bundled with the same,
// so that the floor is undici as the command loads it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** A bundled CommonJS module that requires a Node built-in needs `require` in an ES module. */
export const banner = { js: "import { createRequire as __volleyCreateRequire } from 'node:module';\nconst require = __volleyCreateRequire(import.meta.url);" };

/** Every bundle of the build. Paths in a metafile are relative to the project's root, wherever the build is run from. */
export const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', sourcemap: 'linked', banner, logLevel: 'warning', legalComments: 'none', absWorkingDir: root };

/** What the command's output is made of, beyond `common`. */
export const commandOutput = {
  // Without comments and indentation the chunks a run loads are a third smaller (undici's 1.10 -> 0.76 MB), which
  // Node's ES module loader reads, decodes (a TextDecoder: ~9 ms a MB on Node 22) and hashes for its compile cache
  // on every run: a one-URL run 0.92x wall on Node 22 (farm-bench, 20 pairs). Names are kept (stack traces read as
  // before, at line 1; the linked source maps give the source's lines under --enable-source-maps).
  minifyWhitespace: true,
  // undici reads `globalThis.Headers` as it loads (its cookie helpers accept Node's Headers as well as its own), and
  // on Node 22+ that global is a lazy one whose first read loads Node's own copy of undici: 15-18 ms of a one-URL
  // run, for helpers the command never calls. The command has no use for the global (it has undici's), so in its
  // bundle the read is undefined; writes (undici's install()) are left as they are. test/cli.test.ts checks that a
  // run does not load Node's undici.
  define: { 'globalThis.Headers': 'undefined' },
  logOverride: { 'assign-to-define': 'silent' },
};

/**
 * esbuild writes the banner into every file it outputs, and each of the ~20 a run loads then made a `require` with
 * createRequire() as it was evaluated, and imported node:module: a one-URL run 0.97x wall without them (farm-bench,
 * Node 22, 20 pairs). It stays only in a file that names `require` (esbuild's __require helper, the lazy
 * string-width of bundle.mjs; a match in a string, an object key or a method name keeps it, harmlessly), and
 * becomes blank lines in the rest so that the source maps' line numbers hold. `metafile` is the build's.
 */
export function dropUnusedBanners(metafile) {
  for (const file of Object.keys(metafile.outputs).filter((f) => /\.m?js$/.test(f))) {
    const path = join(root, file);
    const text = readFileSync(path, 'utf8');
    const at = text.indexOf(banner.js);
    if (at < 0) throw new Error(`esbuild-options.mjs: ${file} does not hold the banner`);
    const before = text.slice(0, at);
    const after = text.slice(at + banner.js.length);
    if (!/(?<![.\w$])require\b/.test(before + after)) writeFileSync(path, before + '\n'.repeat(banner.js.split('\n').length - 1) + after);
  }
}
