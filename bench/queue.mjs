// `node bench/queue.mjs [--quick] [--reps N] [--only scaling,w1,memory] [--scaling 1,2,3,plain,thirds]` (W8, issue 21; also run by `npm run bench`):
// the shared queue on a private redis-server (bench/lib/redis.mjs; skipped with a message when there is none).
//   scaling  a latency-bound list (2,000 URLs over 100 loopback hosts, 200 ms each, --per-host 2, -c 20 a worker)
//            through 1, 2 and 3 `volley work` processes, wall time from the workers' spawn to the last one's exit;
//            beside it the plain CLI on the whole list and three plain CLIs on thirds of it, in parallel.
//   w1       W1's 20,000 × 2 KB pages (c64) through one worker against the plain CLI run, and the enqueue's time.
//   memory   Redis's used_memory (INFO memory) at 1,000,000 requests: pending (enqueued by `volley enqueue` from a
//            file, the real path) and final rows (claimed and completed through RedisQueue, the worker's calls,
//            with a row the CLI wrote for a real page as the template; no 1M fetches).
// Redis CPU per request (INFO cpu, used_cpu_user + used_cpu_sys deltas ÷ requests) is measured around every
// enqueue and every work phase of the parts above. Prints one JSON line on stdout (for main.mjs), a table on stderr.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { check, urlsFor } from './lib/check.mjs';
import { findRedis, startRedis } from './lib/redis.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(root, 'dist/cli/main.js');
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const args = process.argv.slice(2);

if (args[0] === '--serve-farm') await serveFarm(Number(args[1]), Number(args[2]));
else await main();

/**
 * The latency-bound site, in a process of its own: `count` loopback hosts (the test suite's host farm:
 * 127.0.0.2, 127.0.0.3, …, each its own port, so volley counts each as a host), every page after `delayMs`.
 * Counts the peak in flight per host (across all workers: the fleet-wide --per-host); answers `stats` over IPC.
 */
async function serveFarm(count, delayMs) {
  const { createHostFarm } = await import('../test/fixtures/host-farm.mjs');
  const inFlight = new Map();
  let peak = 0;
  const farm = await createHostFarm(count, (req, res, later) => {
    const host = req.headers.host;
    const n = (inFlight.get(host) ?? 0) + 1;
    inFlight.set(host, n);
    peak = Math.max(peak, n);
    res.once('close', () => inFlight.set(host, inFlight.get(host) - 1));
    later(delayMs, () => {
      const body = `<!doctype html><title>${req.url}</title><p>latency-bound</p>`;
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  process.on('message', (m) => {
    if (m === 'stats') {
      process.send({ peakPerHost: peak, requests: farm.requests.length });
      peak = 0;
      farm.requests.length = 0;
    }
  });
  process.on('disconnect', () => void farm.close().then(() => process.exit(0)));
  process.send({ origins: farm.origins });
}

async function main() {
  const quick = args.includes('--quick');
  const reps = Number(args[args.indexOf('--reps') + 1]) || (quick ? 1 : 2);
  const onlyArg = args.includes('--only') ? (args[args.indexOf('--only') + 1] ?? '') : null;
  const parts = new Set((onlyArg ?? 'scaling,w1,memory').split(',').map((x) => x.trim().toLowerCase()));
  const SIZES = quick ? { scaling: 300, w1: 1_000, memory: 20_000 } : { scaling: 2_000, w1: 20_000, memory: 1_000_000 };
  const HOSTS = 100;
  const DELAY_MS = 200;
  const PER_WORKER = 20;

  const binary = findRedis();
  if (!binary) {
    const reason = 'redis-server not found in /usr/bin or /usr/local/bin (apt-get install -y redis-server): W8 skipped';
    console.error(`W8: ${reason}`);
    console.log(JSON.stringify({ skipped: reason }));
    return;
  }
  const work = join(tmpdir(), `volley-bench-w8-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const redis = await startRedis(binary);
  const { RedisQueue } = await import(join(root, 'dist/frontier/redis-queue.js'));
  const { toQueueRequest } = await import(join(root, 'dist/queue/payload.js'));
  const admin = await RedisQueue.connect(redis.url, 'w8-admin');
  const children = new Set();
  const cleanup = async () => {
    for (const c of children) c.kill('SIGKILL');
    await admin.close().catch(() => {});
    await redis.stop();
    rmSync(work, { recursive: true, force: true });
  };
  process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

  const info = async (section) => String(await admin.client.sendCommand(['INFO', section]));
  const field = (text, name) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)?.[1] ?? NaN);
  /** Redis's CPU so far (user + sys, all threads), in seconds. */
  const redisCpu = async () => {
    const t = await info('cpu');
    return field(t, 'used_cpu_user') + field(t, 'used_cpu_sys');
  };
  const usedMemory = async () => field(await info('memory'), 'used_memory');
  const median = (xs) => {
    const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
    if (s.length === 0) return null;
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  let timed = 0;
  /**
   * The CLI as a child (never blocking this process, which may be serving), under /usr/bin/time when there is one:
   * its CPU (user + sys) is the figure a loaded machine disturbs least. Resolves with its exit, stderr and CPU.
   */
  const cli = (cliArgs) =>
    new Promise((resolve) => {
      const timeFile = join(work, `time-${++timed}.txt`);
      const cmd = TIME ? [TIME, ['-f', '%U %S', '-o', timeFile, process.execPath, CLI, ...cliArgs]] : [process.execPath, [CLI, ...cliArgs]];
      const child = spawn(cmd[0], cmd[1], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, REDIS_URL: '' } });
      children.add(child);
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
      child.once('close', (code) => {
        children.delete(child);
        let cpu = null;
        if (TIME && existsSync(timeFile)) {
          const [user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
          cpu = user + sys;
          rmSync(timeFile, { force: true });
        }
        resolve({ code, stderr, cpu });
      });
    });
  /** Runs the commands at once; wall time from the spawn to the last exit, and their CPU together. */
  const together = async (commands) => {
    const started = performance.now();
    const done = await Promise.all(commands.map(cli));
    const wall = (performance.now() - started) / 1000;
    const failed = done.find((d) => d.code !== 0);
    if (failed) throw new Error(`a CLI run exited ${failed.code}: ${failed.stderr.slice(-400)}`);
    lastCpu = done.every((d) => d.cpu !== null) ? done.reduce((sum, d) => sum + d.cpu, 0) : null;
    return wall;
  };
  /** The CPU seconds of the last `together`'s commands (null without /usr/bin/time). */
  let lastCpu = null;
  const readRows = (files) =>
    files.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
    );
  /** Every URL exactly once, all ok. */
  const allOnce = (rows, urls) => {
    const seen = new Map();
    for (const r of rows) seen.set(r.url, (seen.get(r.url) ?? 0) + 1);
    const twice = [...seen.values()].filter((n) => n > 1).length;
    const bad = rows.filter((r) => !r.ok).length;
    const missing = urls.filter((u) => !seen.has(u)).length;
    return twice + bad + missing === 0 ? null : `${missing} missing, ${twice} twice, ${bad} not ok`;
  };
  let jobs = 0;
  const target = (name) => ['--redis', redis.url, '--job', `${name}-${++jobs}`];
  /** Enqueues a list file through the CLI; returns the job's target, the enqueue's wall time and Redis CPU. */
  const enqueue = async (name, list, flags) => {
    const t = target(name);
    const cpu0 = await redisCpu();
    const wall = await together([['enqueue', ...t, '-i', list, ...flags]]);
    return { t, wall, redisCpuS: (await redisCpu()) - cpu0 };
  };
  /** `n` workers on a job, each with its own -o file; wall time, Redis CPU, and the rows. */
  const workers = async (t, n, concurrency) => {
    const outs = Array.from({ length: n }, (_, i) => join(work, `w${i}.jsonl`));
    const cpu0 = await redisCpu();
    const wall = await together(outs.map((o) => ['work', ...t, '-c', String(concurrency), '-q', '-o', o]));
    const cpuS = lastCpu;
    const redisCpuS = (await redisCpu()) - cpu0;
    const rows = readRows(outs);
    outs.forEach((o) => rmSync(o, { force: true }));
    return { wall, cpuS, redisCpuS, rows };
  };

  const result = { quick, reps, sizes: SIZES, parts: [...parts], loadavg: loadavg().map((x) => Number(x.toFixed(2))), redis: (await info('server')).match(/^redis_version:(\S+)/m)?.[1] };
  const problems = [];
  try {
    // ---- scaling: 1, 2, 3 workers on a latency-bound list, beside plain runs of it and of its thirds.
    if (parts.has('scaling')) {
      const farm = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve-farm', String(HOSTS), String(DELAY_MS)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.add(farm);
      const { origins } = await new Promise((resolve) => farm.once('message', resolve));
      const stats = () =>
        new Promise((resolve) => {
          farm.once('message', resolve);
          farm.send('stats');
        });
      const n = SIZES.scaling;
      const urls = Array.from({ length: n }, (_, i) => `${origins[i % origins.length]}/p/${i}`);
      const list = join(work, 'scaling.txt');
      writeFileSync(list, urls.join('\n'));
      const thirds = [0, 1, 2].map((k) => {
        const f = join(work, `third${k}.txt`);
        writeFileSync(f, urls.slice(Math.floor((k * n) / 3), Math.floor(((k + 1) * n) / 3)).join('\n'));
        return f;
      });
      const plainFlags = ['-c', String(PER_WORKER), '--per-host', '2', '--retries', '0', '-q', '--no-progress'];
      const contestants = {
        1: async () => workersRun(1),
        2: async () => workersRun(2),
        3: async () => workersRun(3),
        plain: async () => {
          const out = join(work, 'plain.jsonl');
          const wall = await together([['-i', list, '-o', out, ...plainFlags]]);
          return { wall, cpuMsPerRequest: (lastCpu / n) * 1e3, bad: allOnce(readRows([out]), urls) };
        },
        thirds: async () => {
          const outs = thirds.map((_, k) => join(work, `plain${k}.jsonl`));
          const wall = await together(thirds.map((f, k) => ['-i', f, '-o', outs[k], ...plainFlags]));
          return { wall, cpuMsPerRequest: (lastCpu / n) * 1e3, bad: allOnce(readRows(outs), urls) };
        },
      };
      async function workersRun(k) {
        const e = await enqueue('scaling', list, ['--per-host', '2', '--retries', '0']);
        const w = await workers(e.t, k, PER_WORKER);
        return { wall: w.wall, cpuMsPerRequest: (w.cpuS / n) * 1e3, enqueueS: e.wall, redisCpuUsPerRequest: (w.redisCpuS / n) * 1e6, enqueueRedisCpuUsPerRequest: (e.redisCpuS / n) * 1e6, bad: allOnce(w.rows, urls) };
      }
      const runs = [];
      // `--scaling 1,3`: only those contestants (for an A/B of the worker loop).
      const picked = args.includes('--scaling') ? (args[args.indexOf('--scaling') + 1] ?? '').split(',') : Object.keys(contestants);
      for (let rep = 0; rep < reps; rep++) {
        const names = Object.keys(contestants).filter((name) => picked.includes(name));
        for (const name of rep % 2 === 0 ? names : names.reverse()) {
          await stats();
          const r = await contestants[name]();
          const { peakPerHost } = await stats();
          runs.push({ name, rep, peakPerHost, ...r });
          if (r.bad) problems.push(`scaling ${name}: ${r.bad}`);
          // The plain runs' limit is per process (thirds: three processes, up to 3 × 2 per host); the queue's is the fleet's.
          if (/^\d$/.test(name) && peakPerHost > 2) problems.push(`scaling ${name} workers: ${peakPerHost} in flight on one host (--per-host 2)`);
          console.error(`W8 scaling ${name.padEnd(6)} rep ${rep}: ${r.wall.toFixed(2)} s, CPU ${r.cpuMsPerRequest?.toFixed(2)} ms a request, peak per host ${peakPerHost}${r.redisCpuUsPerRequest ? `, Redis ${r.redisCpuUsPerRequest.toFixed(0)} µs CPU a request` : ''}${r.bad ? `  WRONG: ${r.bad}` : ''}`);
        }
      }
      farm.disconnect();
      const wall = (name) => median(runs.filter((r) => r.name === name).map((r) => r.wall));
      const of = (name, key) => median(runs.filter((r) => r.name === name).map((r) => r[key]));
      result.scaling = {
        n,
        hosts: HOSTS,
        delayMs: DELAY_MS,
        perWorker: PER_WORKER,
        idealOneS: (n / PER_WORKER) * (DELAY_MS / 1000),
        wall: { 1: wall('1'), 2: wall('2'), 3: wall('3'), plain: wall('plain'), thirds: wall('thirds') },
        ratio2: wall('2') / wall('1'),
        ratio3: wall('3') / wall('1'),
        oneOverPlain: wall('1') / wall('plain'),
        thirdsOverPlain: wall('thirds') / wall('plain'),
        redisCpuUsPerRequest: { 1: of('1', 'redisCpuUsPerRequest'), 2: of('2', 'redisCpuUsPerRequest'), 3: of('3', 'redisCpuUsPerRequest') },
        cpuMsPerRequest: Object.fromEntries(Object.keys(contestants).map((k) => [k, of(k, 'cpuMsPerRequest')])),
        peakPerHost: Math.max(...runs.filter((r) => /^\d$/.test(r.name)).map((r) => r.peakPerHost)),
        runs,
      };
    }

    // ---- w1: W1's pages through one worker against the plain CLI.
    if (parts.has('w1')) {
      const n = SIZES.w1;
      const server = spawn(process.execPath, [join(root, 'bench/lib/server.mjs'), String(n), '0', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.add(server);
      const line = await new Promise((resolve) => createInterface({ input: server.stdout }).once('line', resolve));
      const base = `http://127.0.0.1:${JSON.parse(line).fast}`;
      const urls = urlsFor({ base, kind: 'small', n });
      const list = join(work, 'w1.txt');
      writeFileSync(list, urls.join('\n'));
      const cfg = { kind: 'small', n, links: false };
      const checked = (rows) => {
        const c = check(rows.map((r) => ({ url: r.url, status: r.status, title: r.title, error: r.error?.code })), cfg);
        return c.correct ? null : c.problems.join('; ');
      };
      const runs = [];
      for (let rep = 0; rep < reps; rep++) {
        const order = rep % 2 === 0 ? ['plain', 'queue'] : ['queue', 'plain'];
        for (const name of order) {
          let r;
          if (name === 'plain') {
            const out = join(work, 'w1-plain.jsonl');
            const wall = await together([['-i', list, '-o', out, '-q', '--no-progress', '-c', '64', '--per-host', '64', '--retries', '0']]);
            r = { wall, cpuMsPerRequest: (lastCpu / n) * 1e3, bad: checked(readRows([out])) };
          } else {
            const e = await enqueue('w1', list, ['--per-host', '64', '--retries', '0']);
            const w = await workers(e.t, 1, 64);
            r = { wall: w.wall, cpuMsPerRequest: (w.cpuS / n) * 1e3, enqueueS: e.wall, redisCpuUsPerRequest: (w.redisCpuS / n) * 1e6, enqueueRedisCpuUsPerRequest: (e.redisCpuS / n) * 1e6, bad: checked(w.rows) };
          }
          runs.push({ name, rep, ...r });
          if (r.bad) problems.push(`w1 ${name}: ${r.bad}`);
          console.error(`W8 W1 ${name.padEnd(6)} rep ${rep}: ${r.wall.toFixed(2)} s, CPU ${r.cpuMsPerRequest?.toFixed(2)} ms a request${r.enqueueS ? ` (enqueue ${r.enqueueS.toFixed(2)} s before), Redis ${r.redisCpuUsPerRequest.toFixed(0)} µs CPU a request working, ${r.enqueueRedisCpuUsPerRequest.toFixed(0)} enqueueing` : ''}${r.bad ? `  WRONG: ${r.bad}` : ''}`);
        }
      }
      server.kill('SIGTERM');
      const of = (name, key) => median(runs.filter((r) => r.name === name).map((r) => r[key]));
      result.w1 = {
        n,
        plainS: of('plain', 'wall'),
        queueS: of('queue', 'wall'),
        enqueueS: of('queue', 'enqueueS'),
        cpuMsPerRequest: { plain: of('plain', 'cpuMsPerRequest'), queue: of('queue', 'cpuMsPerRequest') },
        ratio: of('queue', 'wall') / of('plain', 'wall'),
        redisCpuUsPerRequest: of('queue', 'redisCpuUsPerRequest'),
        enqueueRedisCpuUsPerRequest: of('queue', 'enqueueRedisCpuUsPerRequest'),
        runs,
      };
    }

    // ---- memory: bytes per pending request and per final row at SIZES.memory requests.
    if (parts.has('memory')) {
      const n = SIZES.memory;
      const HOSTS_M = 1000;
      // A real row: the CLI's own for a small page (title extracted), as the template of every final row.
      const page = createServer((req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!doctype html><html><head><title>Item page</title></head><body><p>an item</p></body></html>');
      });
      await new Promise((resolve) => page.listen(0, '127.0.0.1', resolve));
      const sampleUrl = `http://127.0.0.1:${page.address().port}/item/1`;
      const rowOut = join(work, 'row.jsonl');
      await together([[sampleUrl, '-q', '--no-progress', '-o', rowOut]]);
      page.close();
      const template = readFileSync(rowOut, 'utf8').trim().split('\n')[0];
      const urlOf = (i) => `https://shop-${i % HOSTS_M}.example.com/catalog/items/${i}?ref=list`;
      const list = join(work, 'memory.txt');
      await new Promise((resolve, reject) => {
        const stream = createWriteStream(list);
        stream.on('error', reject);
        let i = 0;
        const write = () => {
          let ok = true;
          while (i < n && ok) ok = stream.write(`${urlOf(i++)}\n`);
          if (i < n) stream.once('drain', write);
          else stream.end(resolve);
        };
        write();
      });
      await admin.client.sendCommand(['MEMORY', 'PURGE']).catch(() => {});
      const before = await usedMemory();
      const e = await enqueue('memory', list, ['--retries', '0']);
      const pendingBytes = (await usedMemory()) - before;
      console.error(`W8 memory: ${n} enqueued in ${e.wall.toFixed(1)} s (Redis ${((e.redisCpuS / n) * 1e6).toFixed(0)} µs CPU a request), ${(pendingBytes / n).toFixed(0)} B a pending request`);
      // Claimed and completed as a worker does (claim a batch, completeMany its rows), 1000 a round trip, so the
      // stream holds n real-sized rows; no fetching.
      const q = await RedisQueue.connect(redis.url, e.t[3]);
      const cpu0 = await redisCpu();
      const started = performance.now();
      let done = 0;
      for (;;) {
        const claimed = await q.claim('bench-memory', 1000, 600_000);
        if (claimed.length === 0) break;
        await q.completeMany('bench-memory', claimed.map((c) => ({ id: c.id, ok: true, row: template.replace(sampleUrl, JSON.parse(c.payload)) })));
        done += claimed.length;
      }
      const drainS = (performance.now() - started) / 1000;
      const drainCpuS = (await redisCpu()) - cpu0;
      const status = await q.status();
      await q.close();
      if (done !== n || status.ok !== n || status.pending !== 0 || status.leased !== 0) problems.push(`memory: ${done} completed, status ${JSON.stringify(status)}`);
      await admin.client.sendCommand(['MEMORY', 'PURGE']).catch(() => {});
      const finalBytes = (await usedMemory()) - before;
      result.memory = {
        n,
        hosts: HOSTS_M,
        rowBytes: Buffer.byteLength(template),
        enqueueS: e.wall,
        enqueueRedisCpuUsPerRequest: (e.redisCpuS / n) * 1e6,
        bytesPerPending: pendingBytes / n,
        bytesPerFinalRow: finalBytes / n,
        claimCompleteS: drainS,
        claimCompleteRedisCpuUsPerRequest: (drainCpuS / n) * 1e6,
      };
      console.error(`W8 memory: claimed and completed in ${drainS.toFixed(1)} s (Redis ${result.memory.claimCompleteRedisCpuUsPerRequest.toFixed(0)} µs CPU a request), ${result.memory.bytesPerFinalRow.toFixed(0)} B a final row (the row itself ${result.memory.rowBytes} B)`);
    }
  } finally {
    await cleanup();
  }
  result.problems = problems;
  console.log(JSON.stringify(result));
  const f = (x, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));
  const s = result.scaling;
  if (s) {
    console.error(
      `W8 scaling, ${s.n} URLs over ${s.hosts} hosts (+${s.delayMs} ms), --per-host 2, -c ${s.perWorker} a worker, median of ${reps}: ` +
        `1 worker ${f(s.wall[1])} s (ideal ${f(s.idealOneS, 1)}), 2 ${f(s.wall[2])} s (${f(s.ratio2)}x), 3 ${f(s.wall[3])} s (${f(s.ratio3)}x, target <= 0.45x); ` +
        `plain ${f(s.wall.plain)} s, three plain on thirds ${f(s.wall.thirds)} s (${f(s.thirdsOverPlain)}x plain); peak per host ${s.peakPerHost}`,
    );
  }
  if (result.w1) console.error(`W8 W1 ${result.w1.n} × 2 KB, c64: plain ${f(result.w1.plainS)} s, one worker ${f(result.w1.queueS)} s (${f(result.w1.ratio)}x, target <= 1.3x; enqueue ${f(result.w1.enqueueS)} s before)`);
  if (problems.length > 0) {
    console.error(`W8: ${problems.length} problem(s): ${problems.slice(0, 5).join('; ')}`);
    process.exitCode = 1;
  }
}
