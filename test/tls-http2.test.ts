import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { fetchAll } from '../src/index.js';
import { DEFAULTS, normalizeOptions } from '../src/options.js';
import { createSecureTestServer, TEST_TLS, type SecureTestServer } from './fixtures/tls-server.js';
import { createTestServer } from './fixtures/server.js';

// One parse thread per run: the titles prove the right page came back, and the test machines are small.
const fast = { retries: 0, retryBaseMs: 5, threads: 1 };

describe('TLS options', () => {
  let server: SecureTestServer;
  beforeAll(async () => {
    server = await createSecureTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('fails a certificate from an unknown CA with TLS by default, and never sends the request', async () => {
    const [r] = await fetchAll([`${server.url}/ok?t=default`], fast);
    expect(r).toMatchObject({ ok: false, status: null, error: { code: 'TLS' }, attempts: 1 });
    expect(r!.error!.message).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    expect(server.requests.filter((q) => q.path === '/ok?t=default')).toHaveLength(0);
  });

  it('accepts any certificate with rejectUnauthorized: false', async () => {
    const [r] = await fetchAll([`${server.url}/ok?t=insecure`], { ...fast, tls: { rejectUnauthorized: false } });
    expect(r).toMatchObject({ ok: true, status: 200, title: 'insecure' });
  });

  it('trusts a CA given as `ca`, for the IP and for localhost', async () => {
    const results = await fetchAll([`${server.url}/ok?t=ca`, `https://localhost:${server.port}/ok?t=by-name`], { ...fast, tls: { ca: TEST_TLS.ca } });
    expect(results).toMatchObject([{ ok: true, title: 'ca' }, { ok: true, title: 'by-name' }]);
  });

  it('takes `ca` as a Buffer too', async () => {
    const [r] = await fetchAll([`${server.url}/ok?t=buffer`], { ...fast, tls: { ca: Buffer.from(TEST_TLS.ca) } });
    expect(r).toMatchObject({ ok: true, title: 'buffer' });
  });
});

describe('client certificates (tls.cert, tls.key)', () => {
  let server: SecureTestServer;
  beforeAll(async () => {
    server = await createSecureTestServer({ requireClientCert: true });
  });
  afterAll(async () => {
    await server.close();
  });

  it('presents the client certificate to a server that requires one', async () => {
    const tls = { ca: TEST_TLS.ca, cert: TEST_TLS.clientCert, key: TEST_TLS.clientKey };
    const [r] = await fetchAll([`${server.url}/ok?t=client-cert`], { ...fast, tls });
    expect(r).toMatchObject({ ok: true, title: 'client-cert' });
  });

  it('fails without one, and the server never sees the request', async () => {
    const [r] = await fetchAll([`${server.url}/ok?t=no-client-cert`], { ...fast, tls: { ca: TEST_TLS.ca } });
    // TLS 1.2 fails the handshake (TLS); in TLS 1.3 the client's side of the handshake is done before the server
    // checks its certificate, so the request is written and the server hangs up: undici says "other side closed".
    expect(r).toMatchObject({ ok: false, status: null });
    expect(['TLS', 'RESET']).toContain(r!.error!.code);
    expect(server.requests.filter((q) => q.path === '/ok?t=no-client-cert')).toHaveLength(0);
  });
});

describe('HTTP/2 (http2: true)', () => {
  let server: SecureTestServer;
  beforeAll(async () => {
    server = await createSecureTestServer({ http2: true });
  });
  afterAll(async () => {
    await server.close();
  });

  it('speaks h2 to a server that offers it, and the results are right', async () => {
    const urls = Array.from({ length: 12 }, (_, i) => `${server.url}/ok?t=h2-${i}`);
    const results = await fetchAll(urls, { ...fast, http2: true, tls: { ca: TEST_TLS.ca } });
    expect(results.map((r) => [r.ok, r.status, r.title])).toEqual(urls.map((_, i) => [true, 200, `h2-${i}`]));
    const seen = server.requests.filter((q) => q.path.startsWith('/ok?t=h2-'));
    expect(seen).toHaveLength(12);
    expect(new Set(seen.map((q) => q.httpVersion))).toEqual(new Set(['2.0']));
  });

  it('stays on HTTP/1.1 without it', async () => {
    const [r] = await fetchAll([`${server.url}/ok?t=h1`], { ...fast, tls: { ca: TEST_TLS.ca } });
    expect(r).toMatchObject({ ok: true, title: 'h1' });
    expect(server.requests.find((q) => q.path === '/ok?t=h1')?.httpVersion).toBe('1.1');
  });

  it('takes 20 KiB of response headers over h2 too', async () => {
    const [r] = await fetchAll([`${server.url}/big-headers?kb=20&t=h2-big`], { ...fast, http2: true, tls: { ca: TEST_TLS.ca } });
    expect(r).toMatchObject({ ok: true, status: 200 });
  });
});

describe('response header size (maxHeaderSize)', () => {
  let server: SecureTestServer;
  beforeAll(async () => {
    server = await createSecureTestServer();
  });
  afterAll(async () => {
    await server.close();
  });
  const tls = { ca: TEST_TLS.ca };

  it('takes 20 KiB of headers by default (64 KiB), past Node\'s 16 KiB', async () => {
    expect(DEFAULTS.maxHeaderSize).toBe(65536);
    const [r] = await fetchAll([`${server.url}/big-headers?kb=20`], { ...fast, tls });
    expect(r).toMatchObject({ ok: true, status: 200, error: null });
  });

  it('fails headers over a lower limit with TOO_LARGE, naming the limit', async () => {
    const [r] = await fetchAll([`${server.url}/big-headers?kb=20&n=2`], { ...fast, tls, retries: 2, maxHeaderSize: 16384 });
    expect(r).toMatchObject({ ok: false, status: null, attempts: 1, error: { code: 'TOO_LARGE' } });
    expect(r!.error!.message).toBe('the response headers were larger than the limit (16384 bytes; maxHeaderSize)');
  });

  it('applies to plain http too', async () => {
    const plain = await createTestServer({
      '/cookies': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain', 'set-cookie': Array.from({ length: 24 }, (_, i) => `c${i}=${'v'.repeat(1000)}`) });
        res.end('ok');
      },
    });
    try {
      const url = `${plain.url}/cookies`;
      expect((await fetchAll([url], fast))[0]).toMatchObject({ ok: true });
      expect((await fetchAll([url], { ...fast, maxHeaderSize: 8192 }))[0]).toMatchObject({ ok: false, error: { code: 'TOO_LARGE', message: expect.stringContaining('8192 bytes') } });
    } finally {
      await plain.close();
    }
  });
});

/** A CONNECT-only forward proxy (what undici's proxy agents tunnel https through), counting tunnels. */
async function startTunnelProxy(): Promise<{ url: string; tunnels: string[]; close(): Promise<void> }> {
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  const proxy: Server = createServer((_req, res) => {
    res.writeHead(405);
    res.end();
  });
  proxy.on('connect', (req, client: Socket, head) => {
    tunnels.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream).add(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  proxy.on('connection', (s: Socket) => sockets.add(s));
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    tunnels,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        proxy.close(() => r());
      }),
  };
}

describe('TLS and HTTP/2 behind a proxy (requestTls)', () => {
  let server: SecureTestServer;
  let proxy: Awaited<ReturnType<typeof startTunnelProxy>>;
  beforeAll(async () => {
    [server, proxy] = await Promise.all([createSecureTestServer({ http2: true }), startTunnelProxy()]);
  });
  afterAll(async () => {
    await Promise.all([server.close(), proxy.close()]);
  });

  it('checks the origin\'s certificate through the tunnel: TLS without `ca`, ok with it', async () => {
    const [bad] = await fetchAll([`${server.url}/ok?t=proxied-bad`], { ...fast, proxy: proxy.url });
    expect(bad).toMatchObject({ ok: false, error: { code: 'TLS' } });
    const [good] = await fetchAll([`${server.url}/ok?t=proxied`], { ...fast, proxy: proxy.url, tls: { ca: TEST_TLS.ca } });
    expect(good).toMatchObject({ ok: true, title: 'proxied' });
    expect(proxy.tunnels.length).toBeGreaterThanOrEqual(2);
    expect(new Set(proxy.tunnels)).toEqual(new Set([`127.0.0.1:${server.port}`]));
  });

  it('speaks h2 through the tunnel with http2: true', async () => {
    const [r] = await fetchAll([`${server.url}/ok?t=proxied-h2`], { ...fast, proxy: proxy.url, http2: true, tls: { ca: TEST_TLS.ca } });
    expect(r).toMatchObject({ ok: true, title: 'proxied-h2' });
    expect(server.requests.find((q) => q.path === '/ok?t=proxied-h2')?.httpVersion).toBe('2.0');
  });
});

describe('option validation', () => {
  it.each<[string, unknown, RegExp]>([
    ['tls not an object', 'insecure', /Expected `tls` to be an object with rejectUnauthorized, ca, cert, key, got a string/],
    ['an unknown tls field', { insecure: true }, /Unknown `tls` option `insecure`/],
    ['rejectUnauthorized not a boolean', { rejectUnauthorized: 'no' }, /`tls.rejectUnauthorized` to be a boolean, got `no` \(string\)/],
    ['a path instead of PEM', { ca: './ca.pem' }, /`tls.ca` to be PEM text.*got `\.\/ca\.pem` \(string\): pass the file's contents, not its path/],
    ['a CA that does not parse', { ca: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }, /`tls.ca` to hold valid certificates, but certificate 1 of 1 does not parse/],
    ['ca not text', { ca: 42 }, /`tls.ca` to be PEM text \(a string or Buffer\), got a number/],
    ['cert without key', { cert: TEST_TLS.clientCert }, /`tls.cert` and `tls.key` together.*`cert` without `key`/],
    ['key without cert', { key: TEST_TLS.clientKey }, /`key` without `cert`/],
    ['a key that is not the cert\'s', { cert: TEST_TLS.clientCert, key: TEST_TLS.key }, /`tls.key` to be the key of `tls.cert`/],
    ['a key that does not load', { cert: TEST_TLS.clientCert, key: 'not a key' }, /`tls.key` to be an unencrypted PEM private key/],
  ])('rejects %s, naming the field', (_name, tls, message) => {
    let error: unknown;
    try {
      normalizeOptions({ tls: tls as never });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(message);
    expect((error as { option?: string }).option).toBe('tls');
  });

  it('never echoes a private key', () => {
    const key = TEST_TLS.clientKey.replace('PRIVATE KEY-----\n', 'PRIVATE KEY-----\nzz');
    expect(() => normalizeOptions({ tls: { cert: TEST_TLS.clientCert, key } })).toThrow(TypeError);
    try {
      normalizeOptions({ tls: { cert: TEST_TLS.clientCert, key } });
    } catch (err) {
      expect((err as Error).message).not.toContain(key.slice(40, 80));
    }
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['http2 not a boolean', { http2: 'yes' }, /Expected `http2` to be a boolean, got `yes` \(string\)/],
    ['retryUnsafe not a boolean', { retryUnsafe: 1 }, /Expected `retryUnsafe` to be a boolean/],
    ['maxHeaderSize too small', { maxHeaderSize: 100 }, /Expected `maxHeaderSize` to be an integer from 1024 to 16777216, got `100`/],
    ['maxHeaderSize not an integer', { maxHeaderSize: 65536.5 }, /`maxHeaderSize` to be an integer/],
  ])('rejects %s', (_name, options, message) => {
    expect(() => normalizeOptions(options as never)).toThrow(message);
  });

  it('fills in the defaults', () => {
    expect(normalizeOptions({})).toMatchObject({ tls: null, http2: false, maxHeaderSize: 65536, retryUnsafe: false });
    expect(normalizeOptions({ tls: { ca: TEST_TLS.ca }, http2: true, maxHeaderSize: 1 << 17, retryUnsafe: true })).toMatchObject({
      tls: { rejectUnauthorized: true, ca: TEST_TLS.ca, cert: null, key: null },
      http2: true,
      maxHeaderSize: 131072,
      retryUnsafe: true,
    });
  });
});
