// The command's code behind its entry (main.ts): the flag parser now, the run when one starts. `npm run build`
// bundles this module and everything it loads into dist/cli/command.js and its chunks (scripts/bundle.mjs), so that
// `volley --version` (answered by main.ts alone) does not load it.
export { EXIT, UsageError, parseCli } from './args.js';

/** The run: the library, undici and the output code, loaded only for a run (not for --help or a usage error). */
export const loadRun = (): Promise<typeof import('./run.js')> => import('./run.js');

/** The shared queue's subcommands (`enqueue`, `work`, `queue`): loaded only when one is named, with `redis` later still. */
export const loadQueue = (): Promise<typeof import('./queue-command.js')> => import('./queue-command.js');
