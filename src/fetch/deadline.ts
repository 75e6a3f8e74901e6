/**
 * One total deadline for one attempt, like asyncio.wait_for: the attempt is aborted when `ms` pass or when the
 * run's signal aborts, whichever is first, and the deadline covers connect, headers and the whole body alike.
 * undici's headersTimeout/bodyTimeout are idle timers: a server trickling a byte a second never trips them.
 *
 * No timer, listener or signal per attempt: every attempt of a run with the same `ms` shares one queue and one
 * timer (a clock, below). Attempts start in order and all wait the same `ms`, so their deadlines come in the
 * order they were queued: a FIFO, swept when its head is due. What a run pays per attempt is one small object
 * pushed on an array; a timer and an AbortController (later an EventEmitter) per attempt cost ~25 µs a request
 * on small pages, and a listener per attempt on the run's signal ~16 µs more (Node's EventTarget scans its
 * listener list on every add and remove). The run's signal gets one listener, which cancels what is queued.
 */
export interface Deadline {
  /** Which of the two fired, read after a failure to choose TIMEOUT or CANCELLED. */
  readonly timedOut: boolean;
  readonly cancelled: boolean;
  /** Called when the attempt is over, however it ended; after it, neither fires. */
  dispose(): void;
}

class AttemptDeadline implements Deadline {
  /** While true the attempt is in its clock's queue (neither fired nor disposed). */
  queued = true;
  private fired: 'time' | 'cancel' | null = null;

  constructor(
    readonly at: number,
    private readonly clock: Clock | null,
    private readonly abort: (reason: unknown) => void,
  ) {}

  get timedOut(): boolean {
    return this.fired === 'time';
  }

  get cancelled(): boolean {
    return this.fired === 'cancel';
  }

  /** Called by the clock, which has already taken the attempt out of its queue (`queued` is false). */
  fire(kind: 'time' | 'cancel', reason: unknown): void {
    this.queued = false;
    this.fired = kind;
    this.abort(reason);
  }

  dispose(): void {
    if (!this.queued) return;
    this.queued = false;
    this.clock?.forget();
  }
}

/** Dead entries tolerated in a queue before it is compacted (and then only when they are most of it). */
const COMPACT_AT = 64;

/** The attempts of one run that share one `ms`, in the order they started, and the one timer for the earliest. */
class Clock {
  private queue: AttemptDeadline[] = [];
  private head = 0;
  /** Attempts in the queue not yet disposed or fired. */
  private live = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly ms: number) {}

  add(abort: (reason: unknown) => void): AttemptDeadline {
    const deadline = new AttemptDeadline(performance.now() + this.ms, this, abort);
    this.queue.push(deadline);
    this.live++;
    if (this.timer === null) this.arm(deadline.at);
    return deadline;
  }

  /** One queued attempt ended: counted out. The entry stays in the array until the sweep or a compaction passes it. */
  forget(): void {
    this.live--;
    if (this.live === 0) {
      // Nothing waits: no timer outlives the run's last request, and the array starts over.
      this.reset();
      return;
    }
    const dead = this.queue.length - this.head - this.live;
    if (dead > COMPACT_AT && dead > this.live) {
      this.queue = this.queue.filter((d, i) => i >= this.head && d.queued);
      this.head = 0;
    }
  }

  /** The run was cancelled: every attempt queued here aborts, with the run's reason. */
  cancelAll(reason: unknown): void {
    const queued = this.queue.slice(this.head).filter((d) => d.queued);
    // Out of the queue before any fires: an abort may end (and dispose) another attempt synchronously.
    for (const d of queued) d.queued = false;
    this.reset();
    for (const d of queued) d.fire('cancel', reason);
  }

  private reset(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
    this.head = 0;
    this.live = 0;
  }

  private arm(at: number): void {
    this.timer = setTimeout(this.sweep, Math.max(1, Math.ceil(at - performance.now())));
  }

  private readonly sweep = (): void => {
    this.timer = null;
    const now = performance.now();
    const due: AttemptDeadline[] = [];
    const { queue } = this;
    let head = this.head;
    while (head < queue.length) {
      const d = queue[head]!;
      if (d.queued) {
        if (d.at > now) break;
        d.queued = false;
        due.push(d);
        this.live--;
      }
      head++;
    }
    if (this.live === 0) this.reset();
    else {
      this.head = head;
      this.arm(queue[head]!.at);
    }
    // Fired after the queue is in order again: an abort may end (and dispose) other attempts synchronously.
    if (due.length > 0) {
      const reason = new DOMException(`deadline of ${this.ms} ms passed`, 'TimeoutError');
      for (const d of due) d.fire('time', reason);
    }
  };
}

/** A run's clocks, one per distinct `ms` (a request's own timeoutMs may differ from the run's). */
class RunClocks {
  private readonly clocks = new Map<number, Clock>();

  constructor(runSignal: AbortSignal) {
    runSignal.addEventListener(
      'abort',
      () => {
        for (const clock of this.clocks.values()) clock.cancelAll(runSignal.reason);
      },
      { once: true },
    );
  }

  clock(ms: number): Clock {
    let clock = this.clocks.get(ms);
    if (!clock) {
      clock = new Clock(ms);
      this.clocks.set(ms, clock);
    }
    return clock;
  }
}

const clocksOf = new WeakMap<AbortSignal, RunClocks>();

/**
 * Starts the deadline of one attempt: `abort(reason)` is called once, when `ms` pass (a TimeoutError) or when
 * `runSignal` aborts (its reason), unless `dispose()` came first. A run already cancelled aborts at once.
 */
export function startDeadline(ms: number, runSignal: AbortSignal, abort: (reason: unknown) => void): Deadline {
  if (runSignal.aborted) {
    const deadline = new AttemptDeadline(0, null, abort);
    deadline.fire('cancel', runSignal.reason);
    return deadline;
  }
  let clocks = clocksOf.get(runSignal);
  if (!clocks) {
    clocks = new RunClocks(runSignal);
    clocksOf.set(runSignal, clocks);
  }
  return clocks.clock(ms).add(abort);
}
