import type { ErrorCode } from '../errors.js';
import { HOST_FAILURE_CODES, MAX_COOLDOWN_MS, type Admission, type Breaker, type HostTrip } from '../schedule/breaker.js';
import { DEFAULTS } from '../options.js';
import { BRK_ADMIT, BRK_RECORD, BRK_SNAPSHOT } from './redis-host-scripts.js';
import type { RedisQueue } from './redis-queue.js';

/**
 * The dead-host breaker of a shared queue's job (issue 21): HostBreaker's states and rules (schedule/breaker.ts),
 * kept in Redis under the job's key (redis-host-scripts.ts), so a host one worker found dead is skipped by every
 * worker, its one probe after the cool-down is one across the fleet, and a later worker starts with what the job
 * knows.
 *
 * The request path must not wait on Redis for every request (a round trip each would cost a worker more than the
 * whole claim does), so each worker keeps a snapshot of the job's open hosts and hosts with a failure streak:
 * - `admit` for a host the snapshot has neither open nor counting answers `'closed'` at once, synchronously;
 *   any other host asks Redis (who may be the probe is Redis's to say, atomically).
 * - `record` goes to Redis only when it can change something (a failure, a probe, a response from a host with a
 *   streak or open), and its reply updates the snapshot.
 * - The snapshot is refreshed from Redis at most every `refreshMs` (a version number: nothing is sent back while
 *   nothing changed), so a host tripped by another worker is skipped here within that time.
 * A Redis that cannot answer leaves this worker with its snapshot: nothing is lost, only sharing.
 */

/** The cool-down and snapshot settings of a RedisBreaker. */
export interface RedisBreakerOptions {
  /** The first cool-down after a trip, in ms (the job's `hostCooldownMs`). @default 30000 */
  cooldownMs?: number;
  /** How long a probe may hold a half-open host before another worker may probe (its worker may have died). @default 60000 */
  probeHoldMs?: number;
  /** The longest a snapshot goes unrefreshed while requests are asked about. @default 500 */
  refreshMs?: number;
}

interface OpenHost extends HostTrip {
  /** When its cool-down ends, on this process's performance.now() clock. */
  probeAt: number;
  probing: boolean;
}

type Reply = ReadonlyArray<string | number | ReadonlyArray<string | number>>;

export class RedisBreaker implements Breaker {
  private readonly open = new Map<string, OpenHost>();
  private readonly counting = new Set<string>();
  private readonly cooldownMs: number;
  private readonly probeHoldMs: number;
  private readonly refreshMs: number;
  private version = '';
  private refreshedAt = -Infinity;
  private refreshing = false;
  /** The first refresh, which the first admits wait for. */
  private first: Promise<void> | null = null;
  private started = false;
  /** Records on their way to Redis, for `settled()`. */
  private readonly inFlight = new Set<Promise<void>>();

  /** @param maxHostErrors consecutive host failures that trip a host, as the job says; 0 turns the breaker off. */
  constructor(
    private readonly queue: Pick<RedisQueue, 'run'>,
    readonly maxHostErrors: number,
    options: RedisBreakerOptions = {},
  ) {
    if (!Number.isInteger(maxHostErrors) || maxHostErrors < 0) throw new RangeError(`Expected \`maxHostErrors\` to be an integer from 0 and up, got \`${String(maxHostErrors)}\` (${typeof maxHostErrors})`);
    this.cooldownMs = positive('cooldownMs', options.cooldownMs ?? DEFAULTS.hostCooldownMs);
    this.probeHoldMs = positive('probeHoldMs', options.probeHoldMs ?? 60_000);
    this.refreshMs = positive('refreshMs', options.refreshMs ?? 500);
  }

  get enabled(): boolean {
    return this.maxHostErrors > 0;
  }

  skipped(host: string): HostTrip | null {
    if (!this.enabled) return null;
    this.maybeRefresh();
    const state = this.open.get(host);
    if (state === undefined || (!state.probing && performance.now() >= state.probeAt)) return null;
    return { failures: state.failures, lastCode: state.lastCode };
  }

  admit(host: string): Admission | Promise<Admission> {
    if (!this.enabled) return 'closed';
    // A worker that just started knows nothing of the job yet: its first requests wait for the job's state, so
    // that a host the fleet found dead is not tried again by each new worker.
    if (!this.started) {
      this.first ??= this.refresh()
        .catch(() => {})
        .finally(() => {
          this.started = true;
        });
      return this.first.then(() => this.decide(host));
    }
    this.maybeRefresh();
    return this.decide(host);
  }

  private decide(host: string): Admission | Promise<Admission> {
    if (!this.open.has(host) && !this.counting.has(host)) return 'closed';
    return this.queue.run(BRK_ADMIT, [host, String(this.probeHoldMs)]).then(
      (reply) => {
        const [state, failures, code, msUntilProbe] = reply as [string, number, string, number];
        if (state === 'closed') {
          this.open.delete(host);
          return 'closed';
        }
        const trip = { failures: Number(failures), lastCode: code as ErrorCode };
        this.open.set(host, { ...trip, probeAt: performance.now() + Number(msUntilProbe ?? 0), probing: state === 'probe' || this.open.get(host)?.probing === true });
        return state === 'probe' ? 'probe' : trip;
      },
      // Redis cannot answer: this worker's snapshot decides (never 'probe', which is the fleet's to give).
      () => this.skipped(host) ?? 'closed',
    );
  }

  record(host: string, outcome: ErrorCode | 'response', admission: 'closed' | 'probe' = 'closed'): void {
    if (!this.enabled) return;
    const failure = outcome !== 'response' && HOST_FAILURE_CODES.has(outcome);
    const known = this.open.has(host) || this.counting.has(host);
    // What cannot change the job's state is not sent: a response from a host with no streak, another code
    // outside a probe, a failure of a request sent before its host tripped.
    if (admission === 'closed' && (outcome === 'response' ? !known : !failure || this.open.has(host))) return;
    const args = [host, outcome, admission, failure ? '1' : '0', String(this.maxHostErrors), String(this.cooldownMs), String(Math.max(MAX_COOLDOWN_MS, this.cooldownMs))];
    const sent: Promise<void> = this.queue.run(BRK_RECORD, args).then(
      (reply) => {
        const [, state, failures, code, msUntilProbe, probing] = reply as [number, string, number, string, number, number];
        this.apply(host, state, Number(failures), code as ErrorCode, Number(msUntilProbe), Number(probing) === 1);
      },
      () => {},
    ).finally(() => this.inFlight.delete(sent));
    this.inFlight.add(sent);
  }

  /** Resolves once every record sent so far has been answered (for tests and a clean end). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Reads the job's open and counting hosts from Redis now. */
  async refresh(): Promise<void> {
    this.refreshedAt = performance.now();
    const reply = (await this.queue.run(BRK_SNAPSHOT, [this.version])) as Reply;
    const version = String(reply[0]);
    if (reply.length === 1 || version === this.version) return;
    this.version = version;
    const open = (reply[1] ?? []) as ReadonlyArray<string | number>;
    const now = performance.now();
    this.open.clear();
    for (let i = 0; i < open.length; i += 5) {
      this.open.set(String(open[i]), { failures: Number(open[i + 1]), lastCode: String(open[i + 2]) as ErrorCode, probeAt: now + Number(open[i + 3]), probing: Number(open[i + 4]) === 1 });
    }
    this.counting.clear();
    for (const host of (reply[2] ?? []) as ReadonlyArray<string>) this.counting.add(String(host));
  }

  private maybeRefresh(): void {
    if (this.refreshing || performance.now() - this.refreshedAt < this.refreshMs) return;
    this.refreshing = true;
    this.refresh()
      .catch(() => {})
      .finally(() => {
        this.refreshing = false;
      });
  }

  private apply(host: string, state: string, failures: number, lastCode: ErrorCode, msUntilProbe: number, probing: boolean): void {
    if (state === 'open') {
      this.counting.delete(host);
      this.open.set(host, { failures, lastCode, probeAt: performance.now() + msUntilProbe, probing });
    } else {
      this.open.delete(host);
      if (state === 'counting') this.counting.add(host);
      else this.counting.delete(host);
    }
  }
}

function positive(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new RangeError(`Expected \`${name}\` to be an integer from 1 and up, got \`${String(value)}\` (${typeof value})`);
  return value;
}
