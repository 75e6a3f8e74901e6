import { Agent, EnvHttpProxyAgent, Pool, type Dispatcher } from './undici.js';
import { DEFAULTS, type NormalizedOptions } from '../options.js';
import { noteHeaderLimit } from './classify.js';
import { tlsConnectOptions } from './tls.js';

const PROXY_VARIABLES = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY'];

/** What the dispatcher is built from; the last three default as in `normalizeOptions`. */
export type DispatcherSettings = Pick<NormalizedOptions, 'proxy' | 'timeoutMs'> &
  Partial<Pick<NormalizedOptions, 'tls' | 'http2' | 'maxHeaderSize' | 'concurrency' | 'perHost'>>;

/**
 * The run's own keep-alive dispatcher; never undici's global one, which a library must leave to its user.
 * With a proxy configured (the `proxy` option, or HTTP_PROXY / HTTPS_PROXY in the environment) it is undici's
 * EnvHttpProxyAgent, which also honours NO_PROXY; otherwise a plain Agent, since EnvHttpProxyAgent reads
 * process.env on every request (measured: about 1% of the main thread on a throughput run).
 * undici's idle timers are switched off: the per-attempt deadline is the one clock.
 *
 * The run's TLS settings (`tls`), HTTP/2 (`http2`: undici's `allowH2`, offered by ALPN, so only https origins that
 * choose h2 speak it) and header limit (`maxHeaderSize`: HTTP/1.1 responses only; undici gives its h2 session no
 * such setting, so an h2 response's header list is bounded by Node's http2 default, 64 KiB, and a larger one is
 * a RESET "NGHTTP2_FRAME_SIZE_ERROR") go into this dispatcher only. Behind a proxy they apply to the origin's
 * connection through the tunnel (`requestTls`), not to the connection to the proxy.
 */
export function createDispatcher(options: DispatcherSettings): Dispatcher {
  const maxHeaderSize = options.maxHeaderSize ?? DEFAULTS.maxHeaderSize;
  const allowH2 = options.http2 ?? false;
  const tls = tlsConnectOptions(options.tls ?? null);
  // Connections per origin: as many as its requests can be in flight at once (the per-host limit, and never more
  // than the run's). Unbounded, undici's pool opened about twice that: with one request per connection (undici's
  // default pipelining) a connection whose response just ended is reused only a loop turn later (client-h1
  // onMessageComplete: setImmediate), and a request sent meanwhile found every connection busy and opened one
  // more. Twice the sockets, and each dispatch scanning twice the pool for a free one.
  const connections = Math.min(options.perHost ?? Infinity, options.concurrency ?? Infinity);
  const agentOptions = {
    ...(Number.isFinite(connections) ? { connections } : {}),
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: { timeout: options.timeoutMs, ...tls },
    keepAliveTimeout: 10_000,
    maxHeaderSize,
    allowH2,
    // A connection that failed a response for its headers' size reports the failed error with 'disconnect', in
    // the same tick and before the request's own rejection is handled (undici client-h1 onHttpSocketClose, then
    // api-request's queueMicrotask): noted there, so the result's message can state the limit.
    factory: (origin: string | URL, opts: object): Dispatcher =>
      new Pool(origin, opts).on('disconnect', (_origin, _targets, err) => {
        if ((err as { code?: unknown } | null)?.code === 'UND_ERR_HEADERS_OVERFLOW') noteHeaderLimit(err, maxHeaderSize);
      }),
  };
  // Through a tunnel, the origin's TLS is ProxyAgent's own connector, built from `requestTls` alone (allowH2 too).
  const proxied = { ...agentOptions, requestTls: { timeout: options.timeoutMs, ...tls, allowH2 } };
  if (options.proxy) return new EnvHttpProxyAgent({ ...proxied, httpProxy: options.proxy, httpsProxy: options.proxy });
  if (PROXY_VARIABLES.some((name) => process.env[name])) return new EnvHttpProxyAgent(proxied);
  return new Agent(agentOptions);
}
