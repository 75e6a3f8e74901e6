/**
 * One total deadline for one attempt, like asyncio.wait_for: the returned signal aborts when `ms` pass or when
 * the run's signal aborts, whichever is first, and covers connect, headers and the whole body alike.
 * undici's headersTimeout/bodyTimeout are idle timers: a server trickling a byte a second never trips them.
 * Built by hand rather than with AbortSignal.any() so that everything is released in `dispose()`: one
 * dependent signal per attempt, on a run of millions of URLs, must not pile up on the run's signal.
 */
export interface Deadline {
  signal: AbortSignal;
  /** Which of the two fired, read after a failure to choose TIMEOUT or CANCELLED. */
  readonly timedOut: boolean;
  readonly cancelled: boolean;
  dispose(): void;
}

export function startDeadline(ms: number, runSignal: AbortSignal): Deadline {
  const controller = new AbortController();
  let timedOut = false;
  let cancelled = false;
  const onCancel = (): void => {
    cancelled = true;
    controller.abort(runSignal.reason);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`deadline of ${ms} ms passed`, 'TimeoutError'));
  }, ms);
  if (runSignal.aborted) onCancel();
  else runSignal.addEventListener('abort', onCancel, { once: true });
  return {
    signal: controller.signal,
    get timedOut() {
      return timedOut && !cancelled;
    },
    get cancelled() {
      return cancelled;
    },
    dispose() {
      clearTimeout(timer);
      runSignal.removeEventListener('abort', onCancel);
    },
  };
}

/** Sleeps `ms`, or less when the signal aborts; never rejects, and leaves no timer behind. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
