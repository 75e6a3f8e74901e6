// undici parses HTTP/1.1 with llhttp, compiled to WebAssembly. V8 first compiles it with its baseline compiler
// (Liftoff, ~10 ms) and recompiles a function with its optimising one once it has run for a budget of "bytes
// executed": llhttp's parser is one huge function, so its recompilation costs ~240 ms of CPU on a background
// thread, and with the default budget (1.8 M) a single small response triggers it. A one-URL run then paid more
// for that than for everything else it does, and its exit waited for it (measured on Node 20: one request
// through undici, 460 ms of process CPU against 240 ms without the recompilation). With a larger budget, a short
// run ends before llhttp is recompiled and a long one recompiles it after a few hundred responses (measured:
// the same total CPU over 3,000 requests either way). Process-wide, so the CLI sets it, never the library;
// it must be set before undici compiles llhttp, at the first connection.
//
// Only on Node 20 (V8 11.3). On 22 and 24 (V8 12.4, 13.6) a single response does not get llhttp recompiled:
// measured, one request through undici with the budget set at run time against without, 10 pairs each, the
// process's CPU 0.99x on 22 and 1.00x on 24 (0.58x on 20). And setting any V8 flag has a cost there too: V8 then
// refuses the code cache Node ships for its own built-in modules (the flags are part of a cache's check), so each
// built-in loaded afterwards is compiled from source (`node:http` and `node:http2` alone: ~17 ms more CPU on 20,
// ~13-20 ms on 22 and 24). Hence: not set at all where it gains nothing, and on 20 set as late as it can be, after
// the run's code (and the built-ins undici requires) has loaded and before the first connection (main.ts).
// V8 prints "unrecognized flag" to stderr for a flag it does not know, another reason not to set it on a Node
// whose V8 was not checked.
//
// The build sets the same flags before it makes the parser's code cache (scripts/bundle.mjs): V8 refuses a
// cache made under other flags.
const WASM_TIERING_BUDGET = '--wasm-tiering-budget=100000000';

/** Whether a CLI run on this Node sets V8 flags at all (so that node:v8 is loaded only then: applyRunFlags). */
export const NEEDS_RUN_FLAGS = Number(process.versions.node.split('.')[0]) < 22;

/** Sets the V8 flags of a CLI run (process-wide): none on Node 22 and later. */
export function setRunFlags(v8: Pick<typeof import('node:v8'), 'setFlagsFromString'>): void {
  if (NEEDS_RUN_FLAGS) v8.setFlagsFromString(WASM_TIERING_BUDGET);
}

/**
 * Sets them where this Node needs them, loading node:v8 only then: what a CLI run does (main.ts), and the
 * benchmark's start-up floor with it (bench/contestants/undici-one.mjs).
 */
export async function applyRunFlags(): Promise<void> {
  if (NEEDS_RUN_FLAGS) setRunFlags(await import('node:v8'));
}
