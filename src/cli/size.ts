/**
 * Sizes on the command line: `10MiB`, `64k`, `1.5M`, `500kB`; a bare number is bytes. The library takes bytes
 * (`maxBytes`); this is the one place that translates, as duration.ts is for milliseconds.
 *
 * `k`, `M`, `G` alone are 1024-based, as in curl (`--max-filesize 10M` is 10 * 2^20) and wget (`--quota`). Spelled
 * out, each unit means what its standard says: `kB`, `MB`, `GB` are SI, 1000-based; `KiB`, `MiB`, `GiB` are IEC
 * 80000-13, 1024-based. Case does not matter (`mb` is MB, `KIB` is KiB): nobody means megabits here. Fractions are
 * rounded to the nearest byte (`1.5M` is 1572864, `0.1k` is 102), as a duration's are to the millisecond.
 */

const KI = 1024;

/** Bytes per unit, by the unit in lower case; '' is a bare number. */
const UNIT_BYTES: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: KI,
  m: KI ** 2,
  g: KI ** 3,
  kib: KI,
  mib: KI ** 2,
  gib: KI ** 3,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
};

// One optional space between number and unit: --help writes defaults as `10 MiB`, and a quoted copy of it should work.
const SIZE = /^(\d+(?:\.\d*)?|\.\d+) ?([kmg](?:i?b)?|b)?$/i;

/** Whole bytes for a size as typed, or null when it is not one. No sign, no exponent. */
export function parseSize(text: string): number | null {
  const m = SIZE.exec(text.trim());
  if (!m) return null;
  const unit = UNIT_BYTES[(m[2] ?? '').toLowerCase()] as number;
  return Math.round(Number(m[1]) * unit);
}

/** A number of bytes in the largest 1024-based unit that holds it exactly: 10485760 -> `10 MiB`, 1000 -> `1000`. */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [['GiB', KI ** 3], ['MiB', KI ** 2], ['KiB', KI]] as const) {
    if (bytes !== 0 && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return String(bytes);
}

/** How error messages describe the accepted forms: "--max-bytes expects SIZE_FORMS, got ...". */
export const SIZE_FORMS = 'a size such as 10MiB, 64k or 1.5M (k, M, G and KiB, MiB, GiB are 1024-based; kB, MB, GB 1000-based; a bare number is bytes)';
