// `node bench/ab.mjs --a DIR [--b DIR|floor] [--only W1] [--pairs 12]`: one workload of W1–W3, run by two sides
// in pairs that take turns (A then B, then B then A, …) against one server, every answer checked. A side is a
// checkout with `npm ci` done there (its dist/ driven by this checkout's library contestant, `VOLLEY_BENCH_DIST`
// pointing there) or `floor` (raw undici). Prints each pair and the medians of the per-pair ratios A ÷ B: wall, the
// process's CPU and, where Node has `process.threadCpuUsage` (22 and later), the main thread's CPU; and each side's
// median event-loop p99 where it reports one (the library contestant does, the floor does not).
//
// What it is for: showing a change against the code before it. A lever left on W1 is worth 1–3%, and on a shared
// 2-core machine one W1 run's ratio to the next moves by far more (0.74–1.60x within one 12-pair round), so a
// single `npm run bench` cannot tell; only many pairs taking turns can, and even they often cannot
// (docs/performance.md). The Node that runs this script runs both sides.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { median } from './lib/median.mjs';
import { DELAY_MS, LIST_WORKLOADS as WORKLOADS } from './lib/workloads.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const USAGE = 'usage: node bench/ab.mjs --a DIR [--b DIR|floor] [--only W1|W2|W3] [--pairs N]';

const { values } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string', default: root },
    only: { type: 'string', default: 'W1' },
    pairs: { type: 'string', default: '12' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const workload = WORKLOADS[values.only.toUpperCase()];
const pairs = Number(values.pairs);
const fail = (message) => {
  console.error(`bench/ab: ${message}\n${USAGE}`);
  process.exit(2);
};
if (!values.a) fail('--a is required');
if (!workload) fail(`--only must be W1, W2 or W3, got \`${values.only}\``);
if (!Number.isInteger(pairs) || pairs < 1) fail(`--pairs must be a whole number from 1, got \`${values.pairs}\``);

/** A side: the floor, or a checkout's built dist/ driven by this checkout's library contestant. */
function side(spec) {
  if (spec === 'floor') return { name: 'floor', script: join(root, 'bench/contestants/floor.mjs'), env: {} };
  const dist = join(resolve(spec), 'dist');
  if (!existsSync(join(dist, 'index.js'))) fail(`${spec} has no built dist/ (run \`npm ci\` there)`);
  return { name: resolve(spec), script: join(root, 'bench/contestants/volley-lib.mjs'), env: { VOLLEY_BENCH_DIST: dist } };
}
const A = side(values.a);
const B = side(values.b);

// The server renders only the pages this workload asks for (W3's 2,000 big ones are ~300 MB).
const [small, big] = workload.kind === 'big' ? [1, workload.n] : [workload.n, 1];
const server = spawn(process.execPath, [join(root, 'bench/lib/server.mjs'), String(small), String(big), String(DELAY_MS)], { stdio: ['ignore', 'pipe', 'inherit'] });
const ports = JSON.parse(await new Promise((done) => createInterface({ input: server.stdout }).once('line', done)));
const cfg = JSON.stringify({ ...workload, base: `http://127.0.0.1:${ports[workload.port]}` });

function run(s) {
  const r = spawnSync(process.execPath, [s.script, cfg], { cwd: root, encoding: 'utf8', env: { ...process.env, ...s.env }, maxBuffer: 1 << 26 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let out = null;
  try {
    out = JSON.parse(line);
  } catch {}
  if (r.status !== 0 || out === null) throw new Error(`${s.name} failed (exit ${r.status}): ${r.stderr.trim().slice(-800)}`);
  if (!out.correct) throw new Error(`${s.name} gave wrong answers: ${out.problems.join('; ')}`);
  return out;
}

const f = (x, digits = 3) => (x === null || x === undefined ? 'n/a' : x.toFixed(digits));
const times = (x) => (x === null ? 'n/a' : `${f(x)}x`);
const ratios = { wall: [], runCpu: [], mainCpu: [] };
// The event loop's p99 delay of each side's runs (the library contestant reports it; the floor does not).
const loopP99 = { a: [], b: [] };
try {
  console.log(`${values.only.toUpperCase()}, ${pairs} pair${pairs === 1 ? '' : 's'}, Node ${process.version}\nA: ${A.name}\nB: ${B.name}`);
  // One uncounted run of each: the first run after a build fills caches the others find full.
  run(A);
  run(B);
  for (let i = 0; i < pairs; i++) {
    let a;
    let b;
    if (i % 2 === 0) {
      a = run(A);
      b = run(B);
    } else {
      b = run(B);
      a = run(A);
    }
    for (const key of Object.keys(ratios)) ratios[key].push(a[key] !== null && b[key] ? a[key] / b[key] : NaN);
    for (const [key, out] of [['a', a], ['b', b]]) if (out.loopP99Ms !== undefined) loopP99[key].push(out.loopP99Ms);
    const loop = a.loopP99Ms !== undefined || b.loopP99Ms !== undefined ? `; loop p99 ${f(a.loopP99Ms, 1)} / ${f(b.loopP99Ms, 1)} ms` : '';
    console.log(`pair ${i + 1}: wall ${f(a.wall)} / ${f(b.wall)} s = ${f(a.wall / b.wall)}x; CPU ${f(a.runCpu, 2)} / ${f(b.runCpu, 2)} s; main thread ${f(a.mainCpu, 2)} / ${f(b.mainCpu, 2)} s${loop}`);
  }
  const spread = (xs) => `${f(Math.min(...xs.filter(Number.isFinite)))}–${f(Math.max(...xs.filter(Number.isFinite)))}`;
  console.log(`A ÷ B, medians of the per-pair ratios: wall ${times(median(ratios.wall))} (${spread(ratios.wall)}), CPU ${times(median(ratios.runCpu))}, main thread ${times(median(ratios.mainCpu))}`);
  const loopMedian = (xs) => (xs.length === 0 ? 'n/a' : `${f(median(xs), 1)} ms`);
  if (loopP99.a.length + loopP99.b.length > 0) console.log(`loop p99, medians: A ${loopMedian(loopP99.a)}, B ${loopMedian(loopP99.b)}`);
} catch (err) {
  console.error(`bench/ab: ${err.message}`);
  process.exitCode = 1;
} finally {
  server.kill('SIGTERM');
}
