import pLimit, { type LimitFunction } from 'p-limit';
import { sleep } from '../sleep.js';

/**
 * Everything that paces one host: at most `perHost` requests at once (p-limit), a minimum gap between request
 * starts (from `perHostRate`, `perHostDelayMs` or robots.txt `Crawl-delay`, whichever is longest), and a pause
 * that a `Retry-After` puts on the host. Waiting here never holds a global slot, so a slow-paced host does not
 * starve the others.
 */
export class HostGate {
  /** Null when `perHost` cannot bind (it is at least the run's concurrency): the global limit caps it already. */
  private readonly limit: LimitFunction | null;
  private intervalMs: number;
  private nextStartAt = 0;
  private pausedUntil = 0;
  private running = 0;

  constructor(perHost: number, intervalMs: number, concurrency: number) {
    this.limit = perHost < concurrency ? pLimit(perHost) : null;
    this.intervalMs = intervalMs;
  }

  /** Raises the gap between request starts (robots.txt Crawl-delay); never lowers what the user set. */
  slowTo(intervalMs: number): void {
    this.intervalMs = Math.max(this.intervalMs, intervalMs);
  }

  /** Holds every request to this host until `ms` from now (a Retry-After); longer pauses win. */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms);
  }

  get paused(): boolean {
    return this.pausedUntil > Date.now();
  }

  /** True while anything runs, waits or is paced here: the gate must be kept. */
  get busy(): boolean {
    return this.running > 0 || this.nextStartAt > Date.now() || this.paused;
  }

  /**
   * Runs `fn` when this host has a free slot and its pacing allows; on abort, `fn` runs at once (and sees the
   * aborted signal). Without a per-host limit or pacing (the common bulk case) the turn is free: `fn` starts now,
   * with no queue and no promise of the gate's own.
   */
  run<T>(fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
    this.running++;
    let promise: Promise<T>;
    if (this.limit !== null) promise = this.limit(() => this.waitTurn(signal).then(fn));
    else if (this.intervalMs > 0 || this.pausedUntil > 0) promise = this.waitTurn(signal).then(fn);
    else {
      try {
        promise = fn();
      } catch (err) {
        promise = Promise.reject(err);
      }
    }
    promise.then(this.finished, this.finished);
    return promise;
  }

  private readonly finished = (): void => {
    this.running--;
  };

  private async waitTurn(signal: AbortSignal): Promise<void> {
    for (;;) {
      if (signal.aborted) return;
      const now = Date.now();
      const at = Math.max(this.pausedUntil, this.nextStartAt);
      if (at <= now) {
        // Reserve the next start before any await, so concurrent waiters space out instead of all firing.
        this.nextStartAt = now + this.intervalMs;
        return;
      }
      await sleep(at - now, signal);
    }
  }
}

/** One gate per host (`hostname:port`), created on first use and dropped once idle, so millions of hosts stay cheap. */
export class HostGates {
  private readonly gates = new Map<string, HostGate>();
  private createdSinceSweep = 0;

  constructor(
    private readonly perHost: number,
    private readonly intervalMs: number,
    private readonly concurrency: number,
  ) {}

  get(host: string): HostGate {
    let gate = this.gates.get(host);
    if (!gate) {
      // Gates kept only for their pacing are swept now and then, so a paced run over many hosts stays flat.
      if (++this.createdSinceSweep >= 1024) this.sweep();
      gate = new HostGate(this.perHost, this.intervalMs, this.concurrency);
      this.gates.set(host, gate);
    }
    return gate;
  }

  /** Forgets gates with nothing running, waiting, paced or paused. Called as work finishes. */
  release(host: string): void {
    const gate = this.gates.get(host);
    if (gate && !gate.busy) this.gates.delete(host);
  }

  private sweep(): void {
    this.createdSinceSweep = 0;
    for (const [host, gate] of this.gates) if (!gate.busy) this.gates.delete(host);
  }

  get pausedCount(): number {
    let n = 0;
    for (const gate of this.gates.values()) if (gate.paused) n++;
    return n;
  }
}
