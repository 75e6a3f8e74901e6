import { describe, expect, it } from 'vitest';
import { csvEncoder, type CsvShape } from '../src/sink/csv.js';
import type { FetchResult } from '../src/result.js';

const SHAPE: CsvShape = { canonical: false, lang: false, links: false, select: [] };

function result(extra: Partial<FetchResult> & Record<string, unknown> = {}): FetchResult {
  return {
    url: 'http://h/',
    finalUrl: 'http://h/',
    ok: true,
    status: 200,
    error: null,
    contentType: 'text/html',
    bytes: 10,
    elapsedMs: 5,
    attempts: 1,
    redirects: 0,
    title: 'plain',
    description: null,
    ...extra,
  } as FetchResult;
}

/** The cells of one CSV line without quotes (the tests keep commas and quotes out of the values they compare). */
const cells = (line: string): string[] => line.replace(/\n$/, '').split(',');

describe('CSV columns', () => {
  it('puts etag and lastModified right after contentType', () => {
    const enc = csvEncoder(SHAPE);
    expect(enc.header()).toBe('url,finalUrl,ok,status,errorCode,errorMessage,contentType,etag,lastModified,bytes,elapsedMs,attempts,redirects,title,description\n');
    const line = enc.record(result({ etag: 'W/"abc"', lastModified: 'Tue, 15 Nov 1994 12:45:26 GMT' }), true);
    expect(line).toBe('http://h/,http://h/,true,200,,,text/html,"W/""abc""","Tue, 15 Nov 1994 12:45:26 GMT",10,5,1,0,plain,\n');
  });

  it('leaves the validators empty when the result has none', () => {
    expect(cells(csvEncoder(SHAPE).record(result(), true)).slice(6, 9)).toEqual(['text/html', '', '']);
  });

  it('adds one JSON-encoded headers column last when asked', () => {
    const enc = csvEncoder({ ...SHAPE, select: ['h'], headers: true });
    expect(enc.header()).toMatch(/,data\.h,headers\n$/);
    const line = enc.record(result({ headers: { 'content-type': 'text/html', 'set-cookie': ['a=1', 'b=2'] } }), true);
    expect(line.endsWith(',"{""content-type"":""text/html"",""set-cookie"":[""a=1"",""b=2""]}"\n')).toBe(true);
    expect(enc.record(result(), true).endsWith(',,\n')).toBe(true);
  });
});

describe('CSV injection (CWE-1236)', () => {
  it.each([
    ['=HYPERLINK("http://evil/","click")', `"'=HYPERLINK(""http://evil/"",""click"")"`],
    ['+1+1', "'+1+1"],
    ['-1+1', "'-1+1"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['\rx', `"'\rx"`],
    ['＝1+1', "'＝1+1"],
    ['a=1', 'a=1'],
    ['', ''],
  ])('escapes a title of %j by default', (title, cell) => {
    const line = csvEncoder(SHAPE).record(result({ title }), true);
    expect(line.endsWith(`,${cell},\n`)).toBe(true);
  });

  it('escapes every text column, not only the title', () => {
    const line = csvEncoder({ ...SHAPE, select: ['price'] }).record(
      result({ url: '=cmd|x', description: '@x', data: { price: '-12' }, etag: '=e' }),
      true,
    );
    expect(line.startsWith("'=cmd|x,")).toBe(true);
    expect(line).toContain(",'@x,");
    expect(line).toContain(",'=e,");
    expect(line.endsWith(",'-12\n")).toBe(true);
  });

  it('leaves numbers alone, negative ones included', () => {
    const line = csvEncoder(SHAPE).record(result({ elapsedMs: -1 }), true);
    expect(cells(line)[10]).toBe('-1');
  });

  it('writes the bytes as they were with raw: true (--csv-raw)', () => {
    const line = csvEncoder(SHAPE, { raw: true }).record(result({ title: '=1+1', description: '-x' }), true);
    expect(line.endsWith(',=1+1,-x\n')).toBe(true);
  });
});
