// A private redis-server for the benchmark's W8 (bench/queue.mjs): a free loopback port, its own temp dir, no RDB
// snapshots and no AOF, stopped after. Plain ESM, no client library: the bench talks to it through volley's own
// RedisQueue (and so through the `redis` package volley depends on). The test suite has the TypeScript twin of this
// (test/fixtures/redis.ts); the benchmark runs from plain `node`, so it cannot import that one.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The redis-server binary, or null when there is none (W8 is then skipped with a message). */
export function findRedis() {
  for (const dir of ['/usr/bin', '/usr/local/bin']) {
    const path = join(dir, 'redis-server');
    if (existsSync(path)) return path;
  }
  return null;
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** PING over a bare socket: true once the server answers PONG (LOADING and refused connections are not ready). */
const ping = (port) =>
  new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.setEncoding('utf8').on('data', (chunk) => {
      reply += chunk;
      if (reply.includes('\r\n')) socket.destroy();
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(reply.startsWith('+PONG')));
  });

/** Starts redis-server on a free loopback port; resolves `{ url, port, stop() }` once it answers PING. */
export async function startRedis(binary = findRedis()) {
  if (!binary) throw new Error('redis-server not found in /usr/bin or /usr/local/bin');
  const dir = mkdtempSync(join(tmpdir(), 'volley-bench-redis-'));
  for (let attempt = 1; attempt <= 5; attempt++) {
    const port = await freePort();
    const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--protected-mode', 'no'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let output = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (output += d));
    const exited = new Promise((resolve) => child.once('exit', () => resolve(true)));
    const deadline = Date.now() + 10_000;
    let up = false;
    let gone = false;
    void exited.then(() => (gone = true));
    while (!gone && Date.now() < deadline && !(up = await ping(port))) await new Promise((r) => setTimeout(r, 20));
    if (up) {
      const stop = async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
          await exited;
          clearTimeout(timer);
        }
        rmSync(dir, { recursive: true, force: true });
      };
      return { url: `redis://127.0.0.1:${port}`, port, pid: child.pid, stop };
    }
    child.kill('SIGKILL');
    await exited;
    // Another process took the port between the probe and redis's bind: another port.
    if (!/in use|bind/i.test(output)) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`redis-server did not start: ${output.trim() || 'no PONG within 10 s'}`);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error('redis-server did not start: no free port after 5 tries');
}
