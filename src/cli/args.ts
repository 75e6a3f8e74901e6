import { fstatSync } from 'node:fs';
import yargs from 'yargs';
import { VERSION } from '../version.js';

/** Exit codes: the contract with shells and cron (README "Exit codes"). */
export const EXIT = {
  OK: 0,
  SOME_FAILED: 1,
  USAGE: 2,
  /** EX_SOFTWARE: an internal error (a bug in volley), reported with its stack. */
  SOFTWARE: 70,
  /** EX_IOERR: the output could not be written (disk full, a closed pipe other than EPIPE). */
  IO_ERROR: 74,
  /** EX_TEMPFAIL from sysexits.h: another run holds the lock, try again later. */
  LOCKED: 75,
  SIGINT: 130,
  SIGTERM: 143,
} as const;

export type OutputFormat = 'jsonl' | 'csv' | 'json';

/** Everything the command line asked for, parsed and checked; no side effects were needed to build it. */
export interface CliConfig {
  /** Positional URLs and files, in order; `-` is stdin. */
  inputs: string[];
  /** `-i` files, in order; `-` is stdin. */
  inputFiles: string[];
  output: string | null;
  format: OutputFormat;
  concurrency: number | undefined;
  perHost: number | undefined;
  timeoutMs: number | undefined;
  retries: number | undefined;
  maxBytes: number | undefined;
  maxRedirects: number | undefined;
  select: string[];
  links: boolean;
  headers: Record<string, string>;
  userAgent: string | undefined;
  proxy: string | undefined;
  threads: number | undefined;
  quiet: boolean;
  progress: boolean | undefined;
  lock: string | null;
  resume: boolean;
  shard: { index: number; count: number } | null;
  rate: number | undefined;
  delayMs: number | undefined;
  respectRobots: boolean;
  method: 'GET' | 'HEAD';
  dedupe: boolean;
  noExtract: boolean;
}

/** A usage or configuration error: exit 2, the message names the flag and the value, and a hint follows. */
/** Whether stdin is a pipe, socket or file (`cat list | volley`, `volley < list`), not a terminal or /dev/null. */
function stdinHasData(): boolean {
  try {
    const st = fstatSync(0);
    return st.isFIFO() || st.isFile() || st.isSocket();
  } catch {
    return false;
  }
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const EXAMPLES: [string, string][] = [
  ['volley urls.txt > out.jsonl', 'fetch every URL in a file, one JSON line per result'],
  ['grep https list.txt | volley - | jq .status', 'read URLs from stdin'],
  ['volley -i urls.txt -f csv -o out.csv --links', 'CSV with every link of each page'],
  ["volley urls.txt -s 'h1=h1' -s 'next=a.next@href' -s 'items[]=li'", 'CSS extraction: text, attribute, all matches'],
  ['volley urls.txt --method HEAD -c 100', 'link check: status only'],
  ['volley urls.txt --rate 2 --respect-robots', 'polite: 2 requests/s per host, robots.txt obeyed'],
  ['volley urls.txt -o out.jsonl --resume --lock /tmp/volley.lock -q', 'cron: no overlap, picks up where a killed run stopped'],
  ['volley urls.txt --shard $JOB_COMPLETION_INDEX/4', 'one of 4 machines: a stable split by host'],
];

const EPILOGUE = `Output: one result per URL, in completion order, to stdout or -o. Progress, warnings and the summary go to stderr.

Exit codes: 0 every URL ok, 1 some URL not ok, 2 usage or configuration error, 75 another run holds --lock (cron may retry), 130 interrupted (SIGINT), 143 terminated (SIGTERM).

Ctrl-C once: stop taking URLs, abort what is in flight, write every finished result (unfinished ones as CANCELLED), print the summary. Twice: exit at once.

Error codes in results: INVALID_URL UNSUPPORTED_SCHEME DNS CONNECT TLS TIMEOUT RESET HTTP_STATUS TOO_LARGE TOO_MANY_REDIRECTS DECODE PARSE ROBOTS_DISALLOWED CANCELLED (see the README).
Proxies: HTTP_PROXY, HTTPS_PROXY and NO_PROXY are honoured; --proxy overrides them.`;

function parseHeader(raw: string): [string, string] {
  const colon = raw.indexOf(':');
  if (colon <= 0) throw new UsageError(`--header expects "Name: value", got ${JSON.stringify(raw)}`);
  return [raw.slice(0, colon).trim(), raw.slice(colon + 1).trim()];
}

function parseShard(raw: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(raw.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) {
    throw new UsageError(`--shard expects K/N with 0 <= K < N (K counts from 0, like a Kubernetes completion index), got ${JSON.stringify(raw)}`);
  }
  return { index, count };
}

/** Repeatable flags: yargs gives a string for one use and an array for several. (Not `array: true`, which would
 * swallow the positional URLs that follow: `volley -s h1=h1 urls.txt`.) */
function list(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** Numbers are taken as strings so that a bad one is echoed as typed, not as yargs' NaN. */
function number(flag: string, value: unknown, { integer = true, min = 0 } = {}): number | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new UsageError(`--${flag} was given more than once: ${value.map((v) => JSON.stringify(String(v))).join(', ')}`);
  const n = typeof value === 'string' && value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min) {
    throw new UsageError(`--${flag} expects ${integer ? 'a whole number' : 'a number'} of at least ${min}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function positiveRate(value: unknown): number | undefined {
  const n = number('rate', value, { integer: false });
  if (n === 0) throw new UsageError('--rate expects a number above 0 (requests per second per host), got 0');
  return n;
}

function parser(argv: string[]) {
  return yargs(argv)
    .scriptName('volley')
    .usage('Usage: volley [URL|FILE|-]... [options]\n\nFetch many URLs at once, each with its own deadline, and write one result per URL as it finishes.')
    .option('input', { alias: 'i', type: 'string', description: 'Read URLs from FILE, one per line (- for stdin); blank lines and # comments are skipped. Repeatable.' })
    .option('output', { alias: 'o', type: 'string', description: 'Write results to FILE instead of stdout' })
    .option('format', { alias: 'f', choices: ['jsonl', 'csv', 'json'] as const, default: 'jsonl' as const, description: 'Output format' })
    .option('concurrency', { alias: 'c', type: 'string', requiresArg: true, description: 'Most requests in flight at once [default: 50]' })
    .option('per-host', { type: 'string', requiresArg: true, description: 'Most requests in flight to one host [default: 8]' })
    .option('timeout', { alias: 't', type: 'string', requiresArg: true, description: 'Total deadline of each request in ms (connect, headers and body; each retry and redirect hop has its own) [default: 20000]' })
    .option('retries', { type: 'string', requiresArg: true, description: 'Retries on connection errors, timeouts, 408/429/5xx, with backoff; Retry-After honoured [default: 2]' })
    .option('max-bytes', { type: 'string', requiresArg: true, description: 'Largest body kept, after decompression [default: 10485760]' })
    .option('max-redirects', { type: 'string', requiresArg: true, description: 'Redirects followed [default: 10]' })
    .option('select', { alias: 's', type: 'string', description: "Extract NAME=CSS (text of first match), NAME=CSS@ATTR (an attribute), NAME[]=CSS (every match). Repeatable." })
    .option('links', { type: 'boolean', default: false, description: 'Add every <a href> link, absolute and de-duplicated' })
    .option('extract', { type: 'boolean', default: true, description: 'Parse HTML pages; --no-extract gives status, size and timing only' })
    .option('header', { alias: 'H', type: 'string', description: "Extra request header 'Name: value'. Repeatable." })
    .option('user-agent', { alias: 'A', type: 'string', description: 'User-Agent, also the name matched in robots.txt [default: volley/VERSION]' })
    .option('proxy', { type: 'string', description: 'Send every request through this HTTP proxy (overrides HTTP(S)_PROXY)' })
    .option('threads', { type: 'string', requiresArg: true, description: 'HTML parser threads [default: available CPU cores]' })
    .option('method', { choices: ['GET', 'HEAD'] as const, default: 'GET' as const, description: 'HEAD checks links without bodies (falls back to GET on 405/501)' })
    .option('rate', { type: 'string', requiresArg: true, description: 'At most N requests per second to any one host (fractions allowed)' })
    .option('delay', { type: 'string', requiresArg: true, description: 'At least MS milliseconds between requests to one host' })
    .option('respect-robots', { type: 'boolean', default: false, description: "Obey each host's robots.txt (RFC 9309), Crawl-delay included" })
    .option('dedupe', { type: 'boolean', default: false, description: 'Skip repeated URLs (memory grows with the number of distinct URLs)' })
    .option('lock', { type: 'string', description: 'Refuse to start (exit 75) while another run holds this lock path; stale locks of killed runs are taken over' })
    .option('resume', { type: 'boolean', default: false, description: 'With -o FILE (jsonl): skip URLs that already have a final result in FILE, append the rest' })
    .option('shard', { type: 'string', description: 'K/N: keep only URLs whose host hashes to shard K of N (K from 0), for splitting one list over N machines' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, description: 'No progress and no summary; errors only' })
    .option('progress', { type: 'boolean', description: 'Live progress on stderr [default: on when stderr is a terminal]' })
    .example(EXAMPLES)
    .epilogue(EPILOGUE)
    .strictOptions()
    .parserConfiguration({ 'boolean-negation': true, 'camel-case-expansion': true })
    .version(VERSION)
    .alias('version', 'V')
    .help()
    .alias('help', 'h')
    .wrap(Math.min(110, process.stderr.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
}

/** `{ help: text }` or `{ version }` for those flags, the config otherwise. Throws UsageError; touches nothing. */
export async function parseCli(argv: string[]): Promise<{ kind: 'run'; config: CliConfig } | { kind: 'info'; text: string }> {
  let output = '';
  const y = parser(argv);
  let a: Awaited<ReturnType<typeof y.parse>>;
  try {
    a = await y.parse(argv, {}, (_err: unknown, _argv: unknown, out: string) => {
      output = out;
    });
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError((err as Error).message);
  }
  if (a.help || a.version) return { kind: 'info', text: output };

  const headers: Record<string, string> = {};
  for (const raw of list(a.header)) {
    const [name, value] = parseHeader(String(raw));
    headers[name] = value;
  }
  const output_ = a.output ?? null;
  const format = a.format as OutputFormat;
  if (a.resume && !output_) throw new UsageError('--resume needs -o FILE: it reads what that file already holds');
  if (a.resume && format !== 'jsonl') throw new UsageError(`--resume works with -f jsonl only, got -f ${format}`);
  const config: CliConfig = {
    inputs: a._.map(String),
    inputFiles: list(a.input),
    output: output_,
    format,
    concurrency: number('concurrency', a.concurrency, { min: 1 }),
    perHost: number('per-host', a.perHost, { min: 1 }),
    timeoutMs: number('timeout', a.timeout, { min: 1 }),
    retries: number('retries', a.retries),
    maxBytes: number('max-bytes', a.maxBytes, { min: 1 }),
    maxRedirects: number('max-redirects', a.maxRedirects),
    select: list(a.select),
    links: a.links,
    headers,
    userAgent: a.userAgent,
    proxy: a.proxy,
    threads: number('threads', a.threads, { min: 1 }),
    quiet: a.quiet,
    progress: a.progress,
    lock: a.lock ?? null,
    resume: a.resume,
    shard: a.shard === undefined ? null : parseShard(a.shard),
    rate: positiveRate(a.rate),
    delayMs: number('delay', a.delay),
    respectRobots: a.respectRobots,
    method: a.method,
    dedupe: a.dedupe,
    noExtract: a.extract === false,
  };
  if (config.inputs.length === 0 && config.inputFiles.length === 0) {
    // Stdin is read only when asked for (`-`): a cron job whose list went missing must fail, not read an empty
    // stdin and exit 0. But a pipe into a bare `volley` almost surely meant `-`, so say so.
    throw new UsageError(
      stdinHasData()
        ? "no URLs given; to read the URLs coming in on stdin, add '-' (as in `cat urls.txt | volley -`)"
        : 'no URLs given: pass URLs or files as arguments, -i FILE, or - to read stdin',
    );
  }
  return { kind: 'run', config };
}
