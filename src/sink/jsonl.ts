import type { Encoder } from './sink.js';

/** One JSON object per line: the default, and the only format --resume can read back. */
export const jsonlEncoder: Encoder = {
  header: () => '',
  record: (result) => `${JSON.stringify(result)}\n`,
  footer: () => '',
};
