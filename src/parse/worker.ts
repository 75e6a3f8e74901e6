import { threadId } from 'node:worker_threads';
import { decodeHtml } from './decode.js';
import { extract } from './extract.js';
import type { NormalizedExtract } from './spec.js';
import type { ParsedFields } from './types.js';

export interface WorkerPage {
  /** Transferred, not copied: the main thread gave it up. */
  body: ArrayBuffer;
  contentType: string | null;
  url: string;
}

export interface WorkerTask {
  pages: WorkerPage[];
  spec: NormalizedExtract;
}

/** Errors lose their properties crossing threads, so outcomes come back as data. */
export type WorkerOutcome = { ok: true; fields: ParsedFields } | { ok: false; message: string };

export interface WorkerReply {
  threadId: number;
  outcomes: WorkerOutcome[];
}

/** The piscina task: decode and extract each page of a batch; one bad page does not fail its neighbours. */
export default function parsePages(task: WorkerTask): WorkerReply {
  const outcomes = task.pages.map((page): WorkerOutcome => {
    try {
      const html = decodeHtml(new Uint8Array(page.body), page.contentType);
      return { ok: true, fields: extract(html, page.url, task.spec) };
    } catch (err) {
      return { ok: false, message: err instanceof Error ? err.message : String(err) };
    }
  });
  return { threadId, outcomes };
}
