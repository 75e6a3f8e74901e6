import { Agent, EnvHttpProxyAgent, Pool, request, util } from 'undici';

// The one place in src/ that takes undici, through its public entry and nothing else.
//
// Until the fourth round this file required undici's internal files by path (lib/dispatcher/agent.js, …): the
// public entry's index.js builds all of undici (fetch, WebSocket, EventSource, the cache stores, mock agents, every
// interceptor; ~110 modules), and that cost a one-URL run ~2x a bare `node -e 0` when loaded from node_modules.
// Paths into a package that has no `exports` map are its internals, which a minor release may move (undici's did
// in 6.7.0): a pin, a fallback and two tests held them in place. Now the CLI's build bundles undici from this
// import (scripts/bundle.mjs), which takes away the ~110 file look-ups and reads that were most of that cost;
// what is left is undici's own set-up of the parts volley does not use, measured at +30 ms of CPU on a one-URL run
// (docs/performance.md, "Fourth round"). The library (dist/index.js) imports undici from node_modules like any
// package, so it shares the copy its caller has.

export type { Dispatcher } from 'undici';
export { Agent, EnvHttpProxyAgent, Pool };

/** undici's parser of a response's raw header list: lower-cased names, a repeated field as an array, latin1. */
export type ParseHeaders = (headers: Buffer[]) => Record<string, string | string[]>;

/**
 * undici's own parser of a response's raw header list (what its `request` gives as `headers`): lower-cased names,
 * a repeated field as an array, values as latin1. volley reads responses through `dispatch` with a handler of its
 * own (fetch/client.ts), not through undici's `request`, whose Readable per response cost more than the rest of
 * the attempt.
 */
export const parseHeaders = util.parseHeaders as ParseHeaders;

/**
 * undici's `request`: only a run that reads sitemaps calls it (crawl/sitemap-seeds.ts, which streams a body as
 * undici's Readable), taken from here so that every use of undici goes through this file.
 */
export function undiciRequest(): typeof request {
  return request;
}
