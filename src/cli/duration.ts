/**
 * Durations on the command line: `30s`, `500ms`, `2m`, `1h`; a bare number is seconds, as with `curl --max-time`
 * and `wget --timeout` (fractions allowed: `1.5` is 1500 ms). The library takes milliseconds (`timeoutMs`); this is
 * the one place that translates.
 */

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

const DURATION = /^(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h)?$/;

/** Whole milliseconds for a duration as typed, or null when it is not one. No sign, no exponent, no space inside. */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text.trim());
  if (!m) return null;
  const unit = (m[2] ?? 's') as keyof typeof UNIT_MS;
  return Math.round(Number(m[1]) * UNIT_MS[unit]);
}

/** The shortest exact spelling of a number of milliseconds: 20000 -> `20s`, 120000 -> `2m`, 1500 -> `1500ms`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  if (ms % UNIT_MS.h === 0) return `${ms / UNIT_MS.h}h`;
  if (ms % UNIT_MS.m === 0) return `${ms / UNIT_MS.m}m`;
  if (ms % UNIT_MS.s === 0) return `${ms / UNIT_MS.s}s`;
  return `${ms}ms`;
}

/** How error messages describe the accepted forms: "--timeout expects DURATION_FORMS, got ...". */
export const DURATION_FORMS = 'a duration such as 30s, 500ms, 2m or 1h (a bare number is seconds)';
