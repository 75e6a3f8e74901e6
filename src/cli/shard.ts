/**
 * FNV-1a (32-bit) of the lower-cased hostname: tiny, stable across versions and machines, and the same in any
 * language, so another tool can reproduce the split. Hashing the host (not the URL) keeps each host on one
 * machine, so per-host limits and robots.txt still hold when N machines split one list.
 */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Shard (0..count-1) of a URL line. Lines with no parseable host all go to shard 0, so each is reported once. */
export function shardOf(line: string, count: number): number {
  let host: string;
  try {
    host = new URL(line.trim()).hostname.toLowerCase();
  } catch {
    return 0;
  }
  if (host === '') return 0;
  return fnv1a32(host) % count;
}
