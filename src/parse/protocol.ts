import type { NormalizedExtract } from './spec.js';
import type { ParsedFields } from './types.js';

// What crosses between the main thread and the parse workers. Kept apart from worker.ts so that the main thread
// can read replies without loading the parser.

export interface WorkerPage {
  /** A view of a transferred buffer (the page's own, or its batch's, pool.ts `crossing`): the main thread gave it up. */
  body: Uint8Array;
  contentType: string | null;
  url: string;
}

export interface WorkerTask {
  pages: WorkerPage[];
  spec: NormalizedExtract;
  /**
   * Where the thread notes which page it is parsing and since when (see pool.ts TaskClocks): as each page starts,
   * `clocks[slot * 2 + 1]` = its index in `pages`, then `clocks[slot * 2]` = `Date.now() - epoch`.
   */
  clocks: SharedArrayBuffer;
  slot: number;
  epoch: number;
  /** Each page's parse deadline, in ms from its own start (`parseTimeoutMs`): checked between pieces (extract.ts). */
  deadlineMs: number;
}

/** What a page past its parse deadline fails with, wherever it was parsed (extract.ts, pool.ts, stage.ts). */
export function overrunMessage(deadlineMs: number): string {
  return `parsing took longer than parseTimeoutMs (${deadlineMs})`;
}

/** What notes, in a task's clock slot, that page `index` starts now (see WorkerTask.clocks). */
export function pageStarts(task: Pick<WorkerTask, 'clocks' | 'slot' | 'epoch'>): (index: number) => void {
  const view = new Int32Array(task.clocks);
  const { slot, epoch } = task;
  return (index) => {
    // The index first: the main thread reads the start, then the index, so a start it sees has its index beside it.
    Atomics.store(view, slot * 2 + 1, index);
    Atomics.store(view, slot * 2, Math.max(1, Date.now() - epoch));
  };
}


/**
 * Errors lose their properties crossing threads, so outcomes come back as data. Links (and follow links) travel
 * as one newline-joined string each (a serialised URL never contains a newline): cloning one string is far cheaper
 * than cloning hundreds, and the clone runs on the parse thread, the busy one (~0.6 ms of a 150 KB page's ~5 ms).
 */
export type WorkerOutcome =
  | { ok: true; fields: Omit<ParsedFields, 'links' | 'followLinks'>; links?: string; followLinks?: string }
  | { ok: false; message: string; /** The page ran past its deadline (ParseDeadlineExceeded). */ timedOut?: true };

/** Packs a URL list for the trip; `unpackLinks` undoes it. */
export function packLinks(links: string[] | undefined): string | undefined {
  return links?.join('\n');
}

function unpackLinks(packed: string): string[] {
  return packed === '' ? [] : packed.split('\n');
}

/** Undoes the worker's packing of links. */
export function unpackFields(outcome: Extract<WorkerOutcome, { ok: true }>): ParsedFields {
  if (outcome.links === undefined && outcome.followLinks === undefined) return outcome.fields;
  const fields: ParsedFields = { ...outcome.fields };
  if (outcome.links !== undefined) fields.links = unpackLinks(outcome.links);
  if (outcome.followLinks !== undefined) fields.followLinks = unpackLinks(outcome.followLinks);
  return fields;
}

export interface WorkerReply {
  threadId: number;
  outcomes: WorkerOutcome[];
  /** Ms the thread spent parsing the task's pages, by its own clock: how busy one thread is (pool.ts). */
  busyMs: number;
}


/** What each parse thread is started with (piscina's `workerData`, the thread's `worker_threads.workerData`). */
export interface ParseThreadData {
  /** Node's compile cache directory of the process that started the thread, when it has one on (pool.ts). */
  compileCacheDir: string | undefined;
  /** The nice value the thread runs at (thread-priority.ts); null where priorities are not per thread (not Linux). */
  nice: number | null;
}
