import { threadId } from 'node:worker_threads';
import { extractBody } from './extract.js';
import { packLinks, type WorkerOutcome, type WorkerReply, type WorkerTask } from './protocol.js';
import type { NormalizedExtract } from './spec.js';
import type { Page, ParsedFields } from './types.js';

/** The piscina task: decode and extract each page of a batch; one bad page does not fail its neighbours. */
export default function parsePages(task: Pick<WorkerTask, 'pages' | 'spec'>): WorkerReply {
  const started = performance.now();
  const outcomes = task.pages.map((page): WorkerOutcome => {
    try {
      const { links, followLinks, ...fields } = extractBody(page.body, page.contentType, page.url, task.spec);
      const outcome: WorkerOutcome = { ok: true, fields };
      if (links !== undefined) outcome.links = packLinks(links);
      if (followLinks !== undefined) outcome.followLinks = packLinks(followLinks);
      return outcome;
    } catch (err) {
      return { ok: false, message: err instanceof Error ? err.message : String(err) };
    }
  });
  return { threadId, outcomes, busyMs: performance.now() - started };
}

/**
 * One page parsed where it is called: the main thread's path for a small page while no thread is ready
 * (stage.ts). The same decoding and extraction as a thread's; throws what they throw.
 */
export function parseInline(page: Page, spec: NormalizedExtract): ParsedFields {
  return extractBody(page.body, page.contentType, page.url, spec);
}
