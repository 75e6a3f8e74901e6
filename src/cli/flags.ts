import { availableParallelism } from 'node:os';
import { DEFAULTS, DEFAULT_USER_AGENT, type VolleyOptions } from '../options.js';
import type { BodyOutputMode } from '../keep/body-form.js';
import { DEFAULT_SAVE_NAME, SaveNamer } from '../keep/save-name.js';
import { METHODS } from '../source/requests.js';
import { formatDuration } from './duration.js';
import { formatSize } from './size.js';
import { UsageError } from './usage-error.js';
import { CRAWL_SCOPES, type CrawlScope } from '../crawl/follow-options.js';

/**
 * The command line's one description of each option (like vitest's `cli-config.ts`): name, alias, type, help,
 * default and where the value goes. The yargs setup and `--help`, the CLI -> library mapping and the flag named in
 * an error message are all derived from this table (args.ts); nothing else lists the flags.
 *
 * Defaults of library options are not written here: `--help` shows `DEFAULTS[option]` from options.ts, and an
 * absent flag leaves the option undefined so that the library fills it in.
 */

/**
 * How a flag's text is read. `duration`: `30s`, `500ms`, `2m`, `1h` or bare seconds, parsed to milliseconds.
 * `size`: `10MiB`, `64k`, `1.5M`, `500kB` or bare bytes, parsed to bytes (size.ts).
 */
export type FlagType = 'string' | 'number' | 'duration' | 'size' | 'boolean' | 'list' | 'choice';

/** What a value of each type is once parsed. A `list` flag is repeatable and gives every value in order. */
export interface FlagValue {
  string: string;
  number: number;
  /** Milliseconds. */
  duration: number;
  /** Bytes. */
  size: number;
  boolean: boolean;
  list: string[];
  choice: string;
}

export type OutputFormat = 'jsonl' | 'csv' | 'json';

/** What the command line asks of the CLI itself, besides the library options and the inputs. */
export interface CliSettings {
  /** `-i` files, in order; `-` is stdin. */
  inputFiles: string[];
  output: string | null;
  format: OutputFormat;
  quiet: boolean;
  /** undefined: on when stderr is a terminal. */
  progress: boolean | undefined;
  lock: string | null;
  resume: boolean;
  /** --since FILE: the previous run whose validators are sent. */
  since: string | null;
  shard: { index: number; count: number } | null;
  /** `--body`: how JSONL/JSON rows carry the body (the library keeps it as bytes, or parses it for `json`). */
  body: BodyOutputMode | null;
  /** `--csv-raw`: CSV cells without the formula escape. */
  csvRaw: boolean;
  /** `--requests` files, in order; `-` is stdin. */
  requestFiles: string[];
  /** `-d` / `--json` as typed (`@FILE` is read when the run starts): the body of every plain URL. */
  requestBody: CliBody | null;
  /** `--ca`, `--cert`, `--key`: PEM file paths, read when the run starts (run-files.ts). */
  tlsFiles: TlsFiles;
}

/** A body for every URL of a plain list: `-d` (`data`) or `--json`, as typed: text, `@FILE`, or `@-` for stdin. */
export interface CliBody {
  flag: 'data' | 'json';
  value: string;
}

export interface TlsFiles {
  ca: string | null;
  cert: string | null;
  key: string | null;
}

/** What the flags write into. `extract` is gathered from three flags and becomes `options.extract` at the end. */
export interface Draft {
  cli: CliSettings;
  options: VolleyOptions;
  extract: { enabled: boolean; links: boolean; select: Record<string, string> };
  /** The crawl's flags, gathered from several and checked together (args.ts) into `options.follow`. */
  crawl: CrawlDraft;
}

/** `--follow` and the flags that shape it; each sub-flag is an error without `--follow`. */
export interface CrawlDraft {
  follow: boolean;
  /** The sub-flags given, by name, for that error. */
  given: string[];
  depth?: number;
  scope?: CrawlScope;
  include: string[];
  exclude: string[];
  select?: string;
  maxPages?: number;
}

/** A `--include`/`--exclude` pattern, checked as the regular expression the library will compile. */
function regexes(flag: string, values: string[]): string[] {
  for (const v of values) {
    try {
      new RegExp(v);
    } catch (err) {
      throw new UsageError(`--${flag} expects a JavaScript regular expression, got ${JSON.stringify(v)}: ${(err as Error).message}`);
    }
  }
  return values;
}

/** What a crawl sub-flag writes, noting that it was given. */
function crawlFlag<K extends keyof CrawlDraft>(flag: string, key: K, value: CrawlDraft[K], into: Draft): void {
  into.crawl.given.push(`--${flag}`);
  into.crawl[key] = value;
}

/** Library options in milliseconds: set by `duration` flags only, and no `duration` flag sets anything else. */
type MsOption = Extract<keyof VolleyOptions, `${string}Ms`>;

/** Library options in bytes: set by `size` flags only (`--max-bytes 10MiB`), and no `size` flag sets anything else. */
type ByteOption = Extract<keyof VolleyOptions, `${string}Bytes` | 'maxHeaderSize'>;

interface FlagBase<T extends FlagType> {
  type: T;
  /** One letter, used as `-x`. */
  alias?: string;
  /** One or two lines for --help. Not the default: that is derived. */
  help: string;
  /**
   * The library option this flag sets (wholly or in part). Its `DEFAULTS` entry is the default shown in --help, and
   * an error `normalizeOptions` throws about it (`err.option`) is reported as this flag. Set by `sets()`, which
   * also writes the `apply` that assigns it, so the two cannot disagree.
   */
  option?: T extends 'duration' ? MsOption : T extends 'size' ? ByteOption : Exclude<keyof VolleyOptions, MsOption | ByteOption>;
  /** The default of a CLI-only flag: what an absent flag means. */
  default?: FlagValue[T];
  /** How --help states a default that is neither `DEFAULTS[option]` nor `default` (a computed or absent one). */
  defaultText?: string;
  /**
   * Puts the parsed value where it belongs. (Method syntax: a `choice` flag may take a narrower string type, such
   * as `'GET' | 'HEAD'`; the parser has checked the value against `choices` before it gets here.)
   */
  apply(value: FlagValue[T], into: Draft): void;
}

export type Flag =
  | FlagBase<'string'>
  | FlagBase<'number'>
  | FlagBase<'duration'>
  | FlagBase<'size'>
  | FlagBase<'boolean'>
  | FlagBase<'list'>
  | (FlagBase<'choice'> & {
      choices: readonly string[];
      /** The value of the flag given alone (`--body` is `--body text`): a word after it that is not a choice is not its value. */
      bare?: string;
    });

/**
 * The `option` and `apply` of a flag that sets one library option as it is. The flag's value type must be one the
 * option takes (a `number` flag cannot set `proxy`), the `...Ms` options are set by `duration` flags only and the
 * options in bytes by `size` flags only.
 */
export function sets<K extends keyof VolleyOptions>(option: K) {
  return {
    option,
    apply(value: NonNullable<VolleyOptions[K]>, into: Draft): void {
      into.options[option] = value;
    },
  };
}

/** `NAME=CSS`, `NAME=CSS@ATTR`, `NAME[]=CSS`: split once, here, at the first `=`; the library reads `@ATTR` and `[]`. */
export function parseSelects(values: string[]): Record<string, string> {
  const select: Record<string, string> = {};
  for (const raw of values) {
    const eq = raw.indexOf('=');
    const name = raw.slice(0, eq).trim();
    if (eq < 0 || name === '') throw new UsageError(`--select expects NAME=CSS (or NAME=CSS@ATTR, NAME[]=CSS), got ${JSON.stringify(raw)}`);
    if (Object.hasOwn(select, name)) throw new UsageError(`--select: the name ${JSON.stringify(name)} is given twice`);
    select[name] = raw.slice(eq + 1);
  }
  return select;
}

export function parseHeaders(values: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const raw of values) {
    const colon = raw.indexOf(':');
    if (colon <= 0) throw new UsageError(`--header expects "Name: value", got ${JSON.stringify(raw)}`);
    headers[raw.slice(0, colon).trim()] = raw.slice(colon + 1).trim();
  }
  return headers;
}

export function parseShard(raw: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(raw.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) {
    throw new UsageError(`--shard expects K/N with 0 <= K < N (K counts from 0, like a Kubernetes completion index), got ${JSON.stringify(raw)}`);
  }
  return { index, count };
}

/** Every flag, by its long name, in --help order. */
export const FLAGS = {
  input: {
    type: 'list', alias: 'i',
    help: 'Read URLs from FILE, one per line (- for stdin); blank lines and # comments are skipped',
    apply: (files, into) => void into.cli.inputFiles.push(...files),
  },
  output: {
    type: 'string', alias: 'o',
    help: 'Write results to FILE instead of stdout',
    apply: (path, into) => void (into.cli.output = path),
  },
  format: {
    type: 'choice', alias: 'f', choices: ['jsonl', 'csv', 'json'], default: 'jsonl',
    help: 'Output format',
    apply: (format: OutputFormat, into) => void (into.cli.format = format),
  },
  concurrency: {
    type: 'number', alias: 'c',
    help: 'Most requests in flight at once',
    ...sets('concurrency'),
  },
  'per-host': {
    type: 'number',
    help: 'Most requests in flight to one host (hostname:port)',
    ...sets('perHost'),
  },
  timeout: {
    type: 'duration', alias: 't',
    help: 'Total deadline of each request: connect, headers and body (each retry and redirect hop has its own)',
    ...sets('timeoutMs'),
  },
  retries: {
    type: 'number',
    help: 'Retries on connection errors, timeouts, 408/429/5xx, with backoff; Retry-After honoured',
    ...sets('retries'),
  },
  'max-bytes': {
    type: 'size',
    help: 'Largest body kept, counted after decompression',
    ...sets('maxBytes'),
  },
  'max-buffered': {
    type: 'size',
    help: 'Most bytes of fetched bodies held for the parser and the output at once; above it no new request starts',
    ...sets('maxBufferedBytes'),
  },
  'max-redirects': {
    type: 'number',
    help: 'Redirects followed',
    ...sets('maxRedirects'),
  },
  select: {
    type: 'list', alias: 's', option: 'extract',
    help: 'Extract NAME=CSS (text of the first match), NAME=CSS@ATTR (an attribute), NAME[]=CSS (every match)',
    apply: (values, into) => void (into.extract.select = parseSelects(values)),
  },
  links: {
    type: 'boolean',
    help: 'Add every <a href> link, absolute and de-duplicated',
    apply: (on, into) => void (into.extract.links = on),
  },
  extract: {
    type: 'boolean', default: true,
    help: 'Parse HTML pages; --no-extract gives status, size and timing only',
    apply: (on, into) => void (into.extract.enabled = on),
  },
  body: {
    type: 'choice', choices: ['text', 'json', 'base64'], bare: 'text', option: 'body',
    help: 'Add each 2xx body: text (a string when textual, else base64 with "bodyEncoding": "base64"), json (parsed, as "json"), base64. JSONL and JSON output only; --body alone is text',
    apply: (mode: BodyOutputMode, into) => {
      into.cli.body = mode;
      // Rows are written by the CLI: it takes the bytes and decides string or base64 per Content-Type.
      into.options.body = mode === 'json' ? 'json' : 'bytes';
    },
  },
  headers: {
    type: 'boolean',
    help: 'Add the response header fields (names lower-cased, repeated ones as arrays); one JSON column in CSV',
    ...sets('responseHeaders'),
  },
  save: {
    type: 'string', option: 'save',
    help: 'Write each 2xx body to a file under DIR (atomically; never outside DIR); adds savedAs and sha256',
    apply: (dir, into) => void (into.options.save = { dir }),
  },
  'save-name': {
    type: 'string', defaultText: DEFAULT_SAVE_NAME,
    help: 'File names under --save DIR, from {host} {path} {sha256} {index} {ext}',
    apply: (name, into) => {
      if (!into.options.save) throw new UsageError('--save-name needs --save DIR');
      try {
        void new SaveNamer(name);
      } catch (err) {
        throw new UsageError(`--save-name: ${(err as Error).message}`);
      }
      into.options.save = { ...into.options.save, name };
    },
  },
  warc: {
    type: 'string', option: 'warc',
    help: 'Write every response (redirect hops and error statuses too) as WARC/1.1 records to FILE, gzipped per record when FILE ends in .gz; with --resume, appended to',
    apply: (path, into) => void (into.options.warc = path),
  },
  'csv-raw': {
    type: 'boolean',
    help: "CSV cells exactly as received, without the ' put before a leading =, +, -, @, tab or CR (a spreadsheet formula)",
    apply: (on, into) => void (into.cli.csvRaw = on),
  },
  header: {
    type: 'list', alias: 'H', option: 'headers',
    help: "Extra request header 'Name: value'",
    apply: (values, into) => void (into.options.headers = parseHeaders(values)),
  },
  'user-agent': {
    type: 'string', alias: 'A', defaultText: DEFAULT_USER_AGENT,
    help: 'User-Agent, also the name matched in robots.txt',
    ...sets('userAgent'),
  },
  proxy: {
    type: 'string', defaultText: 'HTTP(S)_PROXY',
    help: 'Send every request through this HTTP proxy (overrides HTTP(S)_PROXY)',
    ...sets('proxy'),
  },
  threads: {
    type: 'number', defaultText: `${availableParallelism()} (CPU cores)`,
    help: 'Most HTML parser threads: one starts, the rest when parsing is the run\'s work (a page of 32 KiB or more, the one thread busy half the time, or pages waiting behind a slow one)',
    ...sets('threads'),
  },
  method: {
    type: 'choice', alias: 'X', choices: METHODS,
    help: 'Method of every URL, and of --requests lines that name none. HEAD checks links without bodies (GET on 405/501); POST and PATCH are retried only when they never reached the server, or on 429/503 with Retry-After',
    ...sets('method'),
  },
  requests: {
    type: 'list',
    help: 'Read requests from FILE (- for stdin), one JSON object per line: {"url", "method", "headers", "body" or "json", "meta", "timeoutMs", "retries"}; "meta" comes back in the row',
    apply: (files, into) => void into.cli.requestFiles.push(...files),
  },
  data: {
    type: 'string', alias: 'd',
    help: "Send this body with every URL (@FILE sends the file's bytes as they are, @- stdin), as application/x-www-form-urlencoded unless -H sets a Content-Type; needs -X POST, PUT or PATCH",
    apply: (value, into) => void (into.cli.requestBody = { flag: 'data', value }),
  },
  json: {
    type: 'string',
    help: 'Send this JSON (or @FILE, @-) with every URL, with Content-Type and Accept: application/json (curl --json); needs -X POST, PUT or PATCH',
    apply: (value, into) => void (into.cli.requestBody = { flag: 'json', value }),
  },
  insecure: {
    type: 'boolean', alias: 'k', option: 'tls',
    help: 'Accept any TLS certificate (expired, self-signed, for another name): for testing only; the summary says certificates were not checked',
    apply: (on, into) => void (on && (into.options.tls = { ...into.options.tls, rejectUnauthorized: false })),
  },
  ca: {
    type: 'string',
    help: "Also trust the CA certificates in this PEM file (added to Node's bundled roots), such as a company's internal CA",
    apply: (path, into) => void (into.cli.tlsFiles.ca = path),
  },
  cert: {
    type: 'string',
    help: 'Present this client certificate (PEM file; with --key) to servers that ask for one',
    apply: (path, into) => void (into.cli.tlsFiles.cert = path),
  },
  key: {
    type: 'string',
    help: 'The private key of --cert (PEM file, unencrypted)',
    apply: (path, into) => void (into.cli.tlsFiles.key = path),
  },
  http2: {
    type: 'boolean',
    help: "Offer HTTP/2 to https origins (ALPN): those that take it get one multiplexed connection. Off by default: undici's HTTP/2 client is younger than its HTTP/1.1 one",
    ...sets('http2'),
  },
  'max-header-size': {
    type: 'size',
    help: 'Largest response header section accepted (HTTP/1.1; h2 stops at 64 KiB); a larger one is TOO_LARGE',
    ...sets('maxHeaderSize'),
  },
  'retry-unsafe': {
    type: 'boolean',
    help: 'DANGEROUS: retry POST and PATCH after timeouts and resets too, when the server may already have acted on them (an order placed twice)',
    ...sets('retryUnsafe'),
  },
  rate: {
    type: 'number', defaultText: 'unlimited',
    help: 'At most N requests per second to any one host (fractions allowed)',
    ...sets('perHostRate'),
  },
  delay: {
    type: 'duration', defaultText: '0',
    help: 'At least this long between the starts of two requests to one host',
    ...sets('perHostDelayMs'),
  },
  'respect-robots': {
    type: 'boolean',
    help: "Obey each host's robots.txt (RFC 9309), Crawl-delay included",
    ...sets('respectRobots'),
  },
  sitemap: {
    type: 'list',
    help: "Seeds from a sitemap URL: a <urlset>, a <sitemapindex> (children read, 3 deep), a text sitemap or a robots.txt (its Sitemap: lines); gzip either way. Entries on another host are skipped unless --scope all (repeatable)",
    ...sets('sitemaps'),
  },
  'newer-than': {
    type: 'string',
    help: 'With --sitemap: keep only entries whose <lastmod> is later than DATE (ISO 8601: 2026-12-01 or 2026-12-01T06:00:00Z); entries without one are kept',
    ...sets('newerThan'),
  },
  follow: {
    type: 'boolean',
    help: 'Crawl: follow the links of every fetched HTML page, breadth-first, each URL requested once; obeys robots.txt and <meta name=robots content=nofollow> unless --no-respect-robots',
    apply: (on, into) => void (into.crawl.follow = on),
  },
  depth: {
    type: 'number', defaultText: '5',
    help: 'With --follow: links followed from a seed at most (wget -l); a page at this depth is fetched, its links are not followed',
    apply: (n, into) => crawlFlag('depth', 'depth', n, into),
  },
  scope: {
    type: 'choice', choices: CRAWL_SCOPES, defaultText: 'host',
    help: "With --follow: which links stay in the crawl, compared with their seed: the same host name, registrable domain (Public Suffix List), scheme+host+port, or all",
    apply: (scope: CrawlScope, into) => crawlFlag('scope', 'scope', scope, into),
  },
  include: {
    type: 'list',
    help: 'With --follow: follow only links matching this JavaScript RegExp (repeatable: any of them)',
    apply: (values, into) => crawlFlag('include', 'include', regexes('include', values), into),
  },
  exclude: {
    type: 'list',
    help: 'With --follow: never follow links matching this JavaScript RegExp (repeatable)',
    apply: (values, into) => crawlFlag('exclude', 'exclude', regexes('exclude', values), into),
  },
  'follow-select': {
    type: 'string',
    help: "With --follow: follow only the links matched by (or inside elements matched by) this CSS selector, e.g. 'a[rel~=next]' or '.pagination'",
    apply: (css, into) => crawlFlag('follow-select', 'select', css, into),
  },
  'max-pages': {
    type: 'number', defaultText: 'unlimited',
    help: 'With --follow: pages requested in the whole run at most, seeds included (robots.txt and redirect hops not counted)',
    apply: (n, into) => crawlFlag('max-pages', 'maxPages', n, into),
  },
  dedupe: {
    type: 'boolean',
    help: 'Skip repeated URLs (memory grows with the number of distinct URLs)',
    ...sets('dedupe'),
  },
  lock: {
    type: 'string',
    help: 'Refuse to start (exit 75) while another run holds this lock path; stale locks of killed runs are taken over',
    apply: (path, into) => void (into.cli.lock = path),
  },
  resume: {
    type: 'boolean',
    help: 'With -o FILE (jsonl): skip URLs that already have a final result in FILE, append the rest',
    apply: (on, into) => void (into.cli.resume = on),
  },
  since: {
    type: 'string',
    help: 'Conditional re-fetch: send the validators (ETag, Last-Modified) a previous run wrote to FILE (jsonl); a 304 is a success, marked notModified. May be the same file as -o with --resume',
    apply: (path, into) => void (into.cli.since = path),
  },
  'max-host-errors': {
    type: 'number',
    help: 'Skip a host for the rest of the run after N consecutive connection failures or timeouts (HOST_SKIPPED; 0: never)',
    ...sets('maxHostErrors'),
  },
  'host-cooldown': {
    type: 'duration',
    help: 'How long a host skipped by --max-host-errors waits before one probe request; doubled by each failed probe, up to 10m',
    ...sets('hostCooldownMs'),
  },
  accept: {
    type: 'string',
    help: "Statuses counted as ok, e.g. '200..299,304,403' (304 is added when --since sends validators)",
    ...sets('accept'),
  },
  shard: {
    type: 'string',
    help: 'K/N: keep only URLs whose host hashes to shard K of N (K from 0), for splitting one list over N machines',
    apply: (raw, into) => void (into.cli.shard = parseShard(raw)),
  },
  quiet: {
    type: 'boolean', alias: 'q',
    help: 'No progress and no summary; errors only',
    apply: (on, into) => void (into.cli.quiet = on),
  },
  progress: {
    type: 'boolean', defaultText: 'on when stderr is a terminal',
    help: 'Live progress on stderr',
    apply: (on, into) => void (into.cli.progress = on),
  },
} as const satisfies Record<string, Flag>;

export type FlagName = keyof typeof FLAGS;

/** A fresh draft: every CLI setting as if its flag were absent. */
export function newDraft(): Draft {
  return {
    cli: {
      inputFiles: [], output: null, format: FLAGS.format.default, quiet: false, progress: undefined, lock: null, resume: false, since: null, shard: null,
      body: null, csvRaw: false, requestFiles: [], requestBody: null, tlsFiles: { ca: null, cert: null, key: null },
    },
    options: {},
    extract: { enabled: FLAGS.extract.default, links: false, select: {} },
    crawl: { follow: false, given: [], include: [], exclude: [] },
  };
}

/** The default as --help states it, or null when there is none to state. */
export function defaultText(flag: Flag): string | null {
  if (flag.defaultText !== undefined) return flag.defaultText;
  if (flag.default !== undefined) return String(flag.default);
  if (flag.option !== undefined && Object.hasOwn(DEFAULTS, flag.option)) {
    const value = DEFAULTS[flag.option as keyof typeof DEFAULTS];
    if (flag.type === 'duration') return formatDuration(value as number);
    return flag.type === 'size' ? formatSize(value as number) : String(value);
  }
  return null;
}

/** `[duration] [default: 20s]`: what --help shows after each flag's help. */
export function helpExtras(flag: Flag): string {
  const type = flag.type === 'choice' ? flag.choices.join('|') : flag.type === 'list' ? 'repeatable' : flag.type;
  const def = defaultText(flag);
  // No-break spaces: a wrapped help line may break between the brackets, never inside them.
  return `[${type}]${def === null ? '' : ` [default:\u00a0${def.replaceAll(' ', '\u00a0')}]`}`;
}

/** The flag a library option error is about, as the user types it; undefined for options no flag sets. */
export function flagOfOption(option: string): FlagName | undefined {
  return (Object.keys(FLAGS) as FlagName[]).find((name) => (FLAGS[name] as Flag).option === option);
}

