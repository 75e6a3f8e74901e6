import { normalizeOptions, type VolleyOptions } from '../options.js';
import { describeValue } from '../describe-value.js';
import { DEFAULT_JOB, redisUrl } from './connect.js';
import { JOB_OPTIONS, notJobOption, settingsOf, type JobSettings } from './job.js';
import type { JobOptions } from './api.js';

/**
 * The checks of the queue API's options (api.ts), at the edge: each names the option and echoes the bad value, and
 * all of them run before a connection is opened.
 */

export const TARGET_KEYS = new Set(['redis', 'job']);

export function objectOf(name: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TypeError(`Expected \`${name}\` options to be an object, got ${describeValue(value, 100)}`);
  return value as Record<string, unknown>;
}

export function checkKeys(name: string, options: Record<string, unknown>, allowed: ReadonlySet<string>): void {
  for (const key of Object.keys(options)) {
    if (allowed.has(key) || options[key] === undefined) continue;
    const flag = notJobOption(key);
    throw new TypeError(`${name}: unknown option \`${key}\`${flag === undefined ? '' : ` (not a job setting: ${flag.replace(/ \(give it to `volley work`\)$/, '; give it to work()')})`}`);
  }
}

export function boolean(name: string, value: unknown): boolean {
  if (value !== undefined && typeof value !== 'boolean') throw new TypeError(`Expected \`${name}\` to be a boolean, got ${describeValue(value, 100)}`);
  return value === true;
}

export function signalOf(value: unknown): AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) throw new TypeError(`Expected \`signal\` to be an AbortSignal, got ${describeValue(value, 100)}`);
  return value;
}

export function targetOf(options: Record<string, unknown>): { redis: string; job: string } {
  const job = options.job ?? DEFAULT_JOB;
  if (typeof job !== 'string') throw new TypeError(`Expected \`job\` to be a string, got ${describeValue(job, 100)}`);
  return { redis: redisUrl(options.redis), job };
}

/** A row id (`after`, `through`): Redis stream ids, `MS-SEQ`. */
export function rowId(name: string, value: unknown, optional: boolean): string | undefined {
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string' || !/^\d+-\d+$/.test(value)) throw new TypeError(`Expected \`${name}\` to be a row id like "1733389200000-0", got ${describeValue(value, 100)}`);
  return value;
}

/**
 * A job's settings from `enqueue()`'s options: only job options (a run's local ones, like `concurrency`, are a
 * TypeError that says where they go), validated as `fetchAll` validates them, after the JSON round trip Redis
 * gives them, so a worker can never be handed options that fail.
 */
export function librarySettings(options: Record<string, unknown>): JobSettings {
  const jobOptions: Record<string, unknown> = {};
  for (const name of JOB_OPTIONS) if (options[name] !== undefined) jobOptions[name] = options[name];
  // `bytes` bodies travel as the CLI's `--body base64` rows do (JSON has no bytes); `text` and `json` as they are.
  const settings = settingsOf(jobOptions as JobOptions, jobOptions.body === 'bytes' ? 'base64' : null, null);
  normalizeOptions(jobOptions as VolleyOptions);
  normalizeOptions(settings.run.options as VolleyOptions);
  return settings;
}
