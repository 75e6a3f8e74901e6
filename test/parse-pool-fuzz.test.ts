// The parse pool starts one thread and widens to all of them when one is not enough (pool.ts). A seeded fuzz of
// what reaches it: bursts of pages of every kind (small, small but slow to parse, big, views of someone else's
// buffer, empty, windows-1252), some bursts longer than a batch may be, from 1 to 3 threads, some bursts cancelled part-way. Whatever the order of widening,
// replacing a killed thread and cancelling, every page settles exactly once, with its own answer or CANCELLED, and
// the pool never runs more threads than it was given.
import { describe, expect, it } from 'vitest';
import { setTimeout as delay } from 'node:timers/promises';
import { FetchError } from '../src/errors.js';
import { ParsePool } from '../src/parse/pool.js';
import { normalizeExtract } from '../src/parse/spec.js';
import type { Page, ParsedFields } from '../src/parse/types.js';
import { rng } from './fixtures/rng.mjs';

const SEEDS = [22, 20261206, 5];
const KINDS = ['small', 'slow', 'big', 'view', 'empty', 'latin1'] as const;
type Kind = (typeof KINDS)[number];

interface Case {
  page: Page;
  title: string | null;
  links: number;
}

const encoder = new TextEncoder();
const slowLinks = Array.from({ length: 300 }, (_, i) => `<a href="/p/${i}">${i}</a>`).join('');

function caseOf(kind: Kind, id: string): Case {
  const url = `http://a.test/${id}`;
  const html = (extra: string): string => `<!doctype html><html><head><title>${id}</title></head><body>${extra}<a href="/self">s</a></body></html>`;
  switch (kind) {
    case 'small':
      return { page: { body: encoder.encode(html('')), owned: true, contentType: 'text/html', url }, title: id, links: 1 };
    case 'slow':
      return { page: { body: encoder.encode(html(slowLinks)), owned: true, contentType: 'text/html', url }, title: id, links: 301 };
    case 'big':
      return { page: { body: encoder.encode(html(`<p>${'x'.repeat(40_000)}</p>`)), owned: true, contentType: 'text/html', url }, title: id, links: 1 };
    case 'view': {
      // As undici hands a body over: a view at an odd offset of a larger buffer that is not the page's own.
      const bytes = encoder.encode(html(''));
      const socketRead = new Uint8Array(bytes.byteLength + 7);
      socketRead.set(bytes, 3);
      return { page: { body: socketRead.subarray(3, 3 + bytes.byteLength), owned: false, contentType: 'text/html', url }, title: id, links: 1 };
    }
    case 'empty':
      return { page: { body: new Uint8Array(0), owned: true, contentType: 'text/html', url }, title: null, links: 0 };
    case 'latin1': {
      // "é" as windows-1252's single byte, declared by the header.
      const bytes = Uint8Array.from([...encoder.encode(`<title>${id}-`), 0xe9, ...encoder.encode('</title><a href="/x">x</a>')]);
      return { page: { body: bytes, owned: true, contentType: 'text/html; charset=windows-1252', url }, title: `${id}-é`, links: 1 };
    }
  }
}

describe('the parse pool, fuzzed: bursts of every kind of page, widening, cancels', () => {
  SEEDS.forEach((seed, n) => {
    const threads = n + 1;
    it(`seed ${seed}, ${threads} thread(s): every page settles once, with its answer or CANCELLED; never more threads than given`, async () => {
      const random = rng(seed);
      const pool = new ParsePool(normalizeExtract({ links: true }), threads, 10_000);
      try {
        for (let burst = 0; burst < 10; burst++) {
          const controller = new AbortController();
          const cancelAfter = random() < 0.3 ? Math.floor(random() * 4) : null;
          // Now and then a burst past a batch's limits (512 pages, 256 KiB: pool.ts), so that batches are cut by count
          // (empty and small pages) and by bytes (slow pages, ~10 KB each) in the middle of a burst.
          const size = random() < 0.2 ? 500 + Math.floor(random() * 800) : 1 + Math.floor(random() * 60);
          // No big page in the first half, so that the narrow pool (one thread, one task) meets the rest alone, and
          // widens, if at all, because its thread is busy.
          const kinds = burst < 5 ? KINDS.filter((k) => k !== 'big') : KINDS;
          const cases = Array.from({ length: size }, (_, i) => caseOf(kinds[Math.floor(random() * kinds.length)] as Kind, `s${seed}b${burst}p${i}`));
          const settled = cases.map(() => 0);
          const outcomes = cases.map(({ page }, i) =>
            pool.parse(page, controller.signal).then(
              (fields: ParsedFields) => {
                settled[i]!++;
                return { fields, error: null };
              },
              (error: unknown) => {
                settled[i]!++;
                return { fields: null, error };
              },
            ),
          );
          if (cancelAfter !== null) {
            // Part-way: after some turns of the event loop, so that some pages are answered, some on a thread, some queued.
            for (let turn = 0; turn < cancelAfter; turn++) await new Promise((resolve) => setImmediate(resolve));
            controller.abort();
          }
          const results = await Promise.all(outcomes);
          expect(pool.threadCount).toBeLessThanOrEqual(threads);
          results.forEach(({ fields, error }, i) => {
            const c = cases[i] as Case;
            expect(settled[i], `page ${i} settled`).toBe(1);
            if (error !== null) {
              // Only a cancelled burst may fail a page, and only as CANCELLED.
              expect(cancelAfter, `page ${i}: ${String(error)}`).not.toBeNull();
              expect(error).toBeInstanceOf(FetchError);
              expect((error as FetchError).code).toBe('CANCELLED');
              return;
            }
            expect(fields?.title, `page ${i}`).toBe(c.title);
            expect(fields?.links, `page ${i}`).toHaveLength(c.links);
          });
          // Between bursts: sometimes none, sometimes long enough for a window of the pool's to pass.
          if (random() < 0.5) await delay(Math.floor(random() * 300));
        }
      } finally {
        await pool.destroy();
      }
    });
  });
});
