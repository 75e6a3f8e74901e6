/**
 * The file piscina loads in each thread: CommonJS on purpose. piscina loads a task file with `require()` first,
 * and on Node 20.19+ that means require(esm) of an ES module, which crashed a thread now and then with
 * "FATAL ERROR: v8::Module::IsGraphAsync must be used on an instantiated module" when two loads of the module
 * raced (piscina's preload and the first task). A CommonJS entry is required the old way; the ES module behind
 * it is reached with import(), which handles concurrent loads.
 */
import type { ParseThreadData, WorkerReply, WorkerTask } from './protocol.js';

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
