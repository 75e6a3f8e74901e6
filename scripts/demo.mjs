// `npm run demo`: a small local site on 127.0.0.1 and a volley run against it, so a newcomer sees it work
// without the network. Shows completion order, extraction, a redirect, a 404, a slow page and a timeout.
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const page = (title, body = '') =>
  `<!doctype html><html lang="en"><head><title>${title}</title><meta name="description" content="The ${title} page"></head>` +
  `<body><h1>${title}</h1>${body}<a href="/about">About</a> <a href="/blog">Blog</a></body></html>`;

const server = createServer((req, res) => {
  const send = (status, body, headers = {}) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers });
    res.end(body);
  };
  if (req.url === '/') return send(200, page('Home', '<ul><li>one</li><li>two</li></ul>'));
  if (req.url === '/about') return send(200, page('About us'));
  if (req.url === '/blog') return setTimeout(() => send(200, page('Blog (slow: 800 ms)')), 800);
  if (req.url === '/old-blog') return send(301, '', { location: '/blog' });
  if (req.url === '/forever') return; // never answers: the deadline cuts it
  return send(404, page('Not found'));
});

server.listen(0, '127.0.0.1', () => {
  const base = `http://127.0.0.1:${server.address().port}`;
  const dir = mkdtempSync(join(tmpdir(), 'volley-demo-'));
  const list = join(dir, 'urls.txt');
  writeFileSync(list, ['# a comment, skipped', `${base}/blog`, `${base}/`, `${base}/about`, `${base}/old-blog`, `${base}/missing`, `${base}/forever`, 'not a url', ''].join('\n'));
  const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
  const args = [cli, list, '--timeout', '2s', '--retries', '0', '-s', 'items[]=li', '--links'];
  console.error(`$ volley ${args.slice(1).join(' ')}\n`);
  const child = spawn(process.execPath, args, { stdio: 'inherit' });
  child.on('exit', (code) => {
    console.error(`\nexit code ${code} (1: some URLs were not ok, as intended here)`);
    rmSync(dir, { recursive: true, force: true });
    server.closeAllConnections();
    server.close();
  });
});
