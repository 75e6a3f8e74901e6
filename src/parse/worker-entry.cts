/**
 * The file piscina loads in each thread: CommonJS on purpose. piscina loads a task file with `require()` first,
 * and on Node 20.19+ that means require(esm) of an ES module, which crashed a thread now and then with
 * "FATAL ERROR: v8::Module::IsGraphAsync must be used on an instantiated module" when two loads of the module
 * raced (piscina's preload and the first task). A CommonJS entry is required the old way, and so is everything it
 * loads (the parser's loader and the parser are CommonJS too).
 */
import type { ParseThreadData, WorkerReply, WorkerTask } from './protocol.js';

// Parsing is the run's background work: the thread runs at the nice value the pool names (parse/thread-priority.ts,
// Linux only, where a thread's priority is its own), below the event loop's thread. The pool lowers a thread it
// sees start before the thread boots; one it did not see (a replacement for a killed thread) lowers itself here,
// as early as it can. Never raised: a thread lowered already, or a failure (a sandbox forbidding it), is left.
// W3 (150 KB pages, 2 threads and the server on 2 cores): the loop's p99 44 ms instead of 56 (medians of 9 runs).
const { compileCacheDir, nice } = (require('node:worker_threads').workerData ?? {}) as Partial<ParseThreadData>;
if (typeof nice === 'number') {
  const os = require('node:os') as typeof import('node:os');
  try {
    if (os.getPriority(0) < nice) os.setPriority(0, nice);
  } catch {
    // Not allowed here: parse at the priority the thread was given.
  }
}

// Node's compile cache, on in this thread when the process that started it has it on (pool.ts): before the parser
// is loaded, so that its bundle (a plain require() on a Node whose V8 did not make the build's code cache,
// worker.js) is compiled from the cache. Worker threads do not inherit it.
if (typeof compileCacheDir === 'string') {
  (require('node:module') as { enableCompileCache?: (dir: string) => unknown }).enableCompileCache?.(compileCacheDir);
}

/**
 * Frees the memory of a task's bodies once its pages are parsed. They crossed to this thread (transferred: pool.ts
 * `crossing`), the reply is made of strings, and nothing refers to them any more; left to this isolate's garbage
 * collector, they lingered until its next collection, which comes rarely when a scan for head fields allocates
 * little, and the main thread, which allocates a body per response, faulted in fresh memory meanwhile: W3's pages,
 * title only, on Node 22: 10% more page faults, 12% more peak RSS and 5-11% more wall. W3 as benchmarked (links,
 * 8 pairs): the event loop's p99 51 against 60 ms on Node 22, 44 against 53 on Node 24. `transfer(0)` detaches a
 * buffer and frees its memory at once (Node 22 and later; Node 20 lacks it and keeps the collector's timing). A
 * batch's pages share one buffer: the first page's call frees it, and the rest see it detached (0 bytes). A buffer
 * that cannot be detached (a slice of Node's Buffer pool, which a task made here rather than by the pool may hold)
 * is left to the collector: freeing early must never cost the task its reply.
 */
function releaseBodies(task: WorkerTask): void {
  for (const { body } of task.pages) {
    const buffer = body.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };
    if (buffer.byteLength === 0 || typeof buffer.transfer !== 'function') continue;
    try {
      buffer.transfer(0);
    } catch {
      // Not detachable: the collector frees it, as before.
    }
  }
}

type Handler = (task: WorkerTask) => Promise<WorkerReply>;

/**
 * The parser, loaded as the thread starts: piscina requires this file before the first task arrives, so the parser
 * is ready while the first pages are still on the wire. Through parser-loader.cjs (written by the build beside this
 * file), CommonJS all the way: an import() here made every thread load Node's ES module loader first (~30 modules:
 * the loader, fs/promises, readline, the file watchers): a thread's first parse came 9-12 ms later (Node 20 and 22,
 * docs/performance.md). A failure to load surfaces in each task.
 */
function load(): Handler {
  try {
    const { parser } = require('./parser-loader.cjs') as { parser: { default: (task: WorkerTask) => WorkerReply } };
    const run = parser.default;
    return (task) => {
      const reply = run(task);
      releaseBodies(task);
      return Promise.resolve(reply);
    };
  } catch (err) {
    return () => Promise.reject(err);
  }
}

const handler: Handler = load();

export = handler;
