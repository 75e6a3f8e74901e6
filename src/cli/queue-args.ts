import yargsParser from 'yargs-parser';
import { redactUrl } from '../errors.js';
import { connectJob, DEFAULT_JOB, redisUrl, type ConnectedQueue } from '../queue/connect.js';
import { UsageError } from './usage-error.js';

/**
 * What the shared queue's subcommands (`enqueue`, `work`, `queue …`) have in common: where the queue is (`--redis`,
 * `--job`), the parse of their own few flags, and the connection, whose failure is exit 69 (EX_UNAVAILABLE).
 */

export { DEFAULT_JOB, DEFAULT_REDIS_URL } from '../queue/connect.js';

export interface QueueTarget {
  redis: string;
  job: string;
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
  let redis: string;
  try {
    redis = redisUrl(found.redis, env);
  } catch {
    const given = found.redis ?? env.REDIS_URL ?? '';
    throw new UsageError(`--redis expects a redis:// or rediss:// URL, got ${JSON.stringify(redactUrl(given.trim()))}`);
  }
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

/** Connects to the job's Redis; a Redis that cannot be reached is a QueueError REDIS_UNAVAILABLE (exit 69). */
export async function connectQueue(target: QueueTarget): Promise<ConnectedQueue> {
  try {
    return await connectJob(target.redis, target.job);
  } catch (err) {
    if (err instanceof TypeError && err.message.includes('`job`')) throw new UsageError(`--job: ${err.message.replace('`job`', 'a job name')}`);
    throw err;
  }
}
