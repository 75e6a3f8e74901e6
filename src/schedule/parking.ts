/**
 * The URLs of a run that are parked: in flight, but waiting on something other than a global slot — a host that
 * is busy, paced or paused, a backoff before a retry, robots.txt, the parse stage. The feeder takes new URLs
 * while fewer than `concurrency * DEMAND_FACTOR` URLs want a slot (pipeline.ts), and a parked URL does not want
 * one now: counting it would stop the read-ahead from finding other hosts' work behind a slow host.
 *
 * A URL is parked only through `during` or `until`, which leave exactly once however the wait ends (a value, a
 * throw, an abort), so no wait site can leave the count unbalanced. A wait that is not a URL's own (a robots.txt
 * request, shared by the URLs of its host, which park on it themselves) is not parked; nor is a request waiting
 * for room in the byte budget, which holds its global slot (see schedule/request.ts).
 */
export class Parking {
  private parked = 0;

  /** @param onPark called when a URL parks: the feeder may have room to take another. */
  constructor(private readonly onPark: () => void) {}

  /** URLs parked right now. */
  get count(): number {
    return this.parked;
  }

  /** Awaits `promise` with the URL parked meanwhile. */
  async during<T>(promise: Promise<T>): Promise<T> {
    this.enter();
    try {
      return await promise;
    } finally {
      this.parked--;
    }
  }

  /**
   * Awaits the promise `start(unpark)` returns with the URL parked from the moment `start` returns until it calls
   * `unpark` or the promise settles, whichever comes first; a URL that calls `unpark` before `start` returns (a free
   * host lets it through at once) is never parked at all. For waits whose end is a callback inside another
   * scheduler: the host gate hands over in the callback that runs the request.
   */
  until<T>(start: (unpark: () => void) => Promise<T>): Promise<T> {
    // Widened on purpose: `unpark` may change it while `start` runs.
    let state = 'starting' as 'starting' | 'parked' | 'left';
    const unpark = (): void => {
      if (state === 'parked') this.parked--;
      state = 'left';
    };
    const promise = start(unpark);
    // Let through at once (the common case on a bulk run): no bookkeeping, no extra promise.
    if (state === 'left') return promise;
    state = 'parked';
    this.enter();
    return promise.finally(unpark);
  }

  private enter(): void {
    this.parked++;
    this.onPark();
  }
}
