import { closeSync, createReadStream, existsSync, openSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * A crawl's state file (issue 20, `--resume` for crawls): an append-only journal of what the frontier accepted, one
 * JSON line each, written before the row of the page that found it is handed on. Appending whole lines is what
 * makes it safe to kill at any moment (SIGKILL included): a line cut short is the last one, and replay skips it.
 *
 * - `{"u":URL,"d":DEPTH,"r":REFERRER,"s":SCOPE}`: a URL queued at DEPTH (a seed has d 0, r null, and `g`, the seed
 *   as given, when that differs from its key);
 * - `{"c":URL,"by":URL}`: a URL claimed by a redirect hop of `by` (requested, never to be queued; on replay only if
 *   `by` has its final row, else `by` runs again and claims it again).
 *
 * Replay gives the seen set back (every line) and the URLs still to do (queued ones whose row in the output is not
 * final), at their depths; the crawl then goes on as if it had not stopped.
 */
export interface JournalLine {
  u?: string;
  /** A seed as given, when that is not its key: a string as typed, or a request object. */
  g?: unknown;
  /** 1: a seed that an earlier seed's page had linked to, promoted to depth 0 (its depth-1 line is void). */
  p?: 1;
  /** With `c`: the URL (as its row names it) whose redirect claimed `c`. */
  by?: string;
  d?: number;
  r?: string | null;
  s?: string;
  /** A sitemap seed's `<lastmod>`. */
  m?: string | null;
  c?: string;
}

export class Journal {
  private fd: number | null;

  /** Opens (appending) the journal at `path`. */
  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }

  /** Appends lines with one write: the lines a page's links made, before its row goes on. */
  write(lines: readonly JournalLine[]): void {
    if (this.fd === null || lines.length === 0) return;
    let text = '';
    for (const line of lines) text += `${JSON.stringify(line)}\n`;
    writeSync(this.fd, text);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** Every line of a journal, in order; a line that does not parse (the last, cut by a kill) is skipped. */
export async function* replayJournal(path: string): AsyncGenerator<JournalLine> {
  if (!existsSync(path)) return;
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const text of lines) {
    if (text === '') continue;
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      continue;
    }
    if (line !== null && typeof line === 'object') yield line as JournalLine;
  }
}
