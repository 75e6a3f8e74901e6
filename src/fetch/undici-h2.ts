import Module, { createRequire } from 'node:module';

// undici's Client requires its HTTP/2 code (lib/dispatcher/client-h2.js) as it loads, and that file requires
// node:http2 at its top, which brings node:tls and node:crypto with it: ~25 ms of every run's start-up (measured
// on the development machine, Node 20), for a protocol a run speaks only when an https origin negotiates h2 (the
// `http2` option). So before undici.ts loads the Client, this module puts a stand-in for client-h2.js in the
// require cache: client.js takes it as its `connectH2` function, and its first call (the first h2 connection)
// requires the real file and hands over to it. undici calls nothing else from that file.
//
// Like undici.ts, this leans on undici's file layout, not its API: if the file is not where it is expected, or
// is loaded already (by whoever loaded undici first), nothing is put in place and undici loads as usual.
// test/undici-deep.test.ts checks that the stand-in is what client.js got and that an h2 request still works.

const load = createRequire(import.meta.url);

type ConnectH2 = (this: unknown, ...args: unknown[]) => unknown;

/** The path of undici's client-h2.js when the stand-in is in place, for tests; null when undici is loaded as is. */
export let deferredH2File: string | null = null;

/** Puts the stand-in in place, before undici's Client is loaded (undici.ts). Idempotent. */
export function deferHttp2(): void {
  let file: string;
  try {
    file = load.resolve('undici/lib/dispatcher/client-h2.js');
    if (load.cache[file] !== undefined || load.cache[load.resolve('undici/lib/dispatcher/client.js')] !== undefined) return;
  } catch {
    return;
  }
  let real: ConnectH2 | null = null;
  const connectH2: ConnectH2 = function connectH2(this: unknown, ...args: unknown[]) {
    if (real === null) {
      // Out of the cache, so that require() reads the real file; from then on the cache holds the real module.
      if (load.cache[file]?.exports === connectH2) delete load.cache[file];
      real = load(file) as ConnectH2;
    }
    return real.apply(this, args);
  };
  const standIn = new Module(file);
  standIn.filename = file;
  standIn.exports = connectH2;
  standIn.loaded = true;
  load.cache[file] = standIn;
  deferredH2File = file;
}
