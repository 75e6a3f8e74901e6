// The list workloads W1–W3 as bench/main.mjs runs them (its full sizes) and bench/ab.mjs runs them alone: one
// definition, so that an A/B pair measures what the benchmark's table reports.

/** The slow port's added delay (W2), ms. */
export const DELAY_MS = 100;

/** Full-size W1–W3; `n` is the list's length (bench/main.mjs --quick takes smaller ones). */
export const LIST_WORKLOADS = {
  W1: { kind: 'small', n: 20_000, concurrency: 64, links: false, port: 'fast' },
  W2: { kind: 'small', n: 2_000, concurrency: 100, links: false, port: 'slow' },
  W3: { kind: 'big', n: 2_000, concurrency: 32, links: true, port: 'fast' },
};
