#!/usr/bin/env node
// The `volley` command. Only this file touches process state: exit codes, signal handlers (in run.ts, which it
// calls), stdout. --help and --version never load the fetch or parse code.

async function main(argv: string[]): Promise<number> {
  // A cron wrapper's `volley --version` should cost a bare Node start, not a parser load.
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    const { VERSION } = await import('../version.js');
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  // Node 22.1+ keeps a compile cache of the modules a process loads (in the OS temp dir by default; off with
  // NODE_DISABLE_COMPILE_CACHE, failures are Node's to swallow): the command and undici, which Node 20 compiles
  // on every run. Absent on Node 20, where only the parser has a code cache (src/parse/code-cache.cts).
  const nodeModule = (await import('node:module')) as unknown as { enableCompileCache?: () => unknown };
  nodeModule.enableCompileCache?.();
  // A bundle after `npm run build` (scripts/bundle.mjs; chunks for what a run may not need): loading the ~150
  // modules it is made of one by one cost a one-URL run more than the run itself.
  const { parseCli, UsageError, EXIT, loadRun } = await import('./command.js');
  try {
    if (argv[0] === 'enqueue' || argv[0] === 'work' || argv[0] === 'queue') {
      const { loadQueue } = await import('./command.js');
      const { runQueueCommand } = await loadQueue();
      await setRunFlags();
      return await runQueueCommand(argv[0], argv.slice(1), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
    }
    const parsed = await parseCli(argv);
    if (parsed.kind === 'info') {
      process.stdout.write(`${parsed.text}\n`);
      return EXIT.OK;
    }
    const { runCli } = await loadRun();
    await setRunFlags();
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

/**
 * llhttp's WebAssembly tiering budget (v8-flags.ts), on the Node lines that need it: after the run's code, undici
 * and the built-ins they require have loaded (a V8 flag set earlier would have Node's own code cache for those
 * built-ins refused), and before the first connection compiles llhttp. node:v8 is not even loaded elsewhere.
 */
async function setRunFlags(): Promise<void> {
  await (await import('./v8-flags.js')).applyRunFlags();
}

main(process.argv.slice(2)).then(
  (code) => {
    // Exit explicitly: a stdin that is still open (a pipe nobody closed) must not keep a finished run alive. But not
    // before stdout has handed over what was written to it: writes to a pipe are asynchronous, and process.exit
    // drops what is queued (`volley queue results | wc -l` counted 224 of 300 rows). A write's callback comes once
    // every write before it is out, or failed (a closed pipe), so this never waits on a reader that went away.
    process.stdout.write('', () => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(`volley: internal error (a bug; please report it): ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(70);
  },
);
