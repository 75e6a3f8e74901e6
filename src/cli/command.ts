// The command's code behind its entry (main.ts): the flag parser now, the run when one starts. `npm run build`
// makes dist/cli/command.js one file holding this module and everything it loads (scripts/bundle.mjs), so that
// `volley --version` (answered by main.ts alone) does not load it.
export { EXIT, UsageError, parseCli } from './args.js';

/** The run: the library, undici and the output code, loaded only for a run (not for --help or a usage error). */
export const loadRun = (): Promise<typeof import('./run.js')> => import('./run.js');
