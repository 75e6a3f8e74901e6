import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJsonlRows, type JsonlRow } from '../src/cli/jsonl-rows.js';
import { readPreviousRun } from '../src/cli/previous-run.js';
import { finishedUrls, isFinalRow } from '../src/cli/resume.js';
import { readSince } from '../src/cli/since.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'volley-previous-run-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
/** Writes rows (objects become JSON lines, strings are written as they are) to a fresh file. */
function file(lines: Array<object | string>, end = '\n'): string {
  const path = join(dir, `run${++n}.jsonl`);
  writeFileSync(path, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + end);
  return path;
}

const okRow = (url: string, extra: object = {}) => ({ url, ok: true, status: 200, error: null, ...extra });
const failRow = (url: string, code: string, extra: object = {}) => ({ url, ok: false, status: null, error: { code, message: 'x' }, ...extra });

describe('readJsonlRows: the one streaming reader of a previous run', () => {
  it('hands over each object row with a string url, in file order', async () => {
    const path = file([okRow('http://a/'), '', '   ', '[1,2]', 'null', '"str"', '{"ok":true}', '{"url":5}', okRow('http://b/'), '{"url":"http://c/", "ok": tr']);
    const rows: JsonlRow[] = [];
    await readJsonlRows(path, (row) => rows.push(row));
    expect(rows.map((r) => r.url)).toEqual(['http://a/', 'http://b/']);
  });

  it('ignores a half-written last line', async () => {
    const path = file([okRow('http://a/'), '{"url":"http://b/","ok":true,"sta'], '');
    const rows: JsonlRow[] = [];
    await readJsonlRows(path, (row) => rows.push(row));
    expect(rows.map((r) => r.url)).toEqual(['http://a/']);
  });

  it('reads CRLF files', async () => {
    const path = join(dir, 'crlf.jsonl');
    writeFileSync(path, `${JSON.stringify(okRow('http://a/'))}\r\n${JSON.stringify(okRow('http://b/'))}\r\n`);
    const rows: JsonlRow[] = [];
    await readJsonlRows(path, (row) => rows.push(row));
    expect(rows.map((r) => r.url)).toEqual(['http://a/', 'http://b/']);
  });

  it('treats a missing file as no rows, and rejects on one it cannot read', async () => {
    let calls = 0;
    await readJsonlRows(join(dir, 'nope.jsonl'), () => calls++);
    expect(calls).toBe(0);
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    await expect(readJsonlRows(folder, () => calls++)).rejects.toMatchObject({ code: 'EISDIR' });
  });
});

describe('--resume: finishedUrls', () => {
  it('counts every row final except CANCELLED, HOST_SKIPPED and WRITE', async () => {
    const path = file([
      okRow('http://ok/'),
      failRow('http://timeout/', 'TIMEOUT'),
      { ...failRow('http://404/', 'HTTP_STATUS'), status: 404 },
      failRow('http://cancelled/', 'CANCELLED', { error: { code: 'CANCELLED', message: 'x', stage: 'queued' } }),
      failRow('http://skipped/', 'HOST_SKIPPED'),
      failRow('http://disk-full/', 'WRITE'),
    ]);
    expect([...(await finishedUrls(path))].sort()).toEqual(['http://404/', 'http://ok/', 'http://timeout/']);
  });

  it('keeps a URL finished once any row of it was final', async () => {
    const path = file([failRow('http://a/', 'HOST_SKIPPED'), okRow('http://a/'), failRow('http://a/', 'CANCELLED')]);
    expect([...(await finishedUrls(path))]).toEqual(['http://a/']);
  });

  it('isFinalRow', () => {
    expect(isFinalRow({ url: 'u', error: null })).toBe(true);
    expect(isFinalRow({ url: 'u' })).toBe(true);
    expect(isFinalRow({ url: 'u', error: { code: 'DNS' } })).toBe(true);
    expect(isFinalRow({ url: 'u', error: { code: 'HOST_SKIPPED' } })).toBe(false);
    expect(isFinalRow({ url: 'u', error: { code: 'INTERNAL' } })).toBe(false);
    expect(isFinalRow({ url: 'u', error: { code: 'CANCELLED' } })).toBe(false);
    expect(isFinalRow({ url: 'u', error: { code: 'WRITE' } })).toBe(false);
  });

  it('finds nothing in a missing file', async () => {
    expect((await finishedUrls(join(dir, 'missing.jsonl'))).size).toBe(0);
  });
});

describe('--since: readSince', () => {
  it('keeps etag, lastModified, savedAs and sha256 of ok rows with a validator', async () => {
    const path = file([
      okRow('http://both/', { etag: '"abc"', lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT', savedAs: 'both.html', sha256: 'ff00', title: 'x' }),
      okRow('http://etag/', { etag: 'W/"weak"' }),
      okRow('http://date/', { lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT', etag: null }),
      okRow('http://none/', { etag: null, lastModified: null, savedAs: 'none.html' }),
    ]);
    const known = await readSince(path);
    expect(Object.fromEntries(known)).toEqual({
      'http://both/': { etag: '"abc"', lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT', savedAs: 'both.html', sha256: 'ff00' },
      'http://etag/': { etag: 'W/"weak"' },
      'http://date/': { lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT' },
    });
  });

  it('takes validators from ok rows only: a failed 200 (too large, say) must not come back as a 304', async () => {
    const path = file([
      { ...failRow('http://big/', 'TOO_LARGE'), status: 200, etag: '"big"' },
      { ...failRow('http://gone/', 'HTTP_STATUS'), status: 404, etag: '"404"' },
    ]);
    expect((await readSince(path)).size).toBe(0);
  });

  it('lets later lines win: a later ok row replaces, a later ok row without validators removes, a failure changes nothing', async () => {
    const path = file([
      okRow('http://changed/', { etag: '"v1"', savedAs: 'c1' }),
      okRow('http://dropped/', { etag: '"v1"' }),
      okRow('http://flaky/', { etag: '"v1"', savedAs: 'f1', sha256: 'aa' }),
      okRow('http://changed/', { etag: '"v2"' }),
      okRow('http://dropped/', { etag: null }),
      failRow('http://flaky/', 'TIMEOUT'),
      failRow('http://flaky/', 'HOST_SKIPPED'),
      okRow('http://not-modified/', { etag: '"n1"', savedAs: 'n1', sha256: 'bb' }),
      okRow('http://not-modified/', { status: 304, notModified: true, bytes: 0, etag: '"n1"', savedAs: 'n1', sha256: 'bb' }),
    ]);
    expect(Object.fromEntries(await readSince(path))).toEqual({
      'http://changed/': { etag: '"v2"' },
      'http://flaky/': { etag: '"v1"', savedAs: 'f1', sha256: 'aa' },
      'http://not-modified/': { etag: '"n1"', savedAs: 'n1', sha256: 'bb' },
    });
  });

  it('holds one entry per distinct URL however often it repeats', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => okRow(`http://h/${i % 3}`, { etag: `"${i}"` }));
    const known = await readSince(file(rows));
    expect(known.size).toBe(3);
    expect(known.get('http://h/2')).toEqual({ etag: '"2999"' });
  });

  it('ignores a half-written last line and a missing file', async () => {
    const path = file([okRow('http://a/', { etag: '"a"' }), '{"url":"http://b/","ok":true,"etag":"\\"b'], '');
    expect([...(await readSince(path)).keys()]).toEqual(['http://a/']);
    expect((await readSince(join(dir, 'missing.jsonl'))).size).toBe(0);
  });
});

describe('readPreviousRun: --resume and --since from one pass', () => {
  const rows = [
    okRow('http://a/', { etag: '"a"' }),
    failRow('http://b/', 'HOST_SKIPPED'),
    failRow('http://c/', 'CANCELLED'),
    okRow('http://d/'),
  ];

  it('gives both when both name the file', async () => {
    const run = await readPreviousRun(file(rows), { resume: true, since: true });
    expect([...run.finished].sort()).toEqual(['http://a/', 'http://d/']);
    expect(Object.fromEntries(run.validators)).toEqual({ 'http://a/': { etag: '"a"' } });
  });

  it('leaves the part not asked for empty', async () => {
    const path = file(rows);
    const resumeOnly = await readPreviousRun(path, { resume: true, since: false });
    expect(resumeOnly.finished.size).toBe(2);
    expect(resumeOnly.validators.size).toBe(0);
    const sinceOnly = await readPreviousRun(path, { resume: false, since: true });
    expect(sinceOnly.finished.size).toBe(0);
    expect(sinceOnly.validators.size).toBe(1);
  });

  it('does not read the file when nothing is asked', async () => {
    const folder = join(dir, 'not-a-file');
    mkdirSync(folder);
    await expect(readPreviousRun(folder, { resume: false, since: false })).resolves.toEqual({ finished: new Set(), validators: new Map(), saved: [] });
    await expect(readPreviousRun(folder, { resume: true, since: true })).rejects.toMatchObject({ code: 'EISDIR' });
  });
});
