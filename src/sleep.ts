/** Resolves after a turn of the event loop (its check phase), so that pending I/O runs first. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Sleeps `ms`, or less when the signal aborts; never rejects, and leaves no timer behind. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return timed(ms, signal, () => {});
}

/**
 * A wake-up that many sleepers share (the queue's worker loops): each `wait` ends after `ms`, when the signal
 * aborts, or at the next `notify()`, whichever comes first; never rejects, and leaves no timer behind.
 */
export class Wakeup {
  private waiters: (() => void)[] = [];

  wait(ms: number, signal: AbortSignal): Promise<void> {
    return timed(ms, signal, (done) => this.waiters.push(done));
  }

  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

function timed(ms: number, signal: AbortSignal, register: (done: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    register(done);
  });
}
