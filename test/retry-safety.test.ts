import { afterEach, describe, expect, it } from 'vitest';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Agent, request } from 'undici';
import type { ErrorCode } from '../src/errors.js';
import { classifyError } from '../src/fetch/classify.js';
import { IDEMPOTENT_METHODS, NEVER_SENT_CODES, isIdempotent, mayRetry, type RetryFailure } from '../src/schedule/retry-safety.js';
import { METHODS, type Method } from '../src/source/requests.js';
import { closedPort } from './fixtures/server.js';
import { createSecureTestServer } from './fixtures/tls-server.js';

const idempotent: Method[] = ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'];
const unsafe: Method[] = ['POST', 'PATCH'];

describe('mayRetry (RFC 9110 §9.2.2)', () => {
  it('knows which methods are idempotent', () => {
    expect([...IDEMPOTENT_METHODS].sort()).toEqual([...idempotent].sort());
    expect(METHODS.filter((m) => !isIdempotent(m))).toEqual(unsafe);
  });

  const failures: [string, RetryFailure][] = [
    ['DNS', { code: 'DNS', retryAfter: false }],
    ['CONNECT', { code: 'CONNECT', retryAfter: false }],
    ['TLS', { code: 'TLS', retryAfter: false }],
    ['TIMEOUT', { code: 'TIMEOUT', retryAfter: false }],
    ['RESET', { code: 'RESET', retryAfter: false }],
    ['TIMEOUT mid-body after a 200', { code: 'TIMEOUT', status: 200, retryAfter: false }],
    ['429 with Retry-After', { status: 429, retryAfter: true }],
    ['503 with Retry-After', { status: 503, retryAfter: true }],
    ['429 without Retry-After', { status: 429, retryAfter: false }],
    ['503 without Retry-After', { status: 503, retryAfter: false }],
    ['500', { status: 500, retryAfter: false }],
    ['502 with Retry-After', { status: 502, retryAfter: true }],
    ['408', { status: 408, retryAfter: false }],
    ['nothing known', { retryAfter: false }],
  ];

  it.each(failures)('lets idempotent methods retry after %s, as before (the retryable lists still decide)', (_name, failure) => {
    for (const method of idempotent) expect(mayRetry(method, failure, false)).toBe(true);
  });

  const unsafeVerdicts: Record<string, boolean> = {
    DNS: true,
    CONNECT: true,
    TLS: true,
    TIMEOUT: false,
    RESET: false,
    'TIMEOUT mid-body after a 200': false,
    '429 with Retry-After': true,
    '503 with Retry-After': true,
    '429 without Retry-After': false,
    '503 without Retry-After': false,
    '500': false,
    '502 with Retry-After': false,
    '408': false,
    'nothing known': false,
  };
  it.each(failures)('lets POST and PATCH retry after %s only when it provably never reached the server', (name, failure) => {
    for (const method of unsafe) expect(mayRetry(method, failure, false)).toBe(unsafeVerdicts[name]);
  });

  it.each(failures)('retries POST and PATCH after %s with retryUnsafe, as idempotent', (_name, failure) => {
    for (const method of unsafe) expect(mayRetry(method, failure, true)).toBe(true);
  });

  it('never counts TIMEOUT or RESET as never sent', () => {
    expect([...NEVER_SENT_CODES].sort()).toEqual<ErrorCode[]>(['CONNECT', 'DNS', 'TLS']);
  });
});

/**
 * The evidence: what undici actually throws in each phase, through classify.ts, with the server counting what
 * reached it. A POST whose failure mayRetry allows must never have reached the server.
 */
describe('connect-phase failures classify as never sent (undici, real sockets)', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(cleanup.splice(0).map((fn) => fn()));
  });
  const context = { timedOut: false, cancelled: false, timeoutMs: 10_000 };

  async function post(url: string, agent: Agent): Promise<ReturnType<typeof classifyError>> {
    cleanup.push(() => agent.destroy());
    try {
      const res = await request(url, { dispatcher: agent, method: 'POST', body: 'x=1' });
      await res.body.dump();
    } catch (err) {
      return classifyError(err, context);
    }
    throw new Error('expected the request to fail');
  }

  /** A raw TCP server: counts connections and what arrived; `onSocket` decides what it does with each. */
  async function rawServer(onSocket: (socket: Socket, received: () => string) => void): Promise<{ port: number; connections: number; data: () => string }> {
    let data = '';
    const state = { connections: 0 };
    const sockets = new Set<Socket>();
    const server: Server = createNetServer((socket) => {
      state.connections++;
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
      onSocket(socket, () => data);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(
      () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          server.close(() => r());
        }),
    );
    return {
      port: (server.address() as AddressInfo).port,
      get connections() {
        return state.connections;
      },
      data: () => data,
    };
  }

  it('a refused connection is CONNECT: POST may retry', async () => {
    const error = await post(`http://127.0.0.1:${await closedPort()}/`, new Agent());
    expect(error.code).toBe('CONNECT');
    expect(mayRetry('POST', { code: error.code, retryAfter: false }, false)).toBe(true);
  });

  it('a failed DNS lookup is DNS: POST may retry', async () => {
    // The resolver is injected: no real DNS server is asked.
    const lookup = (hostname: string, _options: unknown, callback: (err: Error) => void): void =>
      callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname }));
    const error = await post('http://no-such-host.invalid/', new Agent({ connect: { lookup: lookup as never } }));
    expect(error.code).toBe('DNS');
    expect(mayRetry('POST', { code: error.code, retryAfter: false }, false)).toBe(true);
  });

  it('a certificate the client rejects is TLS, and the server sees no request: POST may retry', async () => {
    const server = await createSecureTestServer();
    cleanup.push(() => server.close());
    const error = await post(`${server.url}/ok`, new Agent());
    expect(error.code).toBe('TLS');
    expect(server.handshakes).toBe(0);
    expect(server.requests).toHaveLength(0);
    expect(mayRetry('POST', { code: error.code, retryAfter: false }, false)).toBe(true);
  });

  it('undici\'s connect timeout (a TLS handshake that never completes) is CONNECT, and no HTTP byte was sent', async () => {
    // Accepts TCP and reads the ClientHello, never answers it.
    const server = await rawServer(() => {});
    const error = await post(`https://127.0.0.1:${server.port}/`, new Agent({ connect: { timeout: 300 } }));
    expect(error.code).toBe('CONNECT');
    expect((error.cause as { code?: string }).code).toBe('UND_ERR_CONNECT_TIMEOUT');
    expect(server.connections).toBe(1);
    expect(server.data().charCodeAt(0)).toBe(0x16); // a TLS handshake record
    expect(server.data()).not.toContain('POST');
    expect(mayRetry('POST', { code: error.code, retryAfter: false }, false)).toBe(true);
  });

  it('a connection the server drops after reading the request is RESET: POST must not retry', async () => {
    const server = await rawServer((socket, received) => {
      socket.on('data', () => {
        if (received().includes('x=1')) socket.destroy();
      });
    });
    const error = await post(`http://127.0.0.1:${server.port}/`, new Agent());
    expect(error.code).toBe('RESET');
    expect(server.data()).toContain('POST / HTTP/1.1');
    expect(mayRetry('POST', { code: error.code, retryAfter: false }, false)).toBe(false);
  });

  it('a deadline that fires after the server read the request is TIMEOUT: POST must not retry', async () => {
    const server = await rawServer(() => {});
    const agent = new Agent();
    cleanup.push(() => agent.destroy());
    const controller = new AbortController();
    let error: ReturnType<typeof classifyError> | null = null;
    const pending = request(`http://127.0.0.1:${server.port}/`, { dispatcher: agent, method: 'POST', body: 'x=1', signal: controller.signal }).catch(
      (err: unknown) => (error = classifyError(err, { timedOut: true, cancelled: false, timeoutMs: 50 })),
    );
    // The deadline fires only once the server holds the whole request.
    while (!server.data().includes('x=1')) await new Promise((r) => setTimeout(r, 10));
    controller.abort(new DOMException('deadline', 'TimeoutError'));
    await pending;
    expect(error).toMatchObject({ code: 'TIMEOUT' });
    expect(mayRetry('POST', { code: 'TIMEOUT', retryAfter: false }, false)).toBe(false);
  });
});
