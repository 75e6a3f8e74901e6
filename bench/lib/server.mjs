// The benchmark's static server, run as its own process so that its CPU is not counted against (or stolen from)
// a contestant's main thread. Pages are rendered once into memory. Two ports: one answers at once, the other
// after a fixed delay (the latency-bound workload). Prints {"fast": port, "slow": port} when ready.
import { createServer } from 'node:http';
import { hugePageParts, page } from './corpus.mjs';

const [smallCount, bigCount, delayMs] = process.argv.slice(2).map(Number);
const small = Array.from({ length: smallCount }, (_, i) => Buffer.from(page('small', i).html));
const big = Array.from({ length: bigCount }, (_, i) => Buffer.from(page('big', i).html));
const hugeTail = Buffer.from(hugePageParts(0)[1]);

function handler(delay) {
  return (req, res) => {
    const m = /^\/(s|b|h)\/(\d+)$/.exec(req.url ?? '');
    // W5's ~1 MB pages differ only in their head: one shared tail is kept, and any index is served.
    const body = !m ? undefined : m[1] === 'h' ? [Buffer.from(hugePageParts(Number(m[2]))[0]), hugeTail] : (m[1] === 's' ? small : big)[Number(m[2])];
    const send = () => {
      if (!body) {
        res.writeHead(404);
        return res.end();
      }
      if (Array.isArray(body)) {
        const [head, tail] = body;
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': head.length + tail.length });
        res.write(head);
        return res.end(tail);
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': body.length });
      res.end(body);
    };
    if (delay > 0) setTimeout(send, delay);
    else send();
  };
}

const listen = (delay) =>
  new Promise((resolve) => {
    const server = createServer(handler(delay));
    server.keepAliveTimeout = 60_000;
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });

const fast = await listen(0);
const slow = await listen(delayMs);
process.stdout.write(`${JSON.stringify({ fast, slow })}\n`);
process.on('SIGTERM', () => process.exit(0));
