/**
 * The file piscina loads in each thread: CommonJS on purpose. piscina loads a task file with `require()` first,
 * and on Node 20.19+ that means require(esm) of an ES module, which crashed a thread now and then with
 * "FATAL ERROR: v8::Module::IsGraphAsync must be used on an instantiated module" when two loads of the module
 * raced (piscina's preload and the first task). A CommonJS entry is required the old way; the ES module behind
 * it is reached with import(), which handles concurrent loads.
 */
import type { WorkerReply, WorkerTask } from './protocol.js';

let loaded: Promise<(task: WorkerTask) => WorkerReply> | undefined;

function parsePages(task: WorkerTask): Promise<WorkerReply> {
  loaded ??= import('./worker.js').then((m) => m.default);
  return loaded.then((run) => run(task));
}

export = parsePages;
