import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { readUrlFile } from '../source/lines.js';
import { readRequestFile, type RequestLine } from '../source/request-lines.js';
import type { SourceLine } from '../source/url-input.js';
import type { CliConfig } from './args.js';
import { UsageError } from './usage-error.js';

export type Input = { kind: 'url'; value: string } | { kind: 'file'; path: string } | { kind: 'requests'; path: string };

/** A NUL byte this early means a binary file, not a list (the test grep and git use). */
const SNIFF_BYTES = 8 * 1024;

/**
 * Checks that a list file can be read and is text: a usage error (exit 2) otherwise, so that a cron job whose list
 * went missing, or was given a binary by mistake, fails loudly before anything is fetched. Only regular files are
 * sniffed: reading from a pipe (`-i <(cmd)`) would eat what the run is to read.
 */
function checkListFile(path: string, flag: string | null): void {
  const where = flag === null ? '' : `${flag}: `;
  let fd: number;
  try {
    if (statSync(path).isDirectory()) throw new UsageError(`${where}${path} is a directory, not a file of URLs`);
    fd = openSync(path, 'r');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UsageError(flag === null ? `no such file: ${path} (a word without :// is read as a file of URLs)` : `${where}no such file: ${path}`);
    }
    throw new UsageError(`${where}cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    if (!fstatSync(fd).isFile()) return;
    const start = Buffer.alloc(SNIFF_BYTES);
    const n = readSync(fd, start, 0, SNIFF_BYTES, 0);
    if (start.subarray(0, n).includes(0)) throw new UsageError(`${where}${path} looks like a binary file (NUL bytes in its first 8 KiB), not a list of URLs`);
  } finally {
    closeSync(fd);
  }
}

/**
 * What to read, in order: the positional words, then the -i files, then the --requests files. A word with `://` is a URL (a bad one becomes an
 * INVALID_URL or UNSUPPORTED_SCHEME result, as in a file); `-` is stdin; any other word must name a readable text
 * file. Throws UsageError; reads at most the first 8 KiB of each file.
 */
export function planInputs(config: Pick<CliConfig, 'inputs' | 'inputFiles'> & { requestFiles?: string[] }): Input[] {
  const plan: Input[] = config.inputs.map((word) => {
    if (word === '-') return { kind: 'file', path: word };
    if (word.includes('://')) return { kind: 'url', value: word };
    checkListFile(word, null);
    return { kind: 'file', path: word };
  });
  for (const path of config.inputFiles) {
    if (path !== '-') checkListFile(path, '--input');
    plan.push({ kind: 'file', path });
  }
  for (const path of config.requestFiles ?? []) {
    if (path !== '-') checkListFile(path, '--requests');
    plan.push({ kind: 'requests', path });
  }
  if (plan.filter((i) => i.kind !== 'url' && i.path === '-').length > 1) throw new UsageError('stdin (-) can be read only once');
  return plan;
}

/** The URL lines and request lines of the plan, read lazily, in order. */
export async function* urlsOf(plan: Input[], stdin: Readable): AsyncGenerator<SourceLine | RequestLine> {
  for (const input of plan) {
    if (input.kind === 'url') yield input.value;
    else if (input.kind === 'requests') yield* readRequestFile(input.path, stdin);
    else yield* readUrlFile(input.path, stdin);
  }
}
