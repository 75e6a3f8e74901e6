// The command line's parsing, in-process: flags -> options, defaults, durations and the text of every usage error.
// Spawned runs (test/cli.test.ts) keep what needs a process: exit codes, signals and I/O.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EXIT, parseCli, UsageError, type CliConfig } from '../src/cli/args.js';
import { formatDuration, parseDuration } from '../src/cli/duration.js';
import { FLAGS, sets, type Flag, type FlagName } from '../src/cli/flags.js';
import { DEFAULTS, DEFAULT_USER_AGENT, normalizeOptions } from '../src/options.js';
import { ERROR_CODES } from '../src/errors.js';

/**
 * Whatever parsing gives (a config, --help text, a usage error), with and without yargs: a run's words are parsed
 * without yargs when it has nothing to add (args.ts, quickParse). Every command line of this file is checked so.
 */
async function sameWithYargs(argv: string[], stdinPiped: boolean): Promise<void> {
  const outcome = async (viaYargs: boolean) => {
    try {
      return { parsed: await parseCli(argv, { stdinPiped: () => stdinPiped, viaYargs }) };
    } catch (err) {
      return { error: err instanceof UsageError ? `UsageError: ${err.message}` : String(err) };
    }
  };
  expect(await outcome(false), JSON.stringify(argv)).toEqual(await outcome(true));
}

async function config(argv: string[]): Promise<CliConfig> {
  await sameWithYargs(argv, false);
  const parsed = await parseCli(argv, { stdinPiped: () => false });
  if (parsed.kind !== 'run') throw new Error(`expected a run, got ${parsed.kind}`);
  return parsed.config;
}

/** The message of the UsageError that parsing throws; fails the test on any other outcome. */
async function usageError(argv: string[], stdinPiped = false): Promise<string> {
  await sameWithYargs(argv, stdinPiped);
  try {
    await parseCli(argv, { stdinPiped: () => stdinPiped });
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`no error for ${JSON.stringify(argv)}`);
}

describe('durations', () => {
  it.each([
    ['30s', 30_000],
    ['500ms', 500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1.5', 1_500],
    ['20', 20_000],
    ['0.25s', 250],
    ['.5', 500],
    ['1.', 1_000],
    ['0', 0],
    [' 10s ', 10_000],
    ['1.5ms', 2],
    ['0.0001', 0],
  ])('%j is %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 's', 'ms', '-1', '+5', '1e3', '0x10', '30 s', '30S', '10d', '1m30s', 'soon', 'Infinity', 'NaN', '1..5'])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeNull();
  });

  it.each([
    [0, '0'],
    [500, '500ms'],
    [1_500, '1500ms'],
    [20_000, '20s'],
    [90_000, '90s'],
    [120_000, '2m'],
    [7_200_000, '2h'],
  ])('%i ms is written %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });
});

describe('flags -> library options', () => {
  // Keyed by flag: a flag added to the table without a case here fails the type check.
  const cases: Record<FlagName, [string[], Partial<CliConfig>]> = {
    input: [['-i', 'a.txt', '--input', 'b.txt'], { inputFiles: ['a.txt', 'b.txt'] }],
    output: [['-o', 'out.jsonl'], { output: 'out.jsonl' }],
    format: [['-f', 'csv'], { format: 'csv' }],
    concurrency: [['-c', '5'], { options: { concurrency: 5 } }],
    'per-host': [['--per-host', '2'], { options: { perHost: 2 } }],
    timeout: [['-t', '1.5'], { options: { timeoutMs: 1_500 } }],
    retries: [['--retries', '0'], { options: { retries: 0 } }],
    'max-bytes': [['--max-bytes', '10MiB'], { options: { maxBytes: 10 * 1024 * 1024 } }],
    'max-buffered': [['--max-buffered', '64M'], { options: { maxBufferedBytes: 64 * 1024 * 1024 } }],
    'max-redirects': [['--max-redirects', '0'], { options: { maxRedirects: 0 } }],
    select: [['-s', 'h=h1', '-s', 'next = a.next@href', '-s', 'all[]=li'], { options: { extract: { links: false, select: { h: 'h1', next: ' a.next@href', 'all[]': 'li' } } } }],
    links: [['--links'], { options: { extract: { links: true, select: {} } } }],
    extract: [['--no-extract', '--links', '-s', 'h=h1'], { options: { extract: false }, extract: null }],
    body: [['--body', 'base64'], { body: 'base64', options: { body: 'bytes' } }],
    headers: [['--headers'], { options: { responseHeaders: true } }],
    save: [['--save', 'out'], { options: { save: { dir: 'out' } } }],
    'save-name': [['--save', 'out', '--save-name', '{index}.{ext}'], { options: { save: { dir: 'out', name: '{index}.{ext}' } } }],
    warc: [['--warc', 'a.warc.gz'], { options: { warc: 'a.warc.gz' } }],
    'csv-raw': [['-f', 'csv', '--csv-raw'], { csvRaw: true }],
    header: [['-H', 'X-A: 1', '-H', 'x-b:two: parts'], { options: { headers: { 'X-A': '1', 'x-b': 'two: parts' } } }],
    'user-agent': [['-A', 'bot/1 (+https://example.com/bot)'], { options: { userAgent: 'bot/1 (+https://example.com/bot)' } }],
    proxy: [['--proxy', 'http://proxy:3128'], { options: { proxy: 'http://proxy:3128' } }],
    threads: [['--threads', '3'], { options: { threads: 3 } }],
    method: [['-X', 'PATCH'], { options: { method: 'PATCH' } }],
    requests: [['--requests', 'a.jsonl', '--requests', '-'], { requestFiles: ['a.jsonl', '-'] }],
    data: [['-X', 'POST', '-d', 'a=1&b=2'], { requestBody: { flag: 'data', value: 'a=1&b=2' }, options: { method: 'POST' } }],
    json: [['-X', 'PUT', '--json', '@body.json'], { requestBody: { flag: 'json', value: '@body.json' }, options: { method: 'PUT' } }],
    insecure: [['-k'], { options: { tls: { rejectUnauthorized: false } } }],
    ca: [['--ca', 'ca.pem'], { tlsFiles: { ca: 'ca.pem', cert: null, key: null } }],
    cert: [['--cert', 'c.pem', '--key', 'k.pem'], { tlsFiles: { ca: null, cert: 'c.pem', key: 'k.pem' } }],
    key: [['--key', 'k.pem', '--cert', 'c.pem'], { tlsFiles: { ca: null, cert: 'c.pem', key: 'k.pem' } }],
    http2: [['--http2'], { options: { http2: true } }],
    'max-header-size': [['--max-header-size', '64k'], { options: { maxHeaderSize: 65_536 } }],
    'retry-unsafe': [['--retry-unsafe'], { options: { retryUnsafe: true } }],
    rate: [['--rate', '0.5'], { options: { perHostRate: 0.5 } }],
    delay: [['--delay', '500ms'], { options: { perHostDelayMs: 500 } }],
    'respect-robots': [['--respect-robots'], { options: { respectRobots: true } }],
    follow: [['--follow'], { options: { follow: {} } }],
    sitemap: [['--sitemap', 'http://x/sitemap.xml', '--sitemap', 'http://y/robots.txt'], { options: { sitemaps: ['http://x/sitemap.xml', 'http://y/robots.txt'] } }],
    'newer-than': [['--sitemap', 'http://x/s.xml', '--newer-than', '2026-12-01'], { options: { newerThan: '2026-12-01' } }],
    depth: [['--follow', '--depth', '2'], { options: { follow: { depth: 2 } } }],
    scope: [['--follow', '--scope', 'domain'], { options: { follow: { scope: 'domain' } } }],
    include: [['--follow', '--include', '/docs/', '--include', '\\.html$'], { options: { follow: { include: ['/docs/', '\\.html$'] } } }],
    exclude: [['--follow', '--exclude', '\\?page='], { options: { follow: { exclude: ['\\?page='] } } }],
    'follow-select': [['--follow', '--follow-select', 'a[rel~=next]'], { options: { follow: { select: 'a[rel~=next]' } } }],
    'max-pages': [['--follow', '--max-pages', '100'], { options: { follow: { maxPages: 100 } } }],
    dedupe: [['--dedupe'], { options: { dedupe: true } }],
    lock: [['--lock', '/tmp/v.lock'], { lock: '/tmp/v.lock' }],
    resume: [['--resume', '-o', 'out.jsonl'], { resume: true, output: 'out.jsonl' }],
    since: [['--since', 'last.jsonl'], { since: 'last.jsonl' }],
    'max-host-errors': [['--max-host-errors', '0'], { options: { maxHostErrors: 0 } }],
    'host-cooldown': [['--host-cooldown', '2m'], { options: { hostCooldownMs: 120_000 } }],
    accept: [['--accept', '200..299,403'], { options: { accept: '200..299,403' } }],
    shard: [['--shard', '1/4'], { shard: { index: 1, count: 4 } }],
    quiet: [['-q'], { quiet: true }],
    progress: [['--no-progress'], { progress: false }],
  };

  it.each(Object.entries(cases))('--%s', async (_name, [argv, expected]) => {
    expect(await config([...argv, 'http://x/'])).toMatchObject(expected);
  });

  it('rejects crawl flags without --follow, a bad --include, and --follow with --no-extract, naming the flag', async () => {
    await expect(config(['--depth', '2', 'http://x/'])).rejects.toThrow(/--depth shapes a crawl: add --follow/);
    // --scope says which sitemap entries to keep, with --sitemap alone too.
    expect((await config(['--sitemap', 'http://x/s.xml', '--scope', 'all'])).options).toMatchObject({ follow: { depth: 0, scope: 'all' }, respectRobots: false });
    await expect(config(['--scope', 'all', 'http://x/'])).rejects.toThrow(/--scope shapes a crawl/);
    await expect(config(['--follow', '--include', '(', 'http://x/'])).rejects.toThrow(/--include expects a JavaScript regular expression/);
    await expect(config(['--follow', '--exclude', '[', 'http://x/'])).rejects.toThrow(/--exclude/);
    await expect(config(['--follow', '--no-extract', 'http://x/'])).rejects.toThrow(/--no-extract/);
    await expect(config(['--follow', '--scope', 'planet', 'http://x/'])).rejects.toThrow(/scope/);
    await expect(config(['--follow', '--follow-select', 'a[', 'http://x/'])).rejects.toThrow(/follow|selector/i);
  });

  it('takes durations with units and bare seconds for --timeout and --delay', async () => {
    for (const [typed, ms] of [['30s', 30_000], ['2m', 120_000], ['500ms', 500], ['20', 20_000]] as const) {
      expect((await config(['-t', typed, 'http://x/'])).options.timeoutMs).toBe(ms);
      expect((await config([`--delay=${typed}`, 'http://x/'])).options.perHostDelayMs).toBe(ms);
    }
  });

  it('reads a bare number as seconds, as curl --max-time does: -t 500 is 500 s, not 500 ms', async () => {
    expect((await config(['-t', '500', 'http://x/'])).options.timeoutMs).toBe(500_000);
  });

  it('takes sizes with units (k, M, G 1024-based as in curl; kB, MB 1000-based; KiB, MiB) and bare bytes', async () => {
    for (const [typed, bytes] of [['10MiB', 10_485_760], ['10M', 10_485_760], ['10MB', 10_000_000], ['2mb', 2_000_000], ['64KiB', 65_536], ['1.5M', 1_572_864], ['5000', 5_000], ['1G', 1_073_741_824]] as const) {
      expect((await config(['--max-bytes', typed, 'http://x/'])).options.maxBytes).toBe(bytes);
      expect((await config([`--max-buffered=${typed}`, 'http://x/'])).options.maxBufferedBytes).toBe(bytes);
    }
    expect((await config(['--max-header-size', '128kb', 'http://x/'])).options.maxHeaderSize).toBe(128_000);
    expect((await config(['--max-header-size', '1 MiB', 'http://x/'])).options.maxHeaderSize).toBe(1_048_576);
  });

  it('keeps the positional words in order, numbers as typed', async () => {
    expect((await config(['b.txt', 'http://x/', '-', '1e3', '-q'])).inputs).toEqual(['b.txt', 'http://x/', '-', '1e3']);
  });

  it('takes the last of a repeated switch', async () => {
    expect((await config(['--progress', '--no-progress', 'http://x/'])).progress).toBe(false);
    expect((await config(['-q', '-q', 'http://x/'])).quiet).toBe(true);
  });

  it('splits NAME=CSS once and hands the CSV columns the names the library parsed', async () => {
    const c = await config(['-s', 'title=h1', '-s', 'items[]=li', '-s', 'next=a.next@href', '--links', 'http://x/']);
    expect(c.extract?.select.map((s) => [s.name, s.css, s.attr, s.all])).toEqual([
      ['title', 'h1', null, false],
      ['items', 'li', null, true],
      ['next', 'a.next', 'href', false],
    ]);
    expect(c.extract?.links).toBe(true);
  });
});

describe('defaults', () => {
  it('leaves every library option to the library, which fills in DEFAULTS', async () => {
    const c = await config(['http://x/']);
    expect(c.options).toEqual({ extract: { links: false, select: {} } });
    const normalized = normalizeOptions(c.options);
    for (const key of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
      // `accept` is a list as typed, a predicate once normalised.
      if (key === 'accept') expect([200, 299, 304, 404].map(normalized.accept)).toEqual([true, true, false, false]);
      else expect(normalized[key]).toBe(DEFAULTS[key]);
    }
    expect(normalized.userAgent).toBe(DEFAULT_USER_AGENT);
  });

  it('has the CLI settings of absent flags', async () => {
    const { options: _options, extract: _extract, ...settings } = await config(['http://x/']);
    expect(settings).toEqual({
      inputs: ['http://x/'],
      inputFiles: [],
      output: null,
      format: 'jsonl',
      quiet: false,
      progress: undefined,
      lock: null,
      resume: false,
      since: null,
      shard: null,
      body: null,
      csvRaw: false,
      requestFiles: [],
      requestBody: null,
      tlsFiles: { ca: null, cert: null, key: null },
    });
  });

  it('shows each flag with its type and its real default in --help', async () => {
    const parsed = await parseCli(['--help']);
    expect(parsed.kind).toBe('info');
    const help = (parsed as { text: string }).text.replaceAll('\u00a0', ' ').replace(/\s+/g, ' ');
    expect(help).toContain('--concurrency Most requests in flight at once [number] [default: 50]');
    expect(help).toContain('[duration] [default: 20s]');
    expect(help).toContain(`[string] [default: ${DEFAULT_USER_AGENT}]`);
    expect(help).toContain('--format Output format [jsonl|csv|json] [default: jsonl]');
    // Sizes in the unit they were chosen in (DEFAULTS are bytes), never as 10485760.
    expect(DEFAULTS.maxBytes).toBe(10 * 1024 * 1024);
    expect(help).toContain('counted after decompression [size] [default: 10 MiB]');
    expect(help).toContain(`--max-buffered Most bytes`);
    expect(help).toContain('[size] [default: 32 MiB]');
    expect(help).toContain('[size] [default: 64 KiB]');
    expect(help).not.toContain(`[default: ${DEFAULTS.maxBytes}]`);
    expect(help).toContain('k, M, G are 1024-based, as in curl (10M = 10 MiB = 10485760 bytes); kB, MB, GB are 1000-based');
    expect(help).not.toMatch(/\[default: \d+\]\s*\[string\]/);
    for (const name of Object.keys(FLAGS)) expect(help).toContain(`--${name}`);
    // Every code a row can carry, from the list itself (it had fallen behind: no HOST_SKIPPED, LEASE_EXPIRED).
    expect(help).toContain(`Error codes in results: ${ERROR_CODES.join(' ')} (see the README)`);
    expect(help).toMatch(/70 internal error.*74 the output could not be written/);
  });
});

describe('usage errors name the flag and echo the value', () => {
  it.each([
    [['-c', '0'], 'Expected --concurrency to be an integer from 1 to 100000, got `0` (number)'],
    [['-c', 'abc'], '--concurrency expects a number, got "abc"'],
    [['-c', '1', '-c', '2'], '--concurrency was given more than once: "1", "2"'],
    [['--retries', '1.5'], 'Expected --retries to be an integer from 0 to 100, got `1.5` (number)'],
    [['--rate', '0'], 'Expected --rate to be a number above 0, got `0` (number)'],
    [['-t', 'soon'], '--timeout expects a duration such as 30s, 500ms, 2m or 1h (a bare number is seconds), got "soon"'],
    [['-t', '0'], 'Expected --timeout (in ms) to be an integer from 1 to 2147483647, got `0` (number)'],
    [['-t', '1000h'], 'Expected --timeout (in ms) to be an integer from 1 to 2147483647, got `3600000000` (number)'],
    [['-t', '20000'], '--timeout 20000 would be 20000 seconds (a bare number is seconds; before durations had units it was milliseconds): write the unit, as in 20000ms or 20s'],
    [['--delay', '-1'], '--delay expects a duration such as 30s, 500ms, 2m or 1h (a bare number is seconds), got "-1"'],
    [['-f', 'xml'], '--format expects one of jsonl, csv, json, got "xml"'],
    [['--method', 'FETCH'], '--method expects one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, got "FETCH"'],
    [['-d', 'a=1'], '-d/--data sends a body, which GET cannot carry: add -X POST (or -X PUT, -X PATCH)'],
    [['-X', 'HEAD', '--json', '{}'], '--json sends a body, which HEAD cannot carry: add -X POST (or -X PUT, -X PATCH)'],
    [['--cert', 'c.pem'], '--cert needs --key (its private key)'],
    [['--key', 'k.pem'], '--key needs --cert (the client certificate it belongs to)'],
    [['--max-header-size', '100'], 'Expected --max-header-size (in bytes) to be an integer from 1024 to 16777216, got `100` (number)'],
    [['--max-header-size', '1kB'], 'Expected --max-header-size (in bytes) to be an integer from 1024 to 16777216, got `1000` (number)'],
    [['--max-bytes', '10XB'], '--max-bytes expects a size such as 10MiB, 64k or 1.5M (k, M, G and KiB, MiB, GiB are 1024-based; kB, MB, GB 1000-based; a bare number is bytes), got "10XB"'],
    [['--max-buffered', '-1M'], '--max-buffered expects a size such as 10MiB, 64k or 1.5M (k, M, G and KiB, MiB, GiB are 1024-based; kB, MB, GB 1000-based; a bare number is bytes), got "-1M"'],
    [['--max-header-size', '64 kilobytes'], '--max-header-size expects a size such as 10MiB, 64k or 1.5M (k, M, G and KiB, MiB, GiB are 1024-based; kB, MB, GB 1000-based; a bare number is bytes), got "64 kilobytes"'],
    [['--max-bytes', '0'], 'Expected --max-bytes (in bytes) to be an integer from 1 to 9007199254740991, got `0` (number)'],
    [['--max-bytes', '1M', '--max-bytes', '2M'], '--max-bytes was given more than once: "1M", "2M"'],
    [['-o', ''], '--output expects a value, got ""'],
    [['-A', ' '], '--user-agent expects a value, got ""'],
    [['--shard', '4/4'], '--shard expects K/N with 0 <= K < N (K counts from 0, like a Kubernetes completion index), got "4/4"'],
    [['--resume'], '--resume needs -o FILE: it reads what that file already holds'],
    [['--resume', '-o', 'out.csv', '-f', 'csv'], '--resume works with -f jsonl only, got -f csv'],
    [['-s', 'x=div['], '--select: Invalid CSS selector for `x`: `div[` (Expected name, found )'],
    [['-s', '=h1'], '--select expects NAME=CSS (or NAME=CSS@ATTR, NAME[]=CSS), got "=h1"'],
    [['-s', 'h1'], '--select expects NAME=CSS (or NAME=CSS@ATTR, NAME[]=CSS), got "h1"'],
    [['-s', 'a=h1', '-s', 'a=h2'], '--select: the name "a" is given twice'],
    [['-H', 'no colon here'], '--header expects "Name: value", got "no colon here"'],
    [['-H', 'Bad Name: v'], '--header: Expected a valid header name, got `Bad Name` (string)'],
    [['--proxy', 'not a url'], 'Expected --proxy to be an http(s) URL such as http://proxy:3128, got `not a url` (string)'],
    [['--bogus'], 'Unknown argument: bogus'],
    [['--timout', '5s'], 'Unknown argument: timout'],
    // Dashed ones too: yargs-parser's camel-case twin (`maxByte`) once made the quick parse take them for known.
    [['--max-byte', '5'], 'Unknown arguments: max-byte, maxByte'],
    [['--respect-robot'], 'Unknown arguments: respect-robot, respectRobot'],
  ])('%j', async (argv, message) => {
    expect(await usageError([...argv, 'http://x/'])).toBe(message);
  });

  it('wants --json text to be JSON', async () => {
    expect(await usageError(['-X', 'POST', '--json', '{a:1}', 'http://x/'])).toMatch(/^--json expects JSON text \(or @FILE\), got "\{a:1\}": .*position 1/);
  });

  it('wants a list for -d and --json: --requests lines carry their own bodies', async () => {
    expect(await usageError(['--requests', 'r.jsonl', '-X', 'POST', '-d', 'x'])).toBe(
      '-d/--data is the body of every URL of a list (arguments, -i); --requests lines carry their own "body" or "json"',
    );
    expect((await config(['--requests', 'r.jsonl', '-X', 'POST'])).requestFiles).toEqual(['r.jsonl']);
  });

  it('wants a value after a flag that takes one', async () => {
    expect(await usageError(['http://x/', '-o'])).toBe('Not enough arguments following: o');
    expect(await usageError(['http://x/', '-t'])).toBe('Not enough arguments following: t');
  });

  it('says how to read stdin when no URLs are given, and that - is missing when a pipe is waiting', async () => {
    expect(await usageError([])).toMatchInlineSnapshot(`"no URLs given: pass URLs or files as arguments, -i FILE, --requests FILE, or - to read stdin"`);
    expect(await usageError(['-q'], true)).toMatchInlineSnapshot(`"no URLs given; to read the URLs coming in on stdin, add '-' (as in \`cat urls.txt | volley -\`)"`);
  });
});

// Issue 19: `--no-X` is yargs-parser's "X is false" for any X; only a switch of the table may be turned off so.
describe('--no- turns off a switch, and only a switch', () => {
  const switches = (Object.entries(FLAGS) as [FlagName, Flag][]).filter(([, flag]) => flag.type === 'boolean').map(([name]) => name);

  it.each(switches)('--no-%s', async (name) => {
    // config() also parses with yargs and wants the same result.
    await config([`--no-${name}`, 'http://x/']);
    await config([`--${name}`, `--no-${name}`, '-o', 'out.jsonl', 'http://x/']);
  });

  it('turns the switch off, whichever spelling of it is negated', async () => {
    expect((await config(['--respect-robots', '--no-respect-robots', 'http://x/'])).options.respectRobots).toBe(false);
    expect((await config(['--respect-robots', '--no-respectRobots', 'http://x/'])).options.respectRobots).toBe(false);
    expect((await config(['--no-extract', 'http://x/'])).extract).toBeNull();
    expect((await config(['-q', '--no-q', 'http://x/'])).quiet).toBe(false);
  });

  it.each([
    [['--no-respect-robot'], 'Unknown argument: --no-respect-robot (did you mean --no-respect-robots?)'],
    [['--no-progres'], 'Unknown argument: --no-progres (did you mean --no-progress?)'],
    [['--no-such-flag'], 'Unknown argument: --no-such-flag'],
    [['--no-abc-def'], 'Unknown argument: --no-abc-def'],
    [['--no-such'], 'Unknown argument: --no-such'],
    [['--no-no-progress'], 'Unknown argument: --no-no-progress'],
    [['--no-Q'], 'Unknown argument: --no-Q'],
    [['-q', '--no-such-flag', '--progress'], 'Unknown argument: --no-such-flag'],
    // A flag that takes a value has no "off": --no-output once wrote to a file named `false`.
    [['--no-output'], '--no-output: --output takes a value; only a switch (such as --progress) can be turned off with --no-'],
    [['--no-max-bytes'], '--no-max-bytes: --max-bytes takes a value; only a switch (such as --progress) can be turned off with --no-'],
    [['--no-o'], '--no-o: --output takes a value; only a switch (such as --progress) can be turned off with --no-'],
    [['--no-maxBytes'], '--no-maxBytes: --max-bytes takes a value; only a switch (such as --progress) can be turned off with --no-'],
    // With `=`, yargs-parser reads an option named `no-quiet`, which is unknown.
    [['--no-quiet=true'], 'Unknown arguments: no-quiet, noQuiet'],
  ])('%j is a usage error in both parsing paths', async (argv, message) => {
    // usageError() compares the two paths; the yargs path is asked on its own too, for the record.
    expect(await usageError([...argv, 'http://x/'])).toBe(message);
    await expect(parseCli([...argv, 'http://x/'], { viaYargs: true })).rejects.toThrow(new UsageError(message));
  });

  it('leaves a --no- word after -- to the inputs', async () => {
    expect((await config(['--', '--no-such-flag'])).inputs).toEqual(['--no-such-flag']);
  });

  it('exits 2 from the command line, naming the flag', async () => {
    const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
    // Nothing listens on port 9 of loopback: had the flag been taken, the run would end 1 (CONNECT), not 2.
    const outcome = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [cli, '--no-respect-robot', '--retries', '0', 'http://127.0.0.1:9/'], (_err, stdout, stderr) => {
        resolve({ code: child.exitCode, stdout, stderr });
      });
    });
    expect(outcome.code).toBe(EXIT.USAGE);
    expect(outcome.stderr).toContain('Unknown argument: --no-respect-robot (did you mean --no-respect-robots?)');
    expect(outcome.stdout).toBe('');
  });
});

describe('the flag table', () => {
  it('types each flag against the option it sets', () => {
    // @ts-expect-error a string flag cannot set a number option
    const wrongType: Flag = { type: 'string', help: '', ...sets('concurrency') };
    // @ts-expect-error a list flag cannot set `headers`, a record, as it is
    const wrongShape: Flag = { type: 'list', help: '', ...sets('headers') };
    // @ts-expect-error no such option
    const noSuchOption: Flag = { type: 'number', help: '', ...sets('timeout') };
    // @ts-expect-error milliseconds come from a duration flag (30s, 500ms), never from a bare number
    const msFromNumber: Flag = { type: 'number', help: '', ...sets('timeoutMs') };
    // @ts-expect-error a duration flag sets an ...Ms option
    const durationAsCount: Flag = { type: 'duration', help: '', ...sets('retries') };
    // @ts-expect-error bytes come from a size flag (10MiB, 64k), so that every byte flag takes units
    const bytesFromNumber: Flag = { type: 'number', help: '', ...sets('maxBytes') };
    // @ts-expect-error a size flag sets an option in bytes
    const sizeAsCount: Flag = { type: 'size', help: '', ...sets('retries') };
    const sizeOk: Flag = { type: 'size', help: '', ...sets('maxHeaderSize') };
    expect([wrongType, wrongShape, noSuchOption, msFromNumber, durationAsCount, bytesFromNumber, sizeAsCount, sizeOk]).toHaveLength(8);
  });

  it('maps every library option it sets to exactly one flag', () => {
    const options = Object.values(FLAGS as Record<string, Flag>).flatMap((f) => (f.option === undefined ? [] : [f.option]));
    expect(new Set(options).size).toBe(options.length);
  });

  it('has one-letter aliases that do not collide', () => {
    const aliases = Object.values(FLAGS as Record<string, Flag>).flatMap((f) => (f.alias === undefined ? [] : [f.alias]));
    expect(new Set([...aliases, 'h', 'V']).size).toBe(aliases.length + 2);
    for (const a of aliases) expect(a).toHaveLength(1);
  });
});

describe('exit codes', () => {
  it('follow sysexits.h above 2', () => {
    expect(EXIT).toEqual({ OK: 0, SOME_FAILED: 1, USAGE: 2, UNAVAILABLE: 69, SOFTWARE: 70, IO_ERROR: 74, LOCKED: 75, SIGINT: 130, SIGTERM: 143 });
  });
});

describe('parsing without yargs (quickParse) gives what yargs gives', () => {
  it.each([
    [['http://x/', '-q']],
    [['http://x/', '--no-extract', '--quiet=false']],
    [['http://x/', '--no-quiet', '-qk']],
    [['http://x/', '--proxy']],
    [['--proxy', 'http://x/']],
    [['http://x/', '--frobnicate']],
    [['http://x/', '--no-frobnicate']],
    [['http://x/', '--no-frob-nicate']],
    [['http://x/', '--frob-nicate']],
    [['http://x/', '--no-respectRobots', '--no-csvRaw']],
    [['http://x/', '-Z']],
    [['http://x/', 'help']],
    [['help']],
    [['version']],
    [['http://x/', '--', '-q']],
    [['http://x/', '--body']],
    [['--body', 'http://x/']],
    [['--body', 'base64', 'http://x/']],
    [['http://x/', '-c', '-5']],
    [['http://x/', '--timeout=']],
    [['http://x/', '--Quiet']],
    [['http://x/', '--max-header-size', '100', '--maxHeaderSize', '200']],
    [['http://x/', '--maxRedirects', '3']],
    [['http://x/', '-H', 'a: b', '-H', 'c: d', '-s', 'h1=h1', '--select', 'x=y@href']],
    [['http://x/', '--rate', '2', '--rate', '3']],
    [['http://x/', '-V']],
    [['-h']],
    [['http://x/', '--help=false']],
    [['http://x/', '-s']],
    [['http://x/', '-o', '-q']],
    [['http://x/', '--links', '--links']],
    [['http://x/', '-X', 'POST', '--json', '{"a":1}']],
    [['http://x/', '--shard', '1/4', '--since', 'prev.jsonl']],
    [['-', '-i', 'list.txt', '--input=other.txt']],
    [['http://x/', '--no-links', '--no-progress', '--progress']],
    [['http://x/', '---q']],
    [['http://x/', '-']],
    [[]],
  ])('%j', async (argv) => {
    await sameWithYargs(argv, false);
  });
});
