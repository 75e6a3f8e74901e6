// The start-up floor (issue 22): one GET through undici, the body read, a line written, and nothing else: what a
// one-URL run cannot go below while it fetches with undici. bench/lib/build-floor.mjs bundles this file as the
// command is bundled, so that undici loads as one file (a chunk), not its ~110, with Node's compile cache turned on
// before undici loads and the V8 flags a CLI run sets on this Node set after (as src/cli/main.ts does both, and
// loads node:v8 only where it sets them).
import * as nodeModule from 'node:module';

nodeModule.enableCompileCache?.();
const { request } = await import('../lib/undici-request.mjs');
await (await import('../../dist/cli/v8-flags.js')).applyRunFlags();
const res = await request(process.argv[2]);
const body = await res.body.text();
process.stdout.write(`${JSON.stringify({ status: res.statusCode, bytes: Buffer.byteLength(body) })}\n`);
