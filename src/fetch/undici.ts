import { createRequire } from 'node:module';
import type * as Undici from 'undici';
import { deferHttp2 } from './undici-h2.js';

// The one place in src/ that loads undici, and only the parts volley uses.
//
// Why not `import … from 'undici'`: its index.js requires all of undici (~110 modules: fetch, WebSocket,
// EventSource, the cache stores, mock agents, every interceptor), and a one-URL run paid for that at start-up
// (measured: ~2x a bare `node -e 0` for that import alone). volley needs an Agent (which brings Pool and Client,
// ~23 modules) and undici's `request` function (2 more); only a run through a proxy loads the whole of undici.
//
// undici 7 has no `exports` map, so its files can be required by path. These paths are undici's internals, not
// its public API: test/undici-deep.test.ts loads this module and sends a request through it, so a release that
// moves them (or adds an `exports` map) fails the tests instead of a user's run. The classes are the very ones
// `require('undici')` returns (same files, same module cache), so a dispatcher made by either is interchangeable.

export type { Dispatcher } from 'undici';

const load = createRequire(import.meta.url);
deferHttp2();

export const Agent = load('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
export const Pool = load('undici/lib/dispatcher/pool.js') as typeof Undici.Pool;

type UndiciUtil = { parseURL(url: string | URL): URL };
const { parseURL } = load('undici/lib/core/util.js') as UndiciUtil;

/** undici's `Dispatcher.prototype.request` (lib/api/api-request.js): calls `this.dispatch`, nothing else. */
type ApiRequest = (this: Undici.Dispatcher, options: Undici.Dispatcher.RequestOptions) => Promise<Undici.Dispatcher.ResponseData>;
const apiRequest = load('undici/lib/api/api-request.js') as ApiRequest;

/** The options of `request`: undici's, with the dispatcher required (volley never uses undici's global one). */
export type RequestOptions = Omit<Undici.Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> &
  Partial<Pick<Undici.Dispatcher.RequestOptions, 'method'>> & { dispatcher: Undici.Dispatcher };

/**
 * undici's `request(url, options)` (its index.js `makeDispatcher(api.request)`), for a whole URL and a given
 * dispatcher: the URL is checked and split into origin and path as undici does, then sent through
 * `options.dispatcher`, which may be any undici-compatible dispatcher (the run's own Agent, the caller's, nock's).
 */
export function request(url: string | URL, options: RequestOptions): Promise<Undici.Dispatcher.ResponseData> {
  try {
    const { dispatcher, ...rest } = options;
    const parsed = parseURL(url);
    return apiRequest.call(dispatcher, {
      ...rest,
      origin: parsed.origin,
      path: parsed.search ? `${parsed.pathname}${parsed.search}` : parsed.pathname,
      method: options.method || (options.body ? 'PUT' : 'GET'),
    });
  } catch (err) {
    return Promise.reject(err);
  }
}

let envHttpProxyAgent: typeof Undici.EnvHttpProxyAgent | null = null;

/**
 * undici's EnvHttpProxyAgent, loaded on first construction: only a run with a proxy configured builds one.
 * From undici's public entry, not by path: ProxyAgent opens its tunnel with `client.connect()`, one of the API
 * methods that index.js installs on Dispatcher.prototype (`Object.assign(Dispatcher.prototype, api)`), so the
 * proxy needs undici as its own entry sets it up. `new EnvHttpProxyAgent(opts)` returns the real instance.
 */
export const EnvHttpProxyAgent = function EnvHttpProxyAgent(options?: Undici.EnvHttpProxyAgent.Options) {
  envHttpProxyAgent ??= (load('undici') as typeof Undici).EnvHttpProxyAgent;
  return new envHttpProxyAgent(options);
} as unknown as typeof Undici.EnvHttpProxyAgent;
