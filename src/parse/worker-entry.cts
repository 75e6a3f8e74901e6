/**
 * The file piscina loads in each thread: CommonJS on purpose. piscina loads a task file with `require()` first,
 * and on Node 20.19+ that means require(esm) of an ES module, which crashed a thread now and then with
 * "FATAL ERROR: v8::Module::IsGraphAsync must be used on an instantiated module" when two loads of the module
 * raced (piscina's preload and the first task). A CommonJS entry is required the old way; the ES module behind
 * it is reached with import(), which handles concurrent loads.
 */
import type { WorkerReply, WorkerTask } from './protocol.js';

// Inlined rather than imported: this CommonJS entry must not require() the ES-module protocol file (see above).
function markStarted(task: WorkerTask): void {
  Atomics.store(new Int32Array(task.clocks), task.slot, Math.max(1, Date.now() - task.epoch));
}

// Started as the thread starts (piscina requires this file before the first task arrives), so the parser is
// loaded while the first pages are still on the wire. A failure surfaces in the first task.
const loaded: Promise<(task: WorkerTask) => WorkerReply> = import('./worker.js').then((m) => m.default);
loaded.catch(() => {});

function parsePages(task: WorkerTask): Promise<WorkerReply> {
  return loaded.then((run) => {
    markStarted(task);
    return run(task);
  });
}

export = parsePages;
