import { createRequire } from 'node:module';
import type * as Undici from 'undici';
import { deferHttp2 } from './undici-h2.js';

// The one place in src/ that loads undici, and only the parts volley uses.
//
// Why not `import … from 'undici'`: its index.js requires all of undici (~110 modules: fetch, WebSocket,
// EventSource, the cache stores, mock agents, every interceptor), and a one-URL run paid for that at start-up
// (measured: ~2x a bare `node -e 0` for that import alone). volley needs an Agent (which brings Pool and Client,
// ~23 modules) and undici's header parser; only a run through a proxy loads the whole of undici.
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

type UndiciUtil = { parseHeaders(headers: Buffer[]): Record<string, string | string[]> };

/**
 * undici's own parser of a response's raw header list (what its `request` gives as `headers`): lower-cased names,
 * a repeated field as an array, values as latin1. volley reads responses through `dispatch` with a handler of its
 * own (fetch/client.ts), not through undici's `request`, whose Readable per response cost more than the rest of
 * the attempt.
 */
export const parseHeaders = (load('undici/lib/core/util.js') as UndiciUtil).parseHeaders;

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
