import { describe, expect, it } from 'vitest';
import { hash64 } from '../src/crawl/hash64.js';
import { SeenSet, SeenSetFormatError } from '../src/crawl/seen-set.js';

const url = (i: number): string => `https://host-${i % 101}.example/path/${i}?q=${(i * 7919) % 1000}`;

describe('SeenSet', () => {
  it('add returns true exactly once per distinct URL, and has() finds every URL added (no false negatives)', () => {
    const set = new SeenSet();
    const n = 100_000;
    for (let i = 0; i < n; i++) if (!set.add(url(i))) throw new Error(`not new the first time: ${url(i)}`);
    for (let i = 0; i < n; i++) {
      if (set.add(url(i))) throw new Error(`added twice: ${url(i)}`);
      if (!set.has(url(i))) throw new Error(`lost: ${url(i)}`);
    }
    expect(set.size).toBe(n);
    expect(set.has(url(n))).toBe(false);
    expect(set.has('')).toBe(false);
    expect(set.add('')).toBe(true);
    expect(set.has('')).toBe(true);
  });

  it('grows by half at 3/4 full: the table stays 1/2 to 3/4 full, at most 16 bytes a URL', () => {
    const set = new SeenSet();
    let grows = 0;
    let last = set.byteLength;
    for (let i = 0; i < 300_000; i++) {
      set.add(url(i));
      if (set.byteLength !== last) {
        grows += 1;
        expect(set.byteLength / last).toBeCloseTo(1.5, 1);
        last = set.byteLength;
      }
      if (set.size >= 1000 && i % 997 === 0) {
        expect(set.byteLength / set.size).toBeLessThanOrEqual(16.1);
        expect(set.byteLength / set.size).toBeGreaterThanOrEqual(10.6);
      }
    }
    expect(grows).toBeGreaterThan(10);
    for (let i = 0; i < 300_000; i++) if (!set.has(url(i))) throw new Error(`lost after growth: ${url(i)}`);
  });

  it('presized for n URLs holds them without growing', () => {
    const set = new SeenSet(50_000);
    const bytes = set.byteLength;
    for (let i = 0; i < 50_000; i++) set.add(url(i));
    expect(set.byteLength).toBe(bytes);
  });

  it('serializes to 16 + 8n bytes and back, with the same members', () => {
    const set = new SeenSet();
    for (let i = 0; i < 20_000; i++) set.add(url(i));
    const bytes = set.serialize();
    expect(bytes.length).toBe(16 + 8 * 20_000);
    expect([...bytes.subarray(0, 4)]).toEqual([0x56, 0x53, 0x53, 0x01]);
    const back = SeenSet.from(bytes);
    expect(back.size).toBe(20_000);
    for (let i = 0; i < 20_000; i++) if (!back.has(url(i))) throw new Error(`lost in the round trip: ${url(i)}`);
    expect(back.add(url(20_000))).toBe(true);
    expect(back.add(url(0))).toBe(false);
    // A copy at an odd offset of a bigger buffer (as read from a file with a header of its own) reads the same.
    const framed = new Uint8Array(bytes.length + 3);
    framed.set(bytes, 3);
    expect(SeenSet.from(framed.subarray(3)).size).toBe(20_000);
    expect(SeenSet.from(new SeenSet().serialize()).size).toBe(0);
  });

  it('rejects bytes that are not a state file with SEEN_SET_FORMAT', () => {
    const bytes = new SeenSet().serialize();
    const good = (() => {
      const s = new SeenSet();
      s.add('a');
      s.add('b');
      return s.serialize();
    })();
    const cases: Uint8Array[] = [new Uint8Array(0), new Uint8Array(16), good.subarray(0, good.length - 1)];
    const wrongVersion = bytes.slice();
    wrongVersion[3] = 2;
    cases.push(wrongVersion);
    const repeated = good.slice();
    repeated.copyWithin(24, 16, 24);
    cases.push(repeated);
    const zero = good.slice();
    zero.fill(0, 16, 24);
    cases.push(zero);
    for (const bad of cases) {
      expect(() => SeenSet.from(bad)).toThrow(SeenSetFormatError);
      try {
        SeenSet.from(bad);
      } catch (error) {
        expect((error as SeenSetFormatError).code).toBe('SEEN_SET_FORMAT');
      }
    }
  });

  it('validates its size hint', () => {
    expect(() => new SeenSet(-1)).toThrow('Expected `expected` to be an integer from 0 and up, got `-1` (number)');
    expect(() => new SeenSet(1.5)).toThrow(TypeError);
  });
});

describe('hash64', () => {
  it('is deterministic and spreads a million similar URLs: no 64-bit collision, 32-bit halves at the birthday rate', () => {
    const n = 1_000_000;
    const hi = new Uint32Array(n);
    const lo = new Uint32Array(n);
    const out = new Uint32Array(2);
    for (let i = 0; i < n; i++) {
      hash64(`https://www.example.com/item/${i}`, out);
      hi[i] = out[0]!;
      lo[i] = out[1]!;
    }
    const full = new BigUint64Array(n);
    for (let i = 0; i < n; i++) full[i] = (BigInt(hi[i]!) << 32n) | BigInt(lo[i]!);
    full.sort();
    let fullCollisions = 0;
    for (let i = 1; i < n; i++) if (full[i] === full[i - 1]) fullCollisions += 1;
    expect(fullCollisions).toBe(0);
    // Each 32-bit half alone should collide like random numbers: n²/2^33 ≈ 116 pairs, Poisson (sd ≈ 11).
    const collisions = (values: Uint32Array): number => {
      const sorted = values.slice().sort();
      let count = 0;
      for (let i = 1; i < n; i++) if (sorted[i] === sorted[i - 1]) count += 1;
      return count;
    };
    expect(collisions(hi)).toBeGreaterThan(60);
    expect(collisions(hi)).toBeLessThan(180);
    expect(collisions(lo)).toBeGreaterThan(60);
    expect(collisions(lo)).toBeLessThan(180);
    // The top 8 bits (which pick the table slot) fill their 256 buckets evenly: chi-square, 255 degrees of freedom.
    const buckets = new Array<number>(256).fill(0);
    for (const h of hi) buckets[h >>> 24]! += 1;
    const expected = n / 256;
    const chi = buckets.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
    expect(chi).toBeLessThan(340); // p ≈ 0.0003
  });

  it('tells apart strings that differ in one code unit, in length, or by swapped halves', () => {
    const seen = new Set<string>();
    const out = new Uint32Array(2);
    const inputs = ['', 'a', 'b', 'ab', 'ba', 'aa', 'a\u0000', '\u0000a', '\u0000', 'https://x/é', 'https://x/e\u0301'];
    for (const input of inputs) {
      hash64(input, out);
      seen.add(`${out[0]}:${out[1]}`);
    }
    expect(seen.size).toBe(inputs.length);
  });
});
