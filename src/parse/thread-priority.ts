import { readdirSync, readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * Parsing is the run's background work: the event loop's thread starts requests and reads responses, and a page
 * waiting for a thread costs less than a response nobody reads. On Linux a thread's nice value is its own (the
 * process's threads are separate tasks to the scheduler), so each parse thread runs this much below the thread
 * that started the pool: when both want a core, the event loop's thread gets ~9 times the share. An idle core
 * still runs a parse thread at full speed. Elsewhere a priority is the whole process's: nothing is changed there.
 */
const PARSE_NICENESS = 10;

/** The nice value the parse threads run at: PARSE_NICENESS below the calling thread's; null where not Linux. */
export function parseThreadNice(): number | null {
  if (process.platform !== 'linux') return null;
  try {
    return Math.min(19, getPriority(0) + PARSE_NICENESS);
  } catch {
    return null;
  }
}

/**
 * The ids of this process's threads (Linux's /proc), or null where they cannot be listed. Also null when /proc
 * is not this process's PID namespace's (`/proc/self` does not name `process.pid`): its thread ids would then
 * name other tasks to `setPriority`.
 */
export function threadIds(): ReadonlySet<string> | null {
  try {
    if (readlinkSync('/proc/self') !== String(process.pid)) return null;
    return new Set(readdirSync('/proc/self/task'));
  } catch {
    return null;
  }
}

/**
 * Lowers to `nice` every thread of this process that `before` (taken with `threadIds()`) does not list: the
 * threads started since. Called right after a call that may start parse threads (piscina's constructor and
 * `run`), with `before` taken right before it, so that only they can be new: a thread booting Node and the parser
 * (~150 ms of CPU on a busy 2-core machine) then does so below the event loop, instead of at its priority until
 * its entry file lowers it (worker-entry.cts, which still does, for a thread started where this does not see it).
 * W3's worst event-loop stall, at the threads' boot (medians): 59 against 107 ms on Node 22 (6 runs each), 71
 * against 112 ms on Node 24 (5); its p99 and the run's time did not move (docs/performance.md). A thread that
 * cannot be lowered (gone already, not allowed) is left as it is.
 */
export function lowerNewThreads(before: ReadonlySet<string> | null, nice: number | null): void {
  if (before === null || nice === null) return;
  const now = threadIds();
  if (now === null) return;
  for (const tid of now) {
    if (before.has(tid)) continue;
    try {
      if (getPriority(Number(tid)) < nice) setPriority(Number(tid), nice);
    } catch {
      // Exited already, or a sandbox forbids it: the thread lowers itself as it starts.
    }
  }
}
