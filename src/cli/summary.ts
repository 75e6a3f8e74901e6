import type { FetchResult } from '../result.js';

/** Running tallies for the end-of-run summary: counts only, so memory is flat however long the list. */
export class Tally {
  total = 0;
  ok = 0;
  readonly byStatusClass = new Map<string, number>();
  readonly byError = new Map<string, number>();
  /** CANCELLED rows of URLs that were read ahead but never requested: a cancelled run's user asks "how many?". */
  neverRequested = 0;
  private readonly startedAt = performance.now();

  add(result: FetchResult): void {
    this.total++;
    if (result.ok) this.ok++;
    const cls = result.status === null ? 'none' : `${Math.floor(result.status / 100)}xx`;
    this.byStatusClass.set(cls, (this.byStatusClass.get(cls) ?? 0) + 1);
    if (result.error) this.byError.set(result.error.code, (this.byError.get(result.error.code) ?? 0) + 1);
    if (result.error?.stage === 'queued') this.neverRequested++;
  }

  get failed(): number {
    return this.total - this.ok;
  }

  get elapsedSeconds(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  /** The summary block for stderr. */
  render(ending: string | null): string {
    const secs = this.elapsedSeconds;
    const rate = secs > 0 ? this.total / secs : 0;
    const list = (m: Map<string, number>): string =>
      [...m.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ') || '-';
    const lines = [
      `volley: ${this.total} URL${this.total === 1 ? '' : 's'} in ${secs.toFixed(1)} s (${rate.toFixed(1)}/s): ${this.ok} ok, ${this.failed} failed${ending ? ` (${ending})` : ''}`,
      `  by status: ${list(this.byStatusClass)}`,
    ];
    if (this.byError.size > 0) lines.push(`  by error:  ${list(this.byError)}`);
    if (this.neverRequested > 0) lines.push(`  ${this.neverRequested} of the CANCELLED were never requested (read ahead); --resume runs them`);
    return `${lines.join('\n')}\n`;
  }
}
