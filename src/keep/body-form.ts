import MIMEType from 'whatwg-mimetype';
import { FetchError } from '../errors.js';
import { decodeText } from '../parse/decode.js';
import { jsonErrorOffset, lineAndColumn } from './json-error.js';

/** The library's `body` option: how a result keeps the (decoded, decompressed) body. */
export type BodyForm = 'text' | 'bytes' | 'json';

/** What `keepBody` adds to a result, typed by the form asked for. */
export type KeptBody<F extends BodyForm> = F extends 'text'
  ? { body: string }
  : F extends 'bytes'
    ? { body: Uint8Array }
    : { json: unknown };

function essenceOf(contentType: string | null | undefined): string | null {
  return contentType ? (MIMEType.parse(contentType)?.essence ?? null) : null;
}

/**
 * A JSON MIME type (WHATWG MIME Sniffing §4.6): `application/json`, `text/json`, and any `+json` subtype
 * (RFC 6839 §3.1: `application/problem+json`, `application/ld+json`…).
 */
export function isJsonType(contentType: string | null | undefined): boolean {
  const essence = essenceOf(contentType);
  return essence !== null && (essence === 'application/json' || essence === 'text/json' || essence.endsWith('+json'));
}

const TEXTUAL = new Set([
  'application/javascript',
  'application/x-javascript',
  'application/ecmascript',
  'application/x-ecmascript',
  'application/xml',
  'application/x-ndjson',
  'application/ndjson',
  'application/x-www-form-urlencoded',
  'application/graphql',
  'application/sql',
  'application/yaml',
  'application/x-yaml',
  'application/toml',
  'image/svg+xml',
]);

/**
 * True for a body a JSONL row can carry as a string: text/*, JSON, XML, JavaScript, HTML, and a few other text
 * formats. Anything else (or no Content-Type: it could be anything) is carried as base64.
 */
export function isTextual(contentType: string | null | undefined): boolean {
  const essence = essenceOf(contentType);
  if (essence === null) return false;
  return essence.startsWith('text/') || isJsonType(essence) || essence.endsWith('+xml') || TEXTUAL.has(essence);
}

/** V8's reason without its position and without the echo of the body it sometimes appends. */
function jsonReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message
    .replace(/^(.*?), (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/su, '$1')
    .replace(/ (?:in JSON )?at position \d+.*$/su, '')
    .replace(/ of JSON input$/u, '')
    .replace(/[\u0000-\u001f\u007f]/gu, (c) => JSON.stringify(c).slice(1, -1));
}

/**
 * Parses a JSON body. A JSON type with an empty body (a 204, a HEAD) is `null`: there is nothing to parse.
 * @throws FetchError('PARSE') naming the error and where it is (character offset, line and column).
 */
export function parseJsonBody(bytes: Uint8Array, contentType: string | null): unknown {
  if (bytes.byteLength === 0) return null;
  const text = decodeText(bytes, contentType);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const offset = jsonErrorOffset(text) ?? text.length;
    const { line, column } = lineAndColumn(text, offset);
    throw new FetchError('PARSE', `the body is not valid JSON: ${jsonReason(err)} at offset ${offset} (line ${line}, column ${column})`, { cause: err });
  }
}

/**
 * The body in the form a result keeps it:
 * - `'text'`: decoded by the WHATWG rules (parse/decode.ts `decodeText`): BOM, Content-Type charset, `<meta>`
 *   prescan for HTML only, UTF-8 for JSON and other types, windows-1252 last for HTML;
 * - `'bytes'`: the decoded body itself, not copied (copy it before transferring its buffer to a worker);
 * - `'json'`: parsed when the type is JSON, else `null` (the result stays ok).
 * @throws FetchError('PARSE') for a JSON type whose body is not JSON.
 */
export function keepBody<F extends BodyForm>(bytes: Uint8Array, contentType: string | null, form: F): KeptBody<F> {
  switch (form) {
    case 'text':
      return { body: decodeText(bytes, contentType) } as KeptBody<F>;
    case 'bytes':
      return { body: bytes } as KeptBody<F>;
    case 'json':
      return { json: isJsonType(contentType) ? parseJsonBody(bytes, contentType) : null } as KeptBody<F>;
    default:
      throw new TypeError(`Expected \`body\` to be 'text', 'bytes' or 'json', got \`${String(form)}\` (${typeof form})`);
  }
}

/** The CLI's `--body` modes: `text` (textual bodies as strings, others base64), `json`, `base64` (always). */
export type BodyOutputMode = 'text' | 'json' | 'base64';

/** The body fields of a JSONL/JSON row; spread into the row. */
export interface SerialisedBody {
  body?: string;
  bodyEncoding?: 'base64';
  json?: unknown;
}

/**
 * The body as a JSON output row carries it: with `text`, a textual body (isTextual) is a decoded string and any
 * other is base64 with `bodyEncoding: 'base64'`; `base64` is always base64; `json` is `{ json }` as keepBody.
 * @throws FetchError('PARSE') in `json` mode for a JSON type whose body is not JSON.
 */
export function serialisedBody(bytes: Uint8Array, contentType: string | null, mode: BodyOutputMode): SerialisedBody {
  const base64 = (): SerialisedBody => ({ body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'), bodyEncoding: 'base64' });
  switch (mode) {
    case 'text':
      return isTextual(contentType) ? { body: decodeText(bytes, contentType) } : base64();
    case 'base64':
      return base64();
    case 'json':
      return keepBody(bytes, contentType, 'json');
    default:
      throw new TypeError(`Expected the body mode to be 'text', 'json' or 'base64', got \`${String(mode)}\` (${typeof mode})`);
  }
}
