import type { FetchResult } from '../result.js';
import { serialisedBody, type BodyOutputMode } from '../keep/body-form.js';

/** A row as JSONL and JSON output write it: a result whose body is a string, with `bodyEncoding` when it is base64. */
export type BodyRow = Omit<FetchResult, 'body'> & { body?: string; bodyEncoding?: 'base64' };

/**
 * The row of a result whose body the library kept as bytes (`--body text` or `--body base64`): with `text`, a
 * textual body (text/*, JSON, XML, JavaScript, HTML) is a decoded string and any other is base64 with
 * `"bodyEncoding": "base64"`; with `base64`, always base64. The body fields come last in the row.
 */
export function bodyRow(result: FetchResult, mode: BodyOutputMode): BodyRow {
  if (!(result.body instanceof Uint8Array)) return result as BodyRow;
  const { body, ...rest } = result;
  return { ...rest, ...(serialisedBody(body, result.contentType, mode) as { body?: string; bodyEncoding?: 'base64' }) };
}
