import type { Encoder } from './sink.js';

/** One JSON array, written element by element; `]` is written on every ending, interrupted ones included. */
export const jsonEncoder: Encoder = {
  header: () => '[\n',
  record: (result, first) => `${first ? '' : ',\n'}${JSON.stringify(result)}`,
  footer: () => '\n]\n',
};
