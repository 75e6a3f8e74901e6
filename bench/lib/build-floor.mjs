// Bundles the start-up floor (bench/contestants/undici-one.mjs) into the directory given, as the command is
// bundled: the command's esbuild options (scripts/esbuild-options.mjs), split so that undici is a chunk of its own
// which the entry imports after it has turned Node's compile cache on (as dist/cli/main.js imports the command),
// and the banner only where `require` is named. Prints the entry's path. A script of its own so that the benchmark's
// process does not load esbuild.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { commandOutput, common, dropUnusedBanners } from '../../scripts/esbuild-options.mjs';

const outdir = process.argv[2];
const built = await esbuild.build({
  ...common,
  ...commandOutput,
  entryPoints: [fileURLToPath(new URL('../contestants/undici-one.mjs', import.meta.url))],
  outdir,
  splitting: true,
  outExtension: { '.js': '.mjs' },
  entryNames: '[name]',
  chunkNames: '[name]-[hash]',
  sourcemap: false,
  metafile: true,
  logLevel: 'error',
});
dropUnusedBanners(built.metafile);
process.stdout.write(join(outdir, 'undici-one.mjs'));
