/**
 * The file piscina loads in each thread: CommonJS on purpose. piscina loads a task file with `require()` first,
 * and on Node 20.19+ that means require(esm) of an ES module, which crashed a thread now and then with
 * "FATAL ERROR: v8::Module::IsGraphAsync must be used on an instantiated module" when two loads of the module
 * raced (piscina's preload and the first task). A CommonJS entry is required the old way; the ES module behind
 * it is reached with import(), which handles concurrent loads.
 */
import type { ParseThreadData, WorkerReply, WorkerTask } from './protocol.js';

// Parsing is the run's background work: the event loop's thread starts requests and reads responses, and a page
// waiting for a thread costs less than a response nobody reads. On Linux a thread's nice value is its own (the
// process's threads are separate tasks to the scheduler), so each parse thread steps back by PARSE_NICENESS from
// the thread that started it: when both want a core, the event loop's thread gets ~9 times the share. Nothing
// else changes: an idle core still runs a parse thread at full speed. Elsewhere setPriority(0) would lower the
// whole process, so it is not called. A failure (a sandbox forbidding it) leaves the thread as it was.
// W3 (150 KB pages, 2 threads and the server on 2 cores): the loop's p99 44 ms instead of 56 (medians of 9 runs).
const PARSE_NICENESS = 10;
if (process.platform === 'linux') {
  const os = require('node:os') as typeof import('node:os');
  try {
    os.setPriority(0, Math.min(19, os.getPriority(0) + PARSE_NICENESS));
  } catch {
    // Not allowed here: parse at the priority the thread was given.
  }
}

// Node's compile cache, on in this thread when the process that started it has it on (pool.ts): before the parser
// is loaded, so that its bundle (a plain require() on a Node whose V8 did not make the build's code cache,
// worker.js) is compiled from the cache. Worker threads do not inherit it.
const { compileCacheDir } = (require('node:worker_threads').workerData ?? {}) as Partial<ParseThreadData>;
if (typeof compileCacheDir === 'string') {
  (require('node:module') as { enableCompileCache?: (dir: string) => unknown }).enableCompileCache?.(compileCacheDir);
}

// Inlined rather than imported: this CommonJS entry must not require() the ES-module protocol file (see above).
function markStarted(task: WorkerTask): void {
  Atomics.store(new Int32Array(task.clocks), task.slot, Math.max(1, Date.now() - task.epoch));
}

// Started as the thread starts (piscina requires this file before the first task arrives), so the parser is
// loaded while the first pages are still on the wire.
const loaded: Promise<(task: WorkerTask) => WorkerReply> = import('./worker.js').then((m) => m.default);

type Handler = (task: WorkerTask) => Promise<WorkerReply>;

/**
 * The handler, exported as a promise that settles once the parser is loaded. piscina awaits it before it reports
 * the thread ready, and a ready thread waits for tasks in a blocking Atomics.wait: had the function itself been
 * exported, the thread would block at once and the import above would only go on when the first task came.
 * A failure to load surfaces in each task.
 */
const handler: Promise<Handler> = loaded.then(
  (run): Handler => (task) => {
    markStarted(task);
    return Promise.resolve(run(task));
  },
  (err: unknown): Handler => () => Promise.reject(err),
);

export = handler;
