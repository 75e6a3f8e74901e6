import { readJsonlRows } from './jsonl-rows.js';
import { noteFinished } from './resume.js';
import { noteSince, type SinceEntry } from './since.js';

/** What a previous run's output tells the next run; a part not asked for is empty. */
export interface PreviousRun {
  /** `--resume`: URLs with a final row (not CANCELLED, not HOST_SKIPPED). */
  finished: Set<string>;
  /** `--since`: URL → validators (and saved file) from its last ok row. */
  validators: Map<string, SinceEntry>;
  /** `--resume` with `--save`: every `savedAs` the run wrote, which a resumed run gives to no other URL. */
  saved: string[];
}

/**
 * Reads a previous run's JSONL output once for whichever of `--resume` and `--since` name it: one streamed pass
 * when both name the same file (and the saved names with it). A missing file yields empty parts. Call `trimPartialLine` after, before appending.
 */
export async function readPreviousRun(path: string, want: { resume: boolean; since: boolean; saved?: boolean }): Promise<PreviousRun> {
  const run: PreviousRun = { finished: new Set(), validators: new Map(), saved: [] };
  if (!want.resume && !want.since && !want.saved) return run;
  await readJsonlRows(path, (row) => {
    if (want.resume) noteFinished(run.finished, row);
    if (want.since) noteSince(run.validators, row);
    if (want.saved && typeof row.savedAs === 'string') run.saved.push(row.savedAs);
  });
  return run;
}
