import { describe, expect, it, vi } from 'vitest';
import { startDeadline } from '../src/fetch/deadline.js';

// One queue and one timer per run and timeoutMs (src/fetch/deadline.ts): what fires, what does not, and what is
// left behind. No timing is asserted: only which attempts were aborted, why, and that nothing stays armed.

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('deadlines of a run', () => {
  it('fires the attempts still running when their time passes, in start order, and not those disposed', async () => {
    const run = new AbortController();
    const fired: [string, unknown][] = [];
    const before = timers();
    const start = (name: string, ms: number) => startDeadline(ms, run.signal, (reason) => fired.push([name, (reason as Error).name]));
    const a = start('a', 20);
    const b = start('b', 20);
    const c = start('c', 20);
    // Another timeoutMs (a request's own) has a queue of its own.
    const d = start('d', 5);
    b.dispose();
    await vi.waitFor(() => expect(fired.map(([name]) => name).sort()).toEqual(['a', 'c', 'd']));
    expect(fired.every(([, reason]) => reason === 'TimeoutError')).toBe(true);
    expect(fired.map(([name]) => name).filter((n) => n !== 'd')).toEqual(['a', 'c']);
    expect([a.timedOut, b.timedOut, c.timedOut, d.timedOut]).toEqual([true, false, true, true]);
    expect([a.cancelled, b.cancelled, c.cancelled, d.cancelled]).toEqual([false, false, false, false]);
    // Disposing after the fact is harmless, and no timer is left armed.
    for (const x of [a, b, c, d]) x.dispose();
    expect(timers()).toBe(before);
  });

  it('cancels what is running when the run aborts, and an attempt started after it at once', () => {
    const run = new AbortController();
    const reasons: unknown[] = [];
    const started = [startDeadline(60_000, run.signal, (r) => reasons.push(r)), startDeadline(30_000, run.signal, (r) => reasons.push(r))];
    const done = startDeadline(60_000, run.signal, (r) => reasons.push(r));
    done.dispose();
    run.abort(new Error('stop'));
    expect(reasons.map((r) => (r as Error).message)).toEqual(['stop', 'stop']);
    expect(started.map((d) => [d.cancelled, d.timedOut])).toEqual([[true, false], [true, false]]);
    expect(done.cancelled).toBe(false);
    const late = startDeadline(60_000, run.signal, (r) => reasons.push(r));
    expect(late.cancelled).toBe(true);
    expect(reasons).toHaveLength(3);
  });

  it('keeps no timer once every attempt is over, however many came and went', () => {
    const run = new AbortController();
    const before = timers();
    const live = [];
    for (let i = 0; i < 5_000; i++) {
      live.push(startDeadline(60_000, run.signal, () => {}));
      // Most finish out of order, long before their deadline: the queue compacts as it goes.
      if (live.length > 64) live.splice(Math.floor(live.length / 2), 1)[0]!.dispose();
    }
    expect(timers()).toBe(before + 1);
    for (const d of live) d.dispose();
    expect(timers()).toBe(before);
  });
});
