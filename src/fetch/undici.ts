import { createRequire } from 'node:module';
import type * as Undici from 'undici';

// The one place in src/ that loads undici, and only the parts volley uses.
//
// Why not `import … from 'undici'`: its index.js requires all of undici (~110 modules: fetch, WebSocket,
// EventSource, the cache stores, mock agents, every interceptor), and a one-URL run paid for that at start-up
// (measured: ~2x a bare `node -e 0` for that import alone). volley needs an Agent (which brings Pool and Client,
// ~23 modules) and undici's header parser; only a run through a proxy loads the whole of undici.
//
// undici 7 has no `exports` map, so its files can be required by path. These paths are undici's internals, not
// its public API (they moved in the 6.7.0 minor before), so package.json pins undici to one minor and
// `loadUndiciParts` falls back to the public entry when a path is gone or hidden: the same classes, a slower
// start-up. test/undici-deep.test.ts checks that the paths still give undici's own classes (an upgrade that
// moves them fails there, not in a user's run), test/undici-fallback.test.ts that the fallback sends requests.
// The classes are the very ones `require('undici')` returns (same files, same module cache), so a dispatcher
// made by either is interchangeable.

export type { Dispatcher } from 'undici';

/** undici's parser of a response's raw header list: lower-cased names, a repeated field as an array, latin1. */
export type ParseHeaders = (headers: Buffer[]) => Record<string, string | string[]>;

/** What volley takes from undici at load. */
export interface UndiciParts {
  Agent: typeof Undici.Agent;
  Pool: typeof Undici.Pool;
  parseHeaders: ParseHeaders;
  /** `'paths'`: undici's files by path (the fast start); `'entry'`: its public entry (the fallback). */
  from: 'paths' | 'entry';
}

/** The codes of a `require()` that did not find a file: gone (moved, renamed), or hidden by an `exports` map. */
const NOT_THERE = new Set(['MODULE_NOT_FOUND', 'ERR_PACKAGE_PATH_NOT_EXPORTED']);

/**
 * Loads undici's Agent, Pool and header parser with `load` (a `require`): by path when the files are where undici
 * 7.30 has them and export what they did, else from `require('undici')`, whose `util.parseHeaders` is the same
 * function. Any other error (a syntax error in undici, say) is thrown: it is not a moved file.
 */
export function loadUndiciParts(load: (id: string) => unknown): UndiciParts {
  try {
    const Agent = load('undici/lib/dispatcher/agent.js');
    const Pool = load('undici/lib/dispatcher/pool.js');
    const util = load('undici/lib/core/util.js') as { parseHeaders?: unknown } | undefined;
    // A file that is there but exports something else (a renamed export) is as gone as a moved one.
    if (typeof Agent === 'function' && typeof Pool === 'function' && typeof util?.parseHeaders === 'function') {
      return { Agent: Agent as typeof Undici.Agent, Pool: Pool as typeof Undici.Pool, parseHeaders: util.parseHeaders as ParseHeaders, from: 'paths' };
    }
  } catch (err) {
    if (!NOT_THERE.has((err as NodeJS.ErrnoException | null)?.code ?? '')) throw err;
  }
  const undici = load('undici') as typeof Undici;
  return { Agent: undici.Agent, Pool: undici.Pool, parseHeaders: undici.util.parseHeaders as ParseHeaders, from: 'entry' };
}

const load = createRequire(import.meta.url);
const parts = loadUndiciParts(load);

export const Agent = parts.Agent;
export const Pool = parts.Pool;

/**
 * undici's own parser of a response's raw header list (what its `request` gives as `headers`): lower-cased names,
 * a repeated field as an array, values as latin1. volley reads responses through `dispatch` with a handler of its
 * own (fetch/client.ts), not through undici's `request`, whose Readable per response cost more than the rest of
 * the attempt.
 */
export const parseHeaders = parts.parseHeaders;

/** Where this process's undici parts came from (`'paths'` unless undici's files moved), for tests. */
export const undiciLoadedFrom = parts.from;

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

/**
 * undici's `request`, from its public entry, required on first use: only a run that reads sitemaps calls it
 * (crawl/sitemap-seeds.ts, which streams a body as undici's Readable). Required here rather than imported there,
 * so that the CLI bundle leaves undici in node_modules instead of wrapping a copy of it.
 */
export function undiciRequest(): typeof Undici.request {
  return (load('undici') as typeof Undici).request;
}
