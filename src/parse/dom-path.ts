import * as dom from './extract-dom.js';

/**
 * The DOM path (extract-dom.ts), for a page whose spec needs a DOM. Here a plain import: the tests, and tsc's unbundled
 * output, load it with the rest. The build's parser bundle replaces this module with a require() of
 * parser-dom.cjs on the first call (scripts/bundle.mjs), so that a run of built-in fields never loads it.
 */
export function domPath(): typeof dom {
  return dom;
}
