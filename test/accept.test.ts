import { describe, expect, it } from 'vitest';
import { DEFAULT_ACCEPT, parseAccept } from '../src/schedule/accept.js';

const accepted = (predicate: (status: number) => boolean): number[] => {
  const out: number[] = [];
  for (let s = 0; s <= 700; s++) if (predicate(s)) out.push(s);
  return out;
};
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('parseAccept: which statuses count as ok', () => {
  it('accepts 200..299 by default', () => {
    expect(DEFAULT_ACCEPT).toBe('200..299');
    expect(accepted(parseAccept())).toEqual(range(200, 299));
    expect(accepted(parseAccept(undefined))).toEqual(range(200, 299));
  });

  it('reads ranges and single codes, whitespace tolerated', () => {
    expect(accepted(parseAccept('200..299,304,403,429'))).toEqual([...range(200, 299), 304, 403, 429]);
    expect(accepted(parseAccept(' 200 .. 204 ,\t304 '))).toEqual([...range(200, 204), 304]);
    expect(accepted(parseAccept('404'))).toEqual([404]);
    expect(accepted(parseAccept('100..599'))).toEqual(range(100, 599));
    expect(accepted(parseAccept('200..200'))).toEqual([200]);
  });

  it('takes overlapping and repeated pieces', () => {
    expect(accepted(parseAccept('200..250,240..260,250,250'))).toEqual(range(200, 260));
  });

  it('reads an array of codes, range strings and [from, to] pairs', () => {
    expect(accepted(parseAccept([200, '300..302', [400, 401]]))).toEqual([200, 300, 301, 302, 400, 401]);
  });

  it('answers false for anything that is not an accepted integer status', () => {
    const ok = parseAccept('200..299');
    expect(ok(200.5)).toBe(false);
    expect(ok(-200)).toBe(false);
    expect(ok(Number.NaN)).toBe(false);
    expect(ok(1200)).toBe(false);
  });

  it.each([
    ['2xx', 'Expected `accept` to be status codes or ranges like 200..299, got `2xx`'],
    ['200..299,2xx', 'Expected `accept` to be status codes or ranges like 200..299, got `2xx`'],
    ['200-299', 'Expected `accept` to be status codes or ranges like 200..299, got `200-299`'],
    ['', 'Expected `accept` to be status codes or ranges like 200..299, got ``'],
    ['200,,304', 'Expected `accept` to be status codes or ranges like 200..299, got ``'],
    ['200..', 'Expected `accept` to be status codes or ranges like 200..299, got `200..`'],
    ['..299', 'Expected `accept` to be status codes or ranges like 200..299, got `..299`'],
    ['200...299', 'Expected `accept` to be status codes or ranges like 200..299, got `200...299`'],
    ['-200', 'Expected `accept` to be status codes or ranges like 200..299, got `-200`'],
    ['99', 'Expected `accept` to be status codes or ranges like 200..299, got `99`: statuses run from 100 to 599'],
    ['200..600', 'Expected `accept` to be status codes or ranges like 200..299, got `200..600`: statuses run from 100 to 599'],
    ['299..200', 'Expected `accept` to be status codes or ranges like 200..299, got `299..200`: a range runs from low to high'],
  ])('rejects %j naming the bad piece', (spec, message) => {
    expect(() => parseAccept(spec)).toThrow(new RangeError(message));
  });

  it('rejects bad array items naming the item and its type', () => {
    expect(() => parseAccept([200, 1000])).toThrow(new RangeError('Expected `accept` to be status codes or ranges like 200..299, got `1000` (number): statuses run from 100 to 599'));
    expect(() => parseAccept([200.5])).toThrow('got `200.5` (number)');
    expect(() => parseAccept(['2xx'])).toThrow('got `2xx`');
    expect(() => parseAccept([[300, 200]])).toThrow('got `[300, 200]` (array): a range runs from low to high');
    expect(() => parseAccept([{ from: 200 } as unknown as number])).toThrow('got `{"from":200}` (object)');
    expect(() => parseAccept([])).toThrow('got `[]` (array): the list is empty');
    expect(() => parseAccept(200 as unknown as string)).toThrow('got `200` (number)');
  });

  it('names the option it is given, for the CLI', () => {
    expect(() => parseAccept('2xx', '--accept')).toThrow('Expected `--accept` to be status codes or ranges like 200..299, got `2xx`');
  });
});
