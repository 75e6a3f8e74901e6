#!/usr/bin/env node
// The `volley` command. Only this file touches process state: exit codes, signal handlers (in run.ts, which it
// calls), stdout. --help and --version never load the fetch or parse code.

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
const WASM_TIERING_BUDGET = '--wasm-tiering-budget=100000000';
const HAS_TIERING_FLAG = Number(process.versions.node.split('.')[0]) <= 24;

async function main(argv: string[]): Promise<number> {
  // A cron wrapper's `volley --version` should cost a bare Node start, not a parser load.
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    const { VERSION } = await import('../version.js');
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (HAS_TIERING_FLAG) (await import('node:v8')).setFlagsFromString(WASM_TIERING_BUDGET);
  // One file after `npm run build` (scripts/bundle.mjs): loading the ~150 modules it is made of one by one cost
  // a one-URL run more than the run itself.
  const { parseCli, UsageError, EXIT, loadRun } = await import('./command.js');
  try {
    const parsed = await parseCli(argv);
    if (parsed.kind === 'info') {
      process.stdout.write(`${parsed.text}\n`);
      return EXIT.OK;
    }
    const { runCli } = await loadRun();
    return await runCli(parsed.config, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`volley: ${err.message}\nRun 'volley --help' for usage and examples.\n`);
      return EXIT.USAGE;
    }
    if ((err as Error).name === 'LockedError') {
      process.stderr.write(`volley: ${(err as Error).message}\n`);
      return EXIT.LOCKED;
    }
    // Anything else is a bug in volley: said as one, with its stack (EX_SOFTWARE).
    process.stderr.write(`volley: internal error (a bug; please report it): ${(err as Error)?.stack ?? String(err)}\n`);
    return EXIT.SOFTWARE;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // Exit explicitly: a stdin that is still open (a pipe nobody closed) must not keep a finished run alive.
    // Output has been flushed by then (the sink waits for the stream).
    process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`volley: internal error (a bug; please report it): ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(70);
  },
);
