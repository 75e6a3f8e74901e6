import { createHash } from 'node:crypto';
import { describeValue } from '../describe-value.js';

/** Checks of the queue's arguments, with messages that name the bad value. */

/** The worker name `reap` completes LEASE_EXPIRED rows as; workers may not take it. */
export const REAPER = 'volley:reaper';
export const MAX_TIMER_MS = 2_147_483_647;

export function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

export function positiveInt(name: string, value: unknown, max = MAX_TIMER_MS): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new TypeError(`Expected \`${name}\` to be an integer from 1 to ${max}, got ${describeValue(value, 100)}`);
  }
  return value;
}

export function nonNegativeInt(name: string, value: unknown, max = MAX_TIMER_MS): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new TypeError(`Expected \`${name}\` to be an integer from 0 to ${max}, got ${describeValue(value, 100)}`);
  }
  return value;
}

export function workerName(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 200 || value === REAPER) {
    throw new TypeError(`Expected \`worker\` to be a non-empty string of at most 200 characters other than ${REAPER}, got ${describeValue(value, 100)}`);
  }
  return value;
}
