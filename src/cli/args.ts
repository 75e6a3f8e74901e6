import { fstatSync } from 'node:fs';
import yargsParser from 'yargs-parser';
import { normalizeOptions, type OptionError, type VolleyOptions } from '../options.js';
import type { NormalizedExtract } from '../parse/spec.js';
import { VERSION } from '../version.js';
import { ERROR_CODES } from '../errors.js';
import { parseDuration, DURATION_FORMS } from './duration.js';
import { parseSize, SIZE_FORMS } from './size.js';
import { FLAGS, flagOfOption, helpExtras, newDraft, type CliSettings, type Draft, type Flag, type FlagName, type OutputFormat } from './flags.js';
import { UsageError } from './usage-error.js';
import { SPELLINGS, checkNegations } from './negation.js';

export { UsageError };
export type { OutputFormat };

/** Exit codes: the contract with shells and cron (README "Exit codes"). The numbers above 2 are from sysexits.h. */
export const EXIT = {
  OK: 0,
  SOME_FAILED: 1,
  USAGE: 2,
  /** EX_SOFTWARE: an internal error (a bug); a stack trace goes to stderr. */
  SOFTWARE: 70,
  /** EX_UNAVAILABLE: the shared queue's Redis cannot be reached (`volley enqueue`, `work`, `queue`). */
  UNAVAILABLE: 69,
  /** EX_IOERR: the output could not be written (disk full, -o /dev/full); stderr says what and where. */
  IO_ERROR: 74,
  /** EX_TEMPFAIL: another run holds the lock, try again later. */
  LOCKED: 75,
  SIGINT: 130,
  SIGTERM: 143,
} as const;

/** Everything the command line asked for, parsed and checked; no side effects were needed to build it. */
export interface CliConfig extends CliSettings {
  /** Positional words in order: URLs, files of URLs, `-` for stdin (told apart by `planInputs`). */
  inputs: string[];
  /** The library options the flags set, checked by `normalizeOptions`; an absent flag leaves its option undefined. */
  options: VolleyOptions;
  /** What will be extracted, as the library normalised it (null with --no-extract): the CSV columns follow it. */
  extract: NormalizedExtract | null;
}

const EXAMPLES: [string, string][] = [
  ['volley urls.txt > out.jsonl', 'fetch every URL in a file, one JSON line per result'],
  ['grep https list.txt | volley - | jq .status', 'read URLs from stdin'],
  ['volley -i urls.txt -f csv -o out.csv --links', 'CSV with every link of each page'],
  ["volley urls.txt -s 'h1=h1' -s 'next=a.next@href' -s 'items[]=li'", 'CSS extraction: text, attribute, all matches'],
  ['volley urls.txt --method HEAD -c 100 -t 10s', 'link check: status only, 10 seconds per request'],
  ['volley --requests calls.jsonl -o out.jsonl', 'API batch: one request object per line, its "meta" back in its row'],
  ["volley urls.txt -X POST --json '{\"ping\":true}'", 'the same JSON body to every URL'],
  ['volley urls.txt --rate 2 --delay 500ms --respect-robots', 'polite: 2 requests/s and 500 ms apart per host, robots.txt obeyed'],
  ['volley urls.txt -o out.jsonl --resume --lock /tmp/volley.lock -q', 'cron: no overlap, picks up where a killed run stopped'],
  ['volley urls.txt --shard $JOB_COMPLETION_INDEX/4', 'one of 4 machines: a stable split by host'],
];

const EPILOGUE = `Inputs: a word with :// is a URL; any other word must name a file of URLs (or be - for stdin), else it is a usage error. In a file, a line that is not an http(s) URL, or is longer than 64 KiB, becomes an INVALID_URL or UNSUPPORTED_SCHEME result.

Durations (--timeout, --delay): 30s, 500ms, 2m, 1h; a bare number is seconds, fractions allowed (1.5 = 1500ms).

Sizes (--max-bytes, --max-buffered, --max-header-size): 10MiB, 64k, 1.5M, 500kB; a bare number is bytes. k, M, G are 1024-based, as in curl (10M = 10 MiB = 10485760 bytes); kB, MB, GB are 1000-based (10MB = 10000000); KiB, MiB, GiB 1024-based; any case. Fractions are rounded to the nearest byte.

Output: one result per URL, in completion order, to stdout or -o. Progress, warnings and the summary go to stderr.

Exit codes: 0 every URL ok, 1 some URL not ok, 2 usage or configuration error, 70 internal error (a bug), 74 the output could not be written, 75 another run holds --lock (cron may retry), 130 interrupted (SIGINT), 143 terminated (SIGTERM).

Ctrl-C once: stop taking URLs, abort what is in flight, write every finished result (unfinished ones as CANCELLED), print the summary. Twice: exit at once.

Requests (--requests FILE): one JSON object per line, {"url", "method", "headers", "body" or "json", "meta", "timeoutMs", "retries"}; a line that is not one is an INVALID_REQUEST row. POST and PATCH are retried only when they provably never reached the server (CONNECT: the connection could not be made) or on 429/503 with Retry-After (RFC 9110 §9.2.2); --retry-unsafe retries them like GET (dangerous).

Error codes in results: ${ERROR_CODES.join(' ')} (see the README).
Proxies: HTTP_PROXY, HTTPS_PROXY and NO_PROXY are honoured; --proxy overrides them.

Past one machine, a shared job on Redis: volley enqueue, volley work, volley queue status|results|drop (each with --help; exit 69 when Redis cannot be reached).`;

/** How words become flags, for yargs and for the parse without it (`quickParse`). */
const PARSER_CONFIGURATION = { 'boolean-negation': true, 'camel-case-expansion': true, 'parse-numbers': false, 'parse-positional-numbers': false } as const;

/** The yargs setup, derived from the flag table. Values are taken as strings, so that a bad one is echoed as typed. */
async function parser(argv: string[]) {
  const { default: yargs } = await import('yargs');
  let y = yargs(argv)
    .scriptName('volley')
    .usage('Usage: volley [URL|FILE|-]... [options]\n\nFetch many URLs at once, each with its own deadline, and write one result per URL as it finishes.');
  for (const [name, flag] of Object.entries(FLAGS) as [FlagName, Flag][]) {
    y = y.option(name, {
      alias: flag.alias,
      // Not `array: true` for lists, which would swallow the positional URLs that follow (`volley -s h1=h1 urls.txt`):
      // a repeated flag gives an array anyway.
      type: flag.type === 'boolean' ? 'boolean' : 'string',
      requiresArg: flag.type !== 'boolean',
      description: `${flag.help}  ${helpExtras(flag)}`,
    });
  }
  // yargs can only say [string] for what it takes as a string: the table's own types and defaults are in the
  // descriptions instead. (`usageConfiguration` is yargs 18; @types/yargs is still at 17.)
  y = (y as typeof y & { usageConfiguration(c: { 'hide-types': boolean }): typeof y }).usageConfiguration({ 'hide-types': true });
  return y
    .example(EXAMPLES)
    .epilogue(EPILOGUE)
    .strictOptions()
    .parserConfiguration(PARSER_CONFIGURATION)
    .version(VERSION)
    .alias('version', 'V')
    .help()
    .alias('help', 'h')
    .wrap(Math.min(110, process.stderr.columns || 100))
    .exitProcess(false)
    .fail((msg: string, err: Error | undefined) => {
      throw err ?? new UsageError(msg);
    });
}

type ParsedArgs = Record<string, unknown> & { _: (string | number)[] };

/**
 * The words parsed as yargs parses them, without yargs, or null when yargs must have its say. yargs parses with
 * yargs-parser, given options it derives from the setup above; this gives yargs-parser the same options, derived
 * from the same flag table, and takes the result only when yargs would have nothing to add: no parse error (a
 * flag without its value), no unknown option (strictOptions), no --help or --version, no `help` word (yargs's
 * help command), no `--`. Anything else goes to yargs, which answers as before: the words are parsed again there.
 * Why: loading and setting up yargs (its modules, the 50-option setup, the help text's descriptions) cost a run
 * ~10-15 ms of start-up, for help text and messages that a run with good flags never prints.
 * test/cli-args.test.ts checks both paths give the same result for each of its command lines.
 */
function quickParse(argv: string[]): ParsedArgs | null {
  if (argv.includes('--')) return null;
  const alias: Record<string, string[]> = { version: ['V'], help: ['h'] };
  const boolean: string[] = [];
  const string: string[] = [];
  const narg: Record<string, number> = {};
  for (const [name, flag] of Object.entries(FLAGS) as [FlagName, Flag][]) {
    // Every name, with or without a letter: yargs-parser links the camel-case spelling (`--no-respectRobots`) to the
    // names it is given here, as yargs gives it every option's name.
    alias[name] = flag.alias === undefined ? [] : [flag.alias];
    if (flag.type === 'boolean') boolean.push(name);
    else {
      string.push(name);
      // What yargs's `requiresArg` sets: one value, whatever it looks like.
      narg[name] = NaN;
    }
  }
  boolean.push('version', 'help');
  const parsed = yargsParser.detailed(argv, { alias, boolean, string, narg, configuration: { ...PARSER_CONFIGURATION, 'populate--': true } });
  if (parsed.error) return null;
  const a = parsed.argv as ParsedArgs;
  if (a.help !== undefined || a.version !== undefined) return null;
  // Not `parsed.aliases`: yargs-parser adds to it the camel-case twin of every dashed key it meets, known or not
  // (`--max-byte 5` gives `max-byte` and `maxByte`), so every mistyped dashed flag looked known and ran (issue 19).
  if (Object.keys(a).some((key) => key !== '_' && !SPELLINGS.has(key))) return null;
  if (a._.some((word) => word === 'help' || word === 'version')) return null;
  return a;
}

/** `--body` given alone is `--body=text` (its `bare` value): a word after it that is not one of its choices is left as an input. */
function withBareValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === '--') return [...out, ...argv.slice(i)];
    const name = token.slice(2);
    const flag = token.startsWith('--') && Object.hasOwn(FLAGS, name) ? (FLAGS[name as FlagName] as Flag) : null;
    out.push(flag?.type === 'choice' && flag.bare !== undefined && !flag.choices.includes(argv[i + 1] ?? '') ? `${token}=${flag.bare}` : token);
  }
  return out;
}

/** One value of a flag that is not repeatable, as typed. */
function single(name: string, raw: unknown): string {
  if (Array.isArray(raw)) throw new UsageError(`--${name} was given more than once: ${raw.map((v) => JSON.stringify(String(v))).join(', ')}`);
  const text = String(raw);
  if (text.trim() === '') throw new UsageError(`--${name} expects a value, got ""`);
  return text;
}

/** Converts what yargs gave for one flag to the flag's type and hands it to the flag. */
function applyFlag(name: string, flag: Flag, raw: unknown, into: Draft): void {
  switch (flag.type) {
    case 'boolean':
      // `--quiet --quiet` gives an array: the last one counts, as with `--progress --no-progress`.
      return flag.apply(Boolean(Array.isArray(raw) ? raw.at(-1) : raw), into);
    case 'list':
      return flag.apply((Array.isArray(raw) ? raw : [raw]).map(String), into);
    case 'string':
      return flag.apply(single(name, raw), into);
    case 'number': {
      const text = single(name, raw);
      const n = Number(text);
      if (!Number.isFinite(n)) throw new UsageError(`--${name} expects a number, got ${JSON.stringify(text)}`);
      return flag.apply(n, into);
    }
    case 'duration': {
      const text = single(name, raw);
      const ms = parseDuration(text);
      if (ms === null) throw new UsageError(`--${name} expects ${DURATION_FORMS}, got ${JSON.stringify(text)}`);
      // --timeout and --delay took milliseconds before durations had units: an old crontab's `-t 20000` would now
      // wait 5.6 hours without a word. A bare number that large is refused; with a unit it is taken.
      if (/^[\d.]+$/.test(text.trim()) && ms >= BARE_SECONDS_LIMIT * 1000) {
        throw new UsageError(
          `--${name} ${text.trim()} would be ${text.trim()} seconds (a bare number is seconds; before durations had units it was milliseconds): write the unit, as in ${text.trim()}ms or ${Math.round(ms / 1000_000)}s`,
        );
      }
      return flag.apply(ms, into);
    }
    case 'size': {
      const text = single(name, raw);
      const bytes = parseSize(text);
      if (bytes === null) throw new UsageError(`--${name} expects ${SIZE_FORMS}, got ${JSON.stringify(text)}`);
      return flag.apply(bytes, into);
    }
    case 'choice': {
      const text = single(name, raw);
      if (!flag.choices.includes(text)) throw new UsageError(`--${name} expects one of ${flag.choices.join(', ')}, got ${JSON.stringify(text)}`);
      return flag.apply(text, into);
    }
  }
}

/** Bare numbers from this many seconds up need a unit (see the duration case below). */
const BARE_SECONDS_LIMIT = 1000;

/**
 * A library option error (`err.option`, from `normalizeOptions`) as a usage error about the flag the user typed.
 * The option's name in the message becomes the flag; a duration or size flag says the library's unit (ms, bytes).
 */
function usageErrorOf(err: OptionError): UsageError {
  const name = flagOfOption(err.option);
  if (name === undefined) return new UsageError(err.message);
  const { type } = FLAGS[name] as Flag;
  const label = type === 'duration' ? `--${name} (in ms)` : type === 'size' ? `--${name} (in bytes)` : `--${name}`;
  const quoted = `\`${err.option}\``;
  return new UsageError(err.message.includes(quoted) ? err.message.replace(quoted, label) : `--${name}: ${err.message}`);
}

/**
 * The request flags checked against each other: a body needs a method that carries one (curl's `-d` quietly
 * turns GET into POST; here the method is said, so that a list is never POSTed by surprise), and a URL list to go
 * with; `--json` text must be JSON; `--cert` comes with `--key`; stdin is read once.
 */
function checkRequestFlags(cli: CliSettings, options: VolleyOptions, plainInputs: boolean): void {
  const body = cli.requestBody;
  if (body !== null) {
    const flag = body.flag === 'data' ? '-d/--data' : '--json';
    const method = options.method ?? 'GET';
    if (method === 'GET' || method === 'HEAD') {
      throw new UsageError(`${flag} sends a body, which ${method} cannot carry: add -X POST (or -X PUT, -X PATCH)`);
    }
    if (!plainInputs) throw new UsageError(`${flag} is the body of every URL of a list (arguments, -i); --requests lines carry their own "body" or "json"`);
    if (body.flag === 'json' && !body.value.startsWith('@')) {
      try {
        JSON.parse(body.value);
      } catch (err) {
        throw new UsageError(`--json expects JSON text (or @FILE), got ${JSON.stringify(body.value.slice(0, 200))}: ${(err as Error).message}`);
      }
    }
  }
  const { cert, key } = cli.tlsFiles;
  if ((cert === null) !== (key === null)) throw new UsageError(cert === null ? '--key needs --cert (the client certificate it belongs to)' : '--cert needs --key (its private key)');
}

/** Whether stdin is a pipe, socket or file (`cat list | volley`, `volley < list`), not a terminal or /dev/null. */
function stdinHasData(): boolean {
  try {
    const st = fstatSync(0);
    return st.isFIFO() || st.isFile() || st.isSocket();
  } catch {
    return false;
  }
}

export interface ParseContext {
  /** Consulted only to word the "no URLs given" error. Default: a look at file descriptor 0. */
  stdinPiped?: () => boolean;
  /** Parse with yargs even when the words do not need it (tests compare the two paths). */
  viaYargs?: boolean;
}

/**
 * `{ kind: 'info', text }` for --help and --version, the checked config otherwise. Throws UsageError. Touches
 * nothing: no file is opened (whether a word names a file is decided when the run starts, in `planInputs`).
 */
export async function parseCli(argv: string[], { stdinPiped = stdinHasData, viaYargs = false }: ParseContext = {}): Promise<{ kind: 'run'; config: CliConfig } | { kind: 'info'; text: string }> {
  checkNegations(argv);
  argv = withBareValues(argv);
  let a = viaYargs ? null : quickParse(argv);
  if (a === null) {
    let output = '';
    try {
      a = (await (await parser(argv)).parse(argv, {}, (_err: unknown, _argv: unknown, out: string) => {
        output = out;
      })) as ParsedArgs;
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError((err as Error).message);
    }
    if (a.help || a.version) return { kind: 'info', text: output };
  }

  const draft = newDraft();
  for (const [name, flag] of Object.entries(FLAGS) as [FlagName, Flag][]) {
    if (a[name] !== undefined) applyFlag(name, flag, a[name], draft);
  }
  const { cli } = draft;
  checkRequestFlags(cli, draft.options, a._.length + cli.inputFiles.length > 0);
  if (cli.resume && !cli.output) throw new UsageError('--resume needs -o FILE: it reads what that file already holds');
  if (cli.resume && cli.format !== 'jsonl') throw new UsageError(`--resume works with -f jsonl only, got -f ${cli.format}`);
  if (cli.body && cli.format === 'csv') throw new UsageError('--body does not fit in CSV: use -f jsonl (or -f json), which carry bodies as strings or base64');
  if (cli.csvRaw && cli.format !== 'csv') throw new UsageError(`--csv-raw applies to -f csv only, got -f ${cli.format}`);
  // A resumed run adds to the archive of the run it resumes.
  if (cli.resume && typeof draft.options.warc === 'string') draft.options.warc = { path: draft.options.warc, append: true };

  const options: VolleyOptions = {
    ...draft.options,
    extract: draft.extract.enabled ? { links: draft.extract.links, select: draft.extract.select } : false,
  };
  const { crawl } = draft;
  // --sitemap alone is a crawl of depth 0 (robots.txt only as asked): its journal makes --resume work, and --scope
  // says which sitemap entries to keep.
  if (!crawl.follow && options.sitemaps !== undefined && crawl.given.every((f) => f === '--scope')) {
    options.follow = crawl.scope === undefined ? { depth: 0 } : { depth: 0, scope: crawl.scope };
    options.respectRobots ??= false;
  } else if (crawl.given.length > 0 && !crawl.follow) throw new UsageError(`${crawl.given[0]} shapes a crawl: add --follow`);
  if (options.newerThan !== undefined && options.sitemaps === undefined) throw new UsageError('--newer-than filters the entries of sitemaps: add --sitemap URL');
  if (crawl.follow) {
    if (!draft.extract.enabled) throw new UsageError('--follow reads the links of each page: it cannot be used with --no-extract');
    const { depth, scope, include, exclude, select, maxPages } = crawl;
    options.follow = { depth, scope, include, exclude, select, maxPages };
  }
  let extract: NormalizedExtract | null;
  try {
    extract = normalizeOptions(options).extract;
  } catch (err) {
    if (typeof (err as Partial<OptionError>)?.option === 'string') throw usageErrorOf(err as OptionError);
    throw err;
  }

  const inputs = a._.map(String);
  if (inputs.length === 0 && cli.inputFiles.length === 0 && cli.requestFiles.length === 0 && (options.sitemaps?.length ?? 0) === 0) {
    // Stdin is read only when asked for (`-`): a cron job whose list went missing must fail, not read an empty
    // stdin and exit 0. But a pipe into a bare `volley` almost surely meant `-`, so say so.
    throw new UsageError(
      stdinPiped()
        ? "no URLs given; to read the URLs coming in on stdin, add '-' (as in `cat urls.txt | volley -`)"
        : 'no URLs given: pass URLs or files as arguments, -i FILE, --requests FILE, or - to read stdin',
    );
  }
  return { kind: 'run', config: { ...cli, inputs, options, extract } };
}
