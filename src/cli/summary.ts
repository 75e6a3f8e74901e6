import type { FetchResult } from '../result.js';

const SKIPPED_HOSTS_LISTED = 10;

/** Running tallies for the end-of-run summary: counts only, so memory is flat however long the list. */
export class Tally {
  total = 0;
  ok = 0;
  readonly byStatusClass = new Map<string, number>();
  readonly byError = new Map<string, number>();
  /** CANCELLED rows of URLs that were read ahead but never requested: a cancelled run's user asks "how many?". */
  neverRequested = 0;
  /** 304s to the validators of --since: ok, and nothing new. */
  notModified = 0;
  /**
   * Hosts the circuit breaker skipped (HOST_SKIPPED rows), each with whether it is still open as far as the rows
   * tell: true from a HOST_SKIPPED row on, false again once a row of the host carries a response (its probe got
   * through, or a request already on the wire came back). Dead hosts only, so a small map.
   */
  readonly skippedHosts = new Map<string, boolean>();
  /** A crawl's rows by depth (index = depth); empty outside a crawl. */
  readonly byDepth: number[] = [];
  /** A crawl's redirects onto a URL already requested (rows with `duplicateOf`). */
  duplicateRedirects = 0;
  private readonly startedAt = performance.now();

  add(result: FetchResult): void {
    this.total++;
    if (result.ok) this.ok++;
    const cls = result.status === null ? 'none' : `${Math.floor(result.status / 100)}xx`;
    this.byStatusClass.set(cls, (this.byStatusClass.get(cls) ?? 0) + 1);
    if (result.error) this.byError.set(result.error.code, (this.byError.get(result.error.code) ?? 0) + 1);
    if (result.error?.stage === 'queued') this.neverRequested++;
    if (result.notModified) this.notModified++;
    if (result.depth !== undefined) this.byDepth[result.depth] = (this.byDepth[result.depth] ?? 0) + 1;
    if (result.duplicateOf !== undefined) this.duplicateRedirects++;
    const skipped = result.error?.code === 'HOST_SKIPPED';
    if (skipped || (result.status !== null && this.skippedHosts.size > 0)) this.noteBreaker(result, skipped);
  }

  /** A row of a host the breaker skipped, or may have: `finalUrl` is the hop it ended on (a redirect's target). */
  private noteBreaker(result: FetchResult, skipped: boolean): void {
    let host: string;
    try {
      host = new URL(result.finalUrl ?? result.url).host;
    } catch {
      return;
    }
    if (skipped) this.skippedHosts.set(host, true);
    else if (this.skippedHosts.has(host)) this.skippedHosts.set(host, false);
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
    if (this.byDepth.length > 0) {
      const dup = this.duplicateRedirects > 0 ? `; ${this.duplicateRedirects} redirected onto a page already requested` : '';
      const depths = this.byDepth.flatMap((n, d) => (n === undefined ? [] : [`${d}: ${n}`]));
      lines.push(`  by depth:  ${depths.join(', ')}${dup}`);
    }
    if (this.notModified > 0) lines.push(`  not modified: ${this.notModified} (304 to the validators of --since)`);
    if (this.skippedHosts.size > 0) lines.push(this.breakerLine());
    if (this.neverRequested > 0) lines.push(`  ${this.neverRequested} of the CANCELLED were never requested (read ahead); --resume runs them`);
    return `${lines.join('\n')}\n`;
  }

  /**
   * `skipped hosts (--max-host-errors): a:443, b:80 (closed again); 2 tripped: 1 still open at the end, 1 closed
   * again`. The hosts still open come first: they are the ones whose URLs the next run (or --resume) must redo.
   */
  private breakerLine(): string {
    const open = [...this.skippedHosts].filter(([, isOpen]) => isOpen).map(([host]) => host);
    const closed = [...this.skippedHosts].filter(([, isOpen]) => !isOpen).map(([host]) => `${host} (closed again)`);
    const hosts = [...open, ...closed];
    const more = hosts.length > SKIPPED_HOSTS_LISTED ? ` and ${hosts.length - SKIPPED_HOSTS_LISTED} more` : '';
    const counts = `${hosts.length} tripped: ${open.length} still open at the end, ${closed.length} closed again`;
    return `  skipped hosts (--max-host-errors): ${hosts.slice(0, SKIPPED_HOSTS_LISTED).join(', ')}${more}; ${counts}`;
  }
}
