// The benchmark's static server, run as its own process so that its CPU is not counted against (or stolen from)
// a contestant's main thread. Pages are rendered once into memory. Three ports: one answers at once (and takes
// W6's POSTs at /p/N), one after a fixed delay (the latency-bound workload), and one speaks TLS with HTTP/2 and
// HTTP/1.1 (ALPN; the test CA's certificate, test/fixtures/tls). Prints {"fast", "slow", "tls"} ports when ready.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createSecureServer } from 'node:http2';
import { hugePageParts, page } from './corpus.mjs';
import { answer } from './api.mjs';

const [smallCount, bigCount, delayMs] = process.argv.slice(2).map(Number);
const small = Array.from({ length: smallCount }, (_, i) => Buffer.from(page('small', i).html));
const big = Array.from({ length: bigCount }, (_, i) => Buffer.from(page('big', i).html));
const hugeTail = Buffer.from(hugePageParts(0)[1]);

/** W6: reads the whole body, then answers whether it was the one sent to this URL. */
function post(req, res, i) {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const { status, json } = answer(i, Buffer.concat(chunks));
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
    res.end(json);
  });
}

function handler(delay) {
  return (req, res) => {
    const p = req.method === 'POST' ? /^\/p\/(\d+)$/.exec(req.url ?? '') : null;
    if (p) return post(req, res, Number(p[1]));
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

const tlsDir = new URL('../../test/fixtures/tls/', import.meta.url);
const listenTls = () =>
  new Promise((resolve) => {
    const pem = (name) => readFileSync(new URL(name, tlsDir));
    const server = createSecureServer({ cert: pem('server.pem'), key: pem('server-key.pem'), allowHTTP1: true }, handler(0));
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });

const fast = await listen(0);
const slow = await listen(delayMs);
const tls = await listenTls();
process.stdout.write(`${JSON.stringify({ fast, slow, tls })}\n`);
process.on('SIGTERM', () => process.exit(0));
