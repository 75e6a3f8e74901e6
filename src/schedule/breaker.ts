import { FetchError, type ErrorCode } from '../errors.js';
import { DEFAULTS } from '../options.js';

/**
 * The failures that say a host is unreachable rather than unhappy: they count towards the breaker, and only when
 * no response head arrived (the caller records an error that carries a status as `'response'`).
 *
 * RESET is not among them. classify.ts gives RESET to a reset before any byte and to a response that arrived
 * malformed alike (undici's parser errors, "bad response", "the response ended before its head"), and undici
 * does not let us tell them apart: a raw ECONNRESET carries no byte count, and the `socket.bytesRead` of its
 * "other side closed" counts the whole connection, earlier keep-alive responses included. A host that answers
 * with malformed responses is answering, so RESET stays out (conservative: a dead host shows CONNECT, DNS, TLS or
 * TIMEOUT too). Every other code (HTTP_STATUS, TOO_LARGE, PARSE, …) is about one URL and leaves the count alone.
 */
export const HOST_FAILURE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['CONNECT', 'DNS', 'TIMEOUT', 'TLS']);

/** Each failed probe doubles the cool-down up to this (or up to the first cool-down, when that is longer). */
export const MAX_COOLDOWN_MS = 600_000;

/** Why a host is skipped: the consecutive failures that tripped the breaker and the last one's code. */
export interface HostTrip {
  failures: number;
  lastCode: ErrorCode;
}

/** A host whose breaker is open: skipped until `probeAt`, then one probe at a time (half-open). */
interface OpenHost extends HostTrip {
  cooldownMs: number;
  probeAt: number;
  /** A probe is on the wire: the host is half-open and every other request still fails fast. */
  probing: boolean;
}

/**
 * How a request to a host may go (`HostBreaker.admit`): `'closed'`, as usual; `'probe'`, as the one request that
 * tests a host whose cool-down is over; or the trip to fail it with, unrequested (HOST_SKIPPED).
 */
export type Admission = 'closed' | 'probe' | HostTrip;

/**
 * The breaker as the request path uses it (schedule/request.ts): the run's own {@link HostBreaker} by default, or
 * one that a shared queue's workers share (frontier/redis-breaker.ts), passed as `PipelineParts.breaker`.
 */
export interface Breaker {
  /** A look that changes nothing, before a request waits for its turn: the trip while the host is open, else null. */
  skipped(host: string): HostTrip | null;
  /**
   * Asked the moment before a request goes out; binding. A shared breaker may answer with a Promise (it asks Redis);
   * the caller awaits only then, so the local breaker's hot path stays synchronous.
   */
  admit(host: string): Admission | Promise<Admission>;
  /** How a request ended: `'response'` when any response head arrived, else its error code (see HostBreaker.record). */
  record(host: string, outcome: ErrorCode | 'response', admission?: 'closed' | 'probe'): unknown;
}

export interface BreakerOptions {
  /** The first cool-down after a trip (`hostCooldownMs`); doubled by each failed probe, up to MAX_COOLDOWN_MS. @default 30000 */
  cooldownMs?: number;
  /** The clock, in ms (monotonic). Tests pass a fake one. @default performance.now */
  now?: () => number;
}

/**
 * The dead-host circuit breaker, per host:
 *
 * - **closed**: requests go out. `maxHostErrors` consecutive attempts that found the host unreachable
 *   (HOST_FAILURE_CODES, no response head) trip it **open**. Any response, whatever its status, resets the count.
 * - **open**: the host's requests fail fast as HOST_SKIPPED for a cool-down (`cooldownMs`), then it is
 *   **half-open**: exactly one request goes out as a probe while the others still fail fast.
 * - A probe that gets any response (any status) closes the breaker; one that finds the host unreachable opens it
 *   again with the cool-down doubled (capped at 10 min, as Envoy's outlier ejection grows); one that ends any other
 *   way (a RESET, a cancel) proves nothing, and the next request probes.
 *
 * A response to a request that went out before the trip closes it too: the host answers. Its unreachable failures
 * change nothing (the trip already counted the streak). This is opossum's `resetTimeout` and resilience4j's
 * half-open state, with Envoy's growing ejection time.
 *
 * Hosts are whatever keys the caller passes; use the key the host gates use (`url.host`, i.e. `hostname:port`).
 * Memory: only hosts with a failure streak or an open breaker are stored, so millions of healthy hosts cost none.
 */
export class HostBreaker implements Breaker {
  /** Closed hosts with a failure streak that has not tripped yet. */
  private readonly counting = new Map<string, HostTrip>();
  /** Open and half-open hosts, in the order they tripped. */
  private readonly open = new Map<string, OpenHost>();
  private readonly cooldownMs: number;
  private readonly maxCooldownMs: number;
  private readonly now: () => number;
  /** Trips (closed → open) over the run, and closes of a tripped host (open or half-open → closed). */
  private tripCount = 0;
  private closeCount = 0;

  /**
   * @param maxHostErrors consecutive host failures that trip the breaker; 0 turns it off. @default 10 (the run's default)
   */
  constructor(
    readonly maxHostErrors: number,
    options: BreakerOptions = {},
  ) {
    if (typeof maxHostErrors !== 'number' || !Number.isInteger(maxHostErrors) || maxHostErrors < 0) {
      throw new RangeError(`Expected \`maxHostErrors\` to be an integer from 0 and up, got \`${String(maxHostErrors)}\` (${typeof maxHostErrors})`);
    }
    const cooldownMs = options.cooldownMs ?? DEFAULTS.hostCooldownMs;
    if (typeof cooldownMs !== 'number' || !Number.isInteger(cooldownMs) || cooldownMs < 1) {
      throw new RangeError(`Expected \`cooldownMs\` to be an integer from 1 and up, got \`${String(cooldownMs)}\` (${typeof cooldownMs})`);
    }
    this.cooldownMs = cooldownMs;
    this.maxCooldownMs = Math.max(MAX_COOLDOWN_MS, cooldownMs);
    this.now = options.now ?? (() => performance.now());
  }

  /** False when built with 0: nothing is counted and every request is admitted. */
  get enabled(): boolean {
    return this.maxHostErrors > 0;
  }

  /** Hosts held in memory: those with a failure streak under way, and the open ones. Healthy hosts cost nothing. */
  get size(): number {
    return this.counting.size + this.open.size;
  }

  /**
   * A look that changes nothing, for a request before it waits for its turn: the trip to fail it with while the
   * host is open (cooling down, or a probe under way), else null. A request that passes asks `admit` once more
   * just before it goes out.
   */
  skipped(host: string): HostTrip | null {
    const state = this.open.get(host);
    if (state === undefined || (!state.probing && this.now() >= state.probeAt)) return null;
    return { failures: state.failures, lastCode: state.lastCode };
  }

  /**
   * Asked by each request the moment before it goes out; what it says is binding. `'probe'` makes the host
   * half-open until that request is recorded, so the caller must `record` it however it ends.
   */
  admit(host: string): Admission {
    const state = this.open.get(host);
    if (state === undefined) return 'closed';
    if (state.probing || this.now() < state.probeAt) return { failures: state.failures, lastCode: state.lastCode };
    state.probing = true;
    return 'probe';
  }

  /**
   * Records how one request to `host` ended: `'response'` when any response head arrived (any status, even if its
   * body then failed), else the request's error code; `admission` is what `admit` said for it. Returns true only
   * for the call that tripped the breaker (closed → open).
   */
  record(host: string, outcome: ErrorCode | 'response', admission: 'closed' | 'probe' = 'closed'): boolean {
    if (!this.enabled) return false;
    const state = this.open.get(host);
    if (state !== undefined) {
      if (outcome === 'response') {
        this.open.delete(host);
        this.closeCount++;
      } else if (admission === 'probe') {
        state.probing = false;
        if (HOST_FAILURE_CODES.has(outcome)) {
          state.failures++;
          state.lastCode = outcome;
          state.cooldownMs = Math.min(state.cooldownMs * 2, this.maxCooldownMs);
          state.probeAt = this.now() + state.cooldownMs;
        }
      }
      return false;
    }
    if (outcome === 'response') {
      this.counting.delete(host);
      return false;
    }
    if (!HOST_FAILURE_CODES.has(outcome)) return false;
    const streak = this.counting.get(host);
    const failures = (streak?.failures ?? 0) + 1;
    if (failures >= this.maxHostErrors) {
      this.counting.delete(host);
      this.open.set(host, { failures, lastCode: outcome, cooldownMs: this.cooldownMs, probeAt: this.now() + this.cooldownMs, probing: false });
      this.tripCount++;
      return true;
    }
    if (streak) {
      streak.failures = failures;
      streak.lastCode = outcome;
    } else {
      this.counting.set(host, { failures, lastCode: outcome });
    }
    return false;
  }

  /** The cool-down the host is in, or will be in after the probe under way fails; null when it is closed. */
  cooldownOf(host: string): number | null {
    return this.open.get(host)?.cooldownMs ?? null;
  }

  /** Every host open now (half-open included), in the order they tripped. */
  skippedHosts(): Array<{ host: string; failures: number; lastCode: ErrorCode }> {
    return Array.from(this.open, ([host, { failures, lastCode }]) => ({ host, failures, lastCode }));
  }

  /** Over the run: how many times a host tripped, how many times one closed again, and how many are open now. */
  get counts(): { tripped: number; closedAgain: number; open: number } {
    return { tripped: this.tripCount, closedAgain: this.closeCount, open: this.open.size };
  }
}

/** The HOST_SKIPPED message: `host 127.0.0.1:8080 skipped after 10 consecutive failures (last: TIMEOUT)`. */
export function hostSkippedMessage(host: string, trip: HostTrip): string {
  const failures = trip.failures === 1 ? '1 consecutive failure' : `${trip.failures} consecutive failures`;
  return `host ${host} skipped after ${failures} (last: ${trip.lastCode})`;
}

/** The failure for a URL of a skipped host: code HOST_SKIPPED, no status, never requested and never retried. */
export function hostSkippedError(host: string, trip: HostTrip): FetchError {
  return new FetchError('HOST_SKIPPED', hostSkippedMessage(host, trip));
}
