import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../src/keep/atomic-write.js';
import { SaveNamer } from '../src/keep/save-name.js';
import { FetchError } from '../src/errors.js';

/** Every path under `root`, relative, sorted; symbolic links listed, not followed. */
async function listTree(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true });
  return entries.map((e) => e.split(sep).join('/')).sort();
}

let parent: string;
let dir: string;
let outside: string;

beforeEach(async () => {
  parent = await realpath(await mkdtemp(join(tmpdir(), 'volley-keep-')));
  dir = join(parent, 'save');
  outside = join(parent, 'outside');
  await mkdir(dir);
  await mkdir(outside);
  await writeFile(join(outside, 'victim.txt'), 'untouched');
});

afterEach(async () => {
  await rm(parent, { recursive: true, force: true });
});

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function writeError(promise: Promise<unknown>): Promise<FetchError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FetchError);
  expect((err as FetchError).code).toBe('WRITE');
  return err as FetchError;
}

describe('writeFileAtomic', () => {
  it('writes the bytes under dir, making the directories, and returns the path and sha256', async () => {
    const body = bytes('hello, world');
    const out = await writeFileAtomic(dir, 'h/a/b/c.txt', body);
    expect(out).toEqual({ path: join(dir, 'h', 'a', 'b', 'c.txt'), sha256: sha(body) });
    expect(await readFile(out.path, 'utf8')).toBe('hello, world');
    expect(await listTree(dir)).toEqual(['h', 'h/a', 'h/a/b', 'h/a/b/c.txt']);
  });

  it('creates the save directory itself when it is missing', async () => {
    const fresh = join(parent, 'new', 'deeper');
    await writeFileAtomic(fresh, 'x', bytes('1'));
    expect(await readFile(join(fresh, 'x'), 'utf8')).toBe('1');
  });

  it('writes an empty body and a 1 MiB binary body byte for byte', async () => {
    const big = new Uint8Array(1024 * 1024).map((_, i) => (i * 31 + 7) & 0xff);
    const a = await writeFileAtomic(dir, 'empty', new Uint8Array(0));
    const b = await writeFileAtomic(dir, 'big.bin', big);
    expect((await readFile(a.path)).length).toBe(0);
    expect(a.sha256).toBe(sha(new Uint8Array(0)));
    expect(Buffer.compare(await readFile(b.path), Buffer.from(big))).toBe(0);
    expect(b.sha256).toBe(sha(big));
  });

  it('replaces an existing file whole, and leaves no temporary file', async () => {
    await writeFileAtomic(dir, 'f.txt', bytes('old old old'));
    await writeFileAtomic(dir, 'f.txt', bytes('new'));
    expect(await readFile(join(dir, 'f.txt'), 'utf8')).toBe('new');
    expect(await listTree(dir)).toEqual(['f.txt']);
  });

  it('takes many concurrent writes into the same new directories', async () => {
    const writes = Array.from({ length: 40 }, (_, i) => writeFileAtomic(dir, `h/shared/deep/f${i}`, bytes(String(i))));
    await Promise.all(writes);
    const files = (await listTree(dir)).filter((p) => p.startsWith('h/shared/deep/'));
    expect(files).toHaveLength(40);
    expect(files.some((f) => f.includes('.volley-tmp-'))).toBe(false);
  });

  it('fails with WRITE naming the OS code and the relative path when a directory is in the way', async () => {
    await mkdir(join(dir, 'taken'));
    const err = await writeError(writeFileAtomic(dir, 'taken', bytes('x')));
    expect(err.message).toBe('could not write "taken" (EISDIR): the target is a directory');
  });

  it('fails with WRITE when a file stands where a directory is needed, and says which part', async () => {
    await writeFile(join(dir, 'plain'), 'x');
    const err = await writeError(writeFileAtomic(dir, 'plain/child', bytes('x')));
    expect(err.message).toBe('could not write "plain/child" (ENOTDIR): plain exists and is not a directory');
  });

  it('does not put the absolute path of the save directory in its messages', async () => {
    const err = await writeError(writeFileAtomic(join(dir, 'nope\u0000'), 'x', bytes('x')));
    expect(err.message).toMatch(/^could not write "x" \(/);
    expect(err.message).not.toContain(parent);
  });
});

describe('nothing escapes the save directory', () => {
  it.each([
    ['../x'],
    ['a/../../x'],
    ['/etc/x'],
    [`${'/'}tmp/x`],
    ['a\\..\\..\\x'],
    ['..\\x'],
    ['C:/x'],
    ['C:x'],
    ['\\\\server\\share\\x'],
    ['a//b'],
    ['a/./b'],
    ['./x'],
    ['a/'],
    [''],
    ['x\u0000y'],
    ['NUL'],
    ['sub/com1.txt'],
    ['.volley-tmp-123'],
  ])('refuses the relative path %j', async (rel) => {
    const before = await listTree(parent);
    const err = await writeError(writeFileAtomic(dir, rel, bytes('pwned')));
    expect(err.message).toContain('(EINVAL): not a safe relative path');
    expect(await listTree(parent)).toEqual(before);
  });

  it('refuses to follow a symbolic link to a directory outside', async () => {
    await symlink(outside, join(dir, 'h'));
    const before = await listTree(parent);
    const err = await writeError(writeFileAtomic(dir, 'h/victim.txt', bytes('pwned')));
    expect(err.message).toBe('could not write "h/victim.txt" (ELOOP): h is a symbolic link; links inside the save directory are not followed');
    expect(await listTree(parent)).toEqual(before);
    expect(await readFile(join(outside, 'victim.txt'), 'utf8')).toBe('untouched');
  });

  it('refuses a link deeper down, and a link at the target itself', async () => {
    await mkdir(join(dir, 'h', 'a'), { recursive: true });
    await symlink(outside, join(dir, 'h', 'a', 'b'));
    await symlink(join(outside, 'victim.txt'), join(dir, 'h', 'file'));
    const before = await listTree(parent);
    await writeError(writeFileAtomic(dir, 'h/a/b/c/d', bytes('pwned')));
    const err = await writeError(writeFileAtomic(dir, 'h/file', bytes('pwned')));
    expect(err.message).toContain('(ELOOP): the target is a symbolic link');
    expect(await listTree(parent)).toEqual(before);
    expect(await readFile(join(outside, 'victim.txt'), 'utf8')).toBe('untouched');
  });

  it('allows the save directory itself to be reached through a link (the user chose it)', async () => {
    const alias = join(parent, 'alias');
    await symlink(dir, alias);
    await writeFileAtomic(alias, 'h/x', bytes('ok'));
    expect(await readFile(join(dir, 'h', 'x'), 'utf8')).toBe('ok');
  });

  it('keeps every hostile URL inside, through SaveNamer and the writer together', async () => {
    const urls = [
      'http://h/../../outside/victim.txt',
      'http://h/%2e%2e/%2e%2e/outside/victim.txt',
      'http://h/..%2f..%2foutside%2fvictim.txt',
      'http://h/%2F..%2F..%2Foutside%2Fvictim.txt',
      'http://h/..%5c..%5coutside%5cvictim.txt',
      'http://h/..\\..\\outside\\victim.txt',
      'http://h//outside/victim.txt',
      'http://h/%00',
      'http://h/x%00.txt',
      'http://h/CON',
      'http://h/nul.txt',
      'http://h/COM1.html',
      'http://h/x?p=../../../outside/victim.txt',
      'http://h/x?p=%2f%2e%2e%5c',
      'http://h/.',
      'http://h/%2e',
      'http://h/...',
      'http://[::1]:9/x',
    ];
    const namer = new SaveNamer();
    const before = await listTree(parent);
    const names: string[] = [];
    for (const url of urls) {
      const name = namer.name({ url, contentType: 'text/html' });
      names.push(name);
      const { path } = await writeFileAtomic(dir, name, bytes(url));
      const real = await realpath(path);
      expect(relative(dir, real).startsWith('..')).toBe(false);
      expect(real.startsWith(dir + sep)).toBe(true);
      expect(await readFile(real, 'utf8')).toBe(url);
    }
    const after = await listTree(parent);
    // The only new entries are under save/.
    expect(after.filter((p) => !before.includes(p)).every((p) => p.startsWith('save/'))).toBe(true);
    expect(after.filter((p) => !p.startsWith('save/'))).toEqual(before.filter((p) => !p.startsWith('save/')));
    expect(await readFile(join(outside, 'victim.txt'), 'utf8')).toBe('untouched');
    // Every distinct URL got a file of its own (the parser already folds `/../`, `/%2e%2e/` and `\\` to one URL).
    expect(new Set(names).size).toBe(new Set(urls.map((u) => new URL(u).href)).size);
  });
});
