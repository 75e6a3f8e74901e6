import yargsParser from 'yargs-parser';
import { redactUrl } from '../errors.js';
import type { RedisQueue } from '../frontier/redis-queue.js';
import { UsageError } from './usage-error.js';

/**
 * What the shared queue's subcommands (`enqueue`, `work`, `queue …`) have in common: where the queue is (`--redis`,
 * `--job`), the parse of their own few flags, and the connection, whose failure is exit 69 (EX_UNAVAILABLE).
 */

/** `--redis` when neither the flag nor REDIS_URL says otherwise. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** `--job` when not given. */
export const DEFAULT_JOB = 'volley';

export interface QueueTarget {
  redis: string;
  job: string;
}

/** Redis could not be reached: a one-line message, exit 69. */
export class RedisUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUnavailableError';
  }
}

/**
 * Takes `--redis URL` and `--job NAME` (either spelling: `--redis=URL`) out of `argv`: the rest is for the
 * subcommand's own parser (for `enqueue`, the main command's). Words after `--` are left alone.
 */
export function takeTarget(argv: string[], env: NodeJS.ProcessEnv = process.env): { target: QueueTarget; rest: string[] } {
  const found: Partial<Record<'redis' | 'job', string>> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    const m = /^--(redis|job)(?:=(.*))?$/s.exec(token);
    if (m === null) {
      rest.push(token);
      continue;
    }
    const name = m[1] as 'redis' | 'job';
    let value = m[2];
    if (value === undefined) {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined || value.trim() === '') throw new UsageError(`--${name} expects a value${name === 'redis' ? ' (redis://HOST:PORT/DB, rediss:// for TLS)' : ''}`);
    if (found[name] !== undefined) throw new UsageError(`--${name} was given more than once`);
    found[name] = value;
  }
  const redis = found.redis ?? (env.REDIS_URL?.trim() || DEFAULT_REDIS_URL);
  if (!/^rediss?:\/\//.test(redis)) throw new UsageError(`--redis expects a redis:// or rediss:// URL, got ${JSON.stringify(redactUrl(redis))}`);
  return { target: { redis, job: found.job ?? DEFAULT_JOB }, rest };
}

export interface FlagSpec {
  boolean?: string[];
  string?: string[];
  alias?: Record<string, string>;
}

/** A subcommand's own flags, strictly: an unknown flag is a usage error, as in the main command. */
export function parseFlags(command: string, argv: string[], spec: FlagSpec): yargsParser.Arguments {
  const alias: Record<string, string[]> = {};
  for (const [name, letter] of Object.entries(spec.alias ?? {})) alias[name] = [letter];
  const parsed = yargsParser.detailed(argv, {
    boolean: spec.boolean ?? [],
    string: spec.string ?? [],
    alias,
    configuration: { 'camel-case-expansion': false, 'parse-numbers': false, 'parse-positional-numbers': false, 'boolean-negation': false },
  });
  if (parsed.error) throw new UsageError(`${command}: ${parsed.error.message}`);
  const known = new Set(['_', ...(spec.boolean ?? []), ...(spec.string ?? []), ...Object.values(spec.alias ?? {})]);
  for (const key of Object.keys(parsed.argv)) {
    if (!known.has(key)) throw new UsageError(`${command}: unknown flag ${key.length === 1 ? '-' : '--'}${key}`);
  }
  for (const name of spec.string ?? []) {
    const value = parsed.argv[name] as unknown;
    if (Array.isArray(value)) throw new UsageError(`${command}: --${name} was given more than once`);
    if (value !== undefined && String(value).trim() === '') throw new UsageError(`${command}: --${name} expects a value`);
  }
  return parsed.argv;
}

/** Connects to the job's Redis; a Redis that cannot be reached is a {@link RedisUnavailableError}. */
export async function connectQueue(target: QueueTarget): Promise<RedisQueue & { close(): Promise<void> }> {
  const { RedisQueue } = await import('../frontier/redis-queue.js');
  try {
    // The name checked before connecting (the constructor's own check, on a client that is never used).
    void new RedisQueue({ sendCommand: () => Promise.reject(new Error('unused')) }, target.job);
  } catch (err) {
    throw new UsageError(`--job: ${(err as Error).message.replace('`job`', 'a job name')}`);
  }
  try {
    return await RedisQueue.connect(target.redis, target.job);
  } catch (err) {
    // A mistake of ours (a bad call) is a bug, not an unreachable server.
    if (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError) throw err;
    const e = err as NodeJS.ErrnoException;
    const why = e?.code && !String(e.message).includes(e.code) ? `${e.message} (${e.code})` : String(e?.message ?? err);
    throw new RedisUnavailableError(`cannot reach Redis at ${redactUrl(target.redis)}: ${why || 'connection failed'}`);
  }
}
