// `node bench/keep-handoff.mjs [--quick]`: when a page is both parsed (in a worker) and kept (--body, --save,
// --warc), the main thread must still have its bytes after the parser took the transferred ArrayBuffer. Two ways:
//   copy:      copy the body on the main thread, transfer the copy to the parser;
//   hand-back: transfer the body, and have the worker transfer it back with the fields.
// Baseline: transfer only (what a run without those options does). Measured on W3's ~150 KB pages through the
// real parser, one thread, 4 tasks in flight: wall time, and the main thread's busy time per page
// (event-loop utilisation), the part that competes with fetching.
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Piscina from 'piscina';
import { bigPage } from './lib/corpus.mjs';
import { normalizeExtract } from '../dist/parse/spec.js';

const quick = process.argv.includes('--quick');
const N = quick ? 200 : 1000;
const IN_FLIGHT = 4;
const REPS = Number(process.argv[process.argv.indexOf('--reps') + 1]) || 3;
const spec = normalizeExtract({ title: true, description: true, links: true });
const pages = Array.from({ length: 16 }, (_, i) => Buffer.from(bigPage(i).html));
const pool = new Piscina({ filename: fileURLToPath(new URL('./lib/handoff-worker.mjs', import.meta.url)), minThreads: 1, maxThreads: 1 });

/** As the parse stage copies a page it does not own (a kept body). */
function copyOf(body) {
  const out = new Uint8Array(body.byteLength);
  out.set(body);
  return out;
}

function fresh(i) {
  // A body as the client hands it over: its own ArrayBuffer.
  const src = pages[i % pages.length];
  const out = new Uint8Array(src.length);
  out.set(src);
  return out;
}

async function one(mode, i) {
  const body = fresh(i);
  const sent = mode === 'copy' ? copyOf(body) : body;
  const reply = await pool.run(
    { pages: [{ body: sent, contentType: 'text/html; charset=utf-8', url: `https://example.com/${i}` }], spec, handBack: mode === 'hand-back' },
    { transferList: [sent.buffer] },
  );
  const kept = mode === 'copy' ? body : mode === 'hand-back' ? new Uint8Array(reply.bodies[0]) : null;
  if (mode !== 'none' && kept.byteLength !== pages[i % pages.length].length) throw new Error(`${mode}: lost the body`);
  if (!reply.outcomes[0].ok) throw new Error(reply.outcomes[0].message);
}

async function measure(mode) {
  let next = 0;
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < N) await one(mode, next++);
  }));
  const wall = performance.now() - t0;
  const elu = performance.eventLoopUtilization(elu0);
  return { mode, wallMs: wall, perPageWallUs: (wall * 1000) / N, mainBusyPerPageUs: (elu.active * 1000) / N };
}

// Micro: the copy alone, on a 150 KB page.
const sample = fresh(0);
let sink = 0;
const tc = performance.now();
for (let k = 0; k < 2_000; k++) sink += copyOf(sample)[k & 1023];
const copyUs = ((performance.now() - tc) * 1000) / 2_000;

await measure('none'); // warm-up: thread start, parser load, JIT
const rows = [];
for (let rep = 0; rep < REPS; rep++) for (const mode of rep % 2 ? ['hand-back', 'copy', 'none'] : ['none', 'copy', 'hand-back']) rows.push(await measure(mode));
await pool.destroy();
const med = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const out = {};
for (const mode of ['none', 'copy', 'hand-back']) {
  const mine = rows.filter((r) => r.mode === mode);
  out[mode] = { perPageWallUs: med(mine.map((r) => r.perPageWallUs)), mainBusyPerPageUs: med(mine.map((r) => r.mainBusyPerPageUs)) };
}
console.log(`page ${sample.byteLength} bytes, ${N} pages × ${REPS} reps (median), 1 parse thread, ${IN_FLIGHT} in flight; the copy alone: ${copyUs.toFixed(1)} µs${sink < 0 ? '!' : ''}`);
console.log('| mode | wall µs/page | main-thread busy µs/page |\n|---|---|---|');
for (const [mode, r] of Object.entries(out)) console.log(`| ${mode} | ${r.perPageWallUs.toFixed(0)} | ${r.mainBusyPerPageUs.toFixed(1)} |`);
