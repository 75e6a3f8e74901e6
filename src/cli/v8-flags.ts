// undici parses HTTP/1.1 with llhttp, compiled to WebAssembly. V8 first compiles it with its baseline compiler
// (Liftoff, ~10 ms) and recompiles a function with its optimising one once it has run for a budget of "bytes
// executed": llhttp's parser is one huge function, so its recompilation costs ~240 ms of CPU on a background
// thread, and with the default budget (1.8 M) a single small response triggers it. A one-URL run then paid more
// for that than for everything else it does, and its exit waited for it (measured on Node 20: one request
// through undici, 460 ms of process CPU against 240 ms without the recompilation). With a larger budget, a short
// run ends before llhttp is recompiled and a long one recompiles it after a few hundred responses (measured:
// the same total CPU over 3,000 requests either way). Process-wide, so the CLI sets it, never the library;
// it must be set before undici compiles llhttp, at the first connection. V8 prints "unrecognized flag" to stderr
// for a flag it does not know, so it is set only on the Node lines whose V8 has it (checked on 20; 22 and 24 ship
// V8 12 and 13, which define it too): a later Node must not make every run write to stderr.
//
// The build sets the same flags before it makes the parser's code cache (scripts/bundle.mjs): V8 refuses a
// cache made under other flags.
const WASM_TIERING_BUDGET = '--wasm-tiering-budget=100000000';
const HAS_TIERING_FLAG = Number(process.versions.node.split('.')[0]) <= 24;

/** Sets the V8 flags of a CLI run (process-wide). */
export function setRunFlags(v8: Pick<typeof import('node:v8'), 'setFlagsFromString'>): void {
  if (HAS_TIERING_FLAG) v8.setFlagsFromString(WASM_TIERING_BUDGET);
}
