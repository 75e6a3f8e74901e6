/**
 * The last line of defence against a lost row (issue 19). A run waits for its in-flight URLs on promises; if a bug
 * leaves one of them unsettled (a stream that neither ends nor errors, a callback never called), nothing else is
 * left for Node to do, the event loop runs dry and the process exits 0 mid-run with rows missing and nothing said.
 * Node says when the loop runs dry: `beforeExit`. A run that is waiting for its own work at that moment can never
 * be woken again, so what it still owes is a bug's doing, and the run is told to account for it.
 *
 * One `beforeExit` listener for the whole process, installed while some run is active and removed after the last:
 * a library must not leave listeners on its user's process, nor warn about too many of them with many runs.
 * The listener is harmless to a program that has other work: `beforeExit` comes only when there is none.
 */
export interface DrainWatch {
  /**
   * The run waits for its own in-flight work (`true`) or no longer does (`false`). While it waits, the guard holds
   * its callback strongly: a run stalled by a bug is reachable from nothing but the promises nobody will settle, so
   * held weakly it would be collected, and with it the listener, and the process would exit 13 with the caller's
   * `await` unsettled (found when a bigger import made a GC come at that moment).
   */
  hold(waiting: boolean): void;
  /** The run ended: no longer watched. */
  stop(): void;
}

// Runs are held weakly: a `fetchEach` iterator its caller dropped without `return()` never reaches its `finally`, and
// a strong reference here would keep that run's whole state (rows, maps) alive for the life of the process. Each
// watch holds its callback strongly, and the run holds its watch, so a live run's callback stays.
const watched = new Set<Watched>();
// The callbacks of runs waiting for their own work, held strongly (DrainWatch.hold): one slot per watch, so that
// starting and stopping a wait is one store. A run does both for nearly every row, and a Set's add and delete
// cost ~0.5 µs a pair amid a run's allocation (V8 shrinks the emptied table and grows it again each time): ~0.7 µs
// a URL of the main thread's time in `bench/per-url.mjs noextract` (docs/performance.md).
const held: ((() => void) | undefined)[] = [];
const freeSlots: number[] = [];

interface Watched {
  ref: WeakRef<() => void>;
  slot: number;
}

// A run dropped without stop(): its callback was collected, so its slot held nothing strongly (else it would not
// have been), and the slot is free for another run.
const forgotten = new FinalizationRegistry<Watched>((entry) => forget(entry));

function forget(entry: Watched): void {
  if (!watched.delete(entry)) return;
  held[entry.slot] = undefined;
  freeSlots.push(entry.slot);
  if (watched.size === 0) process.off('beforeExit', onBeforeExit);
}

function onBeforeExit(): void {
  // A run woken here schedules work, so Node runs the loop again and asks once more when it is done.
  for (const entry of [...watched]) {
    const drained = entry.ref.deref();
    if (drained === undefined) forget(entry);
    else drained();
  }
}

/**
 * Calls `drained` each time Node's event loop runs dry while the watch is on. The caller decides whether that is a
 * bug: a run waiting for its own in-flight work is; a run suspended in `yield`, waiting for its consumer, is not.
 * Keep the returned watch for as long as the run lives: it is what keeps `drained` alive.
 */
export function watchDrain(drained: () => void): DrainWatch {
  if (watched.size === 0) process.on('beforeExit', onBeforeExit);
  const entry: Watched = { ref: new WeakRef(drained), slot: freeSlots.pop() ?? held.length };
  held[entry.slot] = undefined;
  watched.add(entry);
  forgotten.register(drained, entry, entry);
  let stopped = false;
  return {
    hold(waiting) {
      // After stop() the slot may be another run's.
      if (!stopped) held[entry.slot] = waiting ? drained : undefined;
    },
    stop() {
      stopped = true;
      forgotten.unregister(entry);
      forget(entry);
    },
  };
}

/**
 * The error a run ends with when it had to account for rows a bug left owed (code `INTERNAL`). `fetchEach` yields
 * those rows and then throws it; `fetchAll` rejects with it, and its `results` hold every row, input order, the
 * owed ones as `INTERNAL` rows: nothing is lost, and an `await` never hangs.
 */
export class VolleyBugError extends Error {
  readonly code = 'VOLLEY_BUG';
  /** How many URLs had no result when the event loop ran dry. */
  readonly unsettled: number;
  /** `fetchAll` only: every result, in input order. */
  results?: unknown[];

  constructor(unsettled: number, what?: string) {
    super(
      what !== undefined
        ? `volley lost track of its work: ${what}, with nothing left to run (a bug in volley; please report it)`
        : `volley lost track of ${unsettled} request${unsettled === 1 ? '' : 's'}: the event loop ran dry while ${unsettled === 1 ? 'it was' : 'they were'} unfinished ` +
            '(a bug in volley; please report it). Each has a row with the code INTERNAL.',
    );
    this.name = 'VolleyBugError';
    this.unsettled = unsettled;
  }
}

/**
 * Test-only: a function on this global symbol is asked about every request a run starts, and a request it returns
 * true for is never processed (its promise never settles), standing in for the bug this guard is for. Never set
 * in real use; looked up once per run.
 */
export const TEST_STALL_HOOK = Symbol.for('volley.test.stallRequest');

export function testStallHook(): ((url: string) => boolean) | null {
  const hook = (globalThis as Record<symbol, unknown>)[TEST_STALL_HOOK];
  return typeof hook === 'function' ? (hook as (url: string) => boolean) : null;
}
