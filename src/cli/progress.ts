import cliProgress from 'cli-progress';
import type { Progress } from '../options.js';

/**
 * The live progress line on stderr, drawn by cli-progress (redraw, cursor, throttling). Shows done/total when
 * the total is known (files are counted in the background), ok/failed, rate, ETA, and hosts paused by Retry-After.
 */
export class ProgressLine {
  private readonly bar: cliProgress.SingleBar;
  private total: number | null = null;
  private last: Progress = { started: 0, done: 0, ok: 0, failed: 0, inFlight: 0, active: 0, pausedHosts: 0 };
  private readonly startedAt = performance.now();

  /** `forced`: draw even when the stream is not a terminal (`--progress`), one line every few seconds. */
  constructor(stream: NodeJS.WriteStream, forced = false) {
    this.bar = new cliProgress.SingleBar({
      stream,
      noTTYOutput: forced,
      notTTYSchedule: 2_000,
      fps: 5,
      hideCursor: true,
      clearOnComplete: true,
      format: () => this.render(),
    });
    this.bar.start(1, 0);
  }

  setTotal(total: number): void {
    this.total = total;
  }

  update(progress: Progress): void {
    this.last = progress;
    this.bar.update(progress.done);
  }

  stop(): void {
    this.bar.stop();
  }

  private render(): string {
    const p = this.last;
    const secs = (performance.now() - this.startedAt) / 1000;
    const rate = secs > 0 ? p.done / secs : 0;
    const parts: string[] = [];
    if (this.total !== null && this.total > 0) {
      const frac = Math.min(1, p.done / this.total);
      const width = 20;
      const filled = Math.round(frac * width);
      parts.push(`[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.done}/${this.total}`);
    } else {
      parts.push(`${p.done} done`);
    }
    parts.push(`ok ${p.ok}`, `failed ${p.failed}`, `active ${p.active}`, `queued ${p.inFlight - p.active}`, `${rate.toFixed(1)}/s`);
    if (this.total !== null && rate > 0 && p.done < this.total) parts.push(`ETA ${formatSeconds((this.total - p.done) / rate)}`);
    if (p.pausedHosts > 0) parts.push(`paused hosts ${p.pausedHosts}`);
    return parts.join(' | ');
  }
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.ceil(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
