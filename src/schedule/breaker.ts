import { FetchError, type ErrorCode } from '../errors.js';

/**
 * The failures that say a host is unreachable rather than unhappy: they count towards the breaker. Every other code
 * (HTTP_STATUS, TOO_LARGE, PARSE, …) is about one URL, not the host, and leaves the count as it is.
 */
export const HOST_FAILURE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['CONNECT', 'DNS', 'TIMEOUT', 'TLS', 'RESET']);

/** Why a host was skipped: the consecutive failures that tripped the breaker and the last one's code. */
export interface HostTrip {
  failures: number;
  lastCode: ErrorCode;
}

/**
 * The dead-host circuit breaker: after `maxHostErrors` consecutive attempts to one host failed with CONNECT, DNS,
 * TIMEOUT, TLS or RESET, the host is skipped for the rest of the run (it never closes again). Any response, whatever
 * its status, proves the host alive and resets its count.
 *
 * Hosts are whatever keys the caller passes; use the key the host gates use (`url.host`, i.e. `hostname:port`).
 * Memory: only hosts with a non-zero count or skipped are stored, so a run over millions of healthy hosts keeps none.
 */
export class HostBreaker {
  /** Hosts with a failure streak that has not tripped yet. */
  private readonly counting = new Map<string, HostTrip>();
  /** Hosts skipped for the rest of the run, in the order they tripped. */
  private readonly tripped = new Map<string, HostTrip>();

  /**
   * @param maxHostErrors consecutive host failures that trip the breaker; 0 turns it off. @default 10 (the run's default)
   */
  constructor(readonly maxHostErrors: number) {
    if (typeof maxHostErrors !== 'number' || !Number.isInteger(maxHostErrors) || maxHostErrors < 0) {
      throw new RangeError(`Expected \`maxHostErrors\` to be an integer from 0 and up, got \`${String(maxHostErrors)}\` (${typeof maxHostErrors})`);
    }
  }

  /** False when built with 0: `record` does nothing and `skipped` is always null. */
  get enabled(): boolean {
    return this.maxHostErrors > 0;
  }

  /** Hosts held in memory: those with a failure streak under way, and the skipped ones. Healthy hosts cost nothing. */
  get size(): number {
    return this.counting.size + this.tripped.size;
  }

  /**
   * Records how one attempt to `host` ended: `'response'` when any response arrived (any status), else the
   * attempt's error code. Returns true only for the call that tripped the breaker, so the caller can fail the host's
   * waiting URLs once. A skipped host stays skipped: later records change nothing.
   */
  record(host: string, outcome: ErrorCode | 'response'): boolean {
    if (!this.enabled || this.tripped.has(host)) return false;
    if (outcome === 'response') {
      this.counting.delete(host);
      return false;
    }
    if (!HOST_FAILURE_CODES.has(outcome)) return false;
    const streak = this.counting.get(host);
    const failures = (streak?.failures ?? 0) + 1;
    if (failures >= this.maxHostErrors) {
      this.counting.delete(host);
      this.tripped.set(host, { failures, lastCode: outcome });
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

  /** Non-null once `host` has been skipped: then fail its URLs with `hostSkippedError(host, trip)`, unrequested. */
  skipped(host: string): HostTrip | null {
    const trip = this.tripped.get(host);
    return trip ? { ...trip } : null;
  }

  /** Every skipped host, in the order they tripped, for the summary. */
  skippedHosts(): Array<{ host: string; failures: number; lastCode: ErrorCode }> {
    return Array.from(this.tripped, ([host, trip]) => ({ host, ...trip }));
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
