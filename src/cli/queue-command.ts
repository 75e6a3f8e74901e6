import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { EXIT } from './args.js';
import { connectQueue, parseFlags, takeTarget } from './queue-args.js';
import { QueueError, queueErrorOf } from '../queue/errors.js';
import { enqueueCommand } from './queue-enqueue.js';
import { queueCommand } from './queue-admin.js';
import type { CliIo } from './run.js';
import { UsageError } from './usage-error.js';

/**
 * The shared queue's subcommands (issue 21), loaded by main.ts only when one is named: `enqueue`, `work` and
 * `queue status|results|drop`. The `redis` package is loaded later still, when one of them connects.
 */

const WORK_HELP = `Usage: volley work [--redis URL] [--job NAME] [-c N] [-o FILE] [--wait] [-q]

Takes requests from the job and fetches them with the job's settings until the job has nothing pending or leased
(--wait: keeps waiting for more). Each final row is written to Redis (\`volley queue results\`) exactly once
across all workers; this worker's own rows also go to -o FILE (or stdout). Ctrl-C / SIGTERM: in-flight requests
go back to the job at once. Exit 0 when the job is done, 130/143 on a signal, 69 when Redis cannot be reached (at the start, or for 60 s
in the middle of a run: a restart is waited for).`;

/** Test-only: VOLLEY_TEST_LEASE_MS=N leases for N ms instead of the job's timeout-based lease. Unset in real use. */
function testLeaseMs(): number | undefined {
  const n = Number(process.env.VOLLEY_TEST_LEASE_MS);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Test-only: VOLLEY_TEST_REDIS_GIVE_UP_MS=N gives up on a lost Redis after N ms instead of 60 s. Unset in real use. */
function testGiveUpMs(): number | undefined {
  const n = Number(process.env.VOLLEY_TEST_REDIS_GIVE_UP_MS);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

async function workCommand(argv: string[], io: Pick<CliIo, 'stdout' | 'stderr'>): Promise<number> {
  const { target, rest } = takeTarget(argv);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${WORK_HELP}\n`);
    return 0;
  }
  const a = parseFlags('work', rest, { boolean: ['wait', 'quiet'], string: ['concurrency', 'output'], alias: { concurrency: 'c', output: 'o', quiet: 'q' } });
  if (a._.length > 0) throw new UsageError(`volley work takes its inputs from the job, not from words: got ${JSON.stringify(String(a._[0]))} (\`volley enqueue\` adds them)`);
  const concurrency = a.concurrency === undefined ? 50 : Number(a.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 100_000) throw new UsageError(`-c/--concurrency expects an integer from 1 to 100000, got ${JSON.stringify(String(a.concurrency))}`);
  const quiet = a.quiet === true;

  const queue = await connectQueue(target);
  const controller = new AbortController();
  let ending: 'SIGINT' | 'SIGTERM' | null = null;
  const onSignal = (signal: 'SIGINT' | 'SIGTERM'): void => {
    if (ending !== null) process.exit(signal === 'SIGINT' ? EXIT.SIGINT : EXIT.SIGTERM);
    ending = signal;
    if (!quiet) io.stderr.write(`volley: ${signal}: putting in-flight requests back in the job\n`);
    controller.abort();
  };
  const onSigint = (): void => onSignal('SIGINT');
  const onSigterm = (): void => onSignal('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  const out: Writable = typeof a.output === 'string' ? createWriteStream(a.output) : io.stdout;
  try {
    const { workOn } = await import('../queue/api.js');
    let warned = false;
    const { worker, written, released, defined } = await workOn(queue, {
      concurrency,
      wait: a.wait === true,
      leaseMs: testLeaseMs(),
      retry: {
        giveUpMs: testGiveUpMs(),
        onRetry: (error) => {
          if (!quiet && !warned) io.stderr.write(`volley: warning: Redis connection lost (${error.message}); retrying for up to 60 s\n`);
          warned = true;
        },
      },
      signal: controller.signal,
      onRow: (row) => void out.write(`${row}\n`),
      onWarning: quiet ? undefined : (message) => void io.stderr.write(`volley: warning: ${message}\n`),
    });
    if (!defined && ending === null) {
      if (!quiet) io.stderr.write(`volley: job ${JSON.stringify(target.job)} has nothing to do (nothing enqueued)\n`);
      return EXIT.OK;
    }
    if (!quiet && defined) io.stderr.write(`volley: worker ${worker}: ${written} rows written${released > 0 ? `, ${released} requests put back in the job` : ''}\n`);
    if (ending === 'SIGINT') return EXIT.SIGINT;
    if (ending === 'SIGTERM') return EXIT.SIGTERM;
    return EXIT.OK;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    if (out !== io.stdout) await new Promise<void>((resolve) => out.end(resolve));
    await queue.close().catch(() => {});
  }
}

/** Runs one subcommand; returns its exit code. Usage errors are exit 2, an unreachable Redis exit 69. */
export async function runQueueCommand(command: 'enqueue' | 'work' | 'queue', argv: string[], io: CliIo): Promise<number> {
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  try {
    if (command === 'enqueue') return await enqueueCommand(argv, io);
    if (command === 'work') return await workCommand(argv, io);
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    return await queueCommand(argv, io, controller.signal);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`volley: ${err.message}\nRun 'volley ${command} --help' for usage.\n`);
      return EXIT.USAGE;
    }
    const named = queueErrorOf(err, '');
    if (named instanceof QueueError && (named.code === 'REDIS_UNAVAILABLE' || named.code === 'REDIS_LOST')) {
      io.stderr.write(`volley: ${named.message}\n`);
      return EXIT.UNAVAILABLE;
    }
    if (named instanceof QueueError && named.code === 'JOB_GONE') {
      io.stderr.write(`volley: the job is gone (dropped while ${command === 'work' ? 'working' : 'in use'})\n`);
      return EXIT.SOME_FAILED;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}
