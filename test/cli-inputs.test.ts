// What the command line reads, in-process: which words are URLs and which are files, the checks that stop a cron
// job early (missing, binary), and the line reader that never holds a runaway line whole.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { planInputs } from '../src/cli/inputs.js';
import { UsageError } from '../src/cli/usage-error.js';
import { LineSplitter, readUrlLines } from '../src/source/lines.js';
import { MAX_URL_BYTES, OverlongLine, toUrlItem, type SourceLine } from '../src/source/url-input.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'volley-inputs-'));
  writeFileSync(join(dir, 'list.txt'), 'http://a/\n');
  writeFileSync(join(dir, 'binary.bin'), Buffer.concat([Buffer.from('http://a/\n'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1])]));
  // A NUL past the first 8 KiB: text as far as the check looks.
  writeFileSync(join(dir, 'late-nul.txt'), Buffer.concat([Buffer.from(`${'#'.repeat(9000)}\n`), Buffer.from([0])]));
  mkdirSync(join(dir, 'folder'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function plan(inputs: string[], inputFiles: string[] = []) {
  return planInputs({ inputs, inputFiles });
}

function usageError(inputs: string[], inputFiles: string[] = []): string {
  try {
    plan(inputs, inputFiles);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message.replaceAll(dir, 'DIR');
  }
  throw new Error('no error');
}

describe('positional words and -i files', () => {
  it('takes words with :// as URLs, even bad ones, - as stdin, and existing files as lists', () => {
    const list = join(dir, 'list.txt');
    expect(plan(['http://x/', 'ftp://x', 'http://[', '-', list], [list])).toEqual([
      { kind: 'url', value: 'http://x/' },
      { kind: 'url', value: 'ftp://x' },
      { kind: 'url', value: 'http://[' },
      { kind: 'file', path: '-' },
      { kind: 'file', path: list },
      { kind: 'file', path: list },
    ]);
  });

  it('reads a list whose only NUL bytes come after the first 8 KiB', () => {
    expect(plan([join(dir, 'late-nul.txt')])).toHaveLength(1);
  });

  it.each([
    [['nosuchfile.txt'], [], 'no such file: nosuchfile.txt (a word without :// is read as a file of URLs)'],
    [['example'], [], 'no such file: example (a word without :// is read as a file of URLs)'],
    [['example.com/page'], [], 'no such file: example.com/page (a word without :// is read as a file of URLs)'],
    [['http:/typo'], [], 'no such file: http:/typo (a word without :// is read as a file of URLs)'],
    [['DIR/folder'], [], 'DIR/folder is a directory, not a file of URLs'],
    [['DIR/binary.bin'], [], 'DIR/binary.bin looks like a binary file (NUL bytes in its first 8 KiB), not a list of URLs'],
    [[], ['/no/such/file.txt'], '--input: no such file: /no/such/file.txt'],
    [[], ['DIR/folder'], '--input: DIR/folder is a directory, not a file of URLs'],
    [[], ['DIR/binary.bin'], '--input: DIR/binary.bin looks like a binary file (NUL bytes in its first 8 KiB), not a list of URLs'],
    [['-'], ['-'], 'stdin (-) can be read only once'],
  ])('%j -i %j', (inputs, inputFiles, message) => {
    const real = (paths: string[]) => paths.map((p) => p.replace('DIR', dir));
    expect(usageError(real(inputs), real(inputFiles))).toBe(message);
  });
});

/** Feeds the splitter the text in the given chunks and collects every line. */
function split(chunks: (string | Buffer)[], maxBytes?: number): SourceLine[] {
  const splitter = new LineSplitter(maxBytes);
  return [...chunks.flatMap((c) => splitter.push(Buffer.isBuffer(c) ? c : Buffer.from(c))), ...splitter.end()];
}

describe('the line splitter', () => {
  it.each([
    [['a\nb\n'], ['a', 'b']],
    [['a\r\nb\r\n'], ['a', 'b']],
    [['a\rb'], ['a', 'b']],
    [['a\n\n\nb'], ['a', 'b']],
    [['ab', 'c\nd', 'e'], ['abc', 'de']],
    [['a\r', '\nb'], ['a', 'b']],
    [['', 'a', '', '\n'], ['a']],
  ])('%j -> %j', (chunks, lines) => {
    expect(split(chunks)).toEqual(lines);
  });

  it('decodes UTF-8 split across chunks', () => {
    const bytes = Buffer.from('http://x/é€😀\n');
    const lines = split([...bytes].map((b) => Buffer.from([b])));
    expect(lines).toEqual(['http://x/é€😀']);
  });

  it('keeps a line of exactly the limit, and turns one byte more into an OverlongLine with its length', () => {
    expect(split([`${'a'.repeat(16)}\n`], 16)).toEqual(['a'.repeat(16)]);
    expect(split([`${'a'.repeat(17)}\nb\n`], 16)).toEqual([new OverlongLine('a'.repeat(17), 17), 'b']);
  });

  it('counts an overlong line over many chunks and keeps only its first 200 characters', () => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const lines = split(['http://x/', ...Array.from({ length: 20 }, () => chunk), 'tail\r\nhttp://next/\n']);
    const expectedBytes = 'http://x/'.length + 20 * chunk.length + 'tail'.length;
    expect(lines).toEqual([new OverlongLine(`http://x/${'x'.repeat(191)}`, expectedBytes), 'http://next/']);
  });

  it('does not cut a character in two at the 200th', () => {
    const [line] = split([`${'a'.repeat(199)}${'😀'.repeat(10)}\n`], 100) as [OverlongLine];
    expect(line.head).toBe('a'.repeat(199));
  });
});

describe('URL lines', () => {
  it('skips blanks and comments, trims, and hands over a runaway line as an OverlongLine', async () => {
    const big = 'http://x/'.padEnd(MAX_URL_BYTES + 1, 'y');
    const text = `# list\n\n  http://a/  \r\n${big}\n#${'c'.repeat(MAX_URL_BYTES)}\nhttp://b/`;
    const lines: SourceLine[] = [];
    for await (const line of readUrlLines(Readable.from([Buffer.from(text)]))) lines.push(line);
    expect(lines).toEqual(['http://a/', new OverlongLine(big.slice(0, 200), MAX_URL_BYTES + 1), 'http://b/']);
  });

  it('makes an OverlongLine, or a string past 64 KiB, an INVALID_URL item that echoes 200 characters and says the length', () => {
    const fromFile = toUrlItem(new OverlongLine('http://x/aaa', 52_428_800), 0);
    expect(fromFile).toMatchObject({ input: 'http://x/aaa', url: null, error: { code: 'INVALID_URL' } });
    expect(fromFile.error?.message).toMatchInlineSnapshot(`"52428800 bytes is too long for a URL (the limit is 64 KiB); url shows the first 200 characters"`);
    const fromArray = toUrlItem(`http://x/${'é'.repeat(MAX_URL_BYTES / 2)}`, 1);
    expect(fromArray.input).toHaveLength(200);
    expect(fromArray.error?.message).toContain(`${9 + MAX_URL_BYTES} bytes`);
    expect(toUrlItem(`http://x/${'a'.repeat(MAX_URL_BYTES - 9)}`, 2).url).not.toBeNull();
  });
});
