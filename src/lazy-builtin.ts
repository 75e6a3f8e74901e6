import { createRequire } from 'node:module';

// Node built-ins that only some runs use, required on first use instead of imported: each import cost every run
// a few ms of start-up (node:zlib ~9 ms, node:crypto and node:tls ~8 ms together, measured on the development
// machine) for responses that are not compressed, runs that set no TLS option and saves that hash no name.
const load = createRequire(import.meta.url);

interface Builtins {
  'node:zlib': typeof import('node:zlib');
  'node:crypto': typeof import('node:crypto');
  'node:tls': typeof import('node:tls');
}

/** A getter for a built-in module, required the first time it is called. */
export function lazyBuiltin<N extends keyof Builtins>(name: N): () => Builtins[N] {
  let mod: Builtins[N] | null = null;
  return () => (mod ??= load(name) as Builtins[N]);
}
