/**
 * The run's global concurrency limit: at most `limit` tasks at once, the rest started in arrival order as slots
 * free up. What p-limit does, with fewer promises per task: a task that finds a free slot starts at once (p-limit
 * always starts it a few microtasks later, through an internal promise, an async wrapper and a re-resolution),
 * and its slot is given back by one reaction on its own promise. On the small-page workload that was ~5 promises
 * and their microtasks per request.
 */
export class Slots {
  private active = 0;
  private queue: (() => void)[] = [];
  private head = 0;

  constructor(readonly limit: number) {}

  /** Tasks running now. */
  get activeCount(): number {
    return this.active;
  }

  /** Tasks waiting for a slot. */
  get pendingCount(): number {
    return this.queue.length - this.head;
  }

  /** Runs `task` in a slot (now, or once one is free) and settles as its promise does. */
  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.limit) return this.start(task);
    return new Promise<T>((resolve) => {
      this.queue.push(() => resolve(this.start(task)));
    });
  }

  private start<T>(task: () => Promise<T>): Promise<T> {
    this.active++;
    let promise: Promise<T>;
    try {
      promise = task();
    } catch (err) {
      promise = Promise.reject(err);
    }
    promise.then(this.release, this.release);
    return promise;
  }

  private readonly release = (): void => {
    this.active--;
    if (this.head < this.queue.length) {
      const next = this.queue[this.head]!;
      this.queue[this.head++] = noop;
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      next();
    }
  };
}

function noop(): void {}
