/**
 * The bytes a run holds between the network and its consumer (`maxBufferedBytes`): bodies fetched and waiting
 * for or inside the parser, and results not yet taken by the consumer (counted by their body's size until then).
 * While the held bytes are at or above the limit no new request starts, so fetching slows to the pace of the
 * parse stage and of the consumer instead of piling bodies up in memory. The global concurrency slot is given
 * back before parsing, so it is this budget, not `concurrency`, that bounds the parse stage.
 *
 * The limit is soft by the bodies already on their way: requests on the wire when it fills still land, so the
 * bytes held stay below `limit` plus the bodies of at most `concurrency` requests. A body larger than the whole
 * budget is still fetched when nothing else is held, and nothing else starts until it is released: it goes
 * through alone, and no run can deadlock on the budget (what is held is released by parsing and by the
 * consumer, neither of which waits for it).
 */
export class ByteBudget {
  private heldBytes = 0;
  private waiters: (() => void)[] = [];

  constructor(readonly limit: number) {}

  /** Bytes held now. */
  get held(): number {
    return this.heldBytes;
  }

  /** True while no new request may start. */
  get full(): boolean {
    return this.heldBytes >= this.limit;
  }

  /** Requests waiting for room right now. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Counts `bytes` as held: it never waits (the bytes already exist); the next request does. */
  acquire(bytes: number): void {
    this.heldBytes += bytes;
  }

  release(bytes: number): void {
    this.heldBytes -= bytes;
    if (this.waiters.length > 0 && !this.full) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Resolves when a request may start: at once when there is room, else once there is, or once `signal` aborts. */
  room(signal: AbortSignal): Promise<void> {
    if (!this.full || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve();
      };
      this.waiters.push(wake);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** A URL's share of the budget, released in one go when its result is taken. */
  hold(): Hold {
    return new Hold(this);
  }
}

/**
 * The bytes one URL holds: each stage that keeps bytes for the result adds them (today the body handed to the
 * parser; bodies kept for output later), and the pipeline releases them all once the consumer takes the result.
 */
export class Hold {
  private bytes = 0;

  constructor(private readonly budget: ByteBudget) {}

  add(bytes: number): void {
    this.bytes += bytes;
    this.budget.acquire(bytes);
  }

  /** Gives back everything this URL held; a second call gives back nothing. */
  release(): void {
    if (this.bytes === 0) return;
    this.budget.release(this.bytes);
    this.bytes = 0;
  }
}
