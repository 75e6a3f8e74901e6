// Sizes as the command line takes them (src/cli/size.ts): `--max-bytes 10MiB`, `--max-header-size 64k`.
import { describe, expect, it } from 'vitest';
import { formatSize, parseSize } from '../src/cli/size.js';

const KiB = 1024;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

describe('parseSize', () => {
  it.each([
    ['0', 0],
    ['1000', 1000],
    ['512b', 512],
    ['512B', 512],
  ])('reads a bare number, or one in B, as bytes: %j is %i', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each([
    ['64k', 64 * KiB],
    ['64K', 64 * KiB],
    ['10M', 10 * MiB],
    ['10m', 10 * MiB],
    ['2G', 2 * GiB],
  ])('reads k, M, G alone as 1024-based, as curl --max-filesize does: %j is %i', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each([
    ['64KiB', 64 * KiB],
    ['64kib', 64 * KiB],
    ['10MiB', 10 * MiB],
    ['10MIB', 10 * MiB],
    ['1GiB', GiB],
  ])('reads KiB, MiB, GiB as 1024-based: %j is %i', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each([
    ['64kB', 64_000],
    ['64KB', 64_000],
    ['64kb', 64_000],
    ['10MB', 10_000_000],
    ['10mb', 10_000_000],
    ['1GB', 1_000_000_000],
  ])('reads kB, MB, GB as 1000-based: %j is %i', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each([
    ['1.5M', 1.5 * MiB],
    ['1.5MB', 1_500_000],
    ['.5k', 512],
    ['2.k', 2 * KiB],
    ['0.1k', 102],
    ['1.5', 2],
    ['0.4', 0],
  ])('rounds a fraction to the nearest byte: %j is %i', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each([
    [' 10MiB ', 10 * MiB],
    ['10 MiB', 10 * MiB],
    ['64 k', 64 * KiB],
  ])('allows one space before the unit, as --help writes defaults: %j', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['', 'k', 'MiB', '-1', '+5', '1e6', '0x10', '10  MiB', '10 M B', '10Mi', '10mbit', '10T', '10KK', '1..5', '1,5M', 'ten', 'Infinity', 'NaN', '10M 5k'])(
    '%j is not a size',
    (text) => {
      expect(parseSize(text)).toBeNull();
    },
  );
});

describe('formatSize', () => {
  it.each([
    [0, '0'],
    [1000, '1000'],
    [1025, '1025'],
    [KiB, '1 KiB'],
    [64 * KiB, '64 KiB'],
    [1536 * KiB, '1536 KiB'],
    [10 * MiB, '10 MiB'],
    [32 * MiB, '32 MiB'],
    [GiB, '1 GiB'],
    [10_000_000, '10000000'],
  ])('writes %i as %j, which reads back as the same bytes', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
    expect(parseSize(text)).toBe(bytes);
  });
});
