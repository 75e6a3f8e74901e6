import { threadId } from 'node:worker_threads';
import { extractBody, ParseDeadlineExceeded } from './extract.js';
import { PIECE_BYTES } from './decode.js';
import { packLinks, pageStarts, type WorkerOutcome, type WorkerReply, type WorkerTask } from './protocol.js';
import type { NormalizedExtract } from './spec.js';
import type { Page, ParsedFields } from './types.js';

/**
 * The piscina task: decode and extract each page of a batch; one bad page does not fail its neighbours, nor does
 * one that runs past its deadline (each page has its own, from its own start). A task from the pool notes each
 * page's start in its clock slot, which the pool's timer reads (pool.ts); tests may call this without one.
 */
export default function parsePages(task: Pick<WorkerTask, 'pages' | 'spec'> & Partial<WorkerTask>): WorkerReply {
  const started = performance.now();
  const pageStarted = task.clocks === undefined ? null : pageStarts(task as WorkerTask);
  const outcomes = task.pages.map((page, i): WorkerOutcome => {
    pageStarted?.(i);
    try {
      const { links, followLinks, ...fields } = extractBody(page.body, page.contentType, page.url, task.spec, PIECE_BYTES, task.deadlineMs);
      const outcome: WorkerOutcome = { ok: true, fields };
      if (links !== undefined) outcome.links = packLinks(links);
      if (followLinks !== undefined) outcome.followLinks = packLinks(followLinks);
      return outcome;
    } catch (err) {
      if (err instanceof ParseDeadlineExceeded) return { ok: false, message: err.message, timedOut: true };
      return { ok: false, message: err instanceof Error ? err.message : String(err) };
    }
  });
  return { threadId, outcomes, busyMs: performance.now() - started };
}

/**
 * One page parsed where it is called: the main thread's path for a small page while no thread is ready
 * (stage.ts). The same decoding and extraction as a thread's, under the same deadline when given one (checked
 * between pieces); throws what they throw, ParseDeadlineExceeded included.
 */
export function parseInline(page: Page, spec: NormalizedExtract, deadlineMs?: number): ParsedFields {
  return extractBody(page.body, page.contentType, page.url, spec, PIECE_BYTES, deadlineMs);
}
